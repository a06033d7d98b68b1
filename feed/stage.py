"""The staging tables: a load's validated rows, written in batches (COPY on PostgreSQL, batched inserts on
SQLite) into a temporary table of the loader's own connection, then checked and applied in set-based statements.

Table and column names come from the code (the kinds' definitions and the models' metadata), never from a file;
every value is a COPY field or a query parameter.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

PG_TYPES = {"int": "integer", "text": "text", "date": "date", "num": "numeric(18,2)", "ts": "timestamptz",
            "bool": "boolean", "bigint": "bigint"}  # fmt: skip
SQLITE_TYPES = {"int": "integer", "text": "text", "date": "text", "num": "numeric", "ts": "text", "bool": "integer",
                "bigint": "integer"}  # fmt: skip


def is_pg() -> bool:
    return connection.vendor == "postgresql"


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


class Stage:
    """A temporary table ``name`` with ``columns`` [(name, type)], dropped by ``drop()`` (and with the session)."""

    def __init__(self, name: str, columns: Sequence[tuple[str, str]]):
        self.name = name
        self.columns = list(columns)
        self.names = [c for c, _ in self.columns]
        types = PG_TYPES if is_pg() else SQLITE_TYPES
        body = ", ".join(f"{qn(c)} {types[t]}" for c, t in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {qn(name)}")
            cursor.execute(f"CREATE TEMPORARY TABLE {qn(name)} ({body})")

    def write(self, rows: Iterable[Sequence]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        if is_pg():
            buffer = io.StringIO()
            buffer.writelines("\t".join(map(_copy_field, row)) + "\n" for row in rows)
            buffer.seek(0)
            column_sql = ", ".join(qn(c) for c in self.names)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(f"COPY {qn(self.name)} ({column_sql}) FROM STDIN", buffer)
        else:
            marks = ", ".join(["%s"] * len(self.names))
            column_sql = ", ".join(qn(c) for c in self.names)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {qn(self.name)} ({column_sql}) VALUES ({marks})",  # noqa: S608 - names from code
                    [tuple(map(_sqlite_value, row)) for row in rows],
                )
        return len(rows)

    def write_text(self, text: str) -> None:
        """Rows already in COPY's text format (PostgreSQL; from the parallel parse)."""
        if text:
            column_sql = ", ".join(qn(c) for c in self.names)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(f"COPY {qn(self.name)} ({column_sql}) FROM STDIN", io.StringIO(text))

    def index(self, *columns: str) -> None:
        with connection.cursor() as cursor:
            cols = ", ".join(qn(c) for c in columns)
            cursor.execute(
                f"CREATE INDEX ON {qn(self.name)} ({cols})"
                if is_pg()
                else f"CREATE INDEX {qn(self.name + '_' + '_'.join(columns))} ON {qn(self.name)} ({cols})"
            )
            if is_pg():
                cursor.execute(f"ANALYZE {qn(self.name)}")

    def analyze(self) -> None:
        """Statistics for the planner: without them a temporary table is estimated blind, and a join of a few
        thousand staged rows with a million customers can become a nested loop."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {qn(self.name)}")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {qn(self.name)}")


def copy_text(rows) -> str:
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)


def _copy_field(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if isinstance(value, (date, datetime, Decimal, int)):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return str(value)


def _sqlite_value(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def execute(sql: str, params: Sequence = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def fetch(sql: str, params: Sequence = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def table(model) -> str:
    return qn(model._meta.db_table)


def col(model, field: str) -> str:
    return qn(model._meta.get_field(field).column)


def estimated_rows(model) -> int:
    """The planner's estimate of a table's rows on PostgreSQL (no scan); an exact count elsewhere."""
    if is_pg():
        rows = fetch("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        return max(int(rows[0][0]), 0) if rows else 0
    return model._default_manager.count()
