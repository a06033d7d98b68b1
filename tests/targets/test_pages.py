"""The targets pages: who may open them, what they show, the forms' bad input, the export, the dashboards' panels
and the query counts (independent of the number of rows)."""

import copy
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from customers.models import AccessLog
from dashboards.figures import figures_build
from organisation.models import Branch
from targets import services
from targets.models import Metric, Target
from tests.conftest import org_build
from tests.factories import BranchFactory, StaffFactory
from tests.targets.conftest import AS_OF, NOW, data_build, set_target

pytestmark = pytest.mark.django_db

LIST, MINE, SET = "targets:target-list", "targets:my-targets", "targets:target-set"


@pytest.fixture
def targets(org, data, march):
    return targets_build(org, march)


def targets_build(org, march) -> Target:
    figures_build(day=AS_OF)  # one day of figures is enough for the pages
    top = set_target(march, Metric.AUM_GROWTH, "100000", holder=org.top)
    services.target_distribute(actor=org.admin.user, target=top, method="even")
    set_target(march, Metric.COVERAGE, "80", holder=org.west)
    set_target(march, Metric.AUM_GROWTH, "20000", holder=org.rm_west)
    return top


def url_of(name, target):
    return reverse(name, args=[target.pk]) if name == "targets:target-distribute" else reverse(name)


class TestRoleMatrix:
    """Who may open which page. Every case reads the same organisation, data set and targets: built once for the
    class (``shared_data``, tests/conftest.py); what a case writes is undone after it."""

    @pytest.fixture(scope="class")
    @classmethod
    def _built_once(cls, shared_data):
        def build():
            with time_machine.travel(NOW, tick=False):
                org = org_build()
                data_build(org)
                return org, targets_build(org, services.period_of(kind="month", day=NOW.date()))

        yield from shared_data(build)

    @pytest.fixture
    def _built(self, _built_once, db, now):
        """This case's own copies of the objects built once (on the morning after the last day built: ``now``)."""
        return copy.deepcopy(_built_once)

    @pytest.fixture
    def org(self, _built):
        return _built[0]

    @pytest.fixture
    def targets(self, _built):
        return _built[1]

    @pytest.mark.parametrize(
        "who, name, status",
        [
            ("admin", LIST, 200), ("top_head", LIST, 200), ("west_head", LIST, 200),
            ("rm_west", LIST, 403), ("west_officer", LIST, 403), ("nobody", LIST, 403),
            ("rm_west", MINE, 200), ("admin", MINE, 403), ("west_head", MINE, 403), ("west_officer", MINE, 403),
            ("admin", SET, 200), ("west_head", SET, 200), ("rm_west", SET, 403), ("west_officer", SET, 403),
            ("nobody", SET, 403),
            ("admin", "targets:target-distribute", 200), ("top_head", "targets:target-distribute", 200),
            ("west_head", "targets:target-distribute", 404),  # the top branch's target is above them
            ("rm_west", "targets:target-distribute", 403), ("west_officer", "targets:target-distribute", 403),
            ("admin", "targets:target-export", 200), ("west_head", "targets:target-export", 200),
            ("rm_west", "targets:target-export", 200), ("west_officer", "targets:target-export", 403),
        ],
    )  # fmt: skip
    def test_role_matrix(self, org, targets, client, who, name, status):
        if who == "nobody":
            user = get_user_model().objects.create_user("nobody", password="x")  # noqa: S106
        else:
            user = getattr(org, who).user
        client.force_login(user)
        assert client.get(url_of(name, targets)).status_code == status


def test_a_head_sees_their_branch_and_the_level_below(org, targets, login):
    with translation.override("en"):
        page = login(org.top_head).get(reverse(LIST)).content.decode()
    assert "西支行" in page and "东支行" in page and 'data-testid="metric-aum_growth"' in page
    assert 'data-testid="distribute-link"' in page and 'class="target-bar' in page
    west = login(org.west_head).get(reverse(LIST)).content.decode()
    assert "metric-coverage" in west and "东支行" not in west
    assert login(org.west_head).get(reverse(LIST), {"branch": org.east.pk}).status_code == 404
    assert login(org.west_head).get(reverse(LIST), {"branch": "x"}).status_code == 404


def test_an_rm_sees_only_their_own(org, targets, login):
    page = login(org.rm_west).get(reverse(MINE)).content.decode()
    assert "metric-aum_growth" in page and "metric-coverage" not in page and "西支行" not in page


