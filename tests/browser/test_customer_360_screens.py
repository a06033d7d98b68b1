"""The 360° page in headless Chromium at phone (375 px) and desktop (1280 px) widths: the highlights strip, and
the 90-day AUM chart drawn as a trend on an axis from zero. Screenshots go to test-artifacts/ (customer-360-*.png)."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import AssetSnapshot
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels of the canvas that are not transparent: a drawn chart has many.
INK = """(id) => { const c = document.getElementById(id); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


@pytest.fixture
def customer(org):
    rng = random.Random(3)
    customer = CustomerFactory(
        primary_rm=org.rm_west,
        name="戴华思",
        risk_level="C3",
        risk_assessed_on=timezone.localdate() - timedelta(days=30),
    )
    level, today, rows = Decimal("12000000"), timezone.localdate(), []
    for d in range(89, -1, -1):
        level = (level * Decimal(1 + rng.uniform(-0.015, 0.016))).quantize(Decimal("0.01"))
        rows.append(AssetSnapshot(customer=customer, date=today - timedelta(days=d), aum=level))
    AssetSnapshot.objects.bulk_create(rows)
    customer.aum, customer.aum_as_of = level, today
    customer.save(update_fields=["aum", "aum_as_of"])
    return customer


@pytest.mark.parametrize(("width", "height", "label"), [(375, 812, "phone"), (1280, 900, "desktop")])
def test_the_360_page_shows_its_highlights_and_a_trend_from_zero(
    org, customer, live_server, browser, screenshot, width, height, label
):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=width < 500)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "rm_west", TEST_PASSWORD)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart('aum-trend')")

    highlights = page.locator("[data-testid=highlights] [data-highlight]")
    assert highlights.count() == 6  # tier, AUM, RM, risk, next follow-up, open complaints
    assert page.locator("[data-testid=highlights]").is_visible()
    assert page.evaluate(INK, "aum-trend") > 500
    scale = page.evaluate(
        "() => { const y = Chart.getChart('aum-trend').scales.y; return {min: y.min, title: y.options.title.text}; }"
    )
    assert scale["min"] == 0  # an amount's axis begins at zero
    assert scale["title"]  # the unit (万元) is on the axis
    assert (
        page.evaluate(
            "() => Chart.getChart('aum-trend').data.datasets[0].pointRadius ?? Chart.defaults.elements.point.radius"
        )
        == 0
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not errors
    screenshot(page, f"customer-360-{label}")
    context.close()
