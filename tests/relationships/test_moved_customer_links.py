"""After a customer moves to another RM, the previous RM's own pages (My visits, a visit plan, notifications,
Today, My customers) name the customer without a link to a page they may no longer open, and say who has them
now; the new RM gets the link."""

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customers_visible_to, visible_customer_condition
from notifications.services import notification_send
from organisation.access import SYSTEM
from relationships import services
from relationships.models import VisitPlanItem
from reminders.models import FollowUp

pytestmark = pytest.mark.django_db


def _moved(org, book):
    """rm_west worked with book.west (a reported visit of a plan, a notification, a follow-up left with them),
    then the customer moved to rm_west2."""
    customer = book.west
    today = timezone.localdate()
    visit = services.interaction_log(actor=org.rm_west.user, customer=customer, channel="visit")
    plan = services.visit_plan_create(
        actor=org.rm_west.user, planned_on=today, customers=[customer], purpose="maintenance"
    )
    VisitPlanItem.objects.filter(plan=plan).update(interaction=visit)  # the visit, reported: it stays in the plan
    notification_send(
        [org.rm_west], f"{customer.name}的风险测评已到期", reverse("customers:customer-detail", args=[customer.pk])
    )
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[customer], to_staff=org.rm_west2, reason="客户搬家"
    )
    services.reassignment_approve(actor=org.west_head.user, request=request)
    # A follow-up that stayed with the previous RM (one taken over from a leaver after the move, say).
    FollowUp.objects.create(
        customer=customer, staff=org.rm_west, kind="manual", due_on=today, title="回电", dedupe_key="left-behind"
    )
    return customer, plan


def _page(client, url):
    client.cookies["django_language"] = "en"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_previous_rm_sees_the_name_and_who_has_the_customer_now(org, book, login):
    customer, plan = _moved(org, book)
    link = f'href="{reverse("customers:customer-detail", args=[customer.pk])}"'
    client = login(org.rm_west)
    for url in (
        reverse("relationships:my-visits"),
        reverse("relationships:visit-plan-detail", args=[plan.pk]),
        reverse("notifications:notification-list"),
        reverse("reminders:today"),
        reverse("relationships:my-customers"),
    ):
        html = _page(client, url)
        assert customer.name in html, url
        assert link not in html, url
        assert f"handed over to {org.rm_west2.name}" in html, url
    assert client.get(reverse("customers:customer-detail", args=[customer.pk])).status_code == 404


def test_the_new_rm_gets_the_link(org, book, login):
    customer, _plan = _moved(org, book)
    services.interaction_log(actor=org.rm_west2.user, customer=customer, channel="phone")
    FollowUp.objects.create(
        customer=customer, staff=org.rm_west2, kind="manual", due_on=timezone.localdate(), title="回电", dedupe_key="n"
    )
    link = f'href="{reverse("customers:customer-detail", args=[customer.pk])}"'
    client = login(org.rm_west2)
    for url in (reverse("reminders:today"), reverse("relationships:my-visits")):
        html = _page(client, url)
        assert link in html and "handed over" not in html, url


def test_a_customer_back_in_the_pool_is_no_longer_yours(org, book, login):
    customer = book.west
    services.interaction_log(actor=org.rm_west.user, customer=customer, channel="phone")
    Customer.objects.filter(pk=customer.pk).update(primary_rm=None)
    html = _page(login(org.rm_west), reverse("relationships:my-visits"))
    assert customer.name in html and "no longer in your portfolio" in html


def test_the_condition_is_the_visibility_rule(org, book):
    """The one-condition form of the rule (for annotations) lets through exactly what customers_visible_to does,
    for every role, with a secondary RM among them."""
    services.assignment_add_secondary(
        actor=org.west_head.user, customer=book.west2, staff=org.rm_west, reason="协助维护"
    )
    for staff in (org.admin, org.top_head, org.west_head, org.west_officer, org.rm_west, org.rm_west2, org.rm_east):
        expected = set(customers_visible_to(staff).values_list("pk", flat=True))
        assert set(Customer.objects.filter(visible_customer_condition(staff)).values_list("pk", flat=True)) == expected
    assert set(Customer.objects.filter(visible_customer_condition(SYSTEM)).values_list("pk", flat=True)) == set()
