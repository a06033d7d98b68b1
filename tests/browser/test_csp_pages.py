"""The Content-Security-Policy in headless Chromium: the pages whose code moved out of inline scripts and handlers
(the charts, the language switch, the period and branch pickers, the feed's progress bar) and Django admin run
under the policy with no violation and no console message, the charts draw, and the selects still submit. The
screenshots are written to test-artifacts/ (csp-*.png)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint
from feed.models import Kind, Load
from tests.browser import test_dashboard_screens
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The fixture of the dashboards' browser tests: a month of activity with its figures built.
month = test_dashboard_screens.month

# Every securitypolicyviolation event of the page, reported to the test (the binding outlives navigations).
LISTEN = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def shown(message) -> bool:
    """A console warning or error, other than the browser's own request for a /favicon.ico the site has none of.
    (Chromium's info and verbose advice about Django admin's forms, such as autocomplete hints, is not counted.)"""
    return message.type in ("error", "warning") and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def watched(browser):
    """``watched(width)``: a new page whose policy violations, console messages and uncaught errors are recorded
    in ``page.problems``."""
    contexts = []

    def _open(width: int = 1280):
        context = browser.new_context(
            viewport={"width": width, "height": 900 if width > 500 else 812}, locale="zh-CN", is_mobile=width < 500
        )
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.expose_function("reportViolation", lambda text: page.problems.append(f"violation: {text}"))
        page.add_init_script(LISTEN)
        page.on(
            "console", lambda m: page.problems.append(f"console {m.type}: {m.text} ({page.url})") if shown(m) else None
        )
        page.on("pageerror", lambda e: page.problems.append(f"error: {e} ({page.url})"))
        return page

    yield _open
    for context in contexts:
        context.close()


def charts_drawn(page, at_least: int) -> list[dict]:
    """Waits for ``at_least`` Chart.js charts and returns each canvas's drawn size."""
    page.wait_for_function(f"() => window.Chart && Object.keys(Chart.instances).length >= {at_least}")
    return page.evaluate(
        "Object.values(Chart.instances).map((c) => ({id: c.canvas.id, w: c.canvas.width, h: c.canvas.height}))"
    )


def assert_drawn(sizes: list[dict], ids: set[str]) -> None:
    assert {s["id"] for s in sizes} == ids
    assert all(s["w"] > 0 and s["h"] > 0 for s in sizes), sizes


def switch_language(page, code: str) -> None:
    if page.locator("[data-testid=user-menu]").count():
        page.click("[data-testid=user-menu] .dropdown-toggle")  # the switch sits in the user menu
    page.locator("[data-testid=language-switch] select").first.select_option(code)
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


def test_the_listener_reports_what_the_policy_blocks(org, live_server, watched):
    """The check below is not blind: an inline script and a style attribute added to a page are reported."""
    page = watched()
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.ran = true";
                   document.body.append(s); document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>'); }"""
    )
    for _ in range(50):  # the events are dispatched after the insertions
        if len([p for p in page.problems if p.startswith("violation")]) >= 2:
            break
        page.wait_for_timeout(20)
    assert page.evaluate("window.ran") is None  # the inline script did not run
    assert any("script-src" in p for p in page.problems) and any("style-src" in p for p in page.problems)


def test_charts_and_pickers_work_under_the_policy(org, month, live_server, watched, screenshot):
    for width, label in ((1280, "desktop"), (375, "phone")):
        page = watched(width)
        sign_in(page, live_server, "top_head", TEST_PASSWORD)
        page.wait_for_url(f"{live_server.url}/dashboard/")
        assert_drawn(charts_drawn(page, 4), {"chart-aum", "chart-coverage", "chart-channels", "chart-complaints"})
        screenshot(page, f"csp-dashboard-{label}")

        # The period picker and the branch picker submit on change, without an inline handler.
        page.select_option("[data-testid=period-picker] select[name=period]", "7")
        page.wait_for_url(lambda url: "period=7" in url)
        assert page.locator("select[name=period]").input_value() == "7"
        charts_drawn(page, 4)
        page.select_option("[data-testid=branch-picker]", str(org.west.pk))
        page.wait_for_url(lambda url: f"branch={org.west.pk}" in url)
        assert page.locator("[data-testid=branch-picker]").input_value() == str(org.west.pk)

        page.goto(f"{live_server.url}/performance/{org.rm_west.pk}/")
        assert_drawn(charts_drawn(page, 2), {"chart-rm-aum", "chart-rm-activity"})
        screenshot(page, f"csp-rm-performance-{label}")

        customer = month[0]  # rm_west's
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        assert_drawn(charts_drawn(page, 1), {"aum-trend"})
        screenshot(page, f"csp-customer-{label}")

        received = Complaint.objects.order_by("received_at").last().received_at
        page.goto(f"{live_server.url}/complaints/statistics/?month={timezone.localtime(received):%Y-%m}")
        assert_drawn(charts_drawn(page, 2), {"chart-categories", "chart-causes"})
        screenshot(page, f"csp-complaint-statistics-{label}")

        # The language switch (in the navigation bar) submits on change too.
        switch_language(page, "en")
        assert page.title().startswith("Complaint statistics")
        switch_language(page, "zh-hans")
        assert page.title().startswith("投诉统计")
        assert page.problems == [], "\n".join(page.problems)


