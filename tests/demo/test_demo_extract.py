"""demo_extract: a day's six extract files from the demo data, each with its control file, readable as the
contract says (GB18030, header of the contract's columns), with the deliberately bad rows only when asked."""

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import services as consent_services
from customers import validators
from customers.models import Customer, Holding
from demo import extract
from feed import contract
from feed.models import ORDER
from feed.writer import read_control, write_extract
from organisation.access import SYSTEM
from organisation.models import Branch, Staff
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 30)


@pytest.fixture
def bank(book):
    """The test book, two products and three holdings (two of one product for one customer)."""
    wealth = ProductFactory(code="WM-R2-180", name="稳健理财180天", category="wealth", risk_level="R2")
    deposit = ProductFactory(code="DEP-1Y", name="整存整取一年", category="time_deposit", risk_level="R1")
    for customer, product, opened in (
        (book.west, wealth, date(2026, 7, 1)),
        (book.west, wealth, date(2026, 8, 1)),
        (book.east, deposit, date(2026, 3, 1)),
    ):
        Holding.objects.create(
            customer=customer,
            product=product,
            amount=Decimal("50000.50"),
            account_no_masked="622202******1234",
            opened_on=opened,
            maturity_on=opened + timedelta(days=180),
        )
    return book


def read(path) -> tuple[list[str], list[dict]]:
    text = path.read_bytes().decode("gb18030")
    lines = text.split("\n")
    assert lines[-1] == ""  # every line ends with a line feed
    header = lines[0].split("|")
    return header, [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:-1]]


def write(tmp_path, *, bad: bool) -> dict[str, list[dict]]:
    call_command("demo_extract", date=DAY, dir=tmp_path, bad=bad)
    files = {}
    for kind in ORDER:
        path = tmp_path / f"{kind}_20261130.txt"
        header, rows = read(path)
        assert header == contract.column_names(kind)
        count, sha = read_control(path)
        assert count == len(rows)
        assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
        files[kind] = rows
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name for kind in ORDER for name in (f"{kind}_20261130.txt", f"{kind}_20261130.txt.ok")
    )
    return files


