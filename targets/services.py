"""Writes of the targets app: setting a target, distributing it over the level below, and the nightly attainment
(docs/targets.md)."""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisation import access
from organisation.models import Branch, Staff

from .actuals import CENT, built_days, period_actuals, ratio
from .models import ADDITIVE, COUNTS, Attainment, Metric, Target, TargetPeriod

logger = logging.getLogger(__name__)

SETTERS = access.HEADS_AND_ADMINS


class Method:
    EVEN = "even"
    PORTFOLIO = "portfolio"
    HAND = "hand"


# ----------------------------------------------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------------------------------------------


def period_of(*, kind: str, day: date) -> TargetPeriod:
    """The period of ``kind`` that holds ``day``, created on first use."""
    if kind not in TargetPeriod.Kind.values:
        raise ValidationError({"kind": _("Choose a month, a quarter or a year.")})
    start, end = TargetPeriod.bounds(kind, day)
    period, _created = TargetPeriod.objects.get_or_create(kind=kind, start=start, defaults={"end": end})
    return period


def _open(period: TargetPeriod) -> None:
    if period.is_closed:
        raise ValidationError(_("%(period)s is over: its targets can no longer be changed.") % {"period": period})


# ----------------------------------------------------------------------------------------------------------------
# Who may set what
# ----------------------------------------------------------------------------------------------------------------


def can_set_for(staff: Staff | None, holder) -> bool:
    """A head for a branch of their subtree or an RM in it; an administrator for any; the SYSTEM actor (None)
    too. RMs read their own targets only."""
    if staff is None:
        return True
    branch = holder if isinstance(holder, Branch) else holder.branch
    return access.can_approve(staff, branch) and staff.role in SETTERS


def _check_value(metric: str, value: Decimal, field: str = "value") -> Decimal:
    if value is None:
        raise ValidationError({field: _("Enter a target.")})
    if value < 0:
        raise ValidationError({field: _("A target cannot be negative.")})
    if metric in COUNTS and value != value.to_integral_value():
        raise ValidationError({field: _("This target is a number of customers or holdings: enter a whole number.")})
    if metric == Metric.COVERAGE and value > 100:
        raise ValidationError({field: _("Coverage is a percentage: at most 100.")})
    return value.quantize(CENT)


# ----------------------------------------------------------------------------------------------------------------
# Setting a target
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def target_set(
    *,
    actor,
    period: TargetPeriod,
    metric: str,
    value: Decimal,
    branch: Branch | None = None,
    staff: Staff | None = None,
    product_category: str = "",
    recompute: bool = True,
) -> Target:
    """Set (or change) the target of ``metric`` for ``branch``'s subtree or for the RM ``staff`` in ``period``. A
    target distributed from a parent is changed by distributing the parent again, not here."""
    setter = access.actor_staff(actor, SETTERS)
    if (branch is None) == (staff is None):
        raise ValidationError(_("Choose a branch or an RM."))
    holder = branch or staff
    if staff is not None and staff.role != Staff.Role.RM:
        raise ValidationError({"staff": _("Targets are set for RMs.")})
    if not can_set_for(setter, holder):
        raise PermissionDenied(_("This branch or RM is outside your branch."))
    _open(period)
    value = _check_value(metric, value)
    if metric != Metric.NEW_HOLDINGS:
        product_category = ""
    elif not product_category:
        raise ValidationError({"product_category": _("Choose the product kind the holdings are counted for.")})
    holder_q = {"branch": branch} if branch is not None else {"staff": staff}
    target = (
        Target.objects.select_for_update(of=("self",))
        .filter(period=period, metric=metric, product_category=product_category, **holder_q)
        .first()
    )
    if target is None:
        target = Target(period=period, metric=metric, product_category=product_category, **holder_q)
    elif target.parent_id is not None:
        raise ValidationError(
            _("This target comes from the distribution of %(parent)s: distribute that one again to change it.")
            % {"parent": target.parent.holder}
        )
    target.value = value
    target.set_by = setter
    target.set_at = timezone.now()
    target.full_clean()
    target.save()
    if recompute:  # the page shows the new target with its attainment at once (the demo computes it once at the end)
        attainment_build_for(period=period)
    return target