def test_the_hq_dashboard_and_the_sign_in_page_work_under_the_policy(org, month, live_server, watched, screenshot):
    page = watched()
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    assert page.locator("main").evaluate("el => el.getBoundingClientRect().width") <= 28 * 16  # .mw-28r
    screenshot(page, "csp-sign-in")
    switch_language(page, "zh-hans")
    sign_in(page, live_server, "hq_admin", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/dashboard/hq/")
    assert_drawn(charts_drawn(page, 2), {"chart-aum", "chart-coverage"})
    screenshot(page, "csp-dashboard-hq")
    assert page.problems == [], "\n".join(page.problems)


def test_the_feed_progress_bar_has_its_width_under_the_policy(org, live_server, watched, screenshot):
    running = Load.objects.create(
        kind=Kind.CUST, business_date=timezone.localdate() - timedelta(days=1), file_name="CUST.txt",
        sha256="ab" * 32, size_bytes=10, source=Load.Source.UPLOAD, status=Load.Status.RUNNING,
        started_at=timezone.now(), created_by=org.admin.user,
    )  # fmt: skip
    page = watched()
    sign_in(page, live_server, "hq_admin", TEST_PASSWORD)
    page.goto(f"{live_server.url}/feed/{running.pk}/")
    bar = page.locator("[data-testid=progress-bar]")
    percent = bar.get_attribute("data-width")
    assert int(percent) > 0
    assert bar.evaluate("el => el.style.width") == f"{percent}%"
    # htmx swaps the live part in again every second: the new bar gets its width too.
    page.evaluate("document.querySelector('[data-testid=progress-bar]').dataset.seen = '1'")
    page.wait_for_function("() => !document.querySelector('[data-testid=progress-bar]').dataset.seen")
    assert page.locator("[data-testid=progress-bar]").evaluate("el => el.style.width") == f"{percent}%"
    screenshot(page, "csp-feed-progress")
    assert page.problems == [], "\n".join(page.problems)


def test_django_admin_works_under_the_policy(org, month, live_server, watched, screenshot):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    page = watched()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "hq_admin")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    staff = org.rm_west
    for path in (
        "/admin/",
        "/admin/organisation/staff/",
        f"/admin/organisation/staff/{staff.pk}/change/",
        f"/admin/organisation/staff/{staff.pk}/history/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{month[0].pk}/change/",
        "/admin/auth/user/add/",
        f"/admin/auth/user/{staff.user.pk}/password/",
        "/admin/django_celery_beat/periodictask/",
    ):
        page.goto(live_server.url + path)
        assert page.locator("#content").count() == 1, path
    screenshot(page, "csp-admin-periodic-tasks")

    # The periodic task form still shows the chosen crontab in words under the field.
    task = PeriodicTask.objects.exclude(crontab=None).order_by("pk").first()
    other = CrontabSchedule.objects.exclude(pk=task.crontab_id).order_by("pk").first()
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{task.pk}/change/")
    page.select_option("#id_crontab", str(other.pk))
    help_text = page.inner_text(".field-crontab .help")
    from django.utils import translation

    from scheduling.admin import crontab_in_words

    with translation.override("zh-hans"):
        assert crontab_in_words(other) in help_text  # in the reader's language, not django-celery-beat's English
    screenshot(page, "csp-admin-periodic-task")

    # Changing a changelist's row selection runs admin's actions script.
    page.goto(f"{live_server.url}/admin/organisation/staff/")
    rows = page.locator("input.action-select").count()
    page.check("#action-toggle")
    assert page.locator("input.action-select:checked").count() == rows > 0
    assert f"{rows} 个中的 {rows} 个" in page.locator(".action-counter").inner_text()
    assert page.problems == [], "\n".join(page.problems)
