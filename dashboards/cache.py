"""The figures of a period, summed from the precomputed daily rows (``BranchDayFigures``, ``RmDayFigures``), and
their cache.

A branch subtree over a period is at most (branches × days) small rows, summed by the database, with the JSON
breakdowns (tiers, channels, categories) added up here. Stocks (customers, AUM, coverage, open and overdue
follow-ups, churn risk, overdue complaints) are taken on the last day of the period; flows (new and lost
customers, interactions, follow-ups done, complaints received and decided, ratings) are summed over it. Every
figure is compared with the previous period of the same length.

The sums are cached until the figures are built again: the cache keys carry the figures' version
(``figures.figures_version``), and ``dashboards_warm`` fills them right after the nightly build.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import translation
from django.utils.translation import get_language

from complaints.models import ComplaintCategory
from customers.models import Segment
from organisation.models import Staff
from relationships.models import Interaction

from .figures import figures_version
from .models import BranchDayFigures, RmDayFigures
from .periods import Period, Scope

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
# Stocks only the branch rows have: the outlet customer pool (0 on an RM's figures).
POOL_STOCKS = ("pool_customers", "pool_aum", "pool_policy_customers", "pool_overdue_customers", "pool_unkept")
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
# The sums of a period
# ----------------------------------------------------------------------------------------------------------------


def _period_sums(prefix: str, period: Period, *, previous=False, stocks=STOCKS) -> dict:
    start, end = (period.prev_start, period.prev_end) if previous else (period.start, period.end)
    within = Q(day__gte=start, day__lte=end)
    out = {f"{prefix}{name}": Sum(name, filter=within, default=0) for name in FLOWS}
    stock_day = Q(day=end)
    out.update({f"{prefix}{name}": Sum(name, filter=stock_day, default=0) for name in stocks})
    out[f"{prefix}rows"] = Count("pk", filter=within)
    return out


@dataclass
class Figures:
    """A set of figures for a period, with the previous period's beside them."""

    now: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)

    @classmethod
    def of(cls, rows) -> "Figures":
        names = FLOWS + STOCKS + POOL_STOCKS
        figures = cls(dict.fromkeys(names, 0), dict.fromkeys(names, 0))
        for row in rows:
            figures.add(row)
        return figures

    def add(self, row: dict) -> None:
        self.rows_before = getattr(self, "rows_before", 0) + (row.get("p_rows") or 0)
        for name in FLOWS + STOCKS + POOL_STOCKS:
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
            "pool_coverage": share(
                f["pool_policy_customers"] - f["pool_overdue_customers"], f["pool_policy_customers"]
            ),
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


# ----------------------------------------------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------------------------------------------

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


def branch_rows(scope: Scope, period: Period) -> list[dict]:
    """Per branch of the scope: the period's and the previous period's figures (one grouped query, cached until
    the figures are built again)."""
    return _cached(
        "branches", (scope.root.pk if scope.root else None, period), lambda: _branch_rows_query(scope, period)
    )


def _branch_rows_query(scope: Scope, period: Period) -> list[dict]:
    rows = scope.within(BranchDayFigures.objects.filter(day__gte=period.prev_start, day__lte=period.end))
    return list(
        rows.values("branch_id")
        .annotate(
            **_period_sums("c_", period, stocks=STOCKS + POOL_STOCKS),
            **_period_sums("p_", period, previous=True, stocks=STOCKS + POOL_STOCKS),
        )
        .order_by()
    )


def rm_rows(staff_ids, period: Period) -> list[dict]:
    """Per RM of ``staff_ids``: the period's and the previous period's figures (cached like ``branch_rows``)."""
    return _cached("rms", (sorted(staff_ids), period), lambda: _rm_rows_query(staff_ids, period))


def _rm_rows_query(staff_ids_qs, period: Period) -> list[dict]:
    return list(
        RmDayFigures.objects.filter(day__gte=period.prev_start, day__lte=period.end, staff_id__in=staff_ids_qs)
        .values("staff_id")
        .annotate(**_period_sums("c_", period), **_period_sums("p_", period, previous=True))
        .order_by()
    )


def _sum_json(rows, key: str, *, money=False) -> dict:
    total: dict = defaultdict(Decimal if money else int)
    for row in rows:
        for k, v in (row.get(key) or {}).items():
            total[k] += Decimal(v) if money else v
    return total


def branch_series(scope: Scope, period: Period) -> dict:
    """The charts of the scope over the period (cached like ``branch_rows``, per language)."""
    root = scope.root.pk if scope.root else None
    return _cached("series", (root, period, get_language()), lambda: _series_query(scope, period))


def _series_query(scope: Scope, period: Period) -> dict:
    """The charts: AUM by tier and interactions by channel, day by day over the period, and complaints by
    category (only the rows with complaints are read for those)."""

    rows = scope.within(BranchDayFigures.objects.filter(day__gte=period.start, day__lte=period.end))
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


def dashboards_warm() -> int:
    """Compute, right after the nightly build, the default dashboard of every branch head's scope and of HQ, so
    that the first view in the morning reads cached sums of the new figures rather than summing them itself.
    Not a staleness trade: the cache keys carry the figures' version."""

    # The boards read their sums through this module; building each default board fills exactly what it reads.
    from .boards import dashboard_for

    viewers = {}
    for staff in (
        Staff.objects.active().filter(role__in=[Staff.Role.HEAD, Staff.Role.ADMIN]).select_related("user", "branch")
    ):
        viewers.setdefault(staff.branch_id if staff.role == Staff.Role.HEAD else "hq", staff)
    with translation.override(settings.LANGUAGE_CODE):
        for staff in viewers.values():
            dashboard_for(staff.user)
    return len(viewers)
