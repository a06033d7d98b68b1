"""The 360° page's highlights strip: each fact a reader wants before a visit, and nothing the page hides."""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from customers import services
from reminders.models import FollowUp
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 18)


@pytest.fixture(autouse=True)
def _a_fixed_day():
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 11, 18, 10, 0)), tick=False):
        yield


def url(customer):
    return reverse("customers:customer-detail", args=[customer.pk])


def highlight(html: bytes, name: str) -> str:
    """The markup of one highlight (data-highlight=<name>), or "" when the page leaves it out."""
    match = re.search(
        rf'<div class="highlight[^"]*" data-highlight="{name}">.*?(?=<div class="highlight[ "]|\Z)', html.decode(), re.S
    )
    return match.group(0) if match else ""


def follow_up(staff, customer, due_on, title):
    return FollowUp.objects.create(
        customer=customer, staff=staff, kind=FollowUp.Kind.MANUAL, due_on=due_on, title=title,
        dedupe_key=f"test:{uuid.uuid4()}", status=FollowUp.Status.OPEN,
    )  # fmt: skip


def complain(org, customer):
    return complaint_services.complaint_register(
        actor=org.west_officer.user, customer=customer, category=ComplaintCategory.objects.get(code="01"),
        channel="counter", request="r", facts="f",
    )  # fmt: skip


def test_every_highlight_is_shown(org, login):
    customer = CustomerFactory(
        primary_rm=org.rm_west,
        risk_level="C3",
        risk_assessed_on=TODAY - timedelta(days=30),
        id_number="11010519491231002X",
    )
    services.asset_snapshot_record(customer=customer, on=TODAY - timedelta(days=60), aum=Decimal("1000000"))
    services.asset_snapshot_record(customer=customer, on=TODAY - timedelta(days=1), aum=Decimal("1100000"))
    follow_up(org.rm_west, customer, TODAY + timedelta(days=9), "到期前回访")
    follow_up(org.rm_west, customer, TODAY + timedelta(days=3), "生日问候")
    complain(org, customer)
    complain(org, customer)

    page = login(org.rm_west).get(url(customer))
    strip = region_text(page.content, "highlights")

    customer.refresh_from_db()
    assert customer.segment is not None and customer.segment.name in region_text(page.content, "highlights")
    assert "1,100,000.00" in region_text(page.content, "customer-aum")
    change = highlight(page.content, "aum")
    assert "is-up" in change and "100,000" in strip and "10.0%" in strip  # up by 100,000 yuan, 10 %, since the first
    assert org.rm_west.name in highlight(page.content, "rm")
    assert customer.get_risk_level_display() in strip
    assert customer.risk_expires_on.isoformat() in highlight(page.content, "risk")
    assert "is-alert" not in highlight(page.content, "risk")
    soonest = highlight(page.content, "follow-up")
    assert "2026-11-21" in soonest and "生日问候" in soonest and "到期前回访" not in soonest
    assert region_text(page.content, "open-complaints") == "2"
    assert 'href="#complaints"' in highlight(page.content, "complaints")
    assert 'id="complaints"' in page.content.decode()  # the link lands on the page's complaints card
    assert "11010519491231002X" not in page.content.decode()  # masked, as on the rest of the page


def test_a_fall_an_expired_assessment_and_an_overdue_follow_up_are_flagged(org, login):
    customer = CustomerFactory(primary_rm=org.rm_west, risk_level="C4", risk_assessed_on=TODAY - timedelta(days=400))
    services.asset_snapshot_record(customer=customer, on=TODAY - timedelta(days=80), aum=Decimal("500000"))
    services.asset_snapshot_record(customer=customer, on=TODAY, aum=Decimal("400000"))
    follow_up(org.rm_west, customer, TODAY - timedelta(days=2), "回访")

    page = login(org.rm_west).get(url(customer))

    assert "is-down" in highlight(page.content, "aum") and "20.0%" in highlight(page.content, "aum")
    risk = highlight(page.content, "risk")
    assert "is-alert" in risk and "bi-exclamation-triangle" in risk  # expired, in red
    assert "is-alert" in highlight(page.content, "follow-up")


def test_what_the_page_has_not_is_left_out(org, book, login):
    """A corporate customer has no risk tolerance; no snapshots, no trend; no follow-up or complaint, none shown."""
    page = login(org.rm_west).get(url(book.corporate))

    assert highlight(page.content, "risk") == ""
    assert 'data-testid="aum-trend-change"' not in page.content.decode()
    assert highlight(page.content, "follow-up") and "is-alert" not in highlight(page.content, "follow-up")
    assert region_text(page.content, "open-complaints") == "0"


def test_closed_complaints_and_other_customers_complaints_are_not_counted(org, book, login):
    complain(org, book.west)
    complain(org, book.west2)
    withdrawn = complain(org, book.west)
    complaint_services.complaint_withdraw(actor=org.west_officer.user, complaint=withdrawn, note="客户撤回")

    page = login(org.rm_west).get(url(book.west))

    assert region_text(page.content, "open-complaints") == "1"


def test_a_customer_outside_the_scope_shows_no_highlights(org, book, login):
    assert login(org.rm_west).get(url(book.east)).status_code == 404
