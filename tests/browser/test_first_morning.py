"""The demo's first morning in real Chromium, on a phone (375 px) and a desktop (1280 px): the demo RM finds
reminders of several kinds on Today; the demo branch head finds coverage below 100 %, the customers not contacted
in time, and approvals waiting."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.full]  # make test-full
KINDS = ("birthday", "maturity", "movement", "churn", "contact_policy")


def test_the_demo_rm_and_head_on_the_first_morning(live_server, page, screenshot):
    call_command("seed_demo", customers=600, figure_days=2, verbosity=0)

    sign_in(page, live_server, "rm1", settings.DEMO_PASSWORD)
    assert page.url.endswith(reverse("reminders:today"))
    for kind in KINDS:
        assert page.locator(f"[data-testid=group-{kind}]").count() == 1, kind
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    screenshot(page, f"first-morning-rm-{page.width}")
    page.context.clear_cookies()

    sign_in(page, live_server, "head", settings.DEMO_PASSWORD)
    coverage = page.locator("[data-testid=kpi-coverage] .kpi-value").get_attribute("data-value")
    assert 50 < float(coverage) < 100
    screenshot(page, f"first-morning-head-{page.width}")
    page.click("[data-testid=kpi-coverage]")
    page.wait_for_selector("[data-testid=drill-table]")
    assert page.locator("[data-testid=drill-table] tbody tr a").count() > 0
    page.goto(live_server.url + reverse("relationships:approvals"))
    for kind in ("reassignments", "plans", "handovers"):
        assert int(page.locator(f"[data-testid=pending-{kind}] .badge").inner_text()) > 0, kind
    screenshot(page, f"first-morning-approvals-{page.width}")
