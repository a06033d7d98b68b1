"""Set-based writes the ORM does not express: INSERT … SELECT, optionally ignoring rows that already exist.

The SELECT is always an ORM queryset (so its values are parameters, never string-built); only trusted names from
the models' metadata are put into the statement text.
"""

from django.db import connection
from django.db.models import Model, QuerySet


def insert_from_select(model: type[Model], columns: list[str], queryset: QuerySet, *, ignore_conflicts=False) -> int:
    """``INSERT INTO <model> (<columns>) <queryset's SELECT>``; returns the number of rows inserted.

    The queryset must select exactly ``columns`` in order (``values_list``). With ``ignore_conflicts`` a row that
    breaks a unique constraint is skipped — the idempotency of the periodic jobs rests on this.
    """
    qn = connection.ops.quote_name
    select_sql, params = queryset.order_by().query.sql_with_params()
    table = qn(model._meta.db_table)
    column_sql = ", ".join(qn(model._meta.get_field(name).column) for name in columns)
    if ignore_conflicts and connection.vendor == "sqlite":
        statement = f"INSERT OR IGNORE INTO {table} ({column_sql}) {select_sql}"  # noqa: S608 - names from _meta
    else:
        statement = f"INSERT INTO {table} ({column_sql}) {select_sql}"  # noqa: S608 - names from _meta
        if ignore_conflicts:
            statement += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return max(cursor.rowcount, 0)


def analyze(*models: type[Model]) -> None:
    """Fresh planner statistics for tables just written in bulk (PostgreSQL; elsewhere nothing). Without them the
    next statements are planned on the table as it was — a join over a million new rows as if it had none."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
