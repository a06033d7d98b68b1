"""A day's core-banking extracts written from the demo data (``manage.py demo_extract``): PROD, CUST, CONS, HOLD,
BAL and TXN as the bank would send them (docs/feed.md), so that a load can be watched end to end on the demo.

The files carry the demo's own customers, products and holdings, full identifiers included (the bank's own data
going back in), and by default a few deliberately bad rows, each wrong in one way, for the load report to show.
Everything is read a chunk at a time and streamed to the file: the memory used does not grow with the bank.

Deterministic: the same database and date give the same files. A holding's account number is made from its
customer's and product's ids and its place among that customer's holdings of the product (by opening date), not
from the holding's own id: a load may replace the demo's holdings by rows of its own, and the next day's file must
still name the same accounts.
"""

import random
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from consent.models import ConsentRecord, Source, State
from customers.models import Customer, Holding, Product
from demo import customers as demo_customers
from feed import contract
from feed.models import ORDER, Kind
from feed.writer import write_extract
from organisation.models import Branch, Staff

CHUNK = 2000
ID_TYPE_CODES = {value: code for code, value in contract.ID_TYPES.items() if code}  # resident_id → "ID", …
# Customer numbers of the bad rows that must not match anyone: outside the demo's (9…) and the services' (P…).
BAD_PREFIX = "8"
UNKNOWN_BRANCH = "ZZ9999"
UNKNOWN_PRODUCT = "NO-SUCH-PRODUCT"
# Resident IDs of the bad rows: demo.resident_id of numbers far above any demo or test customer's.
_BAD_ID_BASE = 9_900_000


def account_no(customer_id: int, product_id: int, ordinal: int) -> str:
    """A 19-digit card-style account number: 622 + customer id (10) + product id (3) + ordinal (2) + a Luhn digit.
    Distinct for distinct (customer, product, ordinal) below 10^10 customers and 100 holdings of a product."""
    body = f"622{customer_id % 10**10:010d}{product_id % 1000:03d}{ordinal % 100:02d}"
    return body + luhn_digit(body)


def luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: every second digit from the right, the check digit's neighbour first
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def aum_on(customer_id: int, aum: Decimal, day: date) -> Decimal:
    """The customer's AUM with a small deterministic drift of the day (within ±0.5 %), so each day differs."""
    step = (customer_id * 7919 + day.toordinal() * 104729) % 21 - 10  # -10 … 10
    return (aum * (1 + Decimal(step) / 2000)).quantize(Decimal("0.01"))


def extract_write(*, business_date: date, directory: Path, bad: bool = True) -> dict[str, dict]:
    """Write the day's six files (in load order) into ``directory``; {kind: {"path", "rows"}}."""
    directory = Path(directory)
    written = {}
    for kind in ORDER:
        rows = _ROWS[kind](business_date, bad)
        counter = _Counter(rows)
        path = write_extract(directory, kind, business_date, counter)
        written[kind] = {"path": path, "rows": counter.count}
    return written


class _Counter:
    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def _prod_rows(day: date, bad: bool):
    for product in Product.objects.order_by("code").only("code", "name", "category", "risk_level"):
        yield {
            "product_code": product.code,
            "name": product.name,
            "kind": product.category,
            "risk_level": product.risk_level,
        }


CUSTOMER_FIELDS = (
    "customer_no",
    "kind",
    "name",
    "id_type",
    "id_number_enc",
    "gender",
    "birth_date",
    "mobile_enc",
    "branch_id",
    "primary_rm_id",
    "created_at",
    "risk_level",
    "risk_assessed_on",
    "occupation",
    "address",
    "credit_code",
    "legal_representative",
    "industry",
    "closed_on",
)


def _cust_rows(day: date, bad: bool):
    branches = dict(Branch.objects.values_list("pk", "code"))
    staff = dict(Staff.objects.values_list("pk", "employee_no"))
    first = None
    for customer in Customer.objects.order_by("pk").only(*CUSTOMER_FIELDS).iterator(chunk_size=CHUNK):
        row = customer_row(customer, branches, staff)
        first = first or row
        yield row
    if bad:
        yield from _bad_customers(first, branches, staff)