# ----------------------------------------------------------------------------------------------------------------
# Distributing a target over the level below
# ----------------------------------------------------------------------------------------------------------------


def children_of(branch: Branch) -> list:
    """Who a branch's target is distributed over: the active branches directly below it, then the RMs of the
    branch itself (an outlet's RMs; RMs placed at a sub-branch directly), in name order."""
    below = list(Branch.objects.filter(parent=branch, is_active=True).order_by("code"))
    rms = list(
        Staff.objects.filter(branch=branch, role=Staff.Role.RM, status=Staff.Status.ACTIVE)
        .select_related("branch")
        .order_by("name", "pk")
    )
    return below + rms


def key_of(holder) -> str:
    """The form field key of a child: ``b<id>`` for a branch, ``s<id>`` for an RM."""
    return f"b{holder.pk}" if isinstance(holder, Branch) else f"s{holder.pk}"


def portfolio_weights(metric: str, children: list) -> dict:
    """The share of each child by portfolio size on the last built day: AUM for AUM growth, customers for the
    counts (docs/targets.md). Read from the dashboards' figures (subtrees for branches)."""
    today = timezone.localdate()
    _first, last = built_days(date(today.year - 1, 1, 1), today)
    if last is None:
        return {}
    actuals = period_actuals(last, last)
    name = "aum" if metric == Metric.AUM_GROWTH else "customers"
    weights = {}
    for child in children:
        totals = (actuals.branches if isinstance(child, Branch) else actuals.rms).get(child.pk)
        weights[key_of(child)] = Decimal(totals.end[name]) if totals else Decimal(0)
    return weights


