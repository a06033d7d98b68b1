"""The outlet customer pool on the dashboards: its size, AUM, coverage and the customers nobody follows up, built
nightly, reconciled against a direct count, shown to whom may see each outlet, with drill-downs that agree."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from dashboards import figures
from dashboards.models import BranchDayFigures
from organisation.models import Staff
from relationships import services
from tests.dashboards.helpers import DAY, NOW, at, created
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pooled(outlet, aum="20000.00", **changes):
    c = CustomerFactory(primary_rm=None, branch=outlet, aum=Decimal(aum), id_type="", id_number="")
    Customer.objects.filter(pk=c.pk).update(**changes)
    return created(c, at(DAY - timedelta(days=800)))


@pytest.fixture
def pools(org, book):
    """西一网点 kept by its head; 西二网点 and 东一网点 without keeper."""
    StaffFactory(username="w1head", branch=org.west_outlet, role=Staff.Role.HEAD)
    people = {
        "w1_a": pooled(org.west_outlet, "30000.00"),
        "w1_contacted": pooled(org.west_outlet, "40000.00"),
        "w1_closed": pooled(org.west_outlet, closed_on=DAY - timedelta(days=3)),
        "w1_lost": pooled(org.west_outlet, lifecycle="lost"),
        "w2_a": pooled(org.west_outlet2, "5000.00"),
        "w2_b": pooled(org.west_outlet2, "6000.00"),
        "e_a": pooled(org.east_outlet, "7000.00"),
    }
    with time_machine.travel(at(DAY - timedelta(days=2)), tick=False):
        services.interaction_log(
            actor=org.west_head.user, customer=people["w1_contacted"], occurred_at=at(DAY - timedelta(days=2))
        )
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
    return people


def direct(outlet):
    """The pool of an outlet at the end of DAY, counted straight from the customers, in Python."""
    rows = [
        c
        for c in Customer.objects.filter(branch=outlet).select_related("segment")
        if c.primary_rm_id is None and c.lifecycle != "lost" and (c.closed_on is None or c.closed_on > DAY)
    ]
    end = at(DAY + timedelta(days=1), 0)
    overdue = [
        c
        for c in rows
        if not (c.last_contacted_at and end - c.last_contacted_at <= timedelta(days=c.segment.contact_policy_days))
    ]
    return len(rows), sum((c.aum for c in rows), Decimal(0)), len(overdue)


def test_the_pool_figures_reconcile_with_a_direct_count(org, pools):
    for outlet, unkept in ((org.west_outlet, False), (org.west_outlet2, True), (org.east_outlet, True)):
        row = BranchDayFigures.objects.get(branch=outlet, day=DAY)
        n, aum, overdue = direct(outlet)
        assert (row.pool_customers, row.pool_aum, row.pool_overdue_customers) == (n, aum, overdue), outlet
        assert row.pool_policy_customers == n
        assert row.pool_unkept == (n if unkept else 0)
    west1 = BranchDayFigures.objects.get(branch=org.west_outlet, day=DAY)
    assert (west1.pool_customers, west1.pool_overdue_customers) == (2, 1)  # closed and lost are not in it
    # The RMs' customers are not in any pool.
    assert BranchDayFigures.objects.get(branch=org.west, day=DAY).pool_customers == 0


def test_the_branch_dashboard_shows_a_line_per_outlet_of_the_heads_subtree(org, pools, login):
    client = login(org.west_head)
    client.cookies["django_language"] = "en"
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("dashboards:dashboard"))
    board = response.context["board"]
    assert [line.branch for line in board.pools] == [org.west_outlet2, org.west_outlet]  # nobody's first
    assert board.figures.now["pool_customers"] == 4 and board.figures.now["pool_unkept"] == 2
    assert board.figures.value("pool_coverage") == 25.0  # 1 of 4 contacted in time
    page = response.content.decode()
    assert f'data-testid="pool-line-{org.east_outlet.pk}"' not in page
    assert "2 pool customers are followed up by nobody" in page


def test_the_hq_dashboard_shows_the_banks_pool_in_total(org, pools, login):
    with time_machine.travel(NOW, tick=False):
        response = login(org.admin).get(reverse("dashboards:dashboard-hq"))
    assert response.context["board"].figures.now["pool_customers"] == 5
    assert response.context["board"].figures.now["pool_aum"] == Decimal("88000.00")
    assert 'data-testid="pool"' in response.content.decode()
    assert 'data-testid="pool-table"' not in response.content.decode()


# Who sees which outlet's pool: the dashboard (heads, admins), and the pool drill-down of 东一网点.
WHO = ("rm_west", "west_head", "east_head", "top_head", "west_officer", "admin")
DASHBOARD = (403, 200, 200, 200, 403, 200)
EAST_DRILL = (200, 404, 200, 200, 403, 200)


@pytest.mark.parametrize(("who", "dashboard", "east_drill"), list(zip(WHO, DASHBOARD, EAST_DRILL, strict=True)))
def test_role_matrix(org, pools, login, who, dashboard, east_drill):
    client = login(getattr(org, who))
    with time_machine.travel(NOW, tick=False):
        assert client.get(reverse("dashboards:dashboard")).status_code == dashboard
        url = reverse("dashboards:dashboard-records") + f"?metric=pool&branch={org.east_outlet.pk}"
        response = client.get(url)
    assert response.status_code == east_drill
    if east_drill == 200:
        records = list(response.context["drill"].records)
        expected = [] if who == "rm_west" else [pools["e_a"]]  # an RM's figures are their own: no pool
        assert records == expected and response.context["drill"].headline == len(expected)


def test_without_staff_there_is_no_dashboard(org, pools, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(reverse("dashboards:dashboard")).status_code == 403


@pytest.mark.parametrize("metric", ["pool", "pool_not_contacted"])
def test_the_pool_drill_downs_list_as_many_as_the_figure(org, pools, login, metric):
    client = login(org.west_head)
    for branch in ("", str(org.west_outlet.pk), str(org.west_outlet2.pk)):
        with time_machine.travel(NOW, tick=False):
            url = reverse("dashboards:dashboard-records") + f"?metric={metric}&branch={branch}"
            drill = client.get(url).context["drill"]
        assert len(list(drill.records)) == drill.headline
    assert drill.headline == 2


def test_the_dashboards_query_count_does_not_grow_with_the_pools(org, pools, login):
    client = login(org.top_head)
    url = reverse("dashboards:dashboard") + "?period=30"
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(5):
        pooled(org.east_outlet)
        pooled(org.west_outlet2, f"{i + 1}000.00")
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
        with CaptureQueriesContext(connection) as after:
            client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_build_reads_the_keepers_once(org, pools):
    """The pool adds conditional counts to the customer GROUP BY and one query for the keepers of all outlets."""
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
        figures.figures_build(day=DAY)
    keeper_reads = [q for q in ctx.captured_queries if "pool_poolkeeper" in q["sql"]]
    assert len(keeper_reads) == 1


def test_an_outlet_whose_head_is_named_later_is_no_longer_unkept(org, pools):
    StaffFactory(username="w2head", branch=org.west_outlet2, role=Staff.Role.HEAD)
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
    assert BranchDayFigures.objects.get(branch=org.west_outlet2, day=DAY).pool_unkept == 0
