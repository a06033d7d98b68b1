"""The asset snapshots' monthly partitions and their retention (customers/partitions.py, migration 0011).

The test database is built by the migrations, so the snapshots' table is partitioned there as in production, with
partitions from the retention's first month to two months after the day the database was made. The tests work in
months far from it (2031 on) so that what they create or drop is theirs; everything is rolled back afterwards.
"""

import importlib
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm_site.schedule import DEFAULT_SCHEDULE
from customers import partitions, services, tasks
from customers.models import AssetSnapshot
from tests.factories import CustomerFactory

ON_POSTGRESQL = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
TABLE = AssetSnapshot._meta.db_table
DEFAULT = f"{TABLE}_default"


def rows_in(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, customer_id, date, aum FROM "{table}" ORDER BY date, id')  # noqa: S608
        return cursor.fetchall()


def partition_of(snapshot: AssetSnapshot) -> str:
    """The partition the row is stored in."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT tableoid::regclass::text FROM "{TABLE}" WHERE id = %s', [snapshot.pk])  # noqa: S608
        return cursor.fetchone()[0]


def months(first: date, last: date) -> list[str]:
    return [partitions.partition_name(TABLE, month) for month in partitions.months_touched(first, last)]


@pytest.fixture
def customer(org):
    return CustomerFactory(primary_rm=org.rm_west, aum=Decimal("1000"))


# -- month arithmetic (every database) ----------------------------------------------------------------------------


def test_months_touched_and_the_retention_cutoff():
    assert partitions.months_touched(date(2031, 11, 30), date(2032, 2, 1)) == [
        date(2031, 11, 1),
        date(2031, 12, 1),
        date(2032, 1, 1),
        date(2032, 2, 1),
    ]
    assert partitions.months_touched(date(2031, 5, 9), date(2031, 5, 9)) == [date(2031, 5, 1)]
    assert partitions.retention_cutoff(date(2031, 6, 15), 25) == date(2029, 5, 15)
    assert partitions.retention_cutoff(date(2031, 3, 31), 1) == date(2031, 2, 28)
    assert partitions.partition_name(TABLE, date(2031, 5, 9)) == "customers_assetsnapshot_p203105"
    with pytest.raises(ValueError):
        partitions.months_touched(date(2031, 6, 1), date(2031, 5, 31))
    with pytest.raises(ValueError):
        partitions.retention_cutoff(date(2031, 6, 1), 0)
    with pytest.raises(TypeError):
        partitions.months_touched(timezone.now(), timezone.now())  # a datetime is not a validated date
    with pytest.raises(TypeError):
        partitions.month_start("2031-05-01'); DROP TABLE x; --")


def test_the_nightly_job_is_scheduled_at_ten_past_one():
    entry = next(e for e in DEFAULT_SCHEDULE if e.task == "customers.tasks.maintain_snapshot_partitions")
    assert (entry.hour, entry.minute) == ("1", "10")


# -- PostgreSQL: the partitioned table --------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_table_is_partitioned_by_month_of_date_with_a_default_partition(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat, pg_get_partkeydef(partrelid) FROM pg_partitioned_table WHERE partrelid = %s::regclass",
            [TABLE],
        )
        assert cursor.fetchone() == ("r", "RANGE (date)")
        cursor.execute(
            """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = %s::regclass AND c.relpartbound IS NOT NULL
                 AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'""",
            [TABLE],
        )
        assert cursor.fetchall() == [(DEFAULT,)]
        cursor.execute(
            "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
            [TABLE],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [TABLE])
        indexes = [name for (name,) in cursor.fetchall()]
    assert ("p", "PRIMARY KEY (id, date)") in constraints
    assert ("u", "UNIQUE (customer_id, date)") in constraints
    assert any(kind == "f" and "REFERENCES customers_customer(id)" in text for kind, text in constraints)
    assert indexes == ["customers_assetsnapshot_pkey", "snapshot_date_idx", "snapshot_unique_customer_date"]
    # The migration made the retention's months and two ahead of the day the database was built (today).
    today = timezone.localdate()
    cutoff = partitions.retention_cutoff(today, django_settings.SNAPSHOT_RETENTION_MONTHS)
    names = [name for name, _first in partitions.snapshot_partitions()]
    assert set(months(cutoff, today + relativedelta(months=2))) <= set(names)


