import pytest

from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_head_signs_in_on_a_phone_and_sees_the_navigation(org, live_server, phone_page, screenshot):
    page = phone_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    assert page.locator("[data-testid=main-nav]").is_hidden()  # collapsed behind the toggler at 375 px
    page.click("button.navbar-toggler")
    page.wait_for_selector("#mainNav.show")  # the collapse animation has finished
    nav = page.locator("[data-testid=main-nav]")
    assert "经营看板" in nav.inner_text() and "工作" in nav.inner_text()
    page.click("[data-testid=user-menu] .dropdown-toggle")
    assert org.west_head.name in page.locator("[data-testid=current-staff]").inner_text()
    page.click("[data-testid=user-menu] .dropdown-toggle")
    screenshot(page, "sign-in-phone-navigation")
    page.click("[data-testid=main-nav] >> text=机构与人员")
    page.wait_for_selector("[data-testid=branch-tree]")
    assert "西一网点" in page.content() and "东一网点" not in page.locator("[data-testid=branch-tree]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "branch-tree-phone")


def test_rm_navigation_has_no_branch_page(org, live_server, desktop_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    nav = page.locator("[data-testid=main-nav]").text_content()  # the menus' pages too, shown or not
    assert "今日工作" in nav and "我的客户" in nav and "机构与人员" not in nav
    assert page.locator("[data-testid=nav-menu-manage]").count() == 0  # nothing to manage: no empty menu
    screenshot(page, "home-rm-desktop")
