"""What the branches and RMs actually reached in a period, read from the dashboards' daily figures
(``BranchDayFigures``, ``RmDayFigures``): the one source the dashboards show too (docs/targets.md).

Every read is a handful of GROUP BY statements over the day rows of the period (a few hundred rows a day: one
per branch and one per RM), whatever the number of customers. A branch's figures are its subtree's: its own rows
are added into every branch above it, walking the materialised path in Python over the (small) branch table.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import IntegerField, Max, Min, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from customers.models import Product
from dashboards.models import BranchDayFigures, RmDayFigures
from organisation.models import Branch

from .models import LOWER_IS_BETTER, Metric

STOCKS = ("aum", "customers", "effective_customers", "policy_customers", "overdue_customers")
CATEGORIES = tuple(Product.Category.values)
CENT = Decimal("0.01")


@dataclass
class Totals:
    """One branch subtree's or one RM's figures over a period."""

    end: dict = field(default_factory=lambda: dict.fromkeys(STOCKS, 0))  # stocks on the as-of day
    start: dict = field(default_factory=lambda: dict.fromkeys(STOCKS, 0))  # stocks on the baseline day
    complaints: int = 0
    holdings: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    def add(self, other: "Totals") -> None:
        for name in STOCKS:
            self.end[name] += other.end[name]
            self.start[name] += other.start[name]
        self.complaints += other.complaints
        for key in CATEGORIES:
            self.holdings[key] += other.holdings[key]

    def actual(self, metric: str, category: str = "") -> Decimal:
        """The period's figure of ``metric``: AUM growth in CNY, counts, coverage in %, complaints per 1,000."""
        if metric == Metric.AUM_GROWTH:
            return Decimal(self.end["aum"] - self.start["aum"]).quantize(CENT)
        if metric == Metric.NEW_EFFECTIVE:
            return Decimal(self.end["effective_customers"] - self.start["effective_customers"])
        if metric == Metric.NEW_HOLDINGS:
            return Decimal(self.holdings.get(category, 0))
        if metric == Metric.COVERAGE:
            policy = self.end["policy_customers"]
            if not policy:
                return Decimal(0)
            covered = policy - self.end["overdue_customers"]
            return (Decimal(100 * covered) / policy).quantize(CENT, ROUND_HALF_UP)
        if metric == Metric.COMPLAINT_RATE:
            customers = self.end["customers"]
            if not customers:
                return Decimal(0)
            return (Decimal(1000 * self.complaints) / customers).quantize(CENT, ROUND_HALF_UP)
        raise ValueError(metric)


RATIO_LIMIT = Decimal(9999)


def ratio(metric: str, target: Decimal, actual: Decimal) -> Decimal:
    """See ``_ratio``; kept within what the attainment row holds (±999,900 %)."""
    return max(-RATIO_LIMIT, min(RATIO_LIMIT, _ratio(metric, target, actual)))


def _ratio(metric: str, target: Decimal, actual: Decimal) -> Decimal:
    """Attainment: actual ÷ target (1 is 100 %). For a lower-is-better metric (complaints per 1,000) it is
    2 − actual ÷ target, at least 0: on target is 100 %, none at all 200 %, twice the target 0 %. A target of 0
    is reached (100 %) by anything at or above it (at or below it, lower being better), else 0 %."""
    if metric in LOWER_IS_BETTER:
        if target == 0:
            return Decimal(1) if actual <= 0 else Decimal(0)
        return max(Decimal(0), 2 - actual / target).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    if target == 0:
        return Decimal(1) if actual >= 0 else Decimal(0)
    return (actual / target).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass
class PeriodActuals:
    as_of: date | None  # the last day built in the period (None: no day built yet)
    baseline: date | None  # the day whose stocks the period starts from
    branches: dict  # branch id -> Totals of its subtree
    rms: dict  # staff id -> Totals


def built_days(start: date, end: date) -> tuple[date | None, date | None]:
    """The first and last day with figures from ``start`` to ``end``."""
    days = BranchDayFigures.objects.filter(day__gte=start, day__lte=end).aggregate(first=Min("day"), last=Max("day"))
    return days["first"], days["last"]


def period_actuals(start: date, end: date) -> PeriodActuals:
    """Every branch subtree's and every RM's figures from ``start`` to ``end``, as of the last day built in it.
    Stocks start from the day before ``start`` (the first day built in the period where that day was never
    built: the figures of a new installation)."""
    before = start - timedelta(days=1)
    first, last = built_days(before, end)
    if last is None or last < start:
        return PeriodActuals(None, None, {}, {})
    baseline = first
    own = _own_totals(BranchDayFigures, "branch_id", baseline, max(start, first), last)
    rms = _own_totals(RmDayFigures, "staff_id", baseline, max(start, first), last)
    return PeriodActuals(last, baseline, _subtrees(own), rms)


def _own_totals(model, key: str, baseline: date, first: date, last: date) -> dict:
    totals: dict = {}

    def of(pk) -> Totals:
        return totals.setdefault(pk, Totals())

    for row in model.objects.filter(day=last).values(key, *STOCKS).order_by():
        of(row[key]).end.update({name: row[name] for name in STOCKS})
    for row in model.objects.filter(day=baseline).values(key, *STOCKS).order_by():
        of(row[key]).start.update({name: row[name] for name in STOCKS})
    sums = {"complaints": Sum("complaints_received", default=0)}
    sums.update(
        {
            f"h_{category}": Coalesce(Sum(Cast(KT(f"holdings_opened__{category}"), IntegerField())), 0)
            for category in CATEGORIES
        }
    )
    flows = model.objects.filter(day__gte=first, day__lte=last).values(key).annotate(**sums).order_by()
    for row in flows:
        t = of(row[key])
        t.complaints = row["complaints"]
        t.holdings = {category: row[f"h_{category}"] for category in CATEGORIES}
    return totals


def _subtrees(own: dict) -> dict:
    """Each branch's own totals added into itself and every branch above it."""
    paths = dict(Branch.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in paths.items()}
    subtree: dict = {pk: Totals() for pk in paths}
    for pk, totals in own.items():
        path = paths.get(pk)
        if path is None:
            continue
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            ancestor = by_path.get("/".join(parts[:depth]) + "/")
            if ancestor is not None:
                subtree[ancestor].add(totals)
    return subtree
