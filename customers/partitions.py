"""Monthly partitions of the asset snapshots and their retention.

On PostgreSQL ``customers_assetsnapshot`` is partitioned by range of ``date``, one partition a month
(``customers_assetsnapshot_pYYYYMM``) and a DEFAULT partition (``customers_assetsnapshot_default``) that catches
any date no monthly partition covers yet. Dropping a month that left the retention is then a DROP TABLE, not
millions of row deletes, and a day's reads touch one partition. The table is converted by migration
customers/0011_snapshot_partitions; docs/customers.md tells the story.

- ``snapshot_partitions_ensure(first, last)`` creates the monthly partitions for every month touched by
  [first, last] (the loader calls it for a business date before writing its snapshots; the nightly job for the
  next two months). Rows of such a month already in the DEFAULT partition are moved into the new partition in the
  same transaction.
- ``snapshot_partitions_drop_expired(today=…)`` detaches and drops the partitions whose days are all older than
  ``settings.SNAPSHOT_RETENTION_MONTHS`` months before ``today``.

On SQLite (the bare-machine fallback) there are no partitions: ensuring is a no-op and the retention deletes the
expired rows with one DELETE.

Table and partition names come from the model's ``_meta`` and from ``date`` objects only; values are parameters,
except partition bounds, which PostgreSQL takes as literals and which are written from validated ``date``
objects (ISO format).
"""

import logging
import re
from contextlib import contextmanager
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction

from .models import AssetSnapshot

log = logging.getLogger(__name__)

# Serialises partition changes (the loader and the nightly job may run at once): a transaction-level advisory
# lock, so two sessions never race to create, or drop, the same month.
LOCK_KEY = 0x5A7_0011
BOUND = re.compile(r"^FOR VALUES FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)$")


# -- months and names (pure; used by the migration too) ----------------------------------------------------------


def _day(value) -> date:
    """``value`` if it is a date (and not a datetime): the only values written into partition DDL."""
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise TypeError(f"a date is required, not {value!r}")
    return value


def month_start(day: date) -> date:
    return _day(day).replace(day=1)


def months_touched(first: date, last: date) -> list[date]:
    """The first days of every month that [first, last] touches, in order."""
    month, end = month_start(first), month_start(last)
    if month > end:
        raise ValueError(f"first ({first}) is after last ({last})")
    months = []
    while month <= end:
        months.append(month)
        month += relativedelta(months=1)
    return months


def retention_cutoff(today: date, months: int) -> date:
    """The oldest day kept: snapshots dated before it are expired (``months`` months before ``today``)."""
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        raise ValueError(f"retention must be a positive number of months, not {months!r}")
    return _day(today) - relativedelta(months=months)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month_start(month):%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bounds(month: date) -> tuple[str, str]:
    """The literal bounds of a month's partition: FROM its first day TO the next month's (exclusive)."""
    first = month_start(month)
    return first.isoformat(), (first + relativedelta(months=1)).isoformat()


def partition_create(cursor, table: str, month: date) -> str:
    """CREATE TABLE … PARTITION OF for one month (no DEFAULT partition rows to move). Returns its name."""
    qn = connection.ops.quote_name
    name = partition_name(table, month)
    low, high = _bounds(month)
    cursor.execute(f"CREATE TABLE {qn(name)} PARTITION OF {qn(table)} FOR VALUES FROM ('{low}') TO ('{high}')")
    return name


def default_create(cursor, table: str) -> str:
    qn = connection.ops.quote_name
    name = default_name(table)
    cursor.execute(f"CREATE TABLE {qn(name)} PARTITION OF {qn(table)} DEFAULT")
    return name


