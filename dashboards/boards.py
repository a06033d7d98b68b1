"""Reads for the dashboards: the branch head's dashboard, the HQ dashboard and an RM's performance (绩效).

The pages read the precomputed daily rows (``BranchDayFigures``, ``RmDayFigures``), never the raw tables, so a
page costs the same at a thousand customers and at a million: a branch subtree over a period is at most
(branches × days) small rows, summed by the database, with the JSON breakdowns (tiers, channels, categories)
added up here. Only the churn-risk list reads live records (the top ten of the scope).

Stocks (customers, AUM, coverage, open and overdue follow-ups, churn risk, overdue complaints) are taken on the
last day of the period; flows (new and lost customers, interactions, follow-ups done, complaints received and
decided, ratings) are summed over it. Every figure is compared with the previous period of the same length.
"""

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from complaints.models import ComplaintCategory
from customers.models import Segment
from customers.selectors import customers_visible_to
from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to, staff_of, staff_visible_to
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp

from . import figures as f
from .figures import figures_version
from .models import BranchDayFigures, RmDayFigures

PERIODS = {"7": _("Last 7 days"), "30": _("Last 30 days"), "90": _("Last 90 days"), "mtd": _("Month to date")}
DEFAULT_PERIOD = "30"

STOCKS = (
    "customers",
    "aum",
    "policy_customers",
    "overdue_customers",
    "follow_ups_open",
    "follow_ups_overdue",
    "churn_risk",
    "complaints_overdue",
)
FLOWS = (
    "new_customers",
    "lost_customers",
    "interactions",
    "follow_ups_done",
    "follow_ups_done_on_time",
    "complaints_received",
    "complaints_decided",
    "complaints_on_time",
    "rating_count",
    "rating_sum",
)


