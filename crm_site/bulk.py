"""Bulk loading for demo data and imports: PostgreSQL's COPY where available, batched INSERTs elsewhere.

Rows are tuples in the order of ``columns`` (model field names; a foreign key is given as its id). Values are
passed to COPY in its text format and to INSERT as parameters, never spliced into SQL.
"""

import io
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_TEXT = {
    str: lambda v: v.translate(_ESCAPES),
    int: str,
    type(None): lambda v: "\\N",
    bool: lambda v: "t" if v else "f",
    datetime: datetime.isoformat,
    date: date.isoformat,
    Decimal: str,
    float: repr,
}


def _copy_text(value) -> str:
    """A value in COPY's text format (the common types by a dictionary lookup: this runs millions of times)."""
    convert = _COPY_TEXT.get(type(value))
    if convert is None:
        return str(value).translate(_ESCAPES)
    return convert(value)


def _copy_line(row) -> str:
    out = []
    last, last_text = None, ""
    for value in row:
        if value is last and value is not None:  # the same datetime several times in a row (created/updated)
            out.append(last_text)
            continue
        text = _copy_text(value)
        out.append(text)
        last, last_text = value, text
    return "\t".join(out)


def column_names(model: type[Model], columns: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in columns]


@dataclass
class Payload:
    """Rows of one table, formatted for loading: COPY text on PostgreSQL, adapted tuples elsewhere. Formatting
    is separate from loading so that a producer thread can prepare the next batch while this one loads."""

    model: type[Model]
    columns: list[str]
    text: str = ""
    rows: list = field(default_factory=list)
    count: int = 0


def prepare(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> Payload:
    columns = list(columns)
    if connection.vendor == "postgresql":
        lines = [_copy_line(row) for row in rows]
        return Payload(model, columns, text="\n".join(lines) + ("\n" if lines else ""), count=len(lines))
    adapted = [tuple(_sqlite_value(v) for v in row) for row in rows]
    return Payload(model, columns, rows=adapted, count=len(adapted))


def load(payload: Payload) -> int:
    """Write a prepared payload; returns the number of rows."""
    if not payload.count:
        return 0
    qn = connection.ops.quote_name
    table = qn(payload.model._meta.db_table)
    cols = ", ".join(qn(c) for c in column_names(payload.model, payload.columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN", io.StringIO(payload.text))  # names from _meta
        else:
            placeholders = ", ".join(["%s"] * len(payload.columns))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({placeholders})", payload.rows)  # noqa: S608
    return payload.count


def load_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence], *, batch: int = 50_000) -> int:
    """Insert rows into the model's table in batches; returns the number of rows written."""
    total = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, batch)):
        total += load(prepare(model, columns, chunk))
    return total


def _sqlite_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def next_id(model: type[Model]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequence(model: type[Model]) -> None:
    """After rows were written with explicit ids, move the id sequence past them (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _skip_fk_triggers(cursor) -> bool:
    """Skip foreign-key triggers for the rest of the transaction when the connection may (superuser)."""
    try:
        cursor.execute("SAVEPOINT bulk_replica")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("RELEASE SAVEPOINT bulk_replica")
        return True
    except Exception:  # noqa: BLE001 - not a superuser: foreign keys are checked row by row
        cursor.execute("ROLLBACK TO SAVEPOINT bulk_replica")
        return False


def _drop_indexes(cursor, table: str, *, unique: bool) -> list[str]:
    """Drop a table's indexes that back no constraint (the unique ones too when ``unique``); returns the statements
    that build them again."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = %s AND i.schemaname = current_schema()
             AND (%s OR i.indexdef NOT LIKE 'CREATE UNIQUE %%')
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname
                             AND c.conrelid = %s::regclass)""",
        [table, unique, table],
    )
    saved = []
    for name, definition in cursor.fetchall():
        # A partitioned table's index reads "ON ONLY <table>": recreated that way it would stay invalid and leave
        # the partitions without it.
        saved.append(definition.replace(" ON ONLY ", " ON ", 1))
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return saved


@contextmanager
def bulk_load_mode(*models: type[Model]):
    """Load many rows fast on PostgreSQL: the models' indexes and unique constraints (and the primary key of a
    table no foreign key points at) are dropped, and rebuilt once at the end (one sort instead of millions of
    index insertions); foreign-key triggers are skipped when the connection may do so (superuser). Use inside
    ``transaction.atomic()``: PostgreSQL DDL is transactional, so a failed load leaves the indexes as they were.
    Elsewhere it does nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    qn = connection.ops.quote_name
    saved: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        _skip_fk_triggers(cursor)
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE conrelid = %s::regclass AND (contype = 'u' OR (contype = 'p' AND NOT EXISTS (
                       SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = %s::regclass)))""",
                [table, table],
            )
            for name, definition in cursor.fetchall():
                saved.append(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
                cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
            saved += _drop_indexes(cursor, table, unique=True)
    yield
    with connection.cursor() as cursor:
        for statement in saved:
            cursor.execute(statement)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@contextmanager
def plain_indexes_rebuilt(*models: type[Model], references_checked: bool = False):
    """Change a large share of a table's rows fast on PostgreSQL: its plain (non-unique) indexes are dropped and
    built again at the end — one sort each instead of an index insertion per row and index. Unique indexes and
    constraints stay and keep checking. Inside ``transaction.atomic()`` (the DDL is transactional: a failure leaves
    the indexes as they were); the tables are locked against other writers and readers until the commit.

    ``references_checked``: the caller's rows take every foreign key from a join with the referenced table in the
    same transaction, so the foreign-key triggers are skipped when the connection may do so (superuser), as
    ``bulk_load_mode`` does; otherwise they run before the indexes are built. Elsewhere it does nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    saved: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        replica = _skip_fk_triggers(cursor) if references_checked else False
        for model in models:
            saved += _drop_indexes(cursor, model._meta.db_table, unique=False)
    yield
    with connection.cursor() as cursor:
        if replica:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        # Deferred foreign-key checks of the rows just written run now: PostgreSQL builds no index on a table
        # with trigger events pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in saved:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