def customer_row(customer: Customer, branches: dict, staff: dict) -> dict:
    individual = customer.is_individual
    return {
        "cust_no": customer.customer_no,
        "cust_type": "P" if individual else "C",
        "name": customer.name,
        "id_type": ID_TYPE_CODES.get(customer.id_type, "") if individual else "",
        "id_no": customer.reveal("id_number") if individual else "",
        "gender": customer.gender if individual else "",
        "birth_date": customer.birth_date if individual else None,
        "mobile": customer.reveal("mobile"),
        "branch_code": branches[customer.branch_id],
        "rm_staff_no": staff.get(customer.primary_rm_id, ""),
        "open_date": timezone.localdate(customer.created_at),
        "risk_level": customer.risk_level if individual else "",
        "risk_assessed_on": customer.risk_assessed_on if individual else None,
        "occupation": customer.occupation if individual else "",
        "address": customer.address,
        "uscc": customer.credit_code or "",
        "legal_rep": customer.legal_representative if not individual else "",
        "industry": customer.industry if not individual else "",
        "status": "X" if customer.closed_on else "N",
    }


def _person(k: int, name: str, branch_code: str, rm_no: str) -> dict:
    number, birth, gender = demo_customers.resident_id(_BAD_ID_BASE + k, random.Random(k))
    return {
        "cust_no": f"{BAD_PREFIX}{k:011d}",
        "cust_type": "P",
        "name": name,
        "id_type": "ID",
        "id_no": number,
        "gender": gender,
        "birth_date": birth,
        "mobile": demo_customers.mobile(_BAD_ID_BASE + k),
        "branch_code": branch_code,
        "rm_staff_no": rm_no,
        "open_date": date(2020, 5, 8),
        "risk_level": "C2",
        "status": "N",
    }


def _bad_customers(first: dict | None, branches: dict, staff: dict):
    """One row for each way a customer row can be wrong; every other value in it is right."""
    if first is None:
        return
    branch, rm_no = first["branch_code"], first["rm_staff_no"]
    wrong_check = _person(1, "张三", branch, rm_no)
    number = wrong_check["id_no"]
    wrong_check["id_no"] = number[:17] + ("0" if number[17] != "0" else "1")  # a typing error in the check digit
    yield wrong_check
    yield _person(2, "李四", UNKNOWN_BRANCH, "")
    impossible_day = _person(3, "王五", branch, rm_no)
    impossible_day["open_date"] = "20261332"
    yield impossible_day
    yield first  # the same customer number twice in one file
    taken = Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL).exclude(id_number_enc="").order_by("pk").first()
    if taken is not None:
        other = _person(4, "赵六", branch, rm_no)
        other["id_type"] = ID_TYPE_CODES.get(taken.id_type, "ID")
        other["id_no"] = taken.reveal("id_number")
        other["gender"], other["birth_date"] = taken.gender, taken.birth_date
        yield other  # an ID number already held by another customer number


CONSENT_STATES = {value: code for code, value in contract.CONSENT_STATES.items()}  # given → "Y"


def _cons_rows(day: date, bad: bool):
    """The consent register as core banking holds it: every customer's consent per channel as the demo has it
    (a load of it changes nothing), and the bad rows: a customer number nobody has, a channel the contract does not
    know, a date after the business date, a recording without its number."""
    records = (
        ConsentRecord.objects.select_related("customer")
        .only("channel", "state", "effective_on", "source", "reference", "customer__customer_no")
        .order_by("customer_id", "channel")
    )
    first = None
    for record in records.iterator(chunk_size=CHUNK):
        row = {
            "cust_no": record.customer.customer_no,
            "channel": record.channel.upper(),
            "state": CONSENT_STATES[record.state],
            "effective_on": min(record.effective_on, day),
            "source": "" if record.source == Source.CORE else record.source.upper(),
            "reference": record.reference,
        }
        first = first or row
        yield row
    if bad and first is not None:
        yield {**first, "cust_no": f"{BAD_PREFIX}{5:011d}"}
        yield {**first, "channel": "FAX"}
        yield {**first, "channel": "VISIT", "effective_on": day + timedelta(days=1)}
        yield {**first, "channel": "PHONE", "state": CONSENT_STATES[State.WITHDRAWN], "source": "RECORDING",
               "reference": ""}  # fmt: skip


