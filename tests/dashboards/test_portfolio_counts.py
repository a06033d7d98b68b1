"""One RM's customer count on the customer list, My customers and their performance page: the three agree, or
differ by exactly what each page says it counts (secondary customers, lost customers)."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.selectors import portfolio_counts
from dashboards import figures
from relationships import services
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def portfolio(org):
    """rm_west: 6 customers as primary RM, 2 of them lost; 1 more as secondary RM (rm_west2's)."""
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        mine = [CustomerFactory(primary_rm=org.rm_west) for _ in range(6)]
        other = CustomerFactory(primary_rm=org.rm_west2)
    Customer.objects.filter(pk__in=[mine[0].pk, mine[1].pk]).update(lifecycle=Customer.Lifecycle.LOST)
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        services.assignment_add_secondary(actor=org.west_head.user, customer=other, staff=org.rm_west, reason="协助")
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=TODAY - timedelta(days=1))
    cache.clear()
    return mine, other


def _page(client, url, testid):
    client.cookies["django_language"] = "en"
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response, " ".join(region_text(response.content, testid).split())


def test_the_three_counts_differ_by_what_each_says(org, portfolio, login):
    counts = portfolio_counts(org.rm_west)
    assert (counts.primary, counts.secondary, counts.lost, counts.lost_listed) == (6, 1, 2, 2)
    client = login(org.rm_west)

    listed, note = _page(client, reverse("customers:customer-list"), "result-count")
    assert listed.context["page_obj"].paginator.count == 7 == counts.primary + counts.secondary
    assert "7 customers" in note and "including 1 as secondary RM" in note and "including 2 lost customers" in note

    mine, note = _page(client, reverse("relationships:my-customers"), "result-count")
    assert mine.context["page_obj"].paginator.count == 6 == counts.primary
    assert "as primary RM" in note and "including 2 lost customers" in note and "1 as secondary RM listed apart" in note

    board, note = _page(client, reverse("dashboards:my-performance"), "kpi-customers")
    value = next(k.value for k in board.context["perf"].kpis if k.key == "customers")
    assert value == 4 == counts.primary - counts.lost
    assert "as primary RM, on 11-30" in note and "2 lost customers not counted" in note


def test_without_secondary_or_lost_customers_the_counts_agree(org, login):
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        for _ in range(3):
            CustomerFactory(primary_rm=org.rm_west)
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=TODAY - timedelta(days=1))
    cache.clear()
    client = login(org.rm_west)
    listed, note = _page(client, reverse("customers:customer-list"), "result-count")
    mine, _note = _page(client, reverse("relationships:my-customers"), "result-count")
    board, _note = _page(client, reverse("dashboards:my-performance"), "kpi-customers")
    value = next(k.value for k in board.context["perf"].kpis if k.key == "customers")
    assert listed.context["page_obj"].paginator.count == mine.context["page_obj"].paginator.count == value == 3
    assert "all as primary RM" in note
