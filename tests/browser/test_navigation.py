"""The navigation bar in a real browser: one line at 1024, 1280 and 1440 px for every role, no label broken over
two lines, the user's name shown (or cut with an ellipsis, the whole name in its title), the user menu with the
password change and the sign-out, and at 375 px the toggler and a page reached through a menu."""

import pytest

from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# username: the org fixture's attribute (tests/conftest.py); every role and each head level
ROLES = {"rm_west": "rm_west", "west_head": "west_head", "top_head": "top_head", "west_officer": "west_officer",
         "hq_admin": "admin"}  # fmt: skip
SEARCH_ROOM = 240  # px kept free between the menus and the bell for the header search box

# Each top-level item's top, and each label or button that shows text: how many lines it takes.
MEASURE = """() => {
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const lines = (el) => {  // the most lines any of its texts takes
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let most = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || !visible(node.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      most = Math.max(most, tops.size);
    }
    return most;
  };
  const nav = document.querySelector("nav.navbar");
  const texts = [...nav.querySelectorAll(".navbar-brand, .nav-link, .btn")].filter(visible);
  const name = nav.querySelector("[data-testid=user-name]");
  const menus = nav.querySelector("[data-testid=main-nav]").getBoundingClientRect();
  const bell = nav.querySelector("[data-testid=bell]").getBoundingClientRect();
  return {
    tops: [...new Set([...nav.querySelectorAll("[data-testid=main-nav] > li, [data-testid=nav-end] > *")]
      .filter(visible).map((li) => Math.round(li.getBoundingClientRect().top + li.getBoundingClientRect().height / 2)))],
    wrapped: texts.filter((el) => lines(el) > 1).map((el) => el.textContent.trim()),
    barHeight: nav.getBoundingClientRect().height,
    room: bell.left - menus.right,
    name: {text: name.textContent, cut: name.scrollWidth > name.clientWidth,
           ellipsis: getComputedStyle(name).textOverflow, title: name.closest("[title]")?.title || ""},
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("username", list(ROLES))
def test_the_bar_stays_on_one_line_at_every_desktop_width(username, org, live_server, desktop_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, username, TEST_PASSWORD)
    staff = getattr(org, ROLES[username])
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 800})
        seen = page.evaluate(MEASURE)
        assert len(seen["tops"]) == 1, f"{username} at {width} px: the bar's items sit on {len(seen['tops'])} lines"
        assert seen["wrapped"] == [], f"{username} at {width} px: broken over two lines: {seen['wrapped']}"
        assert seen["barHeight"] < 70, f"{username} at {width} px: the bar is {seen['barHeight']} px high"
        assert seen["room"] >= SEARCH_ROOM, f"{username} at {width} px: {seen['room']} px left for the search"
        assert seen["scrollWidth"] <= width
        name = seen["name"]
        assert name["text"] == staff.name
        assert not name["cut"] or (name["ellipsis"] == "ellipsis" and staff.name in name["title"])
        assert staff.name in name["title"]


def test_a_long_name_is_cut_with_an_ellipsis_and_shown_whole_in_the_title(org, live_server, desktop_page):
    org.west_head.name = "欧阳西门长孙慕容诸葛司马上官"
    org.west_head.save()
    page = desktop_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    page.set_viewport_size({"width": 1024, "height": 800})
    seen = page.evaluate(MEASURE)
    assert len(seen["tops"]) == 1 and seen["wrapped"] == []
    assert seen["name"]["cut"] and seen["name"]["ellipsis"] == "ellipsis"
    assert org.west_head.name in seen["name"]["title"]
    page.click("[data-testid=user-menu] .dropdown-toggle")
    assert org.west_head.name in page.locator("[data-testid=current-staff]").inner_text()  # whole in the menu


@pytest.mark.parametrize("username", ["west_head", "hq_admin"])
def test_the_user_menu_changes_the_password_and_signs_out(username, org, live_server, desktop_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, username, TEST_PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    menu = page.locator("[data-testid=user-menu] .dropdown-menu")
    assert menu.is_hidden()
    page.click("[data-testid=user-menu] .dropdown-toggle")
    menu.wait_for(state="visible")
    header = page.locator("[data-testid=current-staff]").inner_text()
    staff = org.admin if username == "hq_admin" else org.west_head
    assert staff.name in header and staff.branch.name in header and str(staff.role_title) in header
    assert page.locator("[data-testid=password-change]").inner_text().strip() == "修改密码"
    assert page.locator("[data-testid=sign-out]").inner_text().strip() == "退出"
    assert page.locator("[data-testid=language-switch] select").is_visible()
    screenshot(page, f"navigation-user-menu-{username}")
    page.click("[data-testid=password-change]")
    page.wait_for_url("**/accounts/password/")
    page.click("[data-testid=user-menu] .dropdown-toggle")
    page.click("[data-testid=sign-out]")
    page.wait_for_url(lambda url: "/accounts/password/" not in url)
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # signed out: the home page asks to sign in again


def test_the_language_switch_works_inside_the_user_menu(org, live_server, desktop_page):
    page = desktop_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    page.click("[data-testid=user-menu] .dropdown-toggle")
    page.locator("[data-testid=user-menu] [data-testid=language-switch] select").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Work" in page.locator("[data-testid=main-nav]").inner_text()
    page.click("[data-testid=user-menu] .dropdown-toggle")
    assert page.locator("[data-testid=sign-out]").inner_text().strip() == "Sign out"
    page.locator("[data-testid=user-menu] [data-testid=language-switch] select").select_option("zh-hans")
    page.wait_for_function("() => document.documentElement.lang === 'zh-hans'")


@pytest.mark.parametrize("username", ["west_head", "hq_admin"])
def test_on_a_phone_the_toggler_opens_the_menus_and_a_page_in_a_menu_is_reached(
    username, org, live_server, phone_page, screenshot
):
    page = phone_page
    sign_in(page, live_server, username, TEST_PASSWORD)
    assert page.locator("[data-testid=main-nav]").is_hidden()
    assert page.locator("[data-testid=bell]").is_visible() and page.locator("[data-testid=user-menu]").is_visible()
    screenshot(page, f"navigation-phone-{username}-closed")
    page.click("button.navbar-toggler")
    page.wait_for_selector("#mainNav.show")
    page.click("[data-testid=nav-menu-work] .dropdown-toggle")
    target = page.locator("[data-testid=nav-menu-work] .dropdown-menu a", has_text="离职交接")
    target.wait_for(state="visible")
    screenshot(page, f"navigation-phone-{username}-open")
    small = page.eval_on_selector_all(
        "nav.navbar a:visible, nav.navbar button:visible",
        "els => els.filter(e => e.getBoundingClientRect().height < 40).map(e => e.textContent.trim())",
    )
    assert small == [], f"targets under 40 px high: {small}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    target.click()
    page.wait_for_url("**/handovers/")
    assert page.locator("[data-testid=nav-menu-work] .dropdown-toggle").get_attribute("aria-current") == "true"
    link = page.locator("[data-testid=nav-menu-work] a[aria-current=page]")
    assert link.count() == 1 and "离职交接" in link.inner_text()
    page.click("[data-testid=user-menu] .dropdown-toggle")
    page.locator("[data-testid=sign-out]").wait_for(state="visible")
    screenshot(page, f"navigation-phone-{username}-user-menu")


@pytest.mark.parametrize("username", ["west_head", "hq_admin"])
def test_screenshots_of_the_bar(username, org, live_server, desktop_page, screenshot):
    page = desktop_page
    sign_in(page, live_server, username, TEST_PASSWORD)
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 500})
        page.click("[data-testid=nav-menu-work] .dropdown-toggle")
        screenshot(page, f"navigation-{username}-{width}")
        page.keyboard.press("Escape")