def _hold_rows(day: date, bad: bool):
    holdings = (
        Holding.objects.filter(closed_on=None)
        .select_related("customer", "product")
        .only(
            "customer_id", "product_id", "amount", "opened_on", "maturity_on", "customer__customer_no", "product__code"
        )
        .order_by("customer_id", "product_id", "opened_on", "pk")
    )
    key, ordinal, first = None, 0, None
    for holding in holdings.iterator(chunk_size=CHUNK):
        group = (holding.customer_id, holding.product_id)
        ordinal = ordinal + 1 if group == key else 0
        key = group
        row = {
            "cust_no": holding.customer.customer_no,
            "product_code": holding.product.code,
            "account_no": account_no(holding.customer_id, holding.product_id, ordinal),
            "amount": holding.amount,
            "opened_on": holding.opened_on,
            "matures_on": holding.maturity_on,
        }
        first = first or row
        yield row
    if bad and first is not None:
        cust_no = first["cust_no"]
        yield {**first, "product_code": UNKNOWN_PRODUCT, "account_no": account_no(0, 0, 1)}
        yield {
            **first,
            "account_no": account_no(0, 0, 2),
            "opened_on": date(2025, 6, 1),
            "matures_on": date(2025, 3, 1),  # matures before it opened
        }
        yield {
            "cust_no": cust_no,
            "product_code": first["product_code"],
            "account_no": account_no(0, 0, 3),
            "amount": "12,3O0.00",
            "opened_on": date(2025, 6, 1),
        }


def _bal_rows(day: date, bad: bool):
    customers = Customer.objects.order_by("pk").only("customer_no", "aum").iterator(chunk_size=CHUNK)
    for k, customer in enumerate(customers):
        aum = aum_on(customer.pk, customer.aum, day)
        if bad and k == 1:
            aum = Decimal("-1200.00")  # the second customer's balance is negative
        yield {"cust_no": customer.customer_no, "aum": aum}


TXN_CHANNELS = ("柜面", "手机银行", "网上银行", "ATM", "柜面", "手机银行")
TXN_MEMOS = ("大额转出", "理财到期转入", "购房款", "工资代发", "定期支取", "跨行转账")
TXN_AMOUNTS = ("-500000.00", "320000.00", "-1280000.00", "200000.00", "-260000.00", "850000.00")


def _txn_rows(day: date, bad: bool):
    """A handful of large transactions of the day, by the customers with the most assets."""
    tz = timezone.get_current_timezone()
    top = Customer.objects.filter(closed_on=None).order_by("-aum", "pk").values_list("customer_no", flat=True)
    for k, cust_no in enumerate(top[: len(TXN_AMOUNTS)]):
        at = datetime.combine(day, clock_time(9, 0), tzinfo=tz) + timedelta(minutes=47 * k + 13, seconds=7 * k)
        yield {
            "cust_no": cust_no,
            "txn_time": at,
            "amount": Decimal(TXN_AMOUNTS[k]),
            "channel": TXN_CHANNELS[k],
            "memo": TXN_MEMOS[k],
        }


_ROWS = {Kind.PROD: _prod_rows, Kind.CUST: _cust_rows, Kind.CONS: _cons_rows, Kind.HOLD: _hold_rows, Kind.BAL: _bal_rows,
         Kind.TXN: _txn_rows}  # fmt: skip
