"""The dashboards in headless Chromium, with their charts drawn, at desktop (1280 px) and phone (375 px) widths.
The screenshots are written to test-artifacts/ (dashboard-*.png)."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from complaints.models import Complaint, ComplaintCategory
from customers.models import AssetSnapshot, Customer
from dashboards import figures
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAYS = 30
NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏"


@pytest.fixture
def month(org):
    """A month of activity for the west sub-branch and its two RMs, and the figures built for it."""
    rng = random.Random(7)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    amounts = [Decimal(x) for x in ("20000", "120000", "900000", "7000000")]
    customers = []
    for i, surname in enumerate(NAMES):
        rm = (org.rm_west, org.rm_west2, org.rm_east)[i % 3]
        customers.append(CustomerFactory(primary_rm=rm, name=f"{surname}{'明华丽强'[i % 4]}", aum=amounts[i % 4]))
    # Registered long before the month (contacted, most of them, within their tier's policy).
    Customer.objects.update(created_at=timezone.now() - timedelta(days=400))
    snapshots, interactions = [], []
    channels = ["visit", "phone", "phone", "wechat", "wechat", "sms", "counter"]
    for c in customers:
        level = c.aum
        for d in range(DAYS, 0, -1):
            level = (level * Decimal(1 + rng.uniform(-0.01, 0.02))).quantize(Decimal("0.01"))
            snapshots.append(AssetSnapshot(customer=c, date=today - timedelta(days=d), aum=level))
        for _ in range(rng.randint(1, 6)):
            day = today - timedelta(days=rng.randint(1, DAYS))
            when = datetime.combine(day, time(rng.randint(9, 17)), tzinfo=tz)
            interactions.append(
                Interaction(customer=c, staff=c.primary_rm, channel=rng.choice(channels), occurred_at=when)
            )
    AssetSnapshot.objects.bulk_create(snapshots)
    Interaction.objects.bulk_create(interactions)
    latest = Interaction.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    Customer.objects.update(last_contacted_at=Subquery(latest))
    yesterday = today - timedelta(days=1)
    for i, c in enumerate(customers[:6]):
        FollowUp.objects.create(
            customer=c,
            staff=c.primary_rm,
            kind=FollowUp.Kind.CHURN_RISK,
            due_on=yesterday - timedelta(days=i),
            title=f"流失预警：{c.name}",
            dedupe_key=f"churn:{c.pk}",
            detail={"no_contact": i % 2 == 0, "falling_aum": True, "open_complaint": i == 3},
            created_at=timezone.now() - timedelta(days=10),
        )
        SatisfactionRating.objects.create(
            customer=c,
            rated_staff=c.primary_rm,
            score=3 + i % 3,
            recorded_by=org.west_head if c.primary_rm != org.rm_east else org.east_head,
            recorded_at=timezone.now() - timedelta(days=i + 2),
        )
    categories = list(ComplaintCategory.objects.order_by("pk")[:4])
    for i in range(7):
        received = timezone.now() - timedelta(days=3 + 3 * i)
        Complaint.objects.create(
            reference=f"TS-DASH-{i}",
            complainant_name="投诉人",
            branch=(org.west_outlet, org.west_outlet2)[i % 2],
            subject_staff=(org.rm_west, org.rm_west2)[i % 2],
            customer=customers[i],
            channel=Complaint.Channel.HOTLINE,
            received_at=received,
            category=categories[i % len(categories)],
            request="r",
            facts="f",
            registered_by=org.west_officer,
            clock_started_at=received,
            due_at=received + timedelta(days=15),
            status="decided" if i > 2 else "in_progress",
            first_decided_at=received + timedelta(days=2) if i > 2 else None,
            decided_on_time=True if i > 2 else None,
        )
    figures.figures_rebuild(since=today - timedelta(days=DAYS), until=yesterday)
    return customers


def test_the_head_dashboard_draws_its_charts(org, month, live_server, browser, screenshot):
    for width, height, label in ((1280, 900, "desktop"), (375, 812, "phone")):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=width < 500
        )
        page = context.new_page()
        sign_in(page, live_server, "west_head", TEST_PASSWORD)
        page.wait_for_url(f"{live_server.url}/dashboard/")  # the head's home
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 4")
        assert page.locator("[data-testid=kpis] .kpi-card").count() == 6
        # Amounts on a value axis from zero, in 万元 with the unit as the axis title.
        aum = page.evaluate(
            "() => { const y = Chart.getChart('chart-aum').scales.y; return [y.min, y.options.title.text]; }"
        )
        assert aum[0] == 0 and aum[1]
        assert page.locator("[data-testid=rm-table] tbody tr").count() == 2
        assert page.locator("[data-testid=churn-list] li").count() == 4  # the west customers at risk
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"dashboard-head-{label}")
        page.locator("[data-testid=rm-table] tbody tr a").first.click()
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 2")
        assert page.evaluate("() => Chart.getChart('chart-rm-aum').scales.y.min") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"dashboard-rm-{label}")
        context.close()


def test_the_hq_dashboard_draws_its_ranking(org, month, live_server, browser, screenshot):
    for width, height, label in ((1280, 900, "desktop"), (375, 812, "phone")):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=width < 500
        )
        page = context.new_page()
        sign_in(page, live_server, "hq_admin", TEST_PASSWORD)
        page.wait_for_url(f"{live_server.url}/dashboard/hq/")
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 2")
        assert page.locator("[data-testid=ranking] tbody tr").count() == 2  # the two sub-branches
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"dashboard-hq-{label}")
        page.locator("[data-testid=kpi-coverage]").click()
        page.wait_for_selector("[data-testid=drill-table]")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"dashboard-drill-{label}")
        context.close()
