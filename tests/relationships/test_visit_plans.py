"""Visit plans: the RM plans, the head approves or returns, the RM reports, and the report creates interactions."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from relationships import services
from relationships.models import Interaction, VisitPlan
from tests.html import region_text

pytestmark = pytest.mark.django_db


def make_plan(org, book):
    return services.visit_plan_create(
        actor=org.rm_west.user, planned_on=timezone.localdate() + timedelta(days=1),
        customers=[book.west, book.corporate], purpose="maintenance", preparation="准备资产配置方案",
    )  # fmt: skip


def test_plan_approve_report(org, book):
    plan = make_plan(org, book)
    services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
    assert org.west_head.notifications.exists()
    with pytest.raises(PermissionDenied):
        services.visit_plan_review(actor=org.east_head.user, plan=plan, approve=True)
    services.visit_plan_review(actor=org.west_head.user, plan=plan, approve=True)
    items = list(plan.items.order_by("pk"))
    services.visit_plan_report(
        actor=org.rm_west.user, plan=plan, reports={items[0].pk: {"outcome": "interested", "notes": "有意购买理财"}}
    )
    plan.refresh_from_db()
    assert plan.status == "reported"
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.customer, interaction.outcome) == ("visit", book.west, "interested")
    items[0].refresh_from_db()
    assert items[0].interaction == interaction
    book.west.refresh_from_db()
    assert book.west.last_contacted_at == interaction.occurred_at


def test_return_needs_a_note_and_allows_changes(org, book):
    plan = make_plan(org, book)
    services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
    with pytest.raises(ValidationError):
        services.visit_plan_review(actor=org.west_head.user, plan=plan, approve=False, note="")
    services.visit_plan_review(actor=org.west_head.user, plan=plan, approve=False, note="请补充准备材料")
    plan.refresh_from_db()
    assert plan.status == "returned"
    services.visit_plan_update(
        actor=org.rm_west.user,
        plan=plan,
        planned_on=plan.planned_on,
        customers=[book.west],
        purpose="care",
        preparation="补充",
    )
    assert plan.items.count() == 1


def test_only_own_customers_and_no_report_before_approval(org, book):
    with pytest.raises(PermissionDenied):
        services.visit_plan_create(
            actor=org.rm_west.user, planned_on=timezone.localdate(), customers=[book.east], purpose="maintenance"
        )
    plan = make_plan(org, book)
    with pytest.raises(ValidationError):
        services.visit_plan_report(actor=org.rm_west.user, plan=plan, reports={plan.items.first().pk: {}})


def test_plans_are_listed_by_week(org, book, login):
    plan = make_plan(org, book)
    client = login(org.rm_west)
    week = plan.planned_on.strftime("%G-W%V")
    body = region_text(client.get(reverse("relationships:my-visits"), {"week": week}).content, "plans")
    assert plan.planned_on.strftime("%Y-%m-%d") in body
    other = (plan.planned_on + timedelta(days=14)).strftime("%G-W%V")
    assert plan.planned_on.strftime("%Y-%m-%d") not in region_text(
        client.get(reverse("relationships:my-visits"), {"week": other}).content, "plans"
    )
    assert client.get(reverse("relationships:my-visits"), {"week": "garbage"}).status_code == 200


def test_pages_create_review_and_report(org, book, login):
    client = login(org.rm_west)
    response = client.post(
        reverse("relationships:visit-plan-create"),
        {"planned_on": timezone.localdate().isoformat(), "purpose": "care", "customers": [book.west.pk], "submit": "1"},
    )
    plan = VisitPlan.objects.get()
    assert response.status_code == 302 and plan.status == "submitted"
    head = login(org.west_head)
    assert "同意" in region_text(head.get(reverse("relationships:visit-plan-detail", args=[plan.pk])).content, "review")
    head.post(reverse("relationships:visit-plan-detail", args=[plan.pk]), {"action": "approve"})
    client = login(org.rm_west)
    item = plan.items.get()
    response = client.post(
        reverse("relationships:visit-plan-report", args=[plan.pk]),
        {f"item{item.pk}-visited": "on", f"item{item.pk}-outcome": "reached", f"item{item.pk}-notes": "面谈顺利"},
    )
    assert response.status_code == 302
    assert Interaction.objects.get().notes == "面谈顺利"
