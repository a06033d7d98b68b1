"""On a phone (375 px): the customer list shows its search box within the first screen with the filters folded
behind "筛选", and a stacked holdings row names each of its values. Complaint intake at 375 and 1280 px: the
officer types the complaint, searches for the customer and picks them, and nothing typed is lost."""

from datetime import date
from decimal import Decimal

import pytest

from complaints.models import Complaint
from customers.models import Holding
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_customer_list_on_a_phone_searches_first_and_folds_the_filters(
    org, book, live_server, phone_page, screenshot
):
    page = phone_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    page.goto(f"{live_server.url}/customers/")
    box = page.locator("[data-testid=customer-search] input").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 812  # within the first screen
    assert page.locator("[data-testid=customer-filters]").is_hidden()
    toggle = page.locator("[data-testid=filters-toggle]")
    assert toggle.is_visible() and "筛选" in toggle.inner_text()
    screenshot(page, "customer-list-phone")
    toggle.click()
    page.locator("[data-testid=customer-filters] select[name=lifecycle]").wait_for(state="visible")
    page.select_option("[data-testid=customer-filters] select[name=lifecycle]", "new")
    page.locator("[data-testid=customer-filters] button[type=submit]").click()
    page.wait_for_selector("[data-testid=active-filter-count]")
    assert page.inner_text("[data-testid=active-filter-count]") == "1"
    assert page.locator("[data-testid=customer-filters]").is_hidden()  # folded again on the new page
    screenshot(page, "customer-list-phone-filtered")


def test_a_stacked_holdings_row_names_its_values_on_a_phone(org, book, live_server, phone_page, screenshot):
    product = ProductFactory(name="稳健理财")
    Holding.objects.create(customer=book.west, product=product, amount=Decimal("123456.78"), opened_on=date(2026, 1, 5))
    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/customers/{book.west.pk}/")
    holdings = page.locator("[data-testid=holdings]")
    assert holdings.locator("thead").is_hidden()
    labels = holdings.locator("tbody tr td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels == ['"产品"', '"账号"', '"金额"', '"到期日"', '"适当性"']
    assert "¥123,456.78" in holdings.inner_text()
    holdings.scroll_into_view_if_needed()
    screenshot(page, "holdings-phone")


@pytest.mark.parametrize("width", [375, 1280])
def test_intake_keeps_what_was_typed_while_the_customer_is_searched_and_picked(
    org, book, live_server, browser, screenshot, width
):
    context = browser.new_context(viewport={"width": width, "height": 812}, locale="zh-CN", is_mobile=width < 576)
    page = context.new_page()
    try:
        sign_in(page, live_server, "west_officer", TEST_PASSWORD)
        page.goto(f"{live_server.url}/complaints/new/")
        form = page.locator("[data-testid=intake-form]")
        typed = {
            "textarea[name=request]": "退还多收的跨行转账手续费",
            "textarea[name=facts]": "客户称柜员未告知收费标准，要求退费并道歉",
            "input[name=complainant_contact]": "13900139000",
        }
        for selector, text in typed.items():
            form.locator(selector).fill(text)
        form.locator("select[name=channel]").select_option("counter")
        form.locator("select[name=category]").select_option(label="借记卡")
        url = page.url

        page.fill("[data-testid=customer-search]", "王西")
        page.keyboard.press("Enter")
        page.locator("[data-testid=customer-matches] a").first.click()
        page.wait_for_selector("[data-testid=picked-customer]")
        assert "王西甲" in page.inner_text("[data-testid=picked-customer]")
        assert page.url == url  # the page did not reload, and the term is in no URL
        for selector, text in typed.items():
            assert form.locator(selector).input_value() == text
        assert form.locator("select[name=channel]").input_value() == "counter"
        screenshot(page, f"complaint-intake-picked-{width}")

        page.click("[data-testid=register]")
        page.wait_for_selector("[data-testid=timeline]")
        complaint = Complaint.objects.get()
        assert complaint.customer == book.west
        assert complaint.request == typed["textarea[name=request]"] and complaint.facts == typed["textarea[name=facts]"]
    finally:
        context.close()


def test_the_visit_plan_picker_filters_as_the_rm_types(org, book, live_server, phone_page, screenshot):
    from django.urls import reverse

    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(live_server.url + reverse("relationships:visit-plan-create"))
    options = page.locator("[data-testid=visit-customers] .form-check")
    assert options.count() == 2  # 王西甲 and the corporate customer, both never contacted
    page.fill("[data-testid=visit-customer-filter]", "王西")
    assert options.filter(has_text="王西甲").is_visible()
    assert options.filter(has_text="杭州测试科技").is_hidden()
    options.filter(has_text="王西甲").locator("input").check()
    page.fill("[data-testid=visit-customer-filter]", "没有这个人")
    assert options.filter(has_text="王西甲").is_visible()  # a checked option is never hidden
    page.fill("[data-testid=visit-customer-filter]", "")
    assert options.filter(has_text="杭州测试科技").is_visible()
    page.fill("[data-testid=visit-customer-filter]", "杭州")
    screenshot(page, "visit-plan-picker-phone")
