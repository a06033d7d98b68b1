"""What a bank's ETL team and the people at 8 a.m. rely on: a file loads once, a corrected file replaces its date,
a date's files load in order, two loaders never load one file twice, unchanged rows are not rewritten, and what
changed is in the customer's history as the feed's own doing."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import AssetSnapshot, Customer, Holding, LargeTransaction
from customers.services import customers_refresh_aum
from feed import chain
from feed import inbox as feed_inbox
from feed import loader as feed_loader
from feed.loader import load_file
from feed.models import Load
from feed.reader import file_sha256
from relationships.models import Assignment

from .conftest import DAY
from .test_bad_input import loaded_before, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_loaded(org, write):
    """PROD and CUST of DAY loaded: three individuals of 西一网点, the first with an RM."""
    assert (
        load_file(
            write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}])
        ).status
        == "loaded"
    )
    cust = load_file(write("CUST", [person(1, rm_staff_no=org.rm_west.employee_no), person(2), person(3)]))
    assert cust.status == "loaded", cust.message
    return cust


def hold(n: int, amount: str = "1000.00", product: str = "TD1Y", **extra) -> dict:
    return {
        "cust_no": f"P{n:05d}",
        "product_code": product,
        "account_no": f"62220200000{n:05d}",
        "amount": amount,
        **extra,
    }


def test_the_same_file_twice_is_a_no_op_that_says_so(day_loaded, write):
    history = Customer.history.count()
    corrected = load_file(write("CUST", [person(1, address="新地址")]))
    twice = load_file(write("CUST", [person(1, address="新地址")]))
    assert corrected.status == Load.Status.LOADED
    assert twice.status == Load.Status.DUPLICATE
    assert "已加载" in twice.message and "loaded before" in twice.message_en
    assert twice.rows_loaded == twice.rows_changed == 0
    assert Customer.history.count() == history + 1  # only the one real change


def test_an_unchanged_row_is_not_rewritten_the_next_day(day_loaded, write):
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD")
    before = {c.customer_no: (c.updated_at, c.id_number_enc) for c in Customer.objects.all()}
    history = Customer.history.count()
    load = load_file(write("CUST", [person(1, rm_staff_no=""), person(2), person(3, address="新地址")], day=next_day))
    assert load.status == Load.Status.LOADED
    assert load.rows_loaded == 3 and load.rows_changed == 2
    assert load.summary["unchanged"]["count"] == 1
    after = {c.customer_no: (c.updated_at, c.id_number_enc) for c in Customer.objects.all()}
    assert after["P00002"] == before["P00002"]  # not touched, not re-encrypted
    assert after["P00003"][0] > before["P00003"][0]
    assert Customer.history.count() == history + 2


def test_changes_are_in_the_history_as_the_feed(day_loaded, write):
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD")
    load_file(write("CUST", [person(2, name="测试二改", risk_level="C3", risk_assessed_on="20261101")], day=next_day))
    record = Customer.objects.get(customer_no="P00002").history.first()
    assert record.history_type == "~"
    assert record.history_user is None
    assert record.history_change_reason == f"feed: CUST_{next_day:%Y%m%d}.txt"
    assert record.name == "测试二改" and record.risk_level == "C3"
    assert Customer.objects.get(customer_no="P00002").risk_expires_on == DAY.replace(year=2027, day=1)


def test_a_new_customer_with_an_rm_gets_the_portfolio_assignment(day_loaded, org):
    customer = Customer.objects.get(customer_no="P00001")
    assignment = Assignment.objects.current().get(customer=customer)
    assert assignment.staff == org.rm_west and assignment.role == Assignment.Role.PRIMARY
    assert not Assignment.objects.filter(customer__customer_no="P00002").exists()


def test_the_crm_keeps_its_portfolio_when_the_core_names_another_rm(day_loaded, org, write):
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD")
    load = load_file(write("CUST", [person(1, rm_staff_no=org.rm_east.employee_no, address="新")], day=next_day))
    assert load.summary["rm_differs"]["sample"] == ["P00001"]
    assert Customer.objects.get(customer_no="P00001").primary_rm == org.rm_west


def test_a_closed_customer_keeps_the_record_and_its_history(day_loaded, write):
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD")
    load_file(write("CUST", [person(3, status="X")], day=next_day))
    closed = Customer.objects.get(customer_no="P00003")
    assert closed.closed_on == next_day
    assert closed.history.count() == 2


def test_a_date_s_files_wait_for_their_predecessors(org, inbox, write):
    write("HOLD", [hold(1)])
    write("CUST", [person(1)])
    waiting = load_file(inbox / f"HOLD_{DAY:%Y%m%d}.txt")
    assert waiting.status == Load.Status.WAITING
    assert "PROD_20261130.txt" in waiting.message and "CUST_20261130.txt" in waiting.message
    write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}])
    loads = feed_inbox.scan()
    assert [(load.kind, load.status) for load in loads] == [("PROD", "loaded"), ("CUST", "loaded"), ("HOLD", "loaded")]
    assert Load.objects.filter(status=Load.Status.WAITING).count() == 1  # the first try, kept as it was
    archive = inbox / "archive" / f"{DAY:%Y%m%d}"
    assert sorted(p.name for p in archive.iterdir()) == sorted(
        f"{k}_{DAY:%Y%m%d}.txt{s}" for k in ("PROD", "CUST", "HOLD") for s in ("", ".ok")
    )
    assert Holding.objects.count() == 1


def test_the_sweep_moves_a_rejected_file_aside_with_its_report(org, inbox, write):
    path = write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}])
    path.with_name(path.name + ".ok").write_text("1|" + "0" * 64)
    (load,) = feed_inbox.scan()
    assert load.status == Load.Status.REJECTED
    rejected = inbox / "rejected" / f"{DAY:%Y%m%d}"
    report = (rejected / f"{path.name}.report.txt").read_text(encoding="utf-8")
    assert "SHA-256" in report and (rejected / path.name).exists() and not path.exists()


def test_a_file_being_loaded_elsewhere_is_not_loaded_again(org, write):
    path = write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}])
    other = Load.objects.create(
        kind="PROD", business_date=DAY, file_name=path.name, sha256=file_sha256(path), status=Load.Status.RUNNING
    )
    load = load_file(path)
    assert load.status == Load.Status.DUPLICATE and load.summary["same_as"] == other.pk
    assert not Load.objects.filter(status=Load.Status.LOADED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_loaders_started_at_once_load_the_file_once(org, write):
    path = write(
        "PROD",
        [{"product_code": f"P{i}", "name": f"产品{i}", "kind": "deposit", "risk_level": "R1"} for i in range(2000)],
    )
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(load_file(path).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["duplicate", "loaded"]
    assert Load.objects.filter(status="loaded").count() == 1


def test_a_dry_run_writes_nothing_and_reports(org, write):
    load_file(write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]))
    check = load_file(write("CUST", [person(1), person(2, branch_code="999")]), dry_run=True)
    assert check.status == Load.Status.CHECKED
    assert check.rows_loaded == 1 and check.rows_rejected == 1
    assert check.errors.get().code == "unknown_branch"
    assert not Customer.objects.exists()
    real = load_file(write("CUST", [person(1), person(2, branch_code="999")]))
    assert real.status == Load.Status.LOADED  # a dry run does not count as a load of the file


def test_holdings_are_a_snapshot(day_loaded, write):
    load_file(write("HOLD", [hold(1, matures_on="20261210"), hold(2), hold(3, "5.00")]))
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD", "CUST")
    load = load_file(write("HOLD", [hold(1, matures_on="20261210"), hold(2, "2000.00")], day=next_day))
    assert load.rows_changed == 1  # P00001's holding is the same: not rewritten
    assert load.summary["closed_holdings"]["count"] == 1
    closed = Holding.objects.get(customer__customer_no="P00003")
    assert closed.closed_on == next_day
    assert Holding.objects.get(customer__customer_no="P00002").amount == Decimal("2000.00")
    assert Holding.objects.get(customer__customer_no="P00001").as_of == DAY


def test_balances_set_current_aum_and_a_backfill_does_not_move_it(day_loaded, write):
    load_file(write("HOLD", []))
    load_file(write("BAL", [{"cust_no": "P00001", "aum": "600000.00"}, {"cust_no": "P00002", "aum": "100.00"}]))
    customer = Customer.objects.get(customer_no="P00001")
    assert customer.aum_as_of is None  # the chain after the load refreshes it, not the load itself
    assert chain.tiers(DAY.isoformat())["aum_refreshed"] == 2
    customer.refresh_from_db()
    assert (customer.aum, customer.aum_as_of) == (Decimal("600000.00"), DAY)
    assert customers_refresh_aum(as_of=DAY) == 0  # again: nothing to write
    older = DAY - timedelta(days=10)
    loaded_before(older, "PROD", "CUST", "HOLD")
    load_file(write("BAL", [{"cust_no": "P00001", "aum": "1.00"}], day=older))
    assert chain.tiers(older.isoformat())["aum_refreshed"] == 0
    assert customers_refresh_aum() == 0  # the newest date's
    customer.refresh_from_db()
    assert (customer.aum, customer.aum_as_of) == (Decimal("600000.00"), DAY)
    assert AssetSnapshot.objects.get(customer=customer, date=older).aum == Decimal("1.00")


def test_a_corrected_file_replaces_the_date(day_loaded, write):
    load_file(write("HOLD", []))
    load_file(write("BAL", [{"cust_no": "P00001", "aum": "100.00"}, {"cust_no": "P00002", "aum": "200.00"}]))
    first = Load.objects.get(kind="BAL", status="loaded")
    corrected = load_file(write("BAL", [{"cust_no": "P00001", "aum": "150.00"}]))
    assert corrected.status == Load.Status.LOADED
    assert dict(AssetSnapshot.objects.filter(date=DAY).values_list("customer__customer_no", "aum")) == {
        "P00001": Decimal("150.00")
    }
    first.refresh_from_db()
    assert first.summary["replaced_by"] == corrected.pk
    load_file(write("TXN", [{"cust_no": "P00001", "txn_time": "20261130100000", "amount": "500000.00"}]))
    load_file(write("TXN", [{"cust_no": "P00002", "txn_time": "20261130110000", "amount": "-600000.00"}]))
    assert list(LargeTransaction.objects.values_list("customer__customer_no", flat=True)) == ["P00002"]


def test_the_chain_starts_after_balances_and_transactions(
    day_loaded, write, monkeypatch, django_capture_on_commit_callbacks
):
    started = []
    monkeypatch.setattr(feed_loader.chain, "start", started.append)
    with django_capture_on_commit_callbacks(execute=True):
        load_file(write("HOLD", []))
    assert started == []
    with django_capture_on_commit_callbacks(execute=True):
        load_file(write("BAL", [{"cust_no": "P00001", "aum": "1.00"}]))
        load_file(write("TXN", []))
    assert started == [DAY, DAY]


def test_the_sweep_loads_an_upload_whose_task_was_never_sent(org, tmp_path):
    path = tmp_path / "upload.csv"
    path.write_text("product_code,name,kind,risk_level\nTD1Y,一年定期,time_deposit,R1\n", encoding="utf-8")
    with time_machine.travel("2026-12-01 08:00 +0800"):
        load = Load.objects.create(
            kind="PROD", business_date=DAY, file_name="upload.csv", source=Load.Source.UPLOAD, path=str(path)
        )
    with time_machine.travel("2026-12-01 08:10 +0800"):
        loads = feed_inbox.scan(inbox=tmp_path / "none")
    assert [x.pk for x in loads] == [load.pk]
    load.refresh_from_db()
    assert load.status == Load.Status.LOADED
    assert feed_loader.load_queued(load.pk) is None  # taken once


def test_a_load_is_a_constant_number_of_queries(org, write):
    load_file(write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]))
    loaded_before(DAY + timedelta(days=1), "PROD")
    counts = []
    for day, n in ((DAY, 3), (DAY + timedelta(days=1), 60)):
        with CaptureQueriesContext(connection) as queries:
            load = load_file(write("CUST", [person(i + (0 if n == 3 else 100)) for i in range(n)], day=day))
        assert load.status == "loaded"
        counts.append(len(queries))
    assert counts[0] == counts[1]  # set-based: ten rows or ten thousand, the same statements


@pytest.mark.postgres
def test_a_first_load_rebuilds_the_indexes_and_keeps_them(org, write, monkeypatch):
    from feed import kinds

    monkeypatch.setattr(kinds, "BULK_MIN_ROWS", 2)
    load_file(write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]))

    def indexes(table):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
            return {r[0] for r in cursor.fetchall()}

    before = indexes("customers_customer"), indexes("customers_holding")
    load = load_file(write("CUST", [person(i, rm_staff_no=org.rm_west.employee_no) for i in range(1, 6)]))
    assert load.status == Load.Status.LOADED and load.rows_changed == 5
    hold_load = load_file(write("HOLD", [hold(i) for i in range(1, 6)]))
    assert hold_load.status == Load.Status.LOADED and hold_load.rows_changed == 5
    assert (indexes("customers_customer"), indexes("customers_holding")) == before
    assert Assignment.objects.filter(customer__customer_no__startswith="P0000").count() == 5
    assert Customer.history.filter(history_type="+").count() == 5


@pytest.mark.postgres
def test_a_big_file_parsed_in_two_processes_loads_the_same(org, write, monkeypatch, settings):
    monkeypatch.setattr(feed_loader, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(feed_loader, "PARALLEL_BATCH", 3)
    settings.FEED_WORKERS = 2
    load_file(write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]))
    rows = [person(i) for i in range(1, 11)] + [person(11, open_date="20261332"), person(12, mobile="1")]
    load = load_file(write("CUST", rows))
    assert load.status == Load.Status.LOADED
    assert (load.rows_loaded, load.rows_rejected) == (10, 2)
    assert list(load.errors.values_list("line", "code")) == [(12, "date"), (13, "mobile_format")]
    assert Customer.objects.get(customer_no="P00007").reveal("mobile") == "13900000007"


def _prod(write):
    load_file(write("PROD", [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]))


def test_a_branch_s_own_list_uploaded_as_xlsx_loads(org, write, tmp_path):
    from datetime import date as real_date

    from openpyxl import Workbook

    _prod(write)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["cust_no", "cust_type", "name", "id_type", "id_no", "branch_code", "open_date", "mobile"])
    good, bad = person(1), person(2)
    sheet.append([good["cust_no"], "P", "张三", "ID", good["id_no"], "111", real_date(2020, 5, 6), 13900000001])
    sheet.append([bad["cust_no"], "P", "李四", "ID", bad["id_no"], "999", real_date(2020, 5, 6), 13900000002])
    path = tmp_path / "客户名单.xlsx"
    workbook.save(path)
    load = load_file(path, kind="CUST", business_date=DAY, source=Load.Source.UPLOAD, control=False)
    assert load.status == Load.Status.LOADED, load.message
    assert (load.rows_loaded, load.rows_rejected) == (1, 1)
    assert load.errors.get().code == "unknown_branch"
    customer = Customer.objects.get(customer_no=good["cust_no"])
    assert customer.name == "张三" and customer.reveal("mobile") == "13900000001"
    assert timezone.localtime(customer.created_at).date() == real_date(2020, 5, 6)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_upload_loads_in_either_encoding(encoding, org, write, tmp_path):
    _prod(write)
    row = person(1)
    path = tmp_path / "list.csv"
    path.write_text(
        f"cust_no,cust_type,name,id_no,branch_code\n{row['cust_no']},P,王五,{row['id_no']},111\n", encoding=encoding
    )
    load = load_file(path, kind="CUST", business_date=DAY, source=Load.Source.UPLOAD, control=False)
    assert load.status == Load.Status.LOADED, load.message
    assert Customer.objects.get().name == "王五"
