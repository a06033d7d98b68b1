"""An officer runs a complaint through its regulated life in the browser: register at the counter with the
customer picked by search, assign, extend with a reason, decide, and record the callback."""

import pytest

from complaints.models import Complaint
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_runs_a_complaint_through_its_life(org, book, live_server, desktop_page, phone_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, "west_officer", TEST_PASSWORD)
    page.goto(f"{live_server.url}/complaints/new/")
    page.fill("[data-testid=customer-search]", "王西")
    page.keyboard.press("Enter")
    page.click("[data-testid=customer-matches] a")
    assert "王西甲" in page.inner_text("[data-testid=picked-customer]")
    form = page.locator("[data-testid=intake-form]")
    form.locator("select[name=channel]").select_option("counter")
    form.locator("select[name=category]").select_option(label="借记卡")
    form.locator("textarea[name=request]").fill("退还多收的跨行转账手续费")
    form.locator("textarea[name=facts]").fill("客户称柜员未告知收费标准")
    form.locator("select[name=subject_staff]").select_option(label=f"{org.rm_west.name} · 客户经理 · 西一网点")
    screenshot(page, "complaint-intake")
    page.click("[data-testid=register]")
    page.wait_for_selector("[data-testid=timeline]")
    complaint = Complaint.objects.get()
    assert complaint.reference in page.inner_text("h1")
    assert "15 个自然日" in page.inner_text("[data-testid=clock]")

    # Accept and assign: the subject of the complaint is not offered as handler.
    page.click("[data-panel=accept] summary")
    options = page.locator("[data-panel=accept] select[name=handler] option").all_inner_texts()
    assert not any(org.rm_west.name in o for o in options)
    page.locator("[data-panel=accept] select[name=handler]").select_option(
        label=f"{org.west_officer.name} · 投诉专员 · 西支行"
    )
    page.click("[data-panel=accept] button[data-action=accept]")
    page.wait_for_selector("button[data-action=start]")
    assert org.west_officer.name in page.inner_text("[data-testid=handler]")
    page.click("button[data-action=start]")
    page.wait_for_selector("[data-panel=extend]")

    # Extend with a reason and the customer told: the deadline moves to 30 days.
    page.click("[data-panel=extend] summary")
    page.fill("[data-panel=extend] textarea[name=reason]", "需调取录像并核实交易流水")
    page.fill("[data-panel=extend] input[name=customer_told_via]", "电话")
    page.click("[data-panel=extend] button[data-action=extend]")
    page.wait_for_selector("[data-testid=extensions]")
    assert "30 个自然日" in page.inner_text("[data-testid=clock]")

    # Decide, with the remedies told.
    page.click("[data-panel=decide] summary")
    page.fill("[data-panel=decide] textarea[name=decision]", "经核实，已退还手续费并致歉")
    page.fill("[data-panel=decide] input[name=customer_told_via]", "电话")
    page.check("[data-panel=decide] input[name=remedies_told]")
    page.click("[data-panel=decide] button[data-action=decide]")
    page.wait_for_selector("[data-testid=decision]")

    # The callback.
    page.click("[data-panel=callback] summary")
    page.check("[data-panel=callback] input[name=satisfaction][value='4']")
    page.fill("[data-panel=callback] input[name=comment]", "处理及时")
    page.click("[data-panel=callback] button[data-action=callback]")
    page.wait_for_selector("[data-testid=satisfaction]")
    screenshot(page, "complaint-detail")

    complaint.refresh_from_db()
    assert (complaint.status, complaint.extension_level, complaint.satisfaction) == ("decided", 1, 4)
    assert complaint.decided_on_time is True
    kinds = list(complaint.events.values_list("kind", flat=True))
    for kind in ("registered", "assigned", "extended", "contact", "callback"):
        assert kind in kinds
    timeline = page.inner_text("[data-testid=timeline]")
    assert "时限已延长" in timeline and "满意度 4/5" in timeline

    # The same complaint on a phone: the list with its badge, and the page without sideways scrolling.
    phone = phone_page
    sign_in(phone, live_server, "west_officer", TEST_PASSWORD)
    phone.goto(f"{live_server.url}/complaints/")
    assert complaint.reference in phone.inner_text("[data-testid=complaint-table]")
    screenshot(phone, "complaint-list-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "complaint-detail-phone")


def test_statistics_page_draws_its_charts(org, book, live_server, desktop_page, screenshot):
    from complaints import services
    from complaints.models import ComplaintCategory

    for code in ("01", "01", "02", "05"):
        services.complaint_register(
            actor=org.west_officer.user, customer=book.west, category=ComplaintCategory.objects.get(code=code),
            channel="hotline", request="r", facts="f",
        )  # fmt: skip
    page = desktop_page
    sign_in(page, live_server, "west_officer", TEST_PASSWORD)
    page.goto(f"{live_server.url}/complaints/statistics/")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 2")
    assert page.inner_text("[data-kpi=received]") == "4"
    screenshot(page, "complaint-statistics")
