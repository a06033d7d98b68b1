"""Reads of the customer pool. Everything starts from ``pool_customers_visible_to(user)``, which narrows the one
visibility rule of customers (``organisation.access.scope_of``) to the pools the user works in."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, QuerySet, Sum

from customers.models import Customer, Segment
from customers.selectors import CustomerFilters, customer_list
from organisation import access
from organisation.models import Branch, Staff

from .keepers import keepers_of
from .models import PoolClaim, PoolKeeper, PoolRule

R = Staff.Role


def in_pool(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """The pool condition: no primary RM, not closed."""
    return qs.filter(primary_rm__isnull=True, closed_on__isnull=True)


def _pool_branches_customers(user) -> QuerySet[Customer]:
    """The customers homed in the branches whose pools the user works with, in the pool or not."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return Customer.objects.none()
    if scope.is_all:
        return Customer.objects.all()
    if scope.is_subtree:
        ids = access.subtree_branch_ids(scope)
        return Customer.objects.all() if ids is None else Customer.objects.filter(branch_id__in=ids)
    if scope.staff.role != R.RM:
        return Customer.objects.none()
    return Customer.objects.filter(branch_id=scope.staff.branch_id)


def pool_customers_visible_to(user) -> QuerySet[Customer]:
    """The pool customers a user works with (docs/pool.md, "The pool").

    - RM: the pool of their own branch (the customers homed at ``Staff.branch`` without an RM), whatever its level;
    - branch head: the pools of their branch and every branch below it;
    - administrator: every pool;
    - complaints officer, anyone else: none (they reach customers through complaints).
    """
    return in_pool(_pool_branches_customers(user))


def pool_selection_in_scope(user, ids) -> bool:
    """Whether every posted id is a customer of a branch whose pool the user works with (in the pool now or
    claimed a moment ago): anything else is a 404 for the page, which confirms nothing."""
    ids = {int(pk) for pk in ids}
    return _pool_branches_customers(user).filter(pk__in=ids).count() == len(ids)


def pool_list(user, filters: CustomerFilters) -> QuerySet[Customer]:
    """The pool page's rows: the customer list's filters and orders over the user's pools."""
    return customer_list(user, filters, base=pool_customers_visible_to(user))


@dataclass(frozen=True)
class PoolTotals:
    customers: int
    aum: object
    capped: bool  # more than the list's count cap: neither figure is given


def pool_totals(rows: QuerySet[Customer]) -> PoolTotals:
    """How many customers the selection holds and their AUM, in one query that, like the list's count, reads at
    most ``LIST_COUNT_CAP`` + 1 rows (the same query whatever the size, so the page's count of queries is too)."""
    cap = settings.LIST_COUNT_CAP
    row = rows.order_by()[: cap + 1].aggregate(n=Count("pk"), aum=Sum("aum"))
    if row["n"] > cap:
        return PoolTotals(cap, None, True)
    return PoolTotals(row["n"], row["aum"] or 0, False)


def claim_limits() -> dict[int, int]:
    """{tier id: an RM's daily claim limit} for every tier (PoolRule, or the default)."""
    rules = dict(PoolRule.objects.values_list("segment_id", "daily_claim_limit"))
    return {
        pk: rules.get(pk, PoolRule.DEFAULTS["daily_claim_limit"]) for pk in Segment.objects.values_list("pk", flat=True)
    }


def claimed_on(staff: Staff, day: date) -> dict[int | None, int]:
    """{tier id: how many customers ``staff`` claimed (not was assigned) on ``day``}."""
    rows = (
        PoolClaim.objects.filter(staff=staff, claimed_on=day, method=PoolClaim.Method.CLAIM)
        .values("segment_id")
        .annotate(n=Count("pk"))
    )
    return {row["segment_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class ClaimAllowance:
    segment: Segment
    claimed: int
    limit: int

    @property
    def left(self) -> int:
        return max(self.limit - self.claimed, 0)


def claim_allowances(staff: Staff, day: date) -> list[ClaimAllowance]:
    """What an RM may still claim today, tier by tier (three queries: tiers, rules, today's claims)."""
    limits = claim_limits()
    claimed = claimed_on(staff, day)
    return [
        ClaimAllowance(segment, claimed.get(segment.pk, 0), limits[segment.pk])
        for segment in Segment.objects.order_by("sort_order")
    ]


@dataclass
class OutletKeeper:
    branch: Branch
    keeper: Staff | None
    named: bool  # the head named the keeper (else the outlet's head keeps the pool)
    candidates: list[Staff]  # who the keeper may be: the outlet's active RMs and heads


def pool_keepers_for(user) -> list[OutletKeeper]:
    """Who keeps each pool the user works with: the RM's own branch, a head's outlets (with the staff they may
    name), every outlet for an administrator. Three queries, whatever the number of outlets."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return []
    if scope.is_own:
        if scope.staff.role != R.RM:
            return []
        branches = [scope.staff.branch]
    else:
        branches = list(Branch.objects.filter(access.subtree_q(scope), level=Branch.Level.OUTLET).order_by("path"))
    ids = [b.pk for b in branches]
    keepers = keepers_of(ids)
    named = set(PoolKeeper.objects.filter(branch_id__in=ids).values_list("branch_id", flat=True))
    staff = list(
        Staff.objects.filter(branch_id__in=ids, role__in=[R.RM, R.HEAD], status=Staff.Status.ACTIVE).order_by(
            "role", "employee_no"
        )
    )
    by_pk = {s.pk: s for s in staff}
    outlets = []
    for branch in branches:
        outlets.append(
            OutletKeeper(
                branch=branch,
                keeper=by_pk.get(keepers.get(branch.pk)),
                named=branch.pk in named,
                candidates=[s for s in staff if s.branch_id == branch.pk],
            )
        )
    return outlets


def assignable_rms(user) -> QuerySet[Staff]:
    """The RMs a head may assign pool customers to: the active RMs of the branches in their scope."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_own or scope.is_none:
        return Staff.objects.none()
    return (
        Staff.objects.filter(access.subtree_q(scope, "branch"), role=R.RM, status=Staff.Status.ACTIVE)
        .select_related("branch")
        .order_by("branch__path", "employee_no")
    )
