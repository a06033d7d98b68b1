"""Bad input, each case a file the way a core system or a person would get it wrong. The report the loader gives
(status, structural message, every rejected row with its masked value and its reasons in zh-hans and English,
the notices) is compared with a golden copy in tests/feed/golden/; a structural error writes nothing.

Set FEED_GOLDEN_UPDATE=1 to write the golden copies again after a deliberate change, and read the diff.
"""

import hashlib
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine

from customers.models import AssetSnapshot, Customer, Holding, LargeTransaction
from customers.validators import resident_id_check_char, uscc_check_char
from feed.loader import load_file
from feed.models import Load
from feed.reports import report_lines

from .conftest import DAY

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"


def rid(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def person(n: int, **fields) -> dict:
    """A valid individual of the test organisation's 西一网点 (code 111)."""
    row = {
        "cust_no": f"P{n:05d}",
        "cust_type": "P",
        "name": f"测试{n}",
        "id_type": "ID",
        "id_no": rid(f"33010619800101{n:03d}"),
        "mobile": f"139{n:08d}",
        "branch_code": "111",
        "open_date": "20200101",
        "status": "N",
    }
    row.update(fields)
    return row


def raw(inbox: Path, name: str, data: bytes, *, rows: int | None = None, digest: str | None = None) -> Path:
    """A file written byte for byte, with a control file (rows = lines after the header unless given)."""
    path = inbox / name
    path.write_bytes(data)
    counted = max(data.count(b"\n") - 1, 0) if rows is None else rows
    (inbox / (name + ".ok")).write_text(f"{counted}|{digest or hashlib.sha256(data).hexdigest()}")
    return path


def check_golden(name: str, load: Load) -> None:
    text = "\n".join(report_lines(load)) + "\n"
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("FEED_GOLDEN_UPDATE") or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        if not os.environ.get("FEED_GOLDEN_UPDATE"):
            pytest.fail(f"golden report {golden.name} was missing and has been written: check it and commit it")
    assert text == golden.read_text(encoding="utf-8")


@pytest.fixture
def products(write):
    load = load_file(
        write(
            "PROD",
            [
                {"product_code": "TD1Y", "name": "一年期定期存款", "kind": "time_deposit", "risk_level": "R1"},
                {"product_code": "WM90", "name": "稳盈90天理财", "kind": "wealth", "risk_level": "R2"},
            ],
        )
    )
    assert load.status == Load.Status.LOADED, load.message


@pytest.fixture
def customers(org, products, write):
    load = load_file(write("CUST", [person(1, rm_staff_no=org.rm_west.employee_no), person(2), person(3)]))
    assert load.status == Load.Status.LOADED, load.message
    return load


def loaded_before(day: date, *kinds: str) -> None:
    """Earlier files of ``day`` counted as loaded (the order rule), for a test about a later one."""
    for kind in kinds:
        Load.objects.create(kind=kind, business_date=day, status=Load.Status.LOADED, sha256=kind, file_name=kind)


def _nothing_written(before: int) -> None:
    assert Customer.objects.count() == before


# -- structural errors: the whole file is rejected ---------------------------------------------------------------
HEADER = "cust_no|cust_type|name|id_type|id_no|branch_code"


def _line(n: int) -> str:
    return f"P{n:05d}|P|测试{n}|ID|{rid(f'33010619800101{n:03d}')}|111"


STRUCTURAL = {
    "utf8_declared_gb18030": lambda inbox, write: write("CUST", [person(1), person(2)], encoding="utf-8"),
    "wrong_delimiter": lambda inbox, write: raw(
        inbox,
        "CUST_20261130.txt",
        (HEADER.replace("|", ",") + "\n" + _line(1).replace("|", ",") + "\n").encode("gb18030"),
    ),
    "missing_column": lambda inbox, write: write(
        "CUST", [("P00001", "P", "测试1")], columns=["cust_no", "cust_type", "name"]
    ),
    "duplicate_column": lambda inbox, write: raw(
        inbox, "CUST_20261130.txt", (HEADER + "|name\n" + _line(1) + "|又名\n").encode("gb18030")
    ),
    "control_total": lambda inbox, write: raw(
        inbox, "CUST_20261130.txt", (HEADER + "\n" + _line(1) + "\n" + _line(2) + "\n").encode("gb18030"), rows=3
    ),
    "checksum": lambda inbox, write: raw(
        inbox, "CUST_20261130.txt", (HEADER + "\n" + _line(1) + "\n").encode("gb18030"), digest="0" * 64
    ),
    "empty_file": lambda inbox, write: raw(inbox, "CUST_20261130.txt", b"", rows=0),
    "header_only_but_rows_announced": lambda inbox, write: raw(
        inbox, "CUST_20261130.txt", (HEADER + "\n").encode(), rows=2
    ),
    "truncated_last_line": lambda inbox, write: raw(
        inbox, "CUST_20261130.txt", (HEADER + "\n" + _line(1) + "\n" + _line(2)[:12]).encode("gb18030"), rows=2
    ),
    "renamed_exe": lambda inbox, write: raw(inbox, "CUST_20261130.txt", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200),
    "no_control_file": lambda inbox, write: _without_control(write("CUST", [person(1)])),
    "bad_file_name": lambda inbox, write: raw(inbox, "CUST_2026-11-30.txt", (HEADER + "\n" + _line(1) + "\n").encode()),
    "content_date_differs": lambda inbox, write: write(
        "CUST", [{**person(1), "data_date": "20261129"}], columns=[*person(1).keys(), "data_date"]
    ),
}


def _without_control(path: Path) -> Path:
    path.with_name(path.name + ".ok").unlink()
    return path


@pytest.mark.parametrize("case", sorted(STRUCTURAL))
@time_machine.travel("2026-12-01 07:00 +0800", tick=False)
def test_a_structural_error_rejects_the_whole_file(case, org, products, inbox, write):
    before = Customer.objects.count()
    path = STRUCTURAL[case](inbox, write)
    load = load_file(path)
    assert load.status == Load.Status.REJECTED
    assert load.message and load.message_en and load.message != load.message_en
    assert load.rows_loaded == load.rows_changed == 0
    _nothing_written(before)
    check_golden(f"structural_{case}", load)


def test_gb18030_file_read_as_utf8_is_rejected(org, products, write, settings):
    settings.FEED_ENCODING = "utf-8"
    load = load_file(write("CUST", [person(1, name="张三丰"), person(2, address="浙江省杭州市")]))
    assert load.status == Load.Status.REJECTED
    assert load.error_code == "encoding"
    _nothing_written(0)
    check_golden("structural_gb18030_declared_utf8", load)


def test_the_date_given_must_be_the_file_names(org, products, write):
    load = load_file(write("CUST", [person(1)]), business_date=DAY - timedelta(days=1))
    assert load.status == Load.Status.REJECTED
    assert load.error_code == "date_mismatch"
    _nothing_written(0)


def test_older_holdings_than_the_current_ones_are_refused(customers, write):
    newer = load_file(
        write("HOLD", [{"cust_no": "P00001", "product_code": "TD1Y", "account_no": "6222020000001", "amount": "10.00"}])
    )
    assert newer.status == Load.Status.LOADED, newer.message
    day = DAY - timedelta(days=1)
    loaded_before(day, "PROD", "CUST")
    older = load_file(
        write(
            "HOLD",
            [{"cust_no": "P00001", "product_code": "TD1Y", "account_no": "6222020000002", "amount": "1.00"}],
            day=day,
        )
    )
    assert older.status == Load.Status.REJECTED
    assert older.error_code == "stale_snapshot"
    assert Holding.objects.filter(closed_on__isnull=True).count() == 1


# -- row errors: only the bad rows are rejected -----------------------------------------------------------------
def test_bad_customer_rows_are_reported_one_by_one(org, products, write):
    loaded_before(DAY - timedelta(days=1), "PROD")
    first = load_file(
        write("CUST", [person(99, cust_no="OLD01", id_no="11010519491231002X")], day=DAY - timedelta(days=1))
    )
    assert first.status == Load.Status.LOADED, first.message
    existing = Customer.objects.get(customer_no="OLD01")
    rows = [
        person(1, rm_staff_no=org.rm_west.employee_no),
        person(2, cust_no="DUP01"),
        person(3, cust_no="DUP01"),
        person(4, id_no="330106198001010049"),  # check digit wrong
        person(5, id_no=rid("33010619800101051"), gender="F"),  # the ID says male (odd 17th digit)
        person(6, id_no=rid("33010619800101060"), birth_date="19800102"),
        person(7, id_no="11010519491231002X"),  # held by another customer number
        person(8, branch_code="999"),  # no such branch
        person(9, rm_staff_no="NOBODY"),  # unknown staff: loads without an RM
        person(10, open_date="20261332"),
        person(11, risk_level="C9"),
        person(12, id_no="330106800101012"),  # a 15-digit number
        person(13, mobile="12345"),
        {**person(14), "cust_type": "C", "id_type": "", "id_no": "", "uscc": "91330100MA27XXXX1"},
        {"cust_no": "P00015", "cust_type": "X", "name": "类型错", "branch_code": "111"},
        {**person(16), "name": ""},
        person(17, id_type="PP", id_no="E12"),  # too short for a passport
        person(18, id_type="FP", id_no=rid("93310019800101001")),  # a valid foreign permanent resident ID
        {**person(19), "cust_type": "C", "id_type": "", "id_no": "", "uscc": uscc("91330100MA27XXXX1")},
    ]
    load = load_file(write("CUST", rows))
    assert load.status == Load.Status.LOADED, load.message
    check_golden("rows_customers", load)
    loaded = set(Customer.objects.values_list("customer_no", flat=True))
    assert {"P00001", "P00009", "P00018", "P00019"} <= loaded
    assert not loaded & {"DUP01", "P00004", "P00005", "P00006", "P00007", "P00008", "P00010", "P00012"}
    assert Customer.objects.get(customer_no="P00009").primary_rm is None
    assert Customer.objects.get(customer_no="P00001").primary_rm == org.rm_west
    existing.refresh_from_db()
    assert existing.reveal("id_number") == "11010519491231002X"
    conflict = load.errors.get(code="id_conflict")
    assert conflict.resolved_at is None and "OLD01" in conflict.reason
    assert "1491231002X" not in "".join(load.errors.values_list("value", flat=True))  # masked


def test_bad_holding_rows(customers, write):
    rows = [
        {"cust_no": "P00001", "product_code": "TD1Y", "account_no": "6222020000000011", "amount": "50000.00",
         "opened_on": "20250101", "matures_on": "20261210"},
        {"cust_no": "P00001", "product_code": "NOPE", "account_no": "6222020000000012", "amount": "1.00"},
        {"cust_no": "P00002", "product_code": "TD1Y", "account_no": "6222020000000013", "amount": "一万"},
        {"cust_no": "P00002", "product_code": "WM90", "account_no": "6222020000000014", "amount": "10.005"},
        {"cust_no": "P00003", "product_code": "TD1Y", "account_no": "6222020000000015", "amount": "9.00",
         "opened_on": "20260301", "matures_on": "20260201"},
        {"cust_no": "NOBODY", "product_code": "TD1Y", "account_no": "6222020000000016", "amount": "1.00"},
        {"cust_no": "P00003", "product_code": "WM90", "account_no": "6222020000000017", "amount": "1.00",
         "opened_on": "2026-02-30"},
        {"cust_no": "P00003", "product_code": "WM90", "account_no": "6222020000000018", "amount": "-1.00"},
    ]  # fmt: skip
    load = load_file(write("HOLD", rows))
    assert load.status == Load.Status.LOADED, load.message
    check_golden("rows_holdings", load)
    holding = Holding.objects.get()
    assert holding.amount == 50000 and holding.account_last4 == "0011"
    assert holding.account_no_masked == "622202******0011"
    assert "6222020000000011" not in str(Holding.objects.values().get())  # never stored in clear


def test_bad_balance_and_transaction_rows(customers, write):
    load_file(write("HOLD", []))
    bal = load_file(
        write(
            "BAL",
            [
                {"cust_no": "P00001", "aum": "120000.50"},
                {"cust_no": "P00002", "aum": "-5.00"},
                {"cust_no": "P00003", "aum": "abc"},
                {"cust_no": "NOBODY", "aum": "1.00"},
                {"cust_no": "P00003", "aum": "1.001"},
            ],
        )
    )
    assert bal.status == Load.Status.LOADED, bal.message
    check_golden("rows_balances", bal)
    assert AssetSnapshot.objects.get().aum == 120000.50
    txn = load_file(
        write(
            "TXN",
            [
                {"cust_no": "P00001", "txn_time": "20261130093000", "amount": "-300000.00", "channel": "柜面"},
                {"cust_no": "P00001", "txn_time": "20261129235959", "amount": "1.00"},
                {"cust_no": "P00002", "txn_time": "2026-11-30 25:00:00", "amount": "1.00"},
                {"cust_no": "P00002", "txn_time": "20261130100000", "amount": "1,000.00"},
            ],
        )
    )
    assert txn.status == Load.Status.LOADED, txn.message
    check_golden("rows_transactions", txn)
    assert LargeTransaction.objects.get().amount == -300000


def test_a_line_with_too_few_or_too_many_fields(org, products, inbox):
    lines = [HEADER, _line(1), _line(2)[:-4], _line(3) + "|多余", _line(4), ""]
    load = load_file(raw(inbox, "CUST_20261130.txt", "\n".join(lines).encode("gb18030")))
    assert load.status == Load.Status.LOADED, load.message
    assert set(Customer.objects.values_list("customer_no", flat=True)) == {"P00001", "P00004"}
    check_golden("rows_fields", load)


# -- what is not an error --------------------------------------------------------------------------------------
def test_extra_columns_are_ignored_and_listed(org, products, write):
    load = load_file(write("CUST", [{**person(1), "vip_flag": "Y"}], columns=[*person(1).keys(), "vip_flag"]))
    assert load.status == Load.Status.LOADED
    assert load.summary["unknown_columns"]["sample"] == ["vip_flag"]
    check_golden("ok_extra_columns", load)


@pytest.mark.parametrize(
    "options", [{"crlf": True}, {"bom": True, "encoding": "utf-8"}, {"crlf": True, "bom": True, "encoding": "utf-8"}]
)
def test_windows_line_endings_and_a_bom_load(options, org, products, write):
    load = load_file(write("CUST", [person(1, name="张三"), person(2, address="杭州市西湖区")], **options))
    assert load.status == Load.Status.LOADED, load.message
    assert load.rows_loaded == 2
    assert Customer.objects.get(customer_no="P00001").name == "张三"
    assert Customer.objects.get(customer_no="P00002").address == "杭州市西湖区"


def test_a_foreign_permanent_resident_id_loads(org, products, write):
    number = rid("93310019800101001")
    load = load_file(write("CUST", [person(1, id_type="FP", id_no=number)]))
    assert load.status == Load.Status.LOADED
    customer = Customer.objects.get()
    assert customer.id_type == Customer.IdType.FOREIGN_PERMANENT
    assert customer.reveal("id_number") == number


def test_first_line_numbers_count_the_header(org, products, write):
    load = load_file(write("CUST", [person(1), person(2, branch_code="999")]))
    assert list(load.errors.values_list("line", flat=True)) == [3]


def test_dates_in_both_forms(org, products, write):
    load = load_file(write("CUST", [person(1, open_date="2020-05-06")]))
    assert load.status == Load.Status.LOADED
    assert Customer.objects.get().created_at.date() in (date(2020, 5, 5), date(2020, 5, 6))
