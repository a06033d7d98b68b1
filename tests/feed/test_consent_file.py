"""The marketing consent file (CONS): good rows loaded with their history as the feed's doing, every bad row
reported with its reason and the others loaded, a withdrawal sent to the campaigns, the same file again a no-op,
and a later file changing only what changed — never going back behind a later change the CRM holds."""

from datetime import date, timedelta

import pytest
import time_machine

from consent import services
from consent.models import ConsentEvent, ConsentRecord
from consent.signals import consent_withdrawn
from customers.models import Customer
from feed.loader import load_file
from feed.models import Load

from .conftest import DAY
from .test_bad_input import loaded_before, person

pytestmark = pytest.mark.django_db


def cons(cust: int, channel: str, state: str, on: str, source: str = "", reference: str = "") -> dict:
    return {"cust_no": f"P{cust:05d}", "channel": channel, "state": state, "effective_on": on, "source": source,
            "reference": reference}  # fmt: skip


GOOD = [
    cons(1, "SMS", "Y", "20261101", "COUNTER", "F-20261101-7"),
    cons(1, "phone", "N", "20261129", "RECORDING", "REC-88"),
    cons(2, "WECHAT", "y", "2026-11-30"),  # no source: recorded by the core system
]
BAD = [
    cons(9, "SMS", "Y", "20261101"),  # line 5: no such customer
    cons(2, "FAX", "Y", "20261101"),  # 6: unknown channel
    cons(3, "SMS", "Y", "20261131"),  # 7: no such date
    cons(3, "EMAIL", "Y", "20261201"),  # 8: after the business date
    cons(3, "PHONE", "N", "20261120", "RECORDING"),  # 9: a recording without its number
    cons(3, "VISIT", "maybe", "20261120"),  # 10: not Y or N
    cons(2, "SMS", "Y", "20261101"),  # 11 and 12: twice in the file
    cons(2, "SMS", "N", "20261102"),
]


@pytest.fixture
def customers(org, write):
    loaded_before(DAY, "PROD")
    load = load_file(write("CUST", [person(1, rm_staff_no=org.rm_west.employee_no), person(2), person(3)]))
    assert load.status == Load.Status.LOADED, load.message
    return {c.customer_no: c for c in Customer.objects.all()}


@pytest.fixture
def sent():
    calls = []

    def receiver(sender, customer_ids, channel, actor, **kwargs):
        calls.append((customer_ids, channel, actor))

    consent_withdrawn.connect(receiver)
    yield calls
    consent_withdrawn.disconnect(receiver)


def states() -> set[tuple]:
    return set(
        ConsentRecord.objects.values_list(
            "customer__customer_no", "channel", "state", "effective_on", "source", "reference"
        )  # fmt: skip
    )


def test_good_rows_load_bad_rows_are_reported_and_the_same_file_again_changes_nothing(customers, write, sent):
    path = write("CONS", GOOD + BAD)
    load = load_file(path)
    assert load.status == Load.Status.LOADED, load.message
    assert (load.rows_read, load.rows_loaded, load.rows_changed, load.rows_rejected) == (11, 3, 3, 8)
    errors = list(load.errors.order_by("line", "pk").values_list("line", "column", "code", "reason_en"))
    assert [(line, column, code) for line, column, code, _ in errors] == [
        (5, "cust_no", "unknown_customer"),
        (6, "channel", "choice"),
        (7, "effective_on", "date"),
        (8, "effective_on", "future"),
        (9, "reference", "reference_required"),
        (10, "state", "choice"),
        (11, "cust_no", "duplicate"),
        (12, "cust_no", "duplicate"),
    ]
    assert errors[1][3] == "“FAX” is not one of EMAIL/PHONE/SMS/VISIT/WECHAT."
    assert errors[4][3] == "A consent from a phone recording needs the recording's number."
    assert states() == {
        ("P00001", "sms", "given", date(2026, 11, 1), "counter", "F-20261101-7"),
        ("P00001", "phone", "withdrawn", date(2026, 11, 29), "recording", "REC-88"),
        ("P00002", "wechat", "given", DAY, "core", ""),
    }
    events = ConsentEvent.objects.all()
    assert {(e.via, e.reason, e.actor_id, e.state_before) for e in events} == {
        ("feed", "feed: CONS_20261130.txt", None, "")
    }
    assert events.count() == 3
    assert sent == [([customers["P00001"].pk], "phone", None)]
    assert load.summary["consent_withdrawn"]["count"] == 1
    twice = load_file(path)
    assert twice.status == Load.Status.DUPLICATE and twice.rows_changed == 0
    assert ConsentEvent.objects.count() == 3 and len(sent) == 1


def test_a_later_file_changes_only_what_changed_and_never_goes_back(customers, org, write, sent):
    assert load_file(write("CONS", GOOD)).status == Load.Status.LOADED
    next_day = DAY + timedelta(days=1)
    loaded_before(next_day, "PROD", "CUST")
    # On the page, the RM records that P00001 withdrew SMS at the counter the morning after (core banking has not
    # heard of it yet).
    with time_machine.travel(next_day, tick=False):
        services.consent_record(
            actor=org.rm_west.user, customer=customers["P00001"], channel="sms", state="withdrawn",
            effective_on=next_day, source="counter", reason="客户柜面撤回短信营销同意",
        )  # fmt: skip
    sent.clear()
    load = load_file(write("CONS", [
        GOOD[0],  # SMS given on 11-01: the CRM's withdrawal of 12-01 is later, so it stands
        cons(1, "PHONE", "Y", "20261129", "ONLINE", "APP-1"),  # a consent on the day of the withdrawal: it stands
        cons(2, "WECHAT", "N", "20261201", "ONLINE", "APP-2"),  # withdrawn
        cons(3, "EMAIL", "Y", "20261125", "LETTER", "L-3"),  # new
    ], day=next_day))  # fmt: skip
    assert load.status == Load.Status.LOADED, load.message
    assert (load.rows_loaded, load.rows_changed) == (4, 2)
    assert load.summary["consent_older"] == {"count": 2, "sample": ["P00001", "P00001"]}
    assert states() == {
        ("P00001", "sms", "withdrawn", next_day, "counter", ""),
        ("P00001", "phone", "withdrawn", date(2026, 11, 29), "recording", "REC-88"),
        ("P00002", "wechat", "withdrawn", next_day, "online", "APP-2"),
        ("P00003", "email", "given", date(2026, 11, 25), "letter", "L-3"),
    }
    assert sent == [([customers["P00002"].pk], "wechat", None)]
    assert ConsentEvent.objects.filter(reason=f"feed: CONS_{next_day:%Y%m%d}.txt").count() == 2


def test_a_consent_file_waits_for_the_customers_of_its_date(org, write):
    loaded_before(DAY, "PROD")
    waiting = load_file(write("CONS", GOOD))
    assert waiting.status == Load.Status.WAITING and "CUST_20261130.txt" in waiting.message_en
    assert not ConsentRecord.objects.exists()
