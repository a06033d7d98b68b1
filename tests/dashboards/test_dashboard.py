"""The dashboards: the head's home, scoping (a head sees only their subtree, an RM only themself), drill-down
numbers equal to the headline numbers, the period picker, the Excel exports (masked and logged) and pinned
query counts.

Every test of the module runs on one data set, built once for the module with 62 days of its figures
(``shared_data``, tests/conftest.py): what a test writes is undone after it."""

import copy
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from customers.models import AccessLog
from dashboards import boards, drills, figures, periods
from dashboards.models import BranchDayFigures
from relationships import services
from tests.conftest import book_build, org_build
from tests.dashboards.conftest import data_build
from tests.dashboards.helpers import DAY, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _built_once(shared_data):
    """The organisation, the customers and the hand-built data set (conftest.py), and the figures of the 62 days up
    to DAY: built once, for every test of the module."""

    def build():
        org = org_build()
        book = book_build(org)
        people = data_build(org, book)
        with time_machine.travel(NOW, tick=False):
            figures.figures_rebuild(since=DAY - timedelta(days=61), until=DAY)
        return org, book, people

    yield from shared_data(build)


@pytest.fixture
def _built(_built_once, db):
    """This test's own copies of the objects built once."""
    return copy.deepcopy(_built_once)


@pytest.fixture
def org(_built):
    return _built[0]


@pytest.fixture
def book(_built):
    return _built[1]


@pytest.fixture
def built(_built):
    return _built[2]


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_periods_end_with_the_last_built_day(org, built, now):
    assert periods.latest_day() == DAY
    p = periods.period_for("7")
    assert (p.start, p.end, p.prev_start, p.prev_end) == (
        date(2026, 3, 3),
        DAY,
        date(2026, 2, 24),
        date(2026, 3, 2),
    )
    m = periods.period_for("mtd")
    assert (m.start, m.end, m.prev_start, m.prev_end) == (date(2026, 3, 1), DAY, date(2026, 2, 1), date(2026, 2, 9))
    assert periods.period_for("bogus").key == "30"


def test_without_figures_the_period_ends_yesterday(org, now):
    BranchDayFigures.objects.all().delete()  # no figures built (the module's are back after this test)
    assert periods.latest_day() == DAY


def test_kpis_compare_with_the_previous_period(org, built, now):
    board = boards.dashboard_for(org.admin.user, period_key="7")
    rows = BranchDayFigures.objects.all()
    now_ = sum(r.interactions for r in rows if date(2026, 3, 3) <= r.day <= DAY)
    before = sum(r.interactions for r in rows if date(2026, 2, 24) <= r.day <= date(2026, 3, 2))
    assert board.figures.value("interactions") == now_
    assert board.figures.change("interactions") == now_ - before
    end_rows = [r for r in rows if r.day == DAY]
    customers = {k.key: k for k in board.kpis}["customers"]
    assert customers.value == sum(r.customers for r in end_rows)
    policy = sum(r.policy_customers for r in end_rows)
    overdue = sum(r.overdue_customers for r in end_rows)
    assert board.figures.value("coverage") == round(100 * (policy - overdue) / policy, 1)
    assert board.figures.value("satisfaction") == round(
        sum(r.rating_sum for r in rows if r.day >= date(2026, 3, 3))
        / sum(r.rating_count for r in rows if r.day >= date(2026, 3, 3)),
        2,
    )


def test_the_home_of_a_head_is_the_dashboard_and_of_an_admin_the_hq_dashboard(org, login):
    assert login(org.west_head).get(reverse("home")).url == reverse("dashboards:dashboard")
    assert login(org.admin).get(reverse("home")).url == reverse("dashboards:dashboard-hq")
    assert login(org.rm_west).get(reverse("home")).url == reverse("reminders:today")
    assert login(org.west_officer).get(reverse("home")).url == reverse("complaints:complaint-list")


