"""The hand-built data set around DAY that the figures and the dashboards are checked against."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from customers import services as customer_services
from customers.models import AssetSnapshot, Holding
from relationships import services
from relationships.models import SatisfactionRating
from tests.dashboards.helpers import DAY, NOW, at, complaint, created, follow_up
from tests.factories import CustomerFactory, ProductFactory


@pytest.fixture
def data(org, book):
    """Customers, contacts, snapshots, follow-ups, complaints and ratings around DAY."""
    return data_build(org, book)


def data_build(org, book) -> dict:
    """The data set (``data``), for data built once for several tests (``shared_data``, tests/conftest.py)."""
    long_ago = at(date(2025, 1, 1))
    for c in (book.west, book.west2, book.east, book.corporate):
        created(c, long_ago)
    people = {}
    with time_machine.travel(at(DAY - timedelta(days=30)), tick=False):  # their history starts here
        people["never"] = created(CustomerFactory(primary_rm=org.rm_west, name="从未联系"), long_ago)
        people["new"] = created(CustomerFactory(primary_rm=org.rm_west, name="新客"), at(DAY, 15))
        people["private"] = created(
            CustomerFactory(primary_rm=org.rm_west2, name="私行客户", aum=Decimal("100.00")), long_ago
        )
        people["late_contact"] = created(CustomerFactory(primary_rm=org.rm_west2, name="后联系"), long_ago)
        people["covered_later"] = created(
            CustomerFactory(primary_rm=org.rm_east, name="窗口内联系", aum=Decimal("800000.00")), long_ago
        )
        people["lost"] = created(CustomerFactory(primary_rm=org.rm_east, name="流失客户"), long_ago)
    with time_machine.travel(NOW, tick=False):
        people["after"] = CustomerFactory(primary_rm=org.rm_west, name="次日客户")  # registered after DAY

    # AUM on DAY: a snapshot puts "private" in the private tier that day (current AUM: 100).
    AssetSnapshot.objects.create(customer=people["private"], date=DAY, aum=Decimal("8000000.00"))
    AssetSnapshot.objects.create(customer=book.west, date=DAY, aum=Decimal("60000.00"))
    AssetSnapshot.objects.create(customer=book.west, date=DAY - timedelta(days=1), aum=Decimal("1.00"))

    def log(staff, customer, when, **kw):
        with time_machine.travel(when, tick=False):
            return services.interaction_log(actor=staff.user, customer=customer, occurred_at=when, **kw)

    log(org.rm_west, book.west, at(DAY, 9), channel="phone")
    log(org.rm_west, book.west, at(DAY, 23, 30), channel="wechat")
    log(org.rm_west, book.corporate, at(DAY, 11), channel="visit", outcome="no_answer")
    log(org.rm_west2, book.west2, at(DAY - timedelta(days=3)), channel="visit")
    log(org.rm_west2, people["private"], at(DAY - timedelta(days=40)), channel="visit")  # beyond 30 days
    log(org.rm_west2, people["late_contact"], at(DAY + timedelta(days=1), 8))  # only after DAY: overdue
    log(org.rm_east, people["covered_later"], at(DAY - timedelta(days=20)), channel="sms")
    log(org.rm_east, people["covered_later"], at(DAY + timedelta(days=1), 8), channel="phone")  # after DAY
    log(org.rm_east, book.east, at(DAY - timedelta(days=1), 0, 0), channel="counter")
    log(org.east_head, book.east, at(DAY, 0, 0), channel="event")  # a head's contact: the branch row only

    with time_machine.travel(at(DAY, 16), tick=False):
        customer_services.customer_update(actor=org.east_head.user, customer=people["lost"], lifecycle="lost")

    # Follow-ups in every state around DAY
    d = DAY
    follow_up(book.west, org.rm_west, due_on=d - timedelta(days=1))  # open, overdue
    follow_up(book.west, org.rm_west, due_on=d + timedelta(days=2))  # open, not due
    follow_up(book.west, org.rm_west, due_on=d, status="done", completed_at=at(d, 11))  # done on time
    follow_up(book.west2, org.rm_west2, due_on=d - timedelta(days=3), status="done", completed_at=at(d, 12))  # late
    follow_up(book.west2, org.rm_west2, due_on=d - timedelta(days=1), status="done", completed_at=at(d + timedelta(1)))
    follow_up(book.west2, org.rm_west2, due_on=d - timedelta(days=2), status="snoozed", snoozed_until=d + timedelta(3))
    follow_up(book.east, org.rm_east, kind="birthday", due_on=d - timedelta(days=1), status="expired")
    follow_up(book.east, org.rm_east, kind="birthday", due_on=d, status="expired")
    follow_up(book.east, org.rm_east, due_on=d - timedelta(days=5), status="skipped", completed_at=at(d - timedelta(1)))
    follow_up(book.east, org.rm_east, kind="churn", due_on=d - timedelta(days=2), detail={"no_contact": True})
    follow_up(book.west, org.rm_west, kind="churn", due_on=d, created_at=at(d + timedelta(days=1), 6))  # after

    # Complaints
    w, e = org.west_outlet, org.east_outlet
    complaint(org, w, received=at(d, 14), due=at(d + timedelta(15)), subject=org.rm_west)
    complaint(org, w, received=at(d - timedelta(20)), due=at(d - timedelta(5)), subject=org.rm_west)  # overdue
    complaint(org, w, received=at(d - timedelta(20)), due=at(d - timedelta(5)), paused_since=at(d - timedelta(6)))
    complaint(
        org, e, received=at(d - timedelta(20)), due=at(d - timedelta(5)), status="decided",
        first_decided_at=at(d, 9), decided_on_time=True, subject=org.rm_east,
    )  # fmt: skip
    complaint(
        org, e, received=at(d - timedelta(30)), due=at(d - timedelta(15)), status="closed",
        first_decided_at=at(d, 10), decided_on_time=False,
    )  # fmt: skip
    complaint(
        org,
        e,
        received=at(d - timedelta(20)),
        due=at(d - timedelta(2)),
        status="decided",
        first_decided_at=at(d + timedelta(1), 9),
        decided_on_time=False,
    )  # fmt: skip — open and late at the end of DAY

    # Holdings opened on DAY (two products, two RMs), the day before, and by the lost customer (not counted)
    wealth, deposit = ProductFactory(category="wealth"), ProductFactory(category="time_deposit")
    for customer, product, opened in (
        (book.west, wealth, d),
        (book.west, deposit, d),
        (book.east, wealth, d),
        (book.west2, wealth, d - timedelta(days=1)),
        (people["lost"], wealth, d),
    ):
        Holding.objects.create(customer=customer, product=product, amount=Decimal("1000.00"), opened_on=opened)

    # Ratings
    SatisfactionRating.objects.create(
        customer=book.west, rated_staff=org.rm_west, score=5, recorded_by=org.west_head, recorded_at=at(d, 10)
    )
    SatisfactionRating.objects.create(
        customer=book.corporate, rated_staff=org.rm_west, score=2, recorded_by=org.west_head, recorded_at=at(d, 11)
    )
    SatisfactionRating.objects.create(
        customer=book.east,
        rated_staff=org.rm_east,
        score=4,
        recorded_by=org.east_head,
        recorded_at=at(d - timedelta(1)),
    )
    return people
