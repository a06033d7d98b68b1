"""The boards: the branch head's dashboard (and HQ's, over the whole bank), the HQ ranking of branches and an RM's
performance (绩效), and the churn-risk list beside them.

The boards read the period sums of the precomputed daily rows (``cache``), never the raw tables, so a board
costs the same at a thousand customers and at a million. Only the churn-risk list reads live records (the top ten
of the scope).
"""

import statistics
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from customers.selectors import customers_visible_to
from organisation import access
from organisation.models import Branch, Staff
from organisation.selectors import staff_visible_to
from reminders.models import FollowUp

from .cache import Figures, branch_rows, branch_series, rm_rows
from .models import RmDayFigures
from .periods import DEFAULT_PERIOD, Period, Scope, period_for, scope_for
from .tables import BRANCH_SORTS, KPIS, PERFORMANCE, RM_SORTS

RM_TABLE_LIMIT = 50


@dataclass
class Kpi:
    key: str
    label: str
    value: object
    change: object
    kind: str  # money, count, percent, score
    good_when_up: bool = True
    metric: str = ""  # the drill-down


def kpis_of(figures: Figures) -> list[Kpi]:
    return [
        Kpi(key, label, figures.value(key), figures.change(key), kind, up, metric)
        for key, label, kind, up, metric in KPIS
    ]


@dataclass
class BranchLine:
    branch: Branch
    figures: dict


def _roll_up(scope: Scope, rows: list[dict], targets: list) -> list[BranchLine]:
    """Each target branch with the sum of the rows of its subtree."""
    path_of = {b.pk: b.path for b in scope.branches}
    lines = []
    for target in targets:
        mine = [r for r in rows if path_of.get(r["branch_id"], "").startswith(target.path)]
        lines.append(BranchLine(target, Figures.of(mine).flat()))
    return lines


# The outlets of the pool table, those whose customers nobody follows up first, then the least covered.
POOL_TABLE_LIMIT = 50


def pool_lines(scope: Scope, rows: list[dict]) -> list[BranchLine]:
    """The outlet customer pool of each branch of the scope that has one (its own customers, not those of the
    branches below it): from the rows the board has already read, no query of its own."""
    mine = {r["branch_id"]: r for r in rows}
    lines = [
        BranchLine(b, Figures.of([mine[b.pk]]).flat())
        for b in scope.branches
        if b.pk in mine and mine[b.pk].get("c_pool_customers")
    ]
    lines.sort(
        key=lambda line: (
            -line.figures["pool_unkept"],
            line.figures["pool_coverage"] if line.figures["pool_coverage"] is not None else 101,
            -line.figures["pool_customers"],
        )
    )
    return lines


def sorted_by(lines, key: str, attr="figures"):
    """Table lines, the largest ``key`` first (lines without it last)."""

    def sort_key(line):
        value = getattr(line, attr)[key]
        return (value is None, -(value or 0))

    return sorted(lines, key=sort_key)


@dataclass
class RmLine:
    staff_id: int
    name: str
    branch: str
    figures: dict


def rm_lines(user, scope: Scope, period: Period) -> list[RmLine]:
    """Each RM of the scope (the RM's current branch in the picked subtree) with their figures."""
    rms = scope.within(staff_visible_to(user).filter(role=Staff.Role.RM))
    people = {s.pk: s for s in rms.select_related("branch").only("id", "name", "branch__name")}
    rows = {r["staff_id"]: r for r in rm_rows(list(people), period)}
    lines = [
        RmLine(pk, s.name, s.branch.name, Figures.of([rows[pk]] if pk in rows else []).flat())
        for pk, s in people.items()
    ]
    return lines


# ----------------------------------------------------------------------------------------------------------------
# The branch head's dashboard
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: Scope
    period: Period
    figures: Figures
    kpis: list
    branches: list
    rms: list
    series: dict
    churn: list
    sort: str
    rm_count: int = 0
    pools: list = field(default_factory=list)  # BranchLine per branch with a pool, the neediest first


def dashboard_for(user, *, branch_id=None, period_key: str = DEFAULT_PERIOD, sort: str = "aum") -> Dashboard:
    """The branch head's dashboard (and HQ's, over the whole bank): a fixed number of queries."""
    scope = scope_for(user, branch_id)
    period = period_for(period_key)
    rows = branch_rows(scope, period)
    figures = Figures.of(rows)
    branches = _roll_up(scope, rows, scope.children())
    rms = rm_lines(user, scope, period)
    return Dashboard(
        scope=scope,
        period=period,
        figures=figures,
        kpis=kpis_of(figures),
        branches=sorted_by(branches, "coverage"),
        rms=sorted_by(rms, sort if sort in RM_SORTS else "aum")[:RM_TABLE_LIMIT],
        rm_count=len(rms),
        series=branch_series(scope, period),
        churn=churn_list(user, scope),
        sort=sort if sort in RM_SORTS else "aum",
        pools=pool_lines(scope, rows),
    )


# ----------------------------------------------------------------------------------------------------------------
# HQ: the ranking of branches
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Ranking:
    scope: Scope
    period: Period
    figures: Figures
    kpis: list
    ranking: list  # BranchLine, ranked by ``sort``
    level: str
    sort: str
    series: dict


