"""Handover when an RM leaves: one approved bulk step that moves everything and leaves nothing pointing at the
leaver, whose account is then closed."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from customers.models import Customer
from organisation.models import Staff
from relationships import services
from relationships.models import Assignment, Handover, VisitPlan, VisitPlanItem
from reminders.models import FollowUp
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving(org):
    """rm_west with a portfolio across tiers, open follow-ups, an open visit plan and a secondary role."""
    rm = org.rm_west
    for aum in ("1000", "2000", "60000", "70000", "800000", "900000", "7000000"):
        CustomerFactory(primary_rm=rm, aum=Decimal(aum))
    customer = Customer.objects.filter(primary_rm=rm).first()
    services.interaction_log(
        actor=rm.user, customer=customer, next_follow_up_on=timezone.localdate() + timedelta(days=3)
    )
    plan = services.visit_plan_create(
        actor=rm.user,
        planned_on=timezone.localdate() + timedelta(days=2),
        customers=list(Customer.objects.filter(primary_rm=rm)[:2]),
        purpose="care",
    )
    other = CustomerFactory(primary_rm=org.rm_west2)
    services.assignment_add_secondary(actor=org.west_head.user, customer=other, staff=rm, reason="协管")
    services.staff_mark_leaving(actor=org.west_head.user, staff=rm, last_day=date(2026, 12, 31))
    third = StaffFactory(username="rm_west3", branch=org.west_outlet, role=Staff.Role.RM)
    return {"rm": rm, "plan": plan, "third": third}


def run_handover(org, leaving, method="even"):
    handover = services.handover_start(
        actor=org.west_head.user, leaver=leaving["rm"], targets=[org.rm_west2, leaving["third"]], method=method
    )
    services.handover_submit(actor=org.west_head.user, handover=handover)
    return handover


def test_leaving_rm_gets_no_new_customers(org, leaving):
    leaving["rm"].refresh_from_db()
    assert leaving["rm"].status == "leaving" and leaving["rm"].is_active_staff and not leaving["rm"].accepts_customers
    with pytest.raises(ValidationError):
        CustomerFactory(primary_rm=leaving["rm"])


def test_even_distribution_and_by_tier(org, leaving):
    handover = run_handover(org, leaving)
    counts = sorted(handover.items.values_list("to_staff", flat=True))
    assert abs(counts.count(org.rm_west2.pk) - counts.count(leaving["third"].pk)) <= 1
    services.handover_reject(actor=org.top_head.user, handover=handover, note="按层级分配")
    services.handover_distribute(actor=org.west_head.user, handover=handover, method="by_tier")
    per_tier = {}
    for segment, to in handover.items.values_list("customer__segment__code", "to_staff"):
        per_tier.setdefault(segment, []).append(to)
    assert all(len(set(tos)) == min(2, len(tos)) for tos in per_tier.values())  # each tier shared when it can be


def test_approval_moves_everything_and_nothing_points_at_the_leaver(org, leaving):
    rm = leaving["rm"]
    customers = set(Customer.objects.filter(primary_rm=rm).values_list("pk", flat=True))
    handover = run_handover(org, leaving)
    with pytest.raises(PermissionDenied):
        services.handover_approve(actor=org.west_head.user, handover=handover)  # who prepared it cannot approve
    services.handover_approve(actor=org.top_head.user, handover=handover)

    # Query each related table: nothing open is left with the leaver.
    assert not Customer.objects.filter(primary_rm=rm).exists()
    assert not Assignment.objects.current().filter(staff=rm).exists()
    assert not FollowUp.objects.filter(staff=rm, status__in=FollowUp.OPEN_STATES).exists()
    assert not VisitPlan.objects.filter(staff=rm, status__in=VisitPlan.OPEN_STATES).exists()
    assert not VisitPlanItem.objects.filter(plan__staff=rm, plan__status__in=VisitPlan.OPEN_STATES).exists()
    moved = VisitPlanItem.objects.filter(customer_id__in=customers, plan__status="draft")
    assert moved.count() == 2 and {i.plan.staff_id for i in moved} <= {org.rm_west2.pk, leaving["third"].pk}
    for pk in customers:
        current = Assignment.objects.current().primary().get(customer_id=pk)
        assert current.handover == handover and current.approved_by == org.top_head
        assert Assignment.objects.filter(customer_id=pk, staff=rm, ended_at__isnull=False).exists()  # history kept
    rm.refresh_from_db()
    assert rm.status == "left" and rm.left_on == date(2026, 12, 31) and not rm.user.is_active
    handover.refresh_from_db()
    assert handover.status == "approved" and handover.summary["customers"] == len(customers)


def test_the_leaver_can_no_longer_sign_in(org, leaving, client):
    handover = run_handover(org, leaving)
    services.handover_approve(actor=org.top_head.user, handover=handover)
    response = client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_manual_lines_and_a_changed_portfolio(org, leaving):
    handover = run_handover(org, leaving)
    services.handover_reject(actor=org.top_head.user, handover=handover, note="请手工调整")
    item = handover.items.first()
    services.handover_assign(
        actor=org.west_head.user, handover=handover, customer_id=item.customer_id, to_staff=leaving["third"]
    )
    handover.refresh_from_db()
    assert handover.method == "manual"
    with pytest.raises(ValidationError):
        services.handover_assign(
            actor=org.west_head.user, handover=handover, customer_id=item.customer_id, to_staff=org.rm_east
        )
    services.handover_submit(actor=org.west_head.user, handover=handover)
    Customer.objects.filter(pk=item.customer_id).update(primary_rm=org.rm_east)  # changed behind its back
    with pytest.raises(ValidationError):
        services.handover_approve(actor=org.top_head.user, handover=handover)


def test_pages_and_excel_summary(org, leaving, login):
    client = login(org.west_head)
    response = client.post(
        reverse("relationships:handover-create"),
        {"leaver": leaving["rm"].pk, "targets": [org.rm_west2.pk, leaving["third"].pk], "method": "even"},
    )
    handover = Handover.objects.get()
    assert response.url == reverse("relationships:handover-detail", args=[handover.pk])
    client.post(reverse("relationships:handover-detail", args=[handover.pk]), {"action": "submit"})
    login(org.top_head).post(reverse("relationships:handover-detail", args=[handover.pk]), {"action": "approve"})
    handover.refresh_from_db()
    assert handover.status == "approved"
    report = login(org.west_head).get(reverse("relationships:handover-report", args=[handover.pk]))
    workbook = load_workbook(io.BytesIO(report.content))
    summary = [r for r in workbook.worksheets[0].iter_rows(values_only=True)]
    assert any(row and row[1] == org.rm_west2.name for row in summary)
    lines = list(workbook.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(lines) == 7
    for row in lines:  # the mobile column: first 3 and last 4 digits of the customer's own number (138****5678)
        mobile = Customer.objects.get(customer_no=row[0]).reveal("mobile")
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", row[4] or ""), row
        assert row[4] == f"{mobile[:3]}****{mobile[-4:]}"
        assert mobile not in {str(cell) for cell in row}


def test_mark_leaving_page_and_scope(org, login):
    assert login(org.east_head).get(reverse("relationships:staff-leaving", args=[org.rm_west.pk])).status_code == 404
    response = login(org.west_head).post(
        reverse("relationships:staff-leaving", args=[org.rm_west.pk]), {"last_day": "2026-12-31"}
    )
    assert response.status_code == 302
    org.rm_west.refresh_from_db()
    assert org.rm_west.status == "leaving"