def test_an_empty_period_says_so(org, targets, login):
    page = login(org.west_head).get(reverse(LIST), {"kind": "year"}).content.decode()
    assert 'data-empty="targets"' in page and 'data-testid="empty-action"' in page


def test_setting_through_the_form(org, march, login):
    client = login(org.west_head)
    data = {"period": f"month:{march.start}", "metric": "new_effective", "holder": f"b{org.west_outlet.pk}"}
    response = client.post(reverse(SET), {**data, "value": "12"})
    assert response.status_code == 302
    assert Target.objects.get().value == 12
    with translation.override("en"):
        bad = client.post(reverse(SET), {**data, "value": "-3"})
        assert bad.status_code == 400 and "A target cannot be negative." in bad.content.decode()
        outside = client.post(reverse(SET), {**data, "holder": f"b{org.east.pk}", "value": "1"})
        assert outside.status_code == 400  # not among the choices
        holdings = client.post(reverse(SET), {**data, "metric": "new_holdings", "value": "1"})
        assert "Choose the product kind" in holdings.content.decode()
    assert Target.objects.count() == 1


def test_distributing_through_the_form(org, targets, login):
    client = login(org.admin)
    url = reverse("targets:target-distribute", args=[targets.pk])
    with translation.override("en"):
        bad = client.post(url, {"method": "hand", f"b{org.west.pk}": "1", f"b{org.east.pk}": "2"})
        assert bad.status_code == 400 and "add up to 3.00, not to the target of 100,000.00" in bad.content.decode()
    assert set(Target.objects.filter(parent=targets).values_list("value", flat=True)) == {Decimal(50000)}
    ok = client.post(url, {"method": "hand", f"b{org.west.pk}": "70000", f"b{org.east.pk}": "30000"})
    assert ok.status_code == 302
    assert Target.objects.get(parent=targets, branch=org.west).value == 70000


def test_the_export_is_logged(org, targets, login):
    response = login(org.top_head).get(reverse("targets:target-export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert log.row_count == 4  # AUM growth: the top branch and its two sub-branches; coverage: 西支行


def test_the_dashboards_show_the_progress_bars(org, targets, login):
    assert 'data-testid="targets-panel"' in login(org.top_head).get(reverse("dashboards:dashboard")).content.decode()
    assert (
        'data-testid="targets-panel"' in login(org.rm_west).get(reverse("dashboards:my-performance")).content.decode()
    )
    hq = login(org.admin).get(reverse("dashboards:dashboard-hq")).content.decode()
    assert 'data-testid="targets-panel"' in hq and "西支行" in hq
    # without targets, no panel
    assert "targets-panel" not in login(org.rm_east).get(reverse("dashboards:my-performance")).content.decode()


def test_the_navigation_offers_targets_to_heads_and_admins(org, login):
    for staff in (org.west_head, org.admin):
        assert reverse(LIST) in login(staff).get(reverse("reminders:today")).content.decode()
    assert reverse(LIST) not in login(org.rm_west).get(reverse("reminders:today")).content.decode()


# The queries of each page, whole request (session, staff, navigation's unread count included).
PINS = {"list (head)": 11, "mine (rm)": 8, "distribute (admin)": 11, "set (head)": 9}


def test_query_counts_do_not_grow_with_the_rows(org, targets, march, login, django_assert_num_queries):
    pages = {
        "list (head)": (org.top_head, reverse(LIST)),
        "mine (rm)": (org.rm_west, reverse(MINE)),
        "distribute (admin)": (org.admin, reverse("targets:target-distribute", args=[targets.pk])),
        "set (head)": (org.west_head, reverse(SET)),
    }

    def check():
        counts = {}
        for name, (staff, url) in pages.items():
            client = login(staff)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200, name
            counts[name] = len(ctx.captured_queries)
        assert counts == PINS

    check()
    # More branches, RMs and targets
    for i, category in enumerate(["wealth", "fund", "loan"]):
        outlet = BranchFactory(code=f"13{i}", name=f"新网点{i}", level=Branch.Level.OUTLET, parent=org.top)
        rm_staff = StaffFactory(branch=org.west_outlet, role="rm")
        StaffFactory(branch=org.top, role="rm")
        set_target(march, Metric.AUM_GROWTH, "10", holder=outlet)
        set_target(march, Metric.AUM_GROWTH, "10", holder=rm_staff)
        set_target(march, Metric.NEW_HOLDINGS, "1", holder=org.rm_west, category=category)
        set_target(march, Metric.NEW_HOLDINGS, "1", holder=org.top, category=category)
    check()
