"""In Chromium: a form's button is disabled while its request is in flight, and a double click creates one record
— over htmx (the quick log in its modal) and as a plain form (a new visit plan)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from relationships import services
from relationships.models import Interaction, VisitPlan
from reminders.models import FollowUp
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLOW = 1.5  # seconds the server takes to answer


def slowed(real):
    def call(**kwargs):
        time.sleep(SLOW)
        return real(**kwargs)

    return call


def test_the_quick_log_button_is_disabled_in_flight_and_a_double_click_logs_once(
    org, live_server, desktop_page, monkeypatch
):
    customer = CustomerFactory(primary_rm=org.rm_west, name="欧阳明")
    monkeypatch.setattr(services, "interaction_log", slowed(services.interaction_log))
    page = desktop_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/my/customers/")
    page.locator(f"[data-customer-no='{customer.customer_no}'] [data-testid=quick-log]").click()
    page.wait_for_selector("#appModal.show [data-testid=quick-log-form]")
    page.fill("#appModal input[name=next_follow_up_on]", (timezone.localdate() + timedelta(days=5)).isoformat())
    page.fill("#appModal input[name=next_action]", "再访")
    save = page.locator("#appModal button[type=submit]")
    save.dblclick()
    expect(save).to_be_disabled()  # while the slow answer is on its way
    expect(page.locator("[data-testid=quick-log-done]")).to_be_visible(timeout=10_000)
    assert Interaction.objects.filter(customer=customer).count() == 1
    assert FollowUp.objects.filter(customer=customer, kind="manual").count() == 1


def test_a_plain_form_button_is_disabled_in_flight_and_a_double_click_makes_one_plan(
    org, live_server, desktop_page, monkeypatch
):
    customer = CustomerFactory(primary_rm=org.rm_west, name="欧阳明")
    monkeypatch.setattr(services, "visit_plan_create_and_submit", slowed(services.visit_plan_create_and_submit))
    page = desktop_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/visits/plans/new/?customer={customer.pk}")
    page.wait_for_selector("[data-testid=visit-plan-form]")
    submit = page.locator("[data-testid=visit-plan-form] button[name=submit]")
    # A double tap: two clicks 50 ms apart, from the page itself. While the request is in flight the page notes the
    # buttons' state in its session storage, which the next page still has (Playwright itself cannot look at a
    # page whose navigation is pending).
    submit.evaluate(
        """button => {
            const buttons = [...button.form.querySelectorAll("button")];
            button.click();
            setTimeout(() => {
                sessionStorage.setItem("second-click-on-disabled", String(button.disabled));
                button.click();
            }, 50);
            setTimeout(() => sessionStorage.setItem("in-flight", JSON.stringify(buttons.map(b => b.disabled))), 500);
        }"""
    )
    page.wait_for_url(lambda url: "/new/" not in url, timeout=10_000)
    assert page.evaluate("sessionStorage.getItem('second-click-on-disabled')") == "true"
    assert page.evaluate("JSON.parse(sessionStorage.getItem('in-flight'))") == [True, True]  # both buttons
    plan = VisitPlan.objects.get()
    assert plan.status == "submitted"  # the pressed button's name still went with the form
    assert list(plan.items.values_list("customer", flat=True)) == [customer.pk]
