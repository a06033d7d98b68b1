"""The header's customer search in Chromium, on a phone (375 px, inside the collapsed menu) and a desktop
(1280 px): hits appear as one types without a page load, the keyboard moves through them, a hit opens the quick
log in the modal and saves a contact, another opens the 360° page, and Enter goes to the full list."""

import re

import pytest

from relationships.models import Interaction
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser):
    context = browser.new_context(viewport=SIZES[request.param], locale="zh-CN", is_mobile=request.param == "phone")
    page = context.new_page()
    page.size_name = request.param
    yield page
    context.close()


def open_box(page):
    if page.size_name == "phone":  # the box is inside the collapsed menu
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainNav.show")
    box = page.locator("#header-search-q")
    assert box.is_visible()
    return box


def type_into(box, text):
    box.fill("")
    box.press_sequentially(text, delay=60)


def test_search_as_one_types_then_log_a_contact_and_open_the_360_page(org, book, live_server, sized_page, screenshot):
    CustomerFactory(primary_rm=org.rm_west, name="王西戊")
    CustomerFactory(primary_rm=org.rm_east, name="王西己")  # another branch's: never shown
    page = sized_page
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    home = page.url
    loads = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)

    box = open_box(page)
    type_into(box, "王西")
    page.wait_for_selector("[data-testid=search-hit]")
    results = page.inner_text("[data-testid=header-search-results]")
    assert "王西甲" in results and "王西戊" in results and "王西己" not in results
    assert "138****8000" in results and "13800138000" not in results
    assert loads == [] and page.url == home  # no page load, and nothing typed in the address
    assert box.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[page.size_name]["width"]

    # The keyboard: the arrows move through the listbox, Escape closes it.
    box.press("ArrowDown")
    first = page.locator("[data-testid=header-search-results] [role=option]").first
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    screenshot(page, f"header-search-{page.size_name}")
    box.press("Escape")
    assert not page.is_visible("[data-testid=header-search-results]")
    assert box.get_attribute("aria-expanded") == "false"

    # A hit's quick log: the modal opens over the page, the contact is saved.
    type_into(box, "王西甲")
    page.wait_for_selector(f"[data-testid=search-hit][data-customer-no='{book.west.customer_no}']")
    page.locator("[data-testid=search-hit] [data-testid=hit-log]").first.click()
    page.wait_for_selector("#appModal.show [data-testid=quick-log-form]")
    page.wait_for_timeout(400)  # the fade-in
    assert not page.is_visible("[data-testid=header-search-results]")
    page.fill("#appModal textarea[name=notes]", "电话回访，客户满意")
    screenshot(page, f"header-search-quick-log-{page.size_name}")
    page.click("#appModal button[type=submit]")
    page.wait_for_selector("[data-testid=quick-log-done]")
    assert Interaction.objects.filter(customer=book.west, notes="电话回访，客户满意").count() == 1
    page.click("#appModal .modal-footer button")
    page.wait_for_selector("#appModal", state="hidden")
    assert page.url == home

    # A hit's 360° page.
    box = open_box(page) if not page.is_visible("#header-search-q") else page.locator("#header-search-q")
    type_into(box, "王西甲")
    page.wait_for_selector("[data-testid=search-hit] [data-testid=hit-open]")
    with page.expect_navigation(url=f"**/customers/{book.west.pk}/"):
        page.locator("[data-testid=search-hit] [data-testid=hit-open]").first.click()
    assert "王西甲" in page.inner_text("[data-testid=customer-header]")
    assert "电话回访，客户满意" in page.inner_text("[data-testid=timeline]")


def test_enter_goes_to_the_full_list_without_the_term_in_the_address(org, book, live_server, sized_page, screenshot):
    page = sized_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    box = open_box(page)
    type_into(box, "13800138000")
    page.wait_for_selector("[data-testid=search-hit]")
    screenshot(page, f"header-search-head-{page.size_name}")
    with page.expect_navigation(url=re.compile(r"/customers/\?s=")):
        box.press("Enter")
    assert "13800138000" not in page.url
    table = page.inner_text("[data-testid=customer-table]")
    assert "王西甲" in table and "李西乙" not in table


def test_a_short_term_gets_a_hint_and_an_arrow_then_enter_opens_the_chosen_hit(
    org, book, live_server, sized_page, screenshot
):
    page = sized_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    box = open_box(page)
    type_into(box, "王")
    page.wait_for_selector("[data-testid=search-hint]")
    screenshot(page, f"header-search-hint-{page.size_name}")
    type_into(box, "李西")
    page.wait_for_selector("[data-testid=search-hit]")
    box.press("ArrowDown")
    with page.expect_navigation(url=f"**/customers/{book.west2.pk}/"):
        box.press("Enter")


def test_the_search_page_without_javascript_lists_the_hits(org, book, live_server, sized_page, screenshot):
    page = sized_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    page.goto(f"{live_server.url}/customers/search/")
    page.fill("[data-testid=customer-search] input[name=q]", "王西")
    with page.expect_navigation(url=re.compile(r"/customers/search/\?s=")):
        page.click("[data-testid=customer-search] button[type=submit] >> nth=0")
    assert "王西" not in page.url
    assert "王西甲" in page.inner_text("[data-testid=search-results]")
    screenshot(page, f"customer-search-page-{page.size_name}")


def test_a_session_that_ended_meanwhile_opens_the_sign_in_page(org, book, live_server, sized_page):
    page = sized_page
    sign_in(page, live_server, "west_head", TEST_PASSWORD)
    box = open_box(page)
    page.context.clear_cookies(name="sessionid")  # signed out (timed out); the CSRF cookie stays
    with page.expect_navigation(url=re.compile(r"/accounts/login/")):
        type_into(box, "王西")
    assert "王西" not in page.url