def ranking_for(user, *, period_key: str = DEFAULT_PERIOD, level: str = Branch.Level.SUB_BRANCH, sort="aum") -> Ranking:
    """HQ: every branch of a level across the bank, ranked by a figure."""
    scope = scope_for(user, None)
    period = period_for(period_key)
    rows = branch_rows(scope, period)
    figures = Figures.of(rows)
    level = level if level in Branch.Level.values else Branch.Level.SUB_BRANCH
    targets = [b for b in scope.branches if b.level == level]
    sort = sort if sort in BRANCH_SORTS else "aum"
    lines = sorted_by(_roll_up(scope, rows, targets), sort)
    return Ranking(
        scope=scope,
        period=period,
        figures=figures,
        kpis=kpis_of(figures),
        ranking=lines,
        level=level,
        sort=sort,
        series=branch_series(scope, period),
    )


# ----------------------------------------------------------------------------------------------------------------
# An RM's performance
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Performance:
    rm: Staff
    period: Period
    figures: Figures
    kpis: list
    lines: list  # one dict per figure of ``tables.PERFORMANCE``, with the median of the peers
    peer_branch: Branch
    peer_count: int
    series: dict


def peer_branch(rm: Staff) -> Branch:
    """The branch whose RMs an RM is compared with: their sub-branch (支行) when they sit at an outlet."""
    if rm.branch.level == Branch.Level.OUTLET and rm.branch.parent_id:
        return rm.branch.parent
    return rm.branch


def performance_for(rm: Staff, *, period_key: str = DEFAULT_PERIOD) -> Performance:
    """One RM over a period, each figure beside the median of the RMs of their branch, and their daily series."""
    period = period_for(period_key)
    peers_branch = peer_branch(rm)
    peer_ids = list(
        Staff.objects.filter(access.within_q(peers_branch, "branch"), role=Staff.Role.RM)
        .exclude(status=Staff.Status.LEFT)
        .values_list("pk", flat=True)
    )
    if rm.pk not in peer_ids:
        peer_ids.append(rm.pk)
    rows = {r["staff_id"]: r for r in rm_rows(peer_ids, period)}
    mine = Figures.of([rows[rm.pk]] if rm.pk in rows else [])
    peers = [Figures.of([rows[pk]] if pk in rows else []).flat() for pk in peer_ids]
    lines = []
    flat = mine.flat()
    for key, label, kind in PERFORMANCE:
        values = [p[key] for p in peers if p[key] is not None]
        lines.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "value": flat[key],
                "previous": mine.previous(key) if key != "aum_change" and mine.comparable else None,
                "change": mine.change(key) if key != "aum_change" else None,
                "median": statistics.median(values) if values else None,
            }
        )
    daily = list(
        RmDayFigures.objects.filter(staff=rm, day__gte=period.start, day__lte=period.end)
        .order_by("day")
        .values("day", "aum", "interactions", "policy_customers", "overdue_customers")
    )
    by_day = {r["day"]: r for r in daily}
    days = period.dates()
    series = {
        "interactions_label": str(_("Interactions")),
        "coverage_label": str(_("Coverage %")),
        "labels": [d.isoformat() for d in days],
        "aum": [float(by_day[d]["aum"]) if d in by_day else None for d in days],
        "interactions": [by_day[d]["interactions"] if d in by_day else 0 for d in days],
        "coverage": [
            round(
                100 * (by_day[d]["policy_customers"] - by_day[d]["overdue_customers"]) / by_day[d]["policy_customers"],
                1,
            )
            if d in by_day and by_day[d]["policy_customers"]
            else None
            for d in days
        ],
    }
    return Performance(
        rm=rm,
        period=period,
        figures=mine,
        kpis=kpis_of(mine),
        lines=lines,
        peer_branch=peers_branch,
        peer_count=len(peer_ids),
        series=series,
    )


# ----------------------------------------------------------------------------------------------------------------
# Churn risk: the live list behind the count
# ----------------------------------------------------------------------------------------------------------------

CHURN_LIST = 10


def churn_follow_ups(user, scope: Scope | None = None, rm: Staff | None = None):
    """Open churn-risk follow-ups of customers the user may see (in the scope), largest customers first."""

    customers = customers_visible_to(user)
    if scope is not None:
        customers = scope.narrow(customers)
    qs = FollowUp.objects.filter(
        kind=FollowUp.Kind.CHURN_RISK, status__in=FollowUp.OPEN_STATES, customer__in=customers.values("pk")
    )
    if rm is not None:
        qs = qs.filter(staff=rm)
    return qs.select_related("customer__segment", "staff").order_by("-customer__aum", "pk")


def churn_list(user, scope: Scope, rm: Staff | None = None, limit: int = CHURN_LIST) -> list:
    return list(churn_follow_ups(user, scope, rm)[:limit])


REASONS = {
    "no_contact": _("No contact for a long time"),
    "falling_aum": _("AUM falling"),
    "open_complaint": _("Open complaint"),
}


def churn_reasons(follow_up) -> list:
    detail = follow_up.detail or {}
    return [label for key, label in REASONS.items() if detail.get(key)]