def test_a_head_sees_only_their_subtree(org, book, built, now, login):
    client = login(org.west_head)
    response = client.get(reverse("dashboards:dashboard"))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.scope.root == org.west
    assert {b.pk for b in board.scope.branches} == {org.west.pk, org.west_outlet.pk, org.west_outlet2.pk}
    assert {line.staff_id for line in board.rms} == {org.rm_west.pk, org.rm_west2.pk}
    assert {line.branch.pk for line in board.branches} == {org.west_outlet.pk, org.west_outlet2.pk}
    west_rows = BranchDayFigures.objects.filter(day=DAY, branch__path__startswith=org.west.path)
    assert board.figures.now["customers"] == sum(r.customers for r in west_rows)
    assert client.get(reverse("dashboards:dashboard") + f"?branch={org.east.pk}").status_code == 404
    assert client.get(reverse("dashboards:dashboard") + f"?branch={org.west_outlet.pk}").status_code == 200
    assert client.get(reverse("dashboards:rm-performance", args=[org.rm_east.pk])).status_code == 404
    assert client.get(reverse("dashboards:rm-performance", args=[org.rm_west2.pk])).status_code == 200
    drill = reverse("dashboards:dashboard-records")
    assert client.get(drill + f"?metric=customers&rm={org.rm_east.pk}").status_code == 404
    assert client.get(drill + f"?metric=customers&branch={org.east_outlet.pk}").status_code == 404
    assert book.east.name not in client.get(drill + "?metric=customers&period=90").content.decode()


def test_an_rm_sees_only_themself(org, book, built, now, login):
    client = login(org.rm_west)
    mine = client.get(reverse("dashboards:my-performance"))
    assert mine.status_code == 200 and mine.context["perf"].rm == org.rm_west
    assert client.get(reverse("dashboards:rm-performance", args=[org.rm_west.pk])).status_code == 200
    assert client.get(reverse("dashboards:rm-performance", args=[org.rm_west2.pk])).status_code == 404
    assert client.get(reverse("dashboards:dashboard")).status_code == 403
    drill = reverse("dashboards:dashboard-records")
    assert client.get(drill + f"?metric=customers&rm={org.rm_west2.pk}").status_code == 404
    own = client.get(drill + "?metric=customers&period=90")
    assert own.status_code == 200 and book.west.name in own.content.decode()
    assert book.west2.name not in own.content.decode()
    assert client.get(reverse("dashboards:dashboard-export") + "?table=rms").status_code == 403


def test_an_officer_has_no_dashboard(org, login):
    client = login(org.west_officer)
    for name in ("dashboard", "dashboard-hq", "my-performance", "dashboard-records"):
        assert client.get(reverse(f"dashboards:{name}")).status_code == 403


def test_the_hq_ranking(org, built, now, login):
    response = login(org.admin).get(reverse("dashboards:dashboard-hq") + "?level=outlet&sort=customers")
    ranking = response.context["board"].ranking
    assert [line.branch for line in ranking][0] == org.west_outlet  # the most customers
    counts = [line.figures["customers"] for line in ranking]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == sum(r.customers for r in BranchDayFigures.objects.filter(day=DAY))
    assert login(org.top_head).get(reverse("dashboards:dashboard-hq")).status_code == 403


SCOPES = [
    ("west_head", {}),
    ("admin", {}),
    ("admin", {"branch_id": "east"}),
    ("top_head", {"branch_id": "west_outlet"}),
    ("rm_west", {"rm_id": "rm_west"}),
    ("west_head", {"rm_id": "rm_west2"}),
    ("east_head", {"rm_id": "rm_east"}),
]


@pytest.mark.parametrize("period", ["7", pytest.param("90", marks=pytest.mark.full)])  # 90 days: make test-full
@pytest.mark.parametrize(("who", "where"), SCOPES)
def test_every_drill_down_equals_its_headline(org, book, built, now, who, where, period):
    kwargs = {k: getattr(org, v).pk for k, v in where.items()}
    for metric in drills.DRILLS:
        drill = drills.drill_for(getattr(org, who).user, metric=metric, period_key=period, **kwargs)
        assert drill.records.count() == drill.headline, (metric, who, where)