# ----------------------------------------------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    prev_start: date
    prev_end: date

    @property
    def label(self):
        return PERIODS[self.key]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def latest_day() -> date:
    """The last complete day with figures: yesterday once the nightly job has run (the day before otherwise)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    built = BranchDayFigures.objects.filter(day__lte=yesterday).aggregate(last=Max("day"))["last"]
    return built or yesterday


def period_for(key: str, end: date | None = None) -> Period:
    key = key if key in PERIODS else DEFAULT_PERIOD
    end = end or latest_day()
    if key == "mtd":
        start = end.replace(day=1)
        prev_end = start - timedelta(days=1)
        prev_start = prev_end.replace(day=1)
        prev_end = min(prev_end, prev_start + timedelta(days=(end - start).days))
    else:
        start = end - timedelta(days=int(key) - 1)
        prev_end = start - timedelta(days=1)
        prev_start = prev_end - timedelta(days=int(key) - 1)
    return Period(key, start, end, prev_start, prev_end)


# ----------------------------------------------------------------------------------------------------------------
# Scope: the branch picked within what the user may see
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Scope:
    root: Branch | None  # None: the whole bank (HQ)
    branches: list  # every branch of the scope, tree order
    choices: list  # the branch picker
    # Whether the scope is narrower than everything the user sees. Records read through the user's visibility rule
    # are filtered by the scope's branches only then: the same branch list twice makes PostgreSQL estimate the
    # rows as the square of their share, and pick plans for a few hundred rows when there are thousands.
    narrows: bool = True

    @property
    def ids(self) -> list[int]:
        return [b.pk for b in self.branches]

    def children(self) -> list:
        """The branches one level below the root (the top-level branches for the whole bank); the root alone
        when it has none."""
        if self.root is None:
            return [b for b in self.branches if b.parent_id is None]
        below = [b for b in self.branches if b.parent_id == self.root.pk]
        return below or [self.root]


def scope_for(user, branch_id=None) -> Scope:
    """The picked branch's subtree within the user's (404 for a branch outside it). Heads start at their own
    branch, admins at the whole bank."""
    visible = list(
        branches_visible_to(user).order_by("path").only("id", "name", "code", "path", "parent", "depth", "level")
    )
    staff = staff_of(user)
    root = None
    if branch_id not in (None, ""):
        root = next((b for b in visible if str(b.pk) == str(branch_id)), None)
        if root is None:
            get_object_or_404(Branch.objects.none())
    elif not staff.sees_everything:
        root = next((b for b in visible if b.pk == staff.branch_id), None)
    branches = visible if root is None else [b for b in visible if b.path.startswith(root.path)]
    choices = [b for b in visible if b.level != Branch.Level.OUTLET or b.parent_id is None] if len(visible) > 1 else []
    return Scope(root=root, branches=branches, choices=choices or visible, narrows=len(branches) < len(visible))


# ----------------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------------


def _period_sums(prefix: str, period: Period, *, previous=False) -> dict:
    start, end = (period.prev_start, period.prev_end) if previous else (period.start, period.end)
    within = Q(day__gte=start, day__lte=end)
    out = {f"{prefix}{name}": Sum(name, filter=within, default=0) for name in FLOWS}
    stock_day = Q(day=end)
    out.update({f"{prefix}{name}": Sum(name, filter=stock_day, default=0) for name in STOCKS})
    out[f"{prefix}rows"] = Count("pk", filter=within)
    return out


@dataclass
class Figures:
    """A set of figures for a period, with the previous period's beside them."""

    now: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)

    @classmethod
    def of(cls, rows) -> "Figures":
        figures = cls({k: 0 for k in FLOWS + STOCKS}, {k: 0 for k in FLOWS + STOCKS})
        for row in rows:
            figures.add(row)
        return figures

    def add(self, row: dict) -> None:
        self.rows_before = getattr(self, "rows_before", 0) + (row.get("p_rows") or 0)
        for name in FLOWS + STOCKS:
            self.now[name] = self.now.get(name, 0) + (row.get(f"c_{name}") or 0)
            self.before[name] = self.before.get(name, 0) + (row.get(f"p_{name}") or 0)

    @staticmethod
    def _rates(f: dict) -> dict:
        def share(a, b):
            return None if not b else round(100 * a / b, 1)

        return {
            "coverage": share(f["policy_customers"] - f["overdue_customers"], f["policy_customers"]),
            "complaints_on_time_rate": share(f["complaints_on_time"], f["complaints_decided"]),
            "follow_ups_on_time_rate": share(f["follow_ups_done_on_time"], f["follow_ups_done"]),
            "satisfaction": None if not f["rating_count"] else round(f["rating_sum"] / f["rating_count"], 2),
            "complaints_breached": f["complaints_decided"] - f["complaints_on_time"] + f["complaints_overdue"],
            "covered_customers": f["policy_customers"] - f["overdue_customers"],
        }

    def value(self, name: str):
        return self.rates_now.get(name, self.now.get(name))

    def previous(self, name: str):
        return self.rates_before.get(name, self.before.get(name))

    @property
    def comparable(self) -> bool:
        """Whether the previous period has figures at all (not before the first day built)."""
        return getattr(self, "rows_before", 0) > 0

    def change(self, name: str):
        if not self.comparable:
            return None
        now, before = self.value(name), self.previous(name)
        if now is None or before is None:
            return None
        return now - before

    @property
    def rates_now(self) -> dict:
        return self._rates(self.now)

    @property
    def rates_before(self) -> dict:
        return self._rates(self.before)

    def flat(self) -> dict:
        """Every figure and rate of the period, for tables and sorting."""
        change = self.now["aum"] - self.before["aum"] if self.comparable else None
        return {**self.now, **self.rates_now, "aum_change": change}


CACHE_SECONDS = 6 * 3600


def _cached(name: str, key_parts, compute):
    """The result of ``compute()``, cached until the figures are built again (their version is in the key)."""

    digest = hashlib.sha1(repr(key_parts).encode()).hexdigest()  # noqa: S324 - a cache key, not security
    key = f"dashboards:{name}:{figures_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def _branch_rows(scope: Scope, period: Period) -> list[dict]:
    """Per branch of the scope: the period's and the previous period's figures (one grouped query, cached until
    the figures are built again)."""
    return _cached(
        "branches", (scope.root.pk if scope.root else None, period), lambda: _branch_rows_query(scope, period)
    )


def _branch_rows_query(scope: Scope, period: Period) -> list[dict]:
    rows = BranchDayFigures.objects.filter(day__gte=period.prev_start, day__lte=period.end)
    if scope.root is not None:
        rows = rows.filter(branch_id__in=scope.ids)
    return list(
        rows.values("branch_id")
        .annotate(**_period_sums("c_", period), **_period_sums("p_", period, previous=True))
        .order_by()
    )


