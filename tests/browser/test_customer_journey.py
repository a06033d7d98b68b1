import pytest

from customers.models import AccessLog, Customer
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rm_creates_edits_views_and_reveals_a_customer_on_a_phone(org, live_server, phone_page, screenshot):
    page = phone_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/customers/new/?kind=individual")
    page.fill("input[name=name]", "周晓燕")
    page.fill("input[name=id_number]", "1101011990030729")  # two characters short
    page.fill("input[name=mobile]", "13912345678")
    page.click("form[data-testid=customer-form] button[type=submit]")
    assert "身份证号码由17位数字" in page.content()  # a clear message, the input kept
    assert page.input_value("input[name=mobile]") == "13912345678"
    screenshot(page, "customer-create-error-phone")
    page.fill("input[name=id_number]", "11010119900307299X")
    page.click("form[data-testid=customer-form] button[type=submit]")
    page.wait_for_selector("[data-testid=customer-header]")
    assert "周晓燕" in page.inner_text("[data-testid=customer-header]")
    assert "110***********299X" in page.inner_text("[data-testid=profile]")
    customer = Customer.objects.get(name="周晓燕")

    page.click("text=编辑")
    page.fill("input[name=occupation]", "设计师")
    page.click("form[data-testid=customer-form] button[type=submit]")
    page.wait_for_selector("[data-testid=change-history]")
    assert "设计师" in page.inner_text("[data-testid=change-history]")
    assert "1990-03-07" in page.inner_text("[data-testid=profile]")  # the edit kept what it did not touch

    page.click("#reveal-mobile summary")
    page.select_option("#reveal-mobile select[name=reason]", "contact")
    page.click("#reveal-mobile button[type=submit]")
    page.wait_for_selector("[data-testid=revealed-mobile]")
    assert page.inner_text("[data-testid=revealed-mobile]") == "13912345678"
    assert AccessLog.objects.filter(customer=customer, field="mobile").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "customer-360-phone")


def test_head_filters_the_list_on_a_desktop(org, live_server, desktop_page, screenshot):
    from tests.factories import CustomerFactory

    for name in ("陈一", "陈二", "林三"):
        CustomerFactory(primary_rm=org.rm_west, name=name)
    page = desktop_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    page.click("[data-testid=nav-menu-customers] .dropdown-toggle")  # 客户 ▾: the list and the pool
    page.click("[data-testid=nav-menu-customers] .dropdown-menu a:has-text('客户列表')")
    page.fill("[data-testid=customer-filter] input[name=q]", "陈")
    page.click("[data-testid=customer-filter] button[type=submit]:visible")
    table = page.inner_text("[data-testid=customer-table]")
    assert "陈一" in table and "陈二" in table and "林三" not in table
    screenshot(page, "customer-list-desktop")
