"""On a phone, after a customer moved to another RM: the previous RM's My visits and Today name the customer
without a link and say who has them now; the customer list and My customers say what their counts count."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from customers.models import Customer
from dashboards import figures
from relationships import services
from reminders.models import FollowUp
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_moved_customer_and_counts_on_a_phone(org, live_server, phone_page, screenshot):
    moved = CustomerFactory(primary_rm=org.rm_west, name="郝梓萱")
    lost = CustomerFactory(primary_rm=org.rm_west, name="欧阳修")
    CustomerFactory(primary_rm=org.rm_west, name="司马光")
    Customer.objects.filter(pk=lost.pk).update(lifecycle=Customer.Lifecycle.LOST)
    services.interaction_log(actor=org.rm_west.user, customer=moved, channel="phone")
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[moved], to_staff=org.rm_west2, reason="客户搬家"
    )
    services.reassignment_approve(actor=org.west_head.user, request=request)
    FollowUp.objects.create(
        customer=moved,
        staff=org.rm_west,
        kind="manual",
        due_on=timezone.localdate(),
        title="回电确认理财意向",
        dedupe_key="left-behind",
    )
    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/my/visits/")
    moved_note = page.locator("[data-testid=logged] [data-testid=customer-moved]")
    assert org.rm_west2.name in moved_note.inner_text()
    assert page.locator("[data-testid=logged] a", has_text="郝梓萱").count() == 0
    screenshot(page, "my-visits-moved-phone")
    page.goto(f"{live_server.url}/today/")
    assert org.rm_west2.name in page.locator("[data-testid=follow-up] [data-testid=customer-moved]").inner_text()
    screenshot(page, "today-moved-phone")
    page.goto(f"{live_server.url}/customers/")
    assert "1" in page.locator("[data-testid=count-note]").inner_text()
    screenshot(page, "customer-list-counts-phone")
    page.goto(f"{live_server.url}/my/customers/")
    screenshot(page, "my-customers-counts-phone")
    Customer.objects.update(created_at=timezone.now() - timedelta(days=3))
    figures.figures_build(day=timezone.localdate() - timedelta(days=1))
    cache.clear()
    page.goto(f"{live_server.url}/performance/")
    note = page.locator("[data-testid=kpi-customers] [data-testid=count-note]").inner_text()
    assert "1" in note
    screenshot(page, "performance-counts-phone")
