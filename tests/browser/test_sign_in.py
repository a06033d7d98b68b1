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
    assert "管户" in nav.inner_text() and "管理" in nav.inner_text()
    assert org.west_head.name in page.locator("[data-testid=current-staff]").inner_text()
    page.click("[data-testid=nav-menu-manage] .dropdown-toggle")
    screenshot(page, "sign-in-phone-navigation")
    page.click("text=机构与人员")
    page.wait_for_selector("[data-testid=branch-tree]")
    assert "西一网点" in page.content() and "东一网点" not in page.locator("[data-testid=branch-tree]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "branch-tree-phone")


def test_rm_navigation_has_no_branch_page(org, live_server, desktop_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    nav = page.locator("[data-testid=main-nav]").inner_text()
    assert "今日工作" in nav and "我的客户" in nav and "机构与人员" not in nav
    assert page.locator("[data-testid=nav-menu-manage]").count() == 0  # nothing to manage: no empty menu
    screenshot(page, "home-rm-desktop")


@pytest.mark.parametrize("username", ["hq_admin", "top_head", "west_head", "west_officer", "rm_west"])
def test_the_navigation_stays_on_one_line_at_1280_px(username, org, live_server, desktop_page):
    page = desktop_page
    sign_in(page, live_server, username, TEST_PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    heights = page.eval_on_selector_all(
        "[data-testid=main-nav] > li.nav-item", "items => [...new Set(items.map(i => i.getBoundingClientRect().top))]"
    )
    assert len(heights) == 1, f"the menu wraps onto {len(heights)} lines for {username}"
    buttons = page.eval_on_selector_all("nav .btn", "bs => bs.map(b => b.getBoundingClientRect().height)")
    assert max(buttons) < 40  # no button's label broken over two lines
