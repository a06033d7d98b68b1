"""Reads of the customer pool. Everything starts from ``pool_customers_visible_to(user)``, which narrows the one
visibility rule of customers (``organisation.access.scope_of``) to the pools the user works in."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, DateField, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.http import Http404
from django.utils import timezone

from complaints.models import Complaint
from customers.models import Customer, Segment
from customers.selectors import CustomerFilters, customer_list
from organisation import access
from organisation.models import Branch, Staff
from relationships.models import Assignment, Interaction, ReassignmentItem, ReassignmentRequest

from .keepers import keepers_of
from .models import PoolClaim, PoolKeeper, PoolRule, ReleaseRequest

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


# Release


@dataclass(frozen=True)
class TierRule:
    """The recycle rule of one tier: its contact period (days), the periods an RM may miss in a row (0: never
    proposed for this), and the days an RM has to make first contact after a claim (0: never proposed for this)."""

    segment_id: int
    period_days: int
    missed_periods: int
    claim_contact_days: int


def release_rules() -> list[TierRule]:
    """Every tier's recycle rule, in one query: its ``PoolRule``, or ``PoolRule.DEFAULTS`` without one."""
    rules = []
    for segment in Segment.objects.select_related("pool_rule").order_by("sort_order", "pk"):
        rule = getattr(segment, "pool_rule", None)
        rules.append(
            TierRule(
                segment_id=segment.pk,
                period_days=segment.contact_policy_days,
                missed_periods=rule.missed_periods if rule else PoolRule.DEFAULTS["missed_periods"],
                claim_contact_days=rule.claim_contact_days if rule else PoolRule.DEFAULTS["claim_contact_days"],
            )
        )
    return rules


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def contacts_by(*, customer=None, staff=None, since=None) -> QuerySet[Interaction]:
    """A contact, for the recycle rules: an interaction by the RM with the customer that reached them (every
    outcome but "not reached") — the same contact as the contact-policy reminders' and the dashboards' coverage
    (docs/reminders.md, docs/dashboards.md), counted only when the RM made it. The arguments are values or
    ``OuterRef``s."""
    qs = Interaction.objects.filter(customer=customer, staff=staff).exclude(outcome=Interaction.Outcome.NO_ANSWER)
    return qs if since is None else qs.filter(occurred_at__gte=since)


def _current_primary():
    return Assignment.objects.current().primary().filter(customer=OuterRef("pk"), staff=OuterRef("primary_rm"))


def _releasable() -> QuerySet[Customer]:
    """Customers the rules may propose: held by an active RM (a leaving RM's customers go with the handover), not
    closed, not lost (no contact policy asks for them), without an open complaint (it needs an accountable RM) and
    not in a reassignment waiting for a decision, and not kept with their RM by a rejection that still stands."""
    open_complaint = Complaint.objects.filter(customer=OuterRef("pk"), status__in=Complaint.OPEN_STATES)
    pending_move = ReassignmentItem.objects.filter(
        customer=OuterRef("pk"), request__status=ReassignmentRequest.Status.PENDING
    )
    return (
        Customer.objects.filter(
            primary_rm__isnull=False, primary_rm__status=Staff.Status.ACTIVE, closed_on__isnull=True
        )
        .exclude(lifecycle=Customer.Lifecycle.LOST)
        .filter(~Exists(open_complaint), ~Exists(pending_move), ~Exists(_rejection_standing()))
    )


def _rejection_standing() -> QuerySet[ReleaseRequest]:
    """A proposal of the customer's current assignment was rejected and its RM has made no contact with them since
    the rejection: a rejection stands until then."""
    return ReleaseRequest.objects.filter(
        customer=OuterRef("pk"),
        rm=OuterRef("primary_rm"),
        status=ReleaseRequest.Status.REJECTED,
        assignment__ended_at__isnull=True,
    ).filter(
        ~Exists(contacts_by(customer=OuterRef("customer_id"), staff=OuterRef("rm_id"), since=OuterRef("decided_at")))
    )


def missed_policy_condition(today: date, rules: list[TierRule]) -> Q:
    """ "Missed the tier's contact policy N periods in a row" on ``today``: the current primary RM has held the
    customer since before the start of the day N × period days ago, and has made no contact with them since then.
    A customer whose last contact by anyone is before that start cannot have one by the RM: only the others are
    looked up in the interactions."""
    parts = []
    for rule in rules:
        if not rule.missed_periods:
            continue
        cutoff = _start_of(today - timedelta(days=rule.missed_periods * rule.period_days))
        held = Exists(_current_primary().filter(started_at__lt=cutoff))
        no_contact = (
            Q(last_contacted_at__isnull=True)
            | Q(last_contacted_at__lt=cutoff)
            | ~Exists(contacts_by(customer=OuterRef("pk"), staff=OuterRef("primary_rm"), since=cutoff))
        )
        parts.append(Q(segment_id=rule.segment_id) & Q(held) & no_contact)
    return reduce(or_, parts, Q(pk__in=[]))


def _open_claims(today: date, days: int) -> QuerySet[PoolClaim]:
    """Claims (or assignments) out of the pool more than ``days`` days before ``today`` whose assignment is still
    current, with no contact by the RM since the claim."""
    contact_since_claim = contacts_by(
        customer=OuterRef("customer_id"), staff=OuterRef("staff_id"), since=OuterRef("claimed_at")
    )
    return PoolClaim.objects.filter(
        assignment__ended_at__isnull=True, claimed_on__lt=today - timedelta(days=days)
    ).filter(~Exists(contact_since_claim))