@dataclass
class Kpi:
    key: str
    label: str
    value: object
    change: object
    kind: str  # money, count, percent, score
    good_when_up: bool = True
    metric: str = ""  # the drill-down


KPIS = (
    ("aum", _("Total AUM"), "money", True, "customers"),
    ("customers", _("Customers"), "count", True, "customers"),
    ("coverage", _("Coverage"), "percent", True, "not_contacted"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", False, "follow_ups_overdue"),
    ("complaints_on_time_rate", _("Complaints decided on time"), "percent", True, "complaints"),
    ("satisfaction", _("Satisfaction"), "score", True, "ratings"),
)


def kpis_of(figures: Figures) -> list[Kpi]:
    return [
        Kpi(key, label, figures.value(key), figures.change(key), kind, up, metric)
        for key, label, kind, up, metric in KPIS
    ]


def _sum_json(rows, key: str, *, money=False) -> dict:
    total: dict = defaultdict(Decimal if money else int)
    for row in rows:
        for k, v in (row.get(key) or {}).items():
            total[k] += Decimal(v) if money else v
    return total


def _series(scope: Scope, period: Period) -> dict:
    root = scope.root.pk if scope.root else None
    return _cached("series", (root, period, get_language()), lambda: _series_query(scope, period))


def _series_query(scope: Scope, period: Period) -> dict:
    """The charts: AUM by tier and interactions by channel, day by day over the period, and complaints by
    category (only the rows with complaints are read for those)."""

    rows = BranchDayFigures.objects.filter(day__gte=period.start, day__lte=period.end)
    if scope.root is not None:
        rows = rows.filter(branch_id__in=scope.ids)
    days = period.dates()
    index = {day: i for i, day in enumerate(days)}
    tiers = list(Segment.objects.order_by("-aum_min").values_list("pk", "name"))
    tier_points = {str(pk): [0.0] * len(days) for pk, _name in tiers}
    channel_points = {c: [0] * len(days) for c in Interaction.Channel.values}
    for day, by_tier, by_channel in rows.values_list("day", "by_tier", "by_channel").order_by():
        i = index[day]
        for k, cell in (by_tier or {}).items():
            if k in tier_points:
                tier_points[k][i] += float(cell["aum"])
        for k, n in (by_channel or {}).items():
            if k in channel_points:
                channel_points[k][i] += n
    categories = _sum_json(rows.filter(complaints_received__gt=0).values("by_category").order_by(), "by_category")
    return {
        "labels": [d.isoformat() for d in days],
        "aum_by_tier": [{"label": name, "data": tier_points[str(pk)]} for pk, name in tiers],
        "interactions_by_channel": [
            {"label": str(label), "data": channel_points[value]}
            for value, label in Interaction.Channel.choices
            if any(channel_points[value])
        ],
        "complaints_by_category": _category_names(categories),
    }


def _category_names(counts: dict) -> list[dict]:
    names = {str(c.pk): str(c) for c in ComplaintCategory.objects.filter(pk__in=[int(k) for k in counts])}
    rows = [{"pk": int(k), "label": names.get(k, k), "count": n} for k, n in counts.items() if n]
    return sorted(rows, key=lambda r: -r["count"])


@dataclass
class BranchLine:
    branch: Branch
    figures: dict


def _roll_up(scope: Scope, branch_rows: list[dict], targets: list) -> list[BranchLine]:
    """Each target branch with the sum of the rows of its subtree."""
    path_of = {b.pk: b.path for b in scope.branches}
    lines = []
    for target in targets:
        mine = [r for r in branch_rows if path_of.get(r["branch_id"], "").startswith(target.path)]
        lines.append(BranchLine(target, Figures.of(mine).flat()))
    return lines


BRANCH_SORTS = ("aum", "aum_change", "customers", "coverage", "interactions", "complaints_on_time_rate", "satisfaction")


def _sorted(lines, key: str, attr="figures"):
    def sort_key(line):
        value = getattr(line, attr)[key]
        return (value is None, -(value or 0))

    return sorted(lines, key=sort_key)


RM_TABLE_LIMIT = 50


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


def dashboard_for(user, *, branch_id=None, period_key: str = DEFAULT_PERIOD, sort: str = "aum") -> Dashboard:
    """The branch head's dashboard (and HQ's, over the whole bank): a fixed number of queries."""
    scope = scope_for(user, branch_id)
    period = period_for(period_key)
    branch_rows = _branch_rows(scope, period)
    figures = Figures.of(branch_rows)
    branches = _roll_up(scope, branch_rows, scope.children())
    rms = rm_lines(user, scope, period)
    return Dashboard(
        scope=scope,
        period=period,
        figures=figures,
        kpis=kpis_of(figures),
        branches=_sorted(branches, "coverage"),
        rms=_sorted(rms, sort if sort in RM_SORTS else "aum")[:RM_TABLE_LIMIT],
        rm_count=len(rms),
        series=_series(scope, period),
        churn=churn_list(user, scope),
        sort=sort if sort in RM_SORTS else "aum",
    )


def dashboards_warm() -> int:
    """Compute, right after the nightly build, the default dashboard of every branch head's scope and of HQ, so
    that the first view in the morning reads cached sums of the new figures rather than summing them itself.
    Not a staleness trade: the cache keys carry the figures' version."""

    viewers = {}
    for staff in (
        Staff.objects.active().filter(role__in=[Staff.Role.HEAD, Staff.Role.ADMIN]).select_related("user", "branch")
    ):
        viewers.setdefault(staff.branch_id if staff.role == Staff.Role.HEAD else "hq", staff)
    with translation.override(settings.LANGUAGE_CODE):
        for staff in viewers.values():
            dashboard_for(staff.user)
    return len(viewers)


def ranking_for(user, *, period_key: str = DEFAULT_PERIOD, level: str = Branch.Level.SUB_BRANCH, sort="aum"):
    """HQ: every branch of a level across the bank, ranked by a figure."""
    scope = scope_for(user, None)
    period = period_for(period_key)
    branch_rows = _branch_rows(scope, period)
    figures = Figures.of(branch_rows)
    level = level if level in Branch.Level.values else Branch.Level.SUB_BRANCH
    targets = [b for b in scope.branches if b.level == level]
    sort = sort if sort in BRANCH_SORTS else "aum"
    lines = _sorted(_roll_up(scope, branch_rows, targets), sort)
    return {
        "scope": scope,
        "period": period,
        "figures": figures,
        "kpis": kpis_of(figures),
        "ranking": lines,
        "level": level,
        "sort": sort,
        "series": _series(scope, period),
    }


# ----------------------------------------------------------------------------------------------------------------
# RMs
# ----------------------------------------------------------------------------------------------------------------

RM_SORTS = (
    "customers",
    "aum",
    "aum_change",
    "coverage",
    "interactions",
    "follow_ups_on_time_rate",
    "satisfaction",
    "complaints_received",
    "follow_ups_overdue",
)


@dataclass
class RmLine:
    staff_id: int
    name: str
    branch: str
    figures: dict


def _rm_rows(staff_ids, period: Period) -> list[dict]:
    return _cached("rms", (sorted(staff_ids), period), lambda: _rm_rows_query(staff_ids, period))


def _rm_rows_query(staff_ids_qs, period: Period) -> list[dict]:
    return list(
        RmDayFigures.objects.filter(day__gte=period.prev_start, day__lte=period.end, staff_id__in=staff_ids_qs)
        .values("staff_id")
        .annotate(**_period_sums("c_", period), **_period_sums("p_", period, previous=True))
        .order_by()
    )


def rm_lines(user, scope: Scope, period: Period) -> list[RmLine]:
    """Each RM of the scope (the RM's current branch in the picked subtree) with their figures."""
    rms = staff_visible_to(user).filter(role=Staff.Role.RM)
    if scope.root is not None:
        rms = rms.filter(branch_id__in=scope.ids)
    people = {s.pk: s for s in rms.select_related("branch").only("id", "name", "branch__name")}
    rows = {r["staff_id"]: r for r in _rm_rows(list(people), period)}
    lines = [
        RmLine(pk, s.name, s.branch.name, Figures.of([rows[pk]] if pk in rows else []).flat())
        for pk, s in people.items()
    ]
    return lines


def rm_get_visible(user, pk) -> Staff:
    """An RM whose performance the user may see: themself (an RM), an RM of their subtree (a head), any (admin)."""
    return get_object_or_404(staff_visible_to(user).filter(role=Staff.Role.RM).select_related("branch"), pk=pk)


PERFORMANCE = (
    ("customers", _("Portfolio"), "count"),
    ("aum", _("AUM"), "money"),
    ("aum_change", _("AUM change"), "money"),
    ("coverage", _("Coverage"), "percent"),
    ("interactions", _("Interactions"), "count"),
    ("follow_ups_on_time_rate", _("Follow-ups done on time"), "percent"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count"),
    ("churn_risk", _("Churn risk"), "count"),
    ("satisfaction", _("Satisfaction"), "score"),
    ("complaints_received", _("Complaints about them"), "count"),
)


def peer_branch(rm: Staff) -> Branch:
    """The branch whose RMs an RM is compared with: their sub-branch (支行) when they sit at an outlet."""
    if rm.branch.level == Branch.Level.OUTLET and rm.branch.parent_id:
        return rm.branch.parent
    return rm.branch


def performance_for(rm: Staff, *, period_key: str = DEFAULT_PERIOD) -> dict:
    """One RM over a period, each figure beside the median of the RMs of their branch, and their daily series."""
    period = period_for(period_key)
    peers_branch = peer_branch(rm)
    peer_ids = list(
        Staff.objects.filter(role=Staff.Role.RM, branch__path__startswith=peers_branch.path)
        .exclude(status=Staff.Status.LEFT)
        .values_list("pk", flat=True)
    )
    if rm.pk not in peer_ids:
        peer_ids.append(rm.pk)
    rows = {r["staff_id"]: r for r in _rm_rows(peer_ids, period)}
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
    return {
        "rm": rm,
        "period": period,
        "figures": mine,
        "kpis": kpis_of(mine),
        "lines": lines,
        "peer_branch": peers_branch,
        "peer_count": len(peer_ids),
        "series": series,
    }


# ----------------------------------------------------------------------------------------------------------------
# Churn risk: the live list behind the count
# ----------------------------------------------------------------------------------------------------------------

CHURN_LIST = 10


def churn_follow_ups(user, scope: Scope | None = None, rm: Staff | None = None):
    """Open churn-risk follow-ups of customers the user may see (in the scope), largest customers first."""

    customers = customers_visible_to(user)
    if scope is not None and scope.root is not None and scope.narrows:
        customers = customers.filter(branch_id__in=scope.ids)
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


# ----------------------------------------------------------------------------------------------------------------
# Drill-down: the records behind a number, through the same visibility rule and the same conditions
# ----------------------------------------------------------------------------------------------------------------

DRILLS = {
    "customers": _("Customers"),
    "not_contacted": _("Customers not contacted in time"),
    "new_customers": _("New customers"),
    "lost_customers": _("Lost customers"),
    "interactions": _("Interactions"),
    "follow_ups_overdue": _("Overdue follow-ups"),
    "churn": _("Churn-risk customers"),
    "ratings": _("Satisfaction ratings"),
}


@dataclass
class Drill:
    metric: str
    label: str
    kind: str  # customers, interactions, follow_ups, ratings, history
    records: object  # a queryset
    period: Period
    day: date
    scope: Scope | None
    rm: Staff | None
    headline: object  # the figure from the precomputed rows


def drill_for(user, *, metric: str, period_key: str, branch_id=None, rm_id=None, channel: str = "") -> Drill:
    """The records behind a dashboard figure: ``rm_id`` for an RM's figure (404 for an RM the user may not see),
    otherwise the picked branch's subtree (404 outside the user's)."""

    if metric not in DRILLS:
        metric = "customers"
    period = period_for(period_key)
    day = period.end
    rm = rm_get_visible(user, rm_id) if rm_id not in (None, "") else None
    scope = None if rm is not None else scope_for(user, branch_id)
    visible = customers_visible_to(user)
    start, _end = f.day_bounds(period.start)
    _day_start, end = f.day_bounds(period.end)

    def by_customer(qs, staff_field):
        if rm is not None:
            return qs.filter(**{staff_field: rm})
        if scope.root is not None and scope.narrows:
            return qs.filter(customer__branch_id__in=scope.ids)
        return qs

    if metric in ("customers", "not_contacted", "new_customers"):
        # Largest customers first. The list of customers not contacted in time is ordered by the day's AUM, as the
        # build wrote it; the others by the current AUM, which an index gives in order, so that the page stops
        # after 50 rows instead of sorting the scope (seconds at a million customers). For the last built day,
        # which the drill-down shows, the day's AUM is the latest snapshot: the same order.
        order = ("-aum", "pk")
        if metric == "not_contacted" and f.uncovered_listed(day):
            # The list the day's build wrote with the rule: the rule itself over every customer of a large
            # scope takes seconds (docs/performance.md).
            customers = f.uncovered_customers(day, visible)
            order = ("-aum_on_day", "pk")
        else:
            customers = f.customers_as_of(day, visible)
            if metric == "not_contacted":
                customers = customers.filter(f.not_contacted_in_time(day))
        if rm is not None:
            customers = customers.filter(primary_rm=rm)
        elif scope.root is not None and scope.narrows:
            customers = customers.filter(branch_id__in=scope.ids)
        if metric == "new_customers":
            customers = customers.filter(created_at__gte=start)
        records = customers.select_related("segment", "primary_rm", "branch").order_by(*order)
        kind = "customers"
    elif metric == "lost_customers":
        records = f.lost_customers_between(period.start, period.end).filter(id__in=visible.values("pk"))
        if rm is not None:
            records = records.filter(primary_rm_id=rm.pk)
        elif scope.root is not None:
            records = records.filter(branch_id__in=scope.ids)
        records = records.order_by("-history_date")
        kind = "history"
    elif metric == "interactions":
        records = Interaction.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, customer__in=visible.values("pk")
        )
        if channel in Interaction.Channel.values:
            records = records.filter(channel=channel)
        records = by_customer(records, "staff").select_related("customer", "staff").order_by("-occurred_at", "-pk")
        kind = "interactions"
    elif metric in ("follow_ups_overdue", "churn"):
        condition = f.follow_ups_overdue_at(day) if metric == "follow_ups_overdue" else f.churn_risk_at(day)
        records = FollowUp.objects.filter(condition, customer__in=visible.values("pk"))
        records = by_customer(records, "staff").select_related("customer__segment", "staff").order_by("due_on", "pk")
        kind = "follow_ups"
    else:
        records = SatisfactionRating.objects.filter(
            recorded_at__gte=start, recorded_at__lt=end, customer__in=visible.values("pk")
        )
        records = by_customer(records, "rated_staff").select_related("customer", "rated_staff", "recorded_by")
        records = records.order_by("-recorded_at")
        kind = "ratings"
    headline = None if channel and metric == "interactions" else _headline(metric, scope, rm, period)
    return Drill(metric, DRILLS[metric], kind, records, period, day, scope, rm, headline)


HEADLINE_FIELD = {
    "customers": "customers",
    "not_contacted": "overdue_customers",
    "new_customers": "new_customers",
    "lost_customers": "lost_customers",
    "interactions": "interactions",
    "follow_ups_overdue": "follow_ups_overdue",
    "churn": "churn_risk",
    "ratings": "rating_count",
}


def _headline(metric, scope, rm, period) -> int:
    if rm is not None:
        rows = _rm_rows([rm.pk], period)
    else:
        rows = _branch_rows(scope, period)
    return Figures.of(rows).now[HEADLINE_FIELD[metric]]


# The columns of the RM and branch tables: (figure, label, format, drill-down metric or "").
RM_COLUMNS = (
    ("customers", _("Portfolio"), "count", "customers"),
    ("aum", _("AUM (10k CNY)"), "money", "customers"),
    ("aum_change", _("AUM change"), "money", ""),
    ("coverage", _("Coverage"), "percent", "not_contacted"),
    ("interactions", _("Interactions"), "count", "interactions"),
    ("follow_ups_on_time_rate", _("Follow-ups on time"), "percent", ""),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", "follow_ups_overdue"),
    ("satisfaction", _("Satisfaction"), "score", "ratings"),
    ("complaints_received", _("Complaints"), "count", ""),
)
BRANCH_COLUMNS = (
    ("customers", _("Customers"), "count", "customers"),
    ("aum", _("AUM (10k CNY)"), "money", "customers"),
    ("aum_change", _("AUM change"), "money", ""),
    ("coverage", _("Coverage"), "percent", "not_contacted"),
    ("interactions", _("Interactions"), "count", "interactions"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", "follow_ups_overdue"),
    ("churn_risk", _("Churn risk"), "count", "churn"),
    ("complaints_on_time_rate", _("Complaints on time"), "percent", ""),
    ("satisfaction", _("Satisfaction"), "score", "ratings"),
)
