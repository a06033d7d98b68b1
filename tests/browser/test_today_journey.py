import pytest
from django.utils import timezone

from relationships import services
from reminders.models import FollowUp
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rm_completes_a_follow_up_from_today_on_a_phone(org, live_server, phone_page, screenshot):
    customer = CustomerFactory(primary_rm=org.rm_west, name="司马光")
    services.interaction_log(
        actor=org.rm_west.user,
        customer=customer,
        next_follow_up_on=timezone.localdate(),
        next_action="电话回访理财到期",
    )
    follow_up = FollowUp.objects.get(customer=customer)
    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/today/")  # the RM's home
    item = page.locator(f"#follow-up-{follow_up.pk}")
    assert "电话回访理财到期" in item.inner_text() and "司马光" in item.inner_text()
    screenshot(page, "today-phone")
    item.locator("summary", has_text="完成").click()
    item.locator("input[name=notes]").fill("已电话沟通，客户续购")
    item.locator("[data-testid=done-form] button").click()
    page.wait_for_selector(f"#follow-up-{follow_up.pk} [data-testid=follow-up-closed]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "today-done-phone")
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.interaction.notes == "已电话沟通，客户续购"