def test_the_drill_down_page_shows_the_headline_and_the_records(org, book, built, now, login):
    client = login(org.west_head)
    response = client.get(reverse("dashboards:dashboard-records") + "?metric=not_contacted&period=7")
    drill = response.context["drill"]
    page = response.context["page_obj"]
    assert drill.headline == 4 == len(page) and not page.has_next()
    text = response.content.decode()
    assert "看板数字：4。" in text and "第 1–4 条" in text
    assert "从未联系" in text and "私行客户" in text and book.west.name not in text


def test_drill_down_pages_go_on_without_a_count(org, book, built, now, login):
    """The drill-down pages by "next" and "previous" (one row more than the page says whether there is a next):
    its size is the dashboard's figure, shown above it."""
    from dashboards.views import DashboardRecordsView

    client = login(org.admin)
    url = reverse("dashboards:dashboard-records") + "?metric=interactions&period=90"
    total = drills.drill_for(org.admin.user, metric="interactions", period_key="90").headline
    assert total > 2
    DashboardRecordsView.per_page = 2
    try:
        first = client.get(url).context["page_obj"]
        second = client.get(url + "&page=2").context["page_obj"]
        last = client.get(url + f"&page={(total + 1) // 2}").context["page_obj"]
        beyond = client.get(url + "&page=999").context["page_obj"]
        bogus = client.get(url + "&page=x").context["page_obj"]
    finally:
        DashboardRecordsView.per_page = 50
    assert len(first) == 2 and first.has_next() and not first.has_previous()
    assert second.start_index() == 3 and second.has_previous()
    assert not last.has_next() and last.end_index() == total
    assert len(beyond) == 0 and beyond.has_previous()
    assert bogus.number == 1
    seen = {i.pk for page in (first, second) for i in page}
    assert len(seen) == 4  # no row twice


def test_the_not_contacted_list_pages_in_the_days_aum_order(org, book, built, now, login):
    """Past the first page the rows come by a deferred join over the day's list: same rows, same order."""
    from dashboards.views import DashboardRecordsView

    client = login(org.admin)
    url = reverse("dashboards:dashboard-records") + "?metric=not_contacted&period=7"
    DashboardRecordsView.per_page = 3
    try:
        pages = [list(client.get(url + f"&page={n}").context["page_obj"]) for n in (1, 2)]
    finally:
        DashboardRecordsView.per_page = 50
    rows = pages[0] + pages[1]
    assert [len(p) for p in pages] == [3, 1]
    assert len({c.pk for c in rows}) == 4
    assert [c.aum_on_day for c in rows] == sorted((c.aum_on_day for c in rows), reverse=True)