def no_first_contact_condition(today: date, rules: list[TierRule]) -> Q:
    """ "Not contacted within X days of claiming" on ``today``: a claim of the customer by their current primary RM,
    whose assignment is still current, made more than X days ago (the claim's day counts as day 0), and no contact by
    the RM since the moment of the claim."""
    parts = []
    for rule in rules:
        if not rule.claim_contact_days:
            continue
        claims = _open_claims(today, rule.claim_contact_days).filter(
            customer=OuterRef("pk"), staff=OuterRef("primary_rm")
        )
        parts.append(Q(segment_id=rule.segment_id) & Q(Exists(claims)))
    return reduce(or_, parts, Q(pk__in=[]))


def release_candidates(today: date, rules: list[TierRule] | None = None) -> dict[str, list[QuerySet[Customer]]]:
    """The customers the rules propose for release on ``today``, by reason, as one query per tier: the claim rule
    first (a customer who meets both is proposed for not being contacted after the claim). One query per tier
    rather than one over every tier's condition: with the tiers' conditions OR-ed together PostgreSQL hashes every
    contact since the oldest tier's cutoff (5.4 s at 10,000 customers against 0.6 s for the four tiers' queries)."""
    rules = release_rules() if rules is None else rules
    base = _releasable()
    return {
        ReleaseRequest.Reason.NO_FIRST_CONTACT: [
            base.filter(no_first_contact_condition(today, [rule])) for rule in rules if rule.claim_contact_days
        ],
        ReleaseRequest.Reason.MISSED_POLICY: [
            base.filter(missed_policy_condition(today, [rule])) for rule in rules if rule.missed_periods
        ],
    }


def candidate_columns(qs: QuerySet[Customer], *, reason: str, today: date, now: datetime) -> QuerySet:
    """The columns of a new ``ReleaseRequest`` for each candidate (for ``insert_from_select``)."""
    assignment = _current_primary()
    last_contact = contacts_by(customer=OuterRef("pk"), staff=OuterRef("primary_rm")).order_by("-occurred_at")
    claim = PoolClaim.objects.filter(
        customer=OuterRef("pk"), staff=OuterRef("primary_rm"), assignment__ended_at__isnull=True
    ).order_by("-claimed_at")
    return qs.annotate(
        r_assignment=Subquery(assignment.values("pk")[:1]),
        r_held_since=Subquery(assignment.values("started_at")[:1]),
        r_last_contact=Subquery(last_contact.values("occurred_at")[:1]),
        r_period=F("segment__contact_policy_days"),
        r_claimed_on=Subquery(claim.values("claimed_on")[:1], output_field=DateField()),
        r_reason=Value(reason),
        r_status=Value(ReleaseRequest.Status.PROPOSED),
        r_proposed_on=Value(today, output_field=DateField()),
        r_proposed_at=Value(now, output_field=DateTimeField()),
        r_blank=Value(""),
    ).values_list(
        "pk",
        "primary_rm_id",
        "r_assignment",
        "r_reason",
        "r_status",
        "r_held_since",
        "r_last_contact",
        "r_period",
        "r_claimed_on",
        "r_proposed_on",
        "r_proposed_at",
        "r_blank",
        "r_blank",
    )


CANDIDATE_FIELDS = [
    "customer",
    "rm",
    "assignment",
    "reason",
    "status",
    "held_since",
    "last_contact_at",
    "period_days",
    "claimed_on",
    "proposed_on",
    "proposed_at",
    "note",
    "decision_note",
]


def release_requests_visible_to(user) -> QuerySet[ReleaseRequest]:
    """The one scoping rule of release proposals: an administrator sees every one; a branch head those of the
    customers of their subtree; an RM those of their own customers (``rm``); anyone else none."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    qs = ReleaseRequest.objects.all()
    if scope.is_none:
        return qs.none()
    if scope.is_all:
        return qs
    if scope.is_subtree:
        return qs.filter(access.subtree_q(scope, "customer__branch"))
    return qs.filter(rm=scope.staff)


def release_list(user, *, status: str = ReleaseRequest.Status.PROPOSED) -> QuerySet[ReleaseRequest]:
    """The release page's rows: the proposals in the user's scope with the given status, oldest first for those
    awaiting a decision, newest first for the others, with what each row shows."""
    order = ["proposed_at", "pk"] if status == ReleaseRequest.Status.PROPOSED else ["-decided_at", "-pk"]
    return (
        release_requests_visible_to(user)
        .filter(status=status)
        .select_related("customer__segment", "customer__branch", "rm", "proposed_by", "decided_by")
        .order_by(*order)
    )


def release_get_visible(user, pk: int) -> ReleaseRequest:
    try:
        return release_requests_visible_to(user).select_related("customer").get(pk=pk)
    except ReleaseRequest.DoesNotExist as exc:
        raise Http404 from exc


def release_pending_count(user) -> int:
    """Proposals awaiting this head's (or administrator's) decision: in their scope, not proposed by them, and not
    of customers they hold themselves."""
    staff = access.active_staff(user)
    if staff is None or staff.role not in access.HEADS_AND_ADMINS:
        return 0
    return (
        release_requests_visible_to(user)
        .filter(status=ReleaseRequest.Status.PROPOSED)
        .exclude(proposed_by=staff)
        .exclude(rm=staff)
        .count()
    )