def partitions_of(cursor, table: str) -> list[tuple[str, date, date]]:
    """The range partitions of ``table`` as (name, first day, first day after), oldest first; the DEFAULT
    partition (and any partition whose bounds are not two dates) is left out."""
    cursor.execute(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)""",
        [table],
    )
    found = []
    for name, bound in cursor.fetchall():
        if matched := BOUND.match(bound or ""):
            found.append((name, date.fromisoformat(matched[1]), date.fromisoformat(matched[2])))
    return sorted(found, key=lambda row: row[1])


# -- the snapshots' partitions -------------------------------------------------------------------------------------


def _table() -> str:
    return AssetSnapshot._meta.db_table


def _columns() -> str:
    qn = connection.ops.quote_name
    return ", ".join(qn(field.column) for field in AssetSnapshot._meta.concrete_fields)


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def snapshot_partitions() -> list[tuple[str, date]]:
    """The monthly partitions of the snapshots as (name, first day), oldest first; [] where there are none
    (SQLite). The DEFAULT partition is not listed."""
    if not _on_postgresql():
        return []
    with connection.cursor() as cursor:
        return [(name, low) for name, low, _high in partitions_of(cursor, _table())]


def snapshot_partitions_ensure(first: date, last: date) -> list[str]:
    """Create the missing monthly partitions for every month touched by [first, last]; the names created.

    Idempotent. A month whose rows already sit in the DEFAULT partition gets them moved, in this transaction: the
    new table is filled from the DEFAULT partition, those rows are deleted there, and the table is attached."""
    months = months_touched(first, last)
    if not _on_postgresql():
        return []
    table = _table()
    with transaction.atomic(), connection.cursor() as cursor:
        if {partition_name(table, m) for m in months} <= {name for name, *_ in partitions_of(cursor, table)}:
            return []
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        existing = {name for name, *_ in partitions_of(cursor, table)}  # again, under the lock
        created = []
        for month in months:
            if partition_name(table, month) not in existing:
                created.append(_partition_add(cursor, table, month))
    if created:
        log.info("asset snapshot partitions created: %s", ", ".join(created))
    return created


@contextmanager
def _foreign_keys_checked_now(cursor, table: str):
    """The table's deferred foreign keys checked now and deferred again afterwards: PostgreSQL refuses to alter
    or drop a table holding rows whose deferred checks are still pending (rows written earlier in the same
    transaction)."""
    qn = connection.ops.quote_name
    cursor.execute(
        """SELECT DISTINCT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f'
           AND condeferrable AND condeferred ORDER BY conname""",
        [table],
    )
    names = ", ".join(qn(name) for (name,) in cursor.fetchall())
    if names:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
    yield
    if names:
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _partition_add(cursor, table: str, month: date) -> str:
    qn = connection.ops.quote_name
    default = default_name(table)
    low, high = _bounds(month)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
    waiting = False
    if cursor.fetchone()[0]:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {qn(default)} WHERE date >= %s AND date < %s)",  # noqa: S608 - names from code
            [low, high],
        )
        waiting = cursor.fetchone()[0]
    if not waiting:
        return partition_create(cursor, table, month)
    # Rows of this month are in the DEFAULT partition: PostgreSQL would refuse a new partition overlapping them.
    name = partition_name(table, month)
    columns = _columns()
    cursor.execute(f"CREATE TABLE {qn(name)} (LIKE {qn(table)} INCLUDING DEFAULTS)")
    # A CHECK matching the bound lets ATTACH skip scanning the new table; dropped once attached.
    check = qn(f"{name}_bound")
    cursor.execute(
        f"ALTER TABLE {qn(name)} ADD CONSTRAINT {check} CHECK (date >= '{low}' AND date < '{high}')"  # noqa: S608
    )
    cursor.execute(
        f"INSERT INTO {qn(name)} ({columns}) SELECT {columns} FROM {qn(default)} WHERE date >= %s AND date < %s",  # noqa: S608
        [low, high],
    )
    moved = cursor.rowcount
    with _foreign_keys_checked_now(cursor, table):
        cursor.execute(f"DELETE FROM {qn(default)} WHERE date >= %s AND date < %s", [low, high])  # noqa: S608
        cursor.execute(f"ALTER TABLE {qn(table)} ATTACH PARTITION {qn(name)} FOR VALUES FROM ('{low}') TO ('{high}')")
    cursor.execute(f"ALTER TABLE {qn(name)} DROP CONSTRAINT {check}")
    log.info("asset snapshot partition %s: %d rows moved from %s", name, moved, default)
    return name


def snapshot_partitions_drop_expired(*, today: date, months: int | None = None) -> list[str]:
    """Detach and drop every monthly partition whose days are all older than the retention (``months``, by
    default ``settings.SNAPSHOT_RETENTION_MONTHS``, before ``today``); the names dropped, oldest first.

    Whole partitions only, never row by row: the month that straddles the cutoff stays until all its days have
    expired. The DEFAULT partition is never dropped. On SQLite (no partitions) the expired rows are deleted with
    one DELETE instead, and [] is returned."""
    cutoff = retention_cutoff(today, settings.SNAPSHOT_RETENTION_MONTHS if months is None else months)
    if not _on_postgresql():
        deleted, _ = AssetSnapshot.objects.filter(date__lt=cutoff).delete()
        if deleted:
            log.info("asset snapshots before %s deleted: %d", cutoff, deleted)
        return []
    table = _table()
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if not any(high <= cutoff for _name, _low, high in partitions_of(cursor, table)):
            return []
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        dropped = []
        with _foreign_keys_checked_now(cursor, table):
            for name, _low, high in partitions_of(cursor, table):
                if high <= cutoff:
                    cursor.execute(f"ALTER TABLE {qn(table)} DETACH PARTITION {qn(name)}")
                    cursor.execute(f"DROP TABLE {qn(name)}")
                    dropped.append(name)
    log.info("asset snapshot partitions dropped (before %s): %s", cutoff, ", ".join(dropped))
    return dropped


AHEAD_MONTHS = 2


def snapshot_partitions_maintain(*, today: date) -> dict:
    """The nightly job: partitions for this month and the next two, and the expired ones dropped."""
    created = snapshot_partitions_ensure(today, today + relativedelta(months=AHEAD_MONTHS))
    dropped = snapshot_partitions_drop_expired(today=today)
    return {"created": created, "dropped": dropped}
