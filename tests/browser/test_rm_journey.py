from datetime import timedelta

import pytest
from django.utils import timezone

from relationships.models import Interaction
from reminders.models import FollowUp
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rm_logs_a_visit_with_a_follow_up_on_a_phone_and_sees_it_on_the_360_page(
    org, live_server, phone_page, screenshot
):
    customer = CustomerFactory(primary_rm=org.rm_west, name="欧阳明")
    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/my/customers/")
    row = page.locator(f"[data-customer-no='{customer.customer_no}']")
    row.locator("[data-testid=quick-log]").click()
    page.wait_for_selector("[data-testid=quick-log-form]")
    page.wait_for_selector("#appModal.show")
    page.wait_for_timeout(400)  # the fade-in
    screenshot(page, "quick-log-phone")
    next_day = (timezone.localdate() + timedelta(days=5)).isoformat()
    page.fill("#appModal textarea[name=notes]", "上门拜访，客户考虑增持理财")
    page.fill("#appModal input[name=next_follow_up_on]", next_day)
    page.fill("#appModal input[name=next_action]", "带产品资料再访")
    page.click("#appModal button[type=submit]")
    page.wait_for_selector("[data-testid=quick-log-done]")
    assert (
        page.inner_text(f"#last-contact-{customer.pk}") == timezone.localdate().isoformat()
    )  # the row updated in place
    page.click("#appModal .modal-footer button")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    timeline = page.inner_text("[data-testid=timeline]")
    assert "上门拜访，客户考虑增持理财" in timeline and "面访" in timeline
    assert "带产品资料再访" in page.inner_text("[data-testid=follow-ups]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "customer-360-timeline-phone")
    assert Interaction.objects.filter(customer=customer, channel="visit").count() == 1
    assert FollowUp.objects.get(customer=customer).due_on.isoformat() == next_day