def test_not_contacted_reads_the_days_list_and_falls_back_to_the_rule_for_a_day_built_without_it(org, book, built, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboards.models import UncoveredCustomer

    def records():
        drill = drills.drill_for(org.admin.user, metric="not_contacted", period_key="7")
        with CaptureQueriesContext(connection) as queries:
            rows = list(drill.records)
        sql = queries.captured_queries[-1]["sql"]
        return drill, {(c.pk, c.aum_on_day) for c in rows}, sql

    drill, listed, sql = records()
    assert len(listed) == drill.headline == 4
    assert "relationships_uncoveredcustomer" in sql and "relationships_interaction" not in sql
    UncoveredCustomer.objects.all().delete()
    BranchDayFigures.objects.update(uncovered_listed=False)  # as built before the lists existed
    drill, by_rule, sql = records()
    assert by_rule == listed and drill.headline == 4
    assert "relationships_uncoveredcustomer" not in sql


def test_the_churn_list_shows_reasons_and_links_to_the_360_page(org, book, built, now, login):
    response = login(org.east_head).get(reverse("dashboards:dashboard"))
    churn = response.context["board"].churn
    assert [f.customer for f in churn] == [book.east]
    text = response.content.decode()
    assert reverse("customers:customer-detail", args=[book.east.pk]) in text
    assert str(boards.REASONS["no_contact"]) in text


def test_the_rm_table_sorts_and_links(org, built, now, login):
    response = login(org.west_head).get(reverse("dashboards:dashboard") + "?sort=customers")
    lines = response.context["board"].rms
    assert [line.staff_id for line in lines] == [org.rm_west.pk, org.rm_west2.pk]
    text = response.content.decode()
    assert f"{reverse('reminders:today')}?rm={org.rm_west.pk}" in text
    assert f"{reverse('customers:customer-list')}?rm={org.rm_west.pk}" in text
    assert reverse("dashboards:rm-performance", args=[org.rm_west.pk]) in text
    bogus = login(org.west_head).get(reverse("dashboards:dashboard") + "?sort=drop&period=x&branch=abc")
    assert bogus.status_code == 404  # a branch that is not a number is not in the scope


def test_links_to_an_rms_customers_are_not_labelled_as_the_portfolio_count(org, built, now, login):
    from django.utils import translation

    with translation.override("zh-hans"):
        count_label, theirs = translation.gettext("Portfolio"), translation.gettext("Their customers")
    board = login(org.west_head).get(reverse("dashboards:dashboard")).content.decode()
    link = board[board.index(f'href="{reverse("customers:customer-list")}?rm={org.rm_west.pk}"') :]
    link = link[: link.index("</a>")]
    assert theirs in link and count_label not in link
    mine = login(org.rm_west).get(reverse("dashboards:rm-performance", args=[org.rm_west.pk])).content.decode()
    link = mine[mine.index(f'href="{reverse("relationships:my-customers")}"') :]
    assert "我的客户" in link[: link.index("</a>")] and count_label not in link[: link.index("</a>")]


def test_the_complaint_on_time_rate_and_the_overdue_count_come_with_a_hint_of_what_each_counts(org, built, now, login):
    from django.utils import translation

    from tests.html import region_text

    page = login(org.west_head).get(reverse("dashboards:dashboard")).content
    with translation.override("zh-hans"):
        hint = translation.gettext("The on-time rate counts decided complaints; overdue also counts those still open.")
    assert region_text(page, "complaint-hint") == hint


def test_performance_against_the_branch_median(org, built, now):
    perf = boards.performance_for(org.rm_west, period_key="30")
    assert perf.peer_branch == org.west and perf.peer_count == 2
    lines = {line["key"]: line for line in perf.lines}
    west2 = boards.performance_for(org.rm_west2, period_key="30")
    mine, theirs = lines["customers"]["value"], {x["key"]: x for x in west2.lines}["customers"]["value"]
    assert lines["customers"]["median"] == (mine + theirs) / 2
    assert len(perf.series["labels"]) == 30


@pytest.mark.parametrize("table", ["rms", "branches", "churn"])
def test_exports_are_logged_and_masked(org, book, built, now, login, table):
    client = login(org.east_head)
    response = client.get(reverse("dashboards:dashboard-export") + f"?table={table}&period=30")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.user == org.east_head.user and entry.detail["table"] == table and entry.row_count >= 1
    if table == "churn":
        from io import BytesIO

        from openpyxl import load_workbook

        sheet = load_workbook(BytesIO(response.content)).active
        values = [c.value for row in sheet.iter_rows() for c in row]
        assert book.east.mobile_masked in values
        assert book.east.reveal("mobile") not in values


@pytest.mark.parametrize(("table", "first_header"), [("rms", "RM"), ("branches", "Code")])
def test_exports_give_the_period_in_the_caption_and_put_the_data_right_below_the_header(
    org, built, now, login, table, first_header
):
    from io import BytesIO

    from django.utils import translation
    from openpyxl import load_workbook

    response = login(org.east_head).get(reverse("dashboards:dashboard-export") + f"?table={table}&period=30")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    start, end = (DAY - timedelta(days=29)).isoformat(), DAY.isoformat()
    assert start in rows[0][0] and end in rows[0][0] and not any(rows[0][1:])  # row 1: what and when
    with translation.override("zh-hans"):
        assert rows[1][0] == translation.gettext(first_header) and "期间" not in rows[1][0]  # row 2: the header
        assert all(translation.gettext("Period") not in (r[0] or "") for r in rows[2:])
    assert len(rows) > 2 and all(isinstance(r[2], int) for r in rows[2:])  # the data, directly below
    assert sheet.auto_filter.ref.startswith("A2:") and sheet.auto_filter.ref.endswith(str(len(rows)))


def test_the_ranking_export_is_for_admins(org, built, now, login):
    url = reverse("dashboards:dashboard-export") + "?table=ranking"
    assert login(org.west_head).get(url).status_code == 403
    assert login(org.admin).get(url).status_code == 200
    assert login(org.admin).get(reverse("dashboards:dashboard-export") + "?table=nope").status_code == 404


def test_query_counts_are_pinned(org, built, now, login, django_assert_max_num_queries):
    # 19: + the targets panel (one query, targets.panels)
    head, admin, rm = login(org.west_head), None, None
    with django_assert_max_num_queries(20):  # + the overdue task lines and the targets panel (worktasks.selectors)
        assert head.get(reverse("dashboards:dashboard") + "?period=90").status_code == 200
    admin = login(org.admin)
    with django_assert_max_num_queries(19):
        assert admin.get(reverse("dashboards:dashboard-hq") + "?period=90&level=outlet").status_code == 200
    with django_assert_max_num_queries(20):  # + the overdue task lines and the targets panel
        assert admin.get(reverse("dashboards:dashboard") + "?period=90").status_code == 200
    rm = login(org.rm_west)
    with django_assert_max_num_queries(19):
        assert rm.get(reverse("dashboards:my-performance") + "?period=90").status_code == 200
    for metric in drills.DRILLS:
        with django_assert_max_num_queries(19):
            assert rm.get(reverse("dashboards:dashboard-records") + f"?metric={metric}").status_code == 200


def test_the_query_count_does_not_grow_with_the_organisation(org, built, now, login, django_assert_num_queries):
    from tests.factories import BranchFactory, CustomerFactory, StaffFactory

    client = login(org.admin)
    url = reverse("dashboards:dashboard") + "?period=30"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    outlet = BranchFactory(code="113", name="西三网点", level="outlet", parent=org.west)
    for i in range(3):
        rm = StaffFactory(username=f"more{i}", branch=outlet)
        CustomerFactory(primary_rm=rm)
    figures.figures_build(day=DAY)
    with django_assert_num_queries(len(before.captured_queries)):
        client.get(url)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboards cache their sums until the figures are built again; each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_sums_are_cached_until_the_figures_are_built_again(org, built, now, login, django_assert_max_num_queries):
    client = login(org.west_head)
    url = reverse("dashboards:dashboard") + "?period=30"
    first = client.get(url).context["board"].figures.now["interactions"]
    with django_assert_max_num_queries(
        14
    ):  # + the overdue task lines, the targets panel and the pool lines, read live (not cached)
        assert client.get(url).context["board"].figures.now["interactions"] == first
    services.interaction_log(actor=org.rm_west.user, customer=org_customer(org), occurred_at=NOW - timedelta(hours=20))
    figures.figures_build(day=DAY)
    assert client.get(url).context["board"].figures.now["interactions"] == first + 1


def org_customer(org):
    from customers.models import Customer

    return Customer.objects.filter(primary_rm=org.rm_west).first()


def test_the_nightly_build_warms_every_heads_dashboard(org, book, monkeypatch):
    from dashboards import cache as sums
    from dashboards import tasks

    result = tasks.build_figures.apply().get()
    # One scope per branch with a head (top, west, east) and HQ.
    assert result["warmed"] == 4

    def cold(*args, **kwargs):
        raise AssertionError("the sums were computed again")

    monkeypatch.setattr(sums, "_branch_rows_query", cold)
    monkeypatch.setattr(sums, "_series_query", cold)
    for head in (org.top_head, org.west_head, org.east_head, org.admin):
        boards.dashboard_for(head.user)