@pytest.mark.postgres
def test_the_orm_reads_and_writes_snapshots_through_the_partitions(customer):
    partitions.snapshot_partitions_ensure(date(2031, 5, 1), date(2031, 5, 31))
    made = AssetSnapshot.objects.create(customer=customer, date=date(2031, 5, 3), aum=Decimal("10.00"))
    assert partition_of(made) == "customers_assetsnapshot_p203105"
    same, created = AssetSnapshot.objects.update_or_create(
        customer=customer, date=date(2031, 5, 3), defaults={"aum": Decimal("12.00")}
    )
    assert not created and same.pk == made.pk and same.aum == Decimal("12.00")
    recorded = services.asset_snapshot_record(customer=customer, on=date(2031, 5, 4), aum=Decimal("600000.00"))
    customer.refresh_from_db()
    assert customer.aum == Decimal("600000.00") and customer.aum_as_of == date(2031, 5, 4)
    assert list(customer.snapshots.order_by("date").values_list("date", "aum")) == [
        (date(2031, 5, 3), Decimal("12.00")),
        (date(2031, 5, 4), Decimal("600000.00")),
    ]
    assert AssetSnapshot.objects.get(pk=recorded.pk).aum == Decimal("600000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetSnapshot.objects.create(customer=customer, date=date(2031, 5, 3), aum=Decimal("1.00"))
    assert customer.snapshots.filter(date__lt=date(2031, 5, 4)).delete() == (1, {"customers.AssetSnapshot": 1})
    assert list(customer.snapshots.values_list("pk", flat=True)) == [recorded.pk]


@pytest.mark.postgres
def test_ensure_creates_each_month_touched_once(db):
    assert partitions.snapshot_partitions_ensure(date(2031, 11, 30), date(2032, 1, 2)) == months(
        date(2031, 11, 1), date(2032, 1, 1)
    )
    assert partitions.snapshot_partitions_ensure(date(2031, 11, 1), date(2032, 2, 1)) == [
        "customers_assetsnapshot_p203202"
    ]
    assert partitions.snapshot_partitions_ensure(date(2031, 12, 25), date(2031, 12, 25)) == []
    listed = dict(partitions.snapshot_partitions())
    assert listed["customers_assetsnapshot_p203112"] == date(2031, 12, 1)
    assert DEFAULT not in listed


@pytest.mark.postgres
def test_a_new_months_snapshot_goes_to_the_default_partition_until_ensure_moves_it(customer):
    waiting = AssetSnapshot.objects.create(customer=customer, date=date(2032, 3, 5), aum=Decimal("5.00"))
    other = AssetSnapshot.objects.create(customer=customer, date=date(2032, 4, 5), aum=Decimal("6.00"))
    assert partition_of(waiting) == partition_of(other) == DEFAULT

    assert partitions.snapshot_partitions_ensure(date(2032, 3, 5), date(2032, 3, 5)) == [
        "customers_assetsnapshot_p203203"
    ]

    assert rows_in("customers_assetsnapshot_p203203") == [(waiting.pk, customer.pk, date(2032, 3, 5), Decimal("5.00"))]
    assert rows_in(DEFAULT) == [(other.pk, customer.pk, date(2032, 4, 5), Decimal("6.00"))]  # another month stays
    assert AssetSnapshot.objects.get(customer=customer, date=date(2032, 3, 5)).pk == waiting.pk
    # The moved month has the table's constraints: a second row for the customer and day is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetSnapshot.objects.create(customer=customer, date=date(2032, 3, 5), aum=Decimal("1.00"))
    later = AssetSnapshot.objects.create(customer=customer, date=date(2032, 3, 6), aum=Decimal("7.00"))
    assert partition_of(later) == "customers_assetsnapshot_p203203"


@pytest.mark.postgres
def test_retention_drops_whole_old_partitions_and_keeps_25_months(customer, settings):
    settings.SNAPSHOT_RETENTION_MONTHS = 25
    partitions.snapshot_partitions_ensure(date(2031, 1, 1), date(2033, 8, 31))
    old = AssetSnapshot.objects.create(customer=customer, date=date(2031, 4, 30), aum=Decimal("1.00"))
    edge = AssetSnapshot.objects.create(customer=customer, date=date(2031, 5, 1), aum=Decimal("2.00"))
    newer = AssetSnapshot.objects.create(customer=customer, date=date(2033, 6, 15), aum=Decimal("3.00"))

    dropped = partitions.snapshot_partitions_drop_expired(today=date(2033, 6, 15))

    # The cutoff is 2031-05-15: April 2031 is entirely older and goes; May 2031 straddles it and stays, whole.
    assert "customers_assetsnapshot_p203104" in dropped and "customers_assetsnapshot_p203105" not in dropped
    assert dropped == sorted(dropped) and all(name < "customers_assetsnapshot_p203105" for name in dropped)
    names = [name for name, _first in partitions.snapshot_partitions()]
    assert names[0] == "customers_assetsnapshot_p203105"
    kept_past = [name for name in names if name < "customers_assetsnapshot_p203306"]
    assert len(kept_past) == 25  # May 2031 … May 2033, then this month and those ahead
    assert set(AssetSnapshot.objects.filter(customer=customer).values_list("pk", flat=True)) == {edge.pk, newer.pk}
    assert not AssetSnapshot.objects.filter(pk=old.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('customers_assetsnapshot_p203104')")
        assert cursor.fetchone() == (None,)  # dropped, not only detached
    assert partitions.snapshot_partitions_drop_expired(today=date(2033, 6, 15)) == []
    assert rows_in(DEFAULT) == []  # the DEFAULT partition is never dropped
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [DEFAULT])
        assert cursor.fetchone() == (True,)


@pytest.mark.postgres
def test_retention_months_can_be_given(customer):
    partitions.snapshot_partitions_ensure(date(2032, 1, 1), date(2032, 12, 31))
    kept = AssetSnapshot.objects.create(customer=customer, date=date(2032, 11, 2), aum=Decimal("2.00"))
    dropped = partitions.snapshot_partitions_drop_expired(today=date(2032, 12, 20), months=1)
    assert "customers_assetsnapshot_p203210" in dropped and "customers_assetsnapshot_p203211" not in dropped
    assert AssetSnapshot.objects.filter(pk=kept.pk).exists()


@pytest.mark.postgres
def test_the_nightly_job_prepares_two_months_ahead_and_drops_the_expired(customer, settings, django_assert_num_queries):
    settings.SNAPSHOT_RETENTION_MONTHS = 25
    partitions.snapshot_partitions_ensure(date(2031, 1, 1), date(2031, 12, 31))
    with time_machine.travel(date(2033, 11, 20)):
        AssetSnapshot.objects.create(customer=customer, date=date(2034, 1, 9), aum=Decimal("4.00"))  # loaded early
        done = tasks.maintain_snapshot_partitions.run()
        assert done["created"] == months(date(2033, 11, 1), date(2034, 1, 1))
        assert "customers_assetsnapshot_p203109" in done["dropped"]
        assert "customers_assetsnapshot_p203110" not in done["dropped"]
        assert partition_of(AssetSnapshot.objects.get(date=date(2034, 1, 9))) == "customers_assetsnapshot_p203401"
        # Run again the same night: nothing to do, in one catalogue read each for ensure and retention.
        with django_assert_num_queries(6):  # each of ensure and retention: savepoint, partitions listed, release
            assert tasks.maintain_snapshot_partitions.run() == {"created": [], "dropped": []}


@pytest.mark.postgres
def test_the_migration_converts_a_plain_table_with_its_rows_and_back(customer):
    """Both directions of migration 0011, run inside the test's transaction on the current models."""
    migration = importlib.import_module("customers.migrations.0011_snapshot_partitions")
    partitions.snapshot_partitions_ensure(date(2031, 2, 1), date(2031, 2, 28))
    rows = [
        AssetSnapshot.objects.create(customer=customer, date=day, aum=Decimal(n))
        for n, day in enumerate([date(2031, 2, 3), date(2035, 7, 8), date(2035, 7, 9)], start=1)
    ]
    before = rows_in(TABLE)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as at the start of the migration's own transaction

    with connection.schema_editor() as editor:
        migration.unpartition(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        assert cursor.fetchone() == ("r",)
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname ~ %s", [f"^{TABLE}_(p[0-9]{{6}}|default)$"])
        assert cursor.fetchone() == (0,)
    assert rows_in(TABLE) == before
    assert partitions.snapshot_partitions() == []

    with connection.schema_editor() as editor:
        migration.partition(apps, editor)
    assert rows_in(TABLE) == before
    # The months of the existing rows have partitions of their own (July 2035 too), nothing waits in DEFAULT.
    assert partition_of(rows[1]) == "customers_assetsnapshot_p203507"
    assert partition_of(rows[0]) == "customers_assetsnapshot_p203102"
    assert rows_in(DEFAULT) == []
    fresh = AssetSnapshot.objects.create(customer=customer, date=date(2035, 7, 10), aum=Decimal("9.00"))
    assert fresh.pk > max(row.pk for row in rows)  # the id sequence carried on where it was
    with connection.schema_editor() as editor:
        migration.partition(apps, editor)  # already partitioned: nothing happens
    assert rows_in(TABLE) == [*before, (fresh.pk, customer.pk, date(2035, 7, 10), Decimal("9.00"))]


# -- SQLite: the bare-machine fallback -------------------------------------------------------------------------------


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite fallback")
def test_on_sqlite_ensure_does_nothing_and_retention_deletes_the_expired_rows(customer):
    assert partitions.snapshot_partitions_ensure(date(2031, 1, 1), date(2031, 3, 1)) == []
    assert partitions.snapshot_partitions() == []
    old = AssetSnapshot.objects.create(customer=customer, date=date(2031, 5, 14), aum=Decimal("1.00"))
    kept = AssetSnapshot.objects.create(customer=customer, date=date(2031, 5, 15), aum=Decimal("2.00"))
    with time_machine.travel(date(2033, 6, 15)):
        assert tasks.maintain_snapshot_partitions.run() == {"created": [], "dropped": []}
    assert not AssetSnapshot.objects.filter(pk=old.pk).exists()
    assert AssetSnapshot.objects.filter(pk=kept.pk).exists()