def split(total: Decimal, weights: list[Decimal], *, whole: bool) -> list[Decimal]:
    """``total`` split by ``weights`` (evenly where they are all zero) into parts that add up to it exactly: each
    part rounded down to the cent (a whole number for counts), the remainder handed out one unit at a time to the
    largest remainders (the first child on a tie)."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [Decimal(1)] * len(weights)
    unit = Decimal(1) if whole else CENT
    whole_sum = sum(weights)
    exact = [total * w / whole_sum for w in weights]
    parts = [e.quantize(unit, ROUND_DOWN) for e in exact]
    left = int((total - sum(parts)) / unit)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += unit
    return parts


@dataclass
class Distribution:
    target: Target
    children: list  # the child targets, in the order of children_of


@transaction.atomic
def target_distribute(
    *, actor, target: Target, method: str, values: dict | None = None, recompute: bool = True
) -> Distribution:
    """Distribute a branch's target over the branches and RMs directly below it (``children_of``): evenly, by
    portfolio size, or by hand (``values``: {key_of(child): Decimal}). For AUM growth and the counts the parts
    must add up to the target; for the rates (coverage, complaints per 1,000) each child gets its own value (even
    and portfolio give each the parent's). The children's targets are written in one go, replacing those of an
    earlier distribution; nothing is written when any part is refused."""
    setter = access.actor_staff(actor, SETTERS)
    target = Target.objects.select_for_update(of=("self",)).select_related("period", "branch").get(pk=target.pk)
    if target.branch_id is None:
        raise ValidationError(_("An RM's target is not distributed further."))
    if not can_set_for(setter, target.branch):
        raise PermissionDenied(_("This branch is outside your branch."))
    _open(target.period)
    children = children_of(target.branch)
    if not children:
        raise ValidationError(_("%(branch)s has no branches or RMs below it.") % {"branch": target.branch.name})
    keys = [key_of(c) for c in children]
    additive = target.metric in ADDITIVE
    if method == Method.HAND:
        values = values or {}
        unknown = set(values) - set(keys)
        if unknown:
            # A child outside the branch (a forged form, a branch moved meanwhile).
            raise ValidationError(_("Only the branches and RMs directly below %(branch)s can get a part of it.")
                                  % {"branch": target.branch.name})  # fmt: skip
        errors = {}
        parts = []
        for key in keys:
            try:
                parts.append(_check_value(target.metric, values.get(key), field=key))
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)
        if additive and sum(parts) != target.value:
            raise ValidationError(
                _("The parts add up to %(sum)s, not to the target of %(value)s.")
                % {"sum": f"{sum(parts):,}", "value": f"{target.value:,}"}
            )
    elif not additive and method in (Method.EVEN, Method.PORTFOLIO):
        parts = [target.value] * len(children)
    elif method == Method.EVEN:
        parts = split(target.value, [Decimal(1)] * len(children), whole=target.metric in COUNTS)
    elif method == Method.PORTFOLIO:
        weights = portfolio_weights(target.metric, children)
        parts = split(target.value, [weights.get(k, Decimal(0)) for k in keys], whole=target.metric in COUNTS)
    else:
        raise ValidationError({"method": _("Choose how to distribute the target.")})

    now = timezone.now()
    existing = {
        key_of(t.holder): t
        for t in Target.objects.select_for_update(of=("self",))
        .filter(period=target.period, metric=target.metric, product_category=target.product_category)
        .filter(branch__in=[c for c in children if isinstance(c, Branch)])
        .select_related("branch", "staff")
    }
    existing.update(
        {
            key_of(t.holder): t
            for t in Target.objects.select_for_update(of=("self",))
            .filter(period=target.period, metric=target.metric, product_category=target.product_category)
            .filter(staff__in=[c for c in children if isinstance(c, Staff)])
            .select_related("branch", "staff")
        }
    )
    written = []
    for child, key, part in zip(children, keys, parts, strict=True):
        row = existing.get(key) or Target(
            period=target.period,
            metric=target.metric,
            product_category=target.product_category,
            branch=child if isinstance(child, Branch) else None,
            staff=child if isinstance(child, Staff) else None,
        )
        row.value, row.parent, row.set_by, row.set_at = part, target, setter, now
        row.full_clean(validate_unique=False, validate_constraints=False)
        written.append(row)
    Target.objects.bulk_create(
        [t for t in written if t.pk is None],
    )
    Target.objects.bulk_update([t for t in written if t.pk is not None], ["value", "parent", "set_by", "set_at"])
    # Children of an earlier distribution no longer below the branch keep their value but lose the link.
    Target.objects.filter(parent=target).exclude(pk__in=[t.pk for t in written]).update(parent=None)
    if recompute:
        attainment_build_for(period=target.period)
    return Distribution(target, written)


# ----------------------------------------------------------------------------------------------------------------
# Attainment: the nightly build's answer to figures_built
# ----------------------------------------------------------------------------------------------------------------


def attainment_build(*, days: list[date]) -> dict:
    """The attainment of every target whose period holds one of ``days`` (the days the figures build just
    wrote), as of the last day built in each period: a few statements per period, whatever the number of
    customers."""
    if not days:
        return {"periods": 0, "attainments": 0}
    periods = TargetPeriod.objects.filter(start__lte=max(days), end__gte=min(days))
    written = 0
    count = 0
    for period in periods:
        written += attainment_build_for(period=period)
        count += 1
    return {"periods": count, "attainments": written}


def attainment_build_for(*, period: TargetPeriod) -> int:
    targets = list(
        Target.objects.filter(period=period).only("pk", "metric", "product_category", "branch_id", "staff_id", "value")
    )
    if not targets:
        return 0
    actuals = period_actuals(period.start, period.end)
    if actuals.as_of is None:
        return 0
    now = timezone.now()
    rows = []
    for t in targets:
        totals = actuals.branches.get(t.branch_id) if t.branch_id else actuals.rms.get(t.staff_id)
        actual = totals.actual(t.metric, t.product_category) if totals is not None else Decimal(0)
        rows.append(
            Attainment(
                target_id=t.pk, as_of=actuals.as_of, actual=actual, ratio=ratio(t.metric, t.value, actual), built_at=now
            )  # fmt: skip
        )
    Attainment.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["target"], update_fields=["as_of", "actual", "ratio", "built_at"]
    )
    return len(rows)
