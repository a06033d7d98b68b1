"""Demo targets: for the current month and quarter, every top-level branch gets a target of each metric, set from
what it has reached so far so that attainment comes out between about 40 % and 120 %, and distributed by portfolio
size down the tree to the RMs (rates: each child the parent's value). Idempotent (set and distribute set values)
and deterministic for a seed. Runs after the demo's figures build."""

import random
from decimal import Decimal

from django.utils import timezone

from organisation.access import SYSTEM
from organisation.models import Branch
from targets import services
from targets.actuals import period_actuals
from targets.models import Metric, TargetPeriod

FLOORS = {Metric.AUM_GROWTH: Decimal("1000000"), Metric.NEW_EFFECTIVE: Decimal(20), Metric.NEW_HOLDINGS: Decimal(30)}


def _value(metric, actual: Decimal, rng: random.Random) -> Decimal:
    reach = Decimal(str(round(rng.uniform(0.4, 1.2), 2)))
    if metric == Metric.COVERAGE:
        return min(Decimal(100), max(Decimal(50), actual / reach)).quantize(Decimal("0.1"))
    if metric == Metric.COMPLAINT_RATE:
        return max(Decimal("0.5"), actual * reach).quantize(Decimal("0.1"))
    value = max(FLOORS[metric], actual / reach)
    return value.quantize(Decimal(1))


def _distribute(target) -> int:
    done = services.target_distribute(actor=SYSTEM, target=target, method=services.Method.PORTFOLIO, recompute=False)
    n = len(done.children)
    for child in done.children:
        if child.branch_id is not None and services.children_of(child.branch):
            n += _distribute(child)
    return n


def seed_targets(*, seed: int = 7) -> int:
    """The demo's targets; returns how many were written."""
    rng = random.Random(seed)
    today = timezone.localdate()
    written = 0
    for kind in (TargetPeriod.Kind.MONTH, TargetPeriod.Kind.QUARTER):
        period = services.period_of(kind=kind, day=today)
        actuals = period_actuals(period.start, period.end)
        for branch in Branch.objects.filter(parent__isnull=True, is_active=True).order_by("code"):
            totals = actuals.branches.get(branch.pk)
            for metric, category in (
                (Metric.AUM_GROWTH, ""),
                (Metric.NEW_EFFECTIVE, ""),
                (Metric.NEW_HOLDINGS, "wealth"),
                (Metric.COVERAGE, ""),
                (Metric.COMPLAINT_RATE, ""),
            ):
                actual = totals.actual(metric, category) if totals else Decimal(0)
                target = services.target_set(
                    actor=SYSTEM,
                    period=period,
                    metric=metric,
                    value=_value(metric, max(actual, Decimal(0)), rng),
                    branch=branch,
                    product_category=category,
                    recompute=False,
                )
                written += 1 + _distribute(target)
        services.attainment_build_for(period=period)
    return written
