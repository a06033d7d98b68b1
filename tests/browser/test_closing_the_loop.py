"""Closing the loop in real Chromium, on a phone (375 px) and a desktop (1280 px): the quick log closes the
customer's due follow-ups, and 完成 on Today sets the next follow-up."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from reminders.models import FollowUp
from reminders.selectors import today_for
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_follow_up(staff, customer, days, title):
    return FollowUp.objects.create(
        customer=customer, staff=staff, kind=FollowUp.Kind.MANUAL, title=title,
        due_on=timezone.localdate() + timedelta(days=days), dedupe_key=f"browser:{uuid.uuid4()}",
    )  # fmt: skip


def test_quick_log_closes_the_due_follow_ups(org, live_server, page, screenshot):
    customer = CustomerFactory(primary_rm=org.rm_west, name="欧阳修")
    overdue = open_follow_up(org.rm_west, customer, -3, "逾期：回访理财到期")
    due = open_follow_up(org.rm_west, customer, 0, "今日：确认续存")
    later = open_follow_up(org.rm_west, customer, 3, "周末：邀请沙龙")
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/my/customers/")
    page.locator(f"[data-customer-no='{customer.customer_no}'] [data-testid=quick-log]").click()
    page.wait_for_selector("#appModal.show [data-testid=quick-log-close]")
    page.wait_for_timeout(400)  # the fade-in
    boxes = {
        f.pk: page.locator(f"#appModal input[name=close_follow_ups][value='{f.pk}']") for f in (overdue, due, later)
    }
    assert boxes[overdue.pk].is_checked() and boxes[due.pk].is_checked() and not boxes[later.pk].is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    screenshot(page, f"quick-log-close-follow-ups-{page.width}")
    page.select_option("#appModal select[name=channel]", "phone")
    page.fill("#appModal textarea[name=notes]", "电话沟通，已续存")
    page.click("#appModal button[type=submit]")
    page.wait_for_selector("[data-testid=quick-log-done]")
    screenshot(page, f"quick-log-closed-{page.width}")
    assert [FollowUp.objects.get(pk=f.pk).status for f in (overdue, due, later)] == ["done", "done", "open"]
    assert today_for(org.rm_west).total == 1  # only the later one is left


def test_done_on_today_sets_the_next_follow_up(org, live_server, page, screenshot):
    customer = CustomerFactory(primary_rm=org.rm_west, name="苏轼")
    follow_up = open_follow_up(org.rm_west, customer, 0, "电话回访")
    next_day = (timezone.localdate() + timedelta(days=7)).isoformat()
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/today/")
    item = page.locator(f"#follow-up-{follow_up.pk}")
    item.locator("summary", has_text="完成").click()
    item.locator("input[name=next_follow_up_on]").fill(next_day)
    item.locator("input[name=next_action]").fill("下周再打电话确认")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    screenshot(page, f"today-done-next-{page.width}")
    item.locator("[data-testid=done-form] button").click()
    page.wait_for_selector(f"#follow-up-{follow_up.pk} [data-testid=follow-up-next]")
    assert next_day in page.inner_text(f"#follow-up-{follow_up.pk} [data-testid=follow-up-next]")
    screenshot(page, f"today-done-next-set-{page.width}")
    follow_up.refresh_from_db()
    nxt = FollowUp.objects.get(source_ref=f"interaction:{follow_up.interaction_id}")
    assert (follow_up.status, nxt.status, nxt.due_on.isoformat(), nxt.title) == (
        "done", "open", next_day, "下周再打电话确认",
    )  # fmt: skip