def is_day(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y%m%d")  # noqa: DTZ007 - a calendar date
    except ValueError:
        return False
    return True


def is_amount(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return "." in value and len(value.split(".")[1]) == 2


def problems(files: dict[str, list[dict]]) -> set[str]:
    """What is wrong with the files, by the contract's rules and the database (the loader's checks, in short)."""
    found = set()
    branches = set(Branch.objects.values_list("code", flat=True))
    staff = set(Staff.objects.values_list("employee_no", flat=True))
    products = {row["product_code"] for row in files["PROD"]}
    seen, holders = set(), {}
    for row in files["CUST"]:
        if row["cust_no"] in seen:
            found.add("duplicate cust_no")
        seen.add(row["cust_no"])
        if row["branch_code"] not in branches:
            found.add("unknown branch")
        if row["rm_staff_no"] and row["rm_staff_no"] not in staff:
            found.add("unknown RM")
        for column in ("birth_date", "open_date", "risk_assessed_on"):
            if row[column] and not is_day(row[column]):
                found.add("impossible date")
        if row["id_no"]:
            try:
                parsed = validators.parse_resident_id(row["id_no"])
            except ValidationError:
                found.add("bad ID number")
            else:
                assert (f"{parsed.birth_date:%Y%m%d}", parsed.gender) == (row["birth_date"], row["gender"])
                if holders.setdefault(row["id_no"], row["cust_no"]) != row["cust_no"]:
                    found.add("ID held by another customer")
        if row["uscc"]:
            validators.validate_credit_code(row["uscc"])
        validators.validate_mobile(row["mobile"])
    for row in files["HOLD"]:
        assert row["cust_no"] in seen
        assert len(row["account_no"]) == 19 and row["account_no"].isdigit()
        if row["product_code"] not in products:
            found.add("unknown product")
        if not is_amount(row["amount"]):
            found.add("non-numeric amount")
        if row["matures_on"] and row["matures_on"] < row["opened_on"]:
            found.add("matures before it opens")
    for row in files["BAL"]:
        assert is_amount(row["aum"])
        if Decimal(row["aum"]) < 0:
            found.add("negative AUM")
    for row in files["TXN"]:
        assert row["cust_no"] in seen and len(row["txn_time"]) == 14 and is_amount(row["amount"])
    return found


def test_the_files_of_a_day_from_the_demo_data(bank, tmp_path):
    with time_machine.travel(DAY, tick=False):
        consent_services.consent_record(
            actor=SYSTEM, customer=bank.west, channel="phone", state="withdrawn", effective_on=date(2026, 11, 2),
            source="recording", reference="REC-7", reason="客户来电拒绝营销",
        )  # fmt: skip
    files = write(tmp_path, bad=False)
    assert problems(files) == set()
    assert [r["product_code"] for r in files["PROD"]] == ["DEP-1Y", "WM-R2-180"]
    assert files["PROD"][1] == {
        "product_code": "WM-R2-180",
        "name": "稳健理财180天",
        "kind": "wealth",
        "risk_level": "R2",
    }
    # Every customer once, with the full identifiers (the bank's own data going back in) and the bank's codes.
    customers = {row["cust_no"]: row for row in files["CUST"]}
    assert customers.keys() == set(Customer.objects.values_list("customer_no", flat=True))
    west = customers[bank.west.customer_no]
    assert west["cust_type"] == "P" and west["id_type"] == "ID" and west["id_no"] == "11010519491231002X"
    assert west["mobile"] == "13800138000" and west["status"] == "N"
    assert west["branch_code"] == "111" and west["rm_staff_no"] == bank.west.primary_rm.employee_no
    corporate = customers[bank.corporate.customer_no]
    assert (
        corporate["cust_type"] == "C" and corporate["id_no"] == "" and corporate["uscc"] == bank.corporate.credit_code
    )
    # Holdings: one 19-digit account number each, the same in every run.
    holdings = files["HOLD"]
    assert len(holdings) == 3 and len({h["account_no"] for h in holdings}) == 3
    assert {h["amount"] for h in holdings} == {"50000.50"} and holdings[0]["opened_on"] == "20260701"
    assert write(tmp_path, bad=False)["HOLD"] == holdings
    # Balances: every customer's AUM, within half a percent of the current one.
    assert len(files["BAL"]) == Customer.objects.count()
    for row in files["BAL"]:
        assert abs(Decimal(row["aum"]) - Decimal("10000.00")) <= 50
    assert 1 <= len(files["TXN"]) <= 6 and all(row["txn_time"].startswith("20261130") for row in files["TXN"])
    # Consent: the register as the CRM holds it.
    assert files["CONS"] == [
        {"cust_no": bank.west.customer_no, "channel": "PHONE", "state": "N", "effective_on": "20261102",
         "source": "RECORDING", "reference": "REC-7"}
    ]  # fmt: skip


def test_bad_rows_by_default(bank, tmp_path):
    files = write(tmp_path, bad=True)
    assert problems(files) == {
        "bad ID number",
        "unknown branch",
        "impossible date",
        "duplicate cust_no",
        "ID held by another customer",
        "unknown product",
        "non-numeric amount",
        "matures before it opens",
        "negative AUM",
    }
    names = {row["name"] for row in files["CUST"]}
    assert {"张三", "李四", "王五", "赵六"} <= names


def test_a_closed_customer_is_status_x_and_the_default_folder_is_the_inbox(bank, tmp_path, settings):
    Customer.objects.filter(pk=bank.east.pk).update(closed_on=date(2026, 11, 1))
    settings.FEED_INBOX = tmp_path / "inbox"
    call_command("demo_extract", "--date", "20261130", "--no-bad")
    _, rows = read(tmp_path / "inbox" / "CUST_20261130.txt")
    assert {row["cust_no"]: row["status"] for row in rows}[bank.east.customer_no] == "X"


def test_the_queries_do_not_grow_with_the_customers(bank, tmp_path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            extract.extract_write(business_date=DAY, directory=tmp_path, bad=True)
        return len(captured)

    before = queries()
    for _ in range(5):
        CustomerFactory(primary_rm=bank.west.primary_rm)
    assert queries() == before


def test_the_writer_formats_values_and_leaves_no_partial_file(tmp_path):
    path = write_extract(
        tmp_path,
        "BAL",
        DAY,
        [("900000000001", Decimal("12.5")), {"cust_no": "900000000002", "aum": 7}, {"cust_no": "900000000003"}],
        encoding="utf-8",
        bom=True,
        crlf=True,
    )
    data = path.read_bytes()
    assert data == "\ufeffcust_no|aum\r\n900000000001|12.50\r\n900000000002|7.00\r\n900000000003|\r\n".encode()
    assert read_control(path) == (3, hashlib.sha256(data).hexdigest())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BAL_20261130.txt", "BAL_20261130.txt.ok"]
    with pytest.raises(ValueError, match="delimiter"):
        write_extract(tmp_path, "BAL", DAY, [("9|1", Decimal("1"))])
    # A failed rewrite leaves no control file vouching for the old content, and no partial file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BAL_20261130.txt"]
