"""Writes of the customer pool: an RM claims customers (认领), a head assigns them (分配), a head names who keeps
an outlet's pool (池管理员). Every claim and assignment opens the primary assignment (the portfolio history),
writes a ``PoolClaim`` and sends ``customers_left_pool``, set-based, in one transaction (docs/pool.md)."""

from collections import defaultdict
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer, Segment
from notifications.services import notification_send
from organisation import access
from organisation.models import Branch, Staff
from relationships.models import Handover
from relationships.services import assignments_open_primary_bulk, split_customers

from . import signals
from .keepers import keepers_of
from .models import PoolClaim, PoolKeeper
from .selectors import claim_limits, claimed_on

CLAIM_REASON = "认领自客户池"
ASSIGN_REASON = "由网点负责人从客户池分配"
METHODS = Handover.Method  # even, by tier, by hand: the handover's distribution


def _locked_pool_rows(ids) -> list[dict]:
    """The posted customers, locked (in id order, so that two claims never deadlock), with what the checks need."""
    ids = sorted({int(pk) for pk in ids})
    if not ids:
        raise ValidationError(_("Choose at least one customer."))
    return list(
        Customer.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values("pk", "name", "branch_id", "primary_rm_id", "closed_on", "segment_id", "aum")
    )


def _check_in_pool(rows: list[dict], wanted: int, in_branch) -> None:
    """Refuse the whole selection if one customer is not (or no longer) in a pool the actor works with."""
    if len(rows) != wanted or any(not in_branch(r["branch_id"]) or r["closed_on"] for r in rows):
        raise PermissionDenied(_("One of these customers is not in your outlet's pool."))
    taken = [r["name"] for r in rows if r["primary_rm_id"] is not None]
    if taken:
        raise ValidationError(
            ngettext(
                "%(names)s was given an RM a moment ago and is no longer in the pool. Nothing was claimed or assigned.",
                "%(names)s were given an RM a moment ago and are no longer in the pool. Nothing was claimed or "
                "assigned.",
                len(taken),
            )
            % {"names": "、".join(taken[:5]) + ("…" if len(taken) > 5 else "")}
        )


def _take(*, rows: list[dict], moves: dict[int, Staff], method: str, actor: Staff | None, now: datetime) -> list:
    """Take the customers out of the pool: the primary assignments, the claims and the signal."""
    by_id = {r["pk"]: r for r in rows}
    keeper_of_branch = keepers_of({r["branch_id"] for r in rows})
    keepers = {pk: keeper_of_branch.get(by_id[pk]["branch_id"]) for pk in moves}
    reason = CLAIM_REASON if method == PoolClaim.Method.CLAIM else ASSIGN_REASON
    assignments = assignments_open_primary_bulk(moves=moves, reason=reason, approved_by=actor, now=now)
    today = timezone.localdate(now)
    claims = PoolClaim.objects.bulk_create(
        PoolClaim(
            customer_id=pk,
            staff=staff,
            branch_id=by_id[pk]["branch_id"],
            segment_id=by_id[pk]["segment_id"],
            method=method,
            actor=actor,
            assignment=assignments[pk],
            claimed_at=now,
            claimed_on=today,
        )
        for pk, staff in moves.items()
    )
    signals.customers_left_pool.send(sender=PoolClaim, moves=moves, keepers=keepers)
    return claims


@transaction.atomic
def pool_claim(*, actor, customer_ids, now: datetime | None = None) -> list[PoolClaim]:
    """An RM claims customers of their own branch's pool. All or nothing: a selection that one customer of would
    pass the RM's daily limit for that tier is refused whole, with how many more they may claim today."""
    staff = access.actor_staff(actor, access.RMS)
    now = now or timezone.now()
    # One RM's claims run one after another (their limit is counted from the claims already made today).
    staff = Staff.objects.select_for_update().select_related("branch").get(pk=staff.pk)
    if not staff.accepts_customers:
        raise PermissionDenied(_("Only an active RM can claim customers."))
    wanted = len({int(pk) for pk in customer_ids})
    rows = _locked_pool_rows(customer_ids)
    _check_in_pool(rows, wanted, lambda branch_id: branch_id == staff.branch_id)
    _check_limits(staff, rows, timezone.localdate(now))
    return _take(rows=rows, moves={r["pk"]: staff for r in rows}, method=PoolClaim.Method.CLAIM, actor=staff, now=now)


def _check_limits(staff: Staff, rows: list[dict], today: date) -> None:
    limits = claim_limits()
    done = claimed_on(staff, today)
    asked: dict[int | None, int] = defaultdict(int)
    for r in rows:
        asked[r["segment_id"]] += 1
    for segment_id, n in asked.items():
        if segment_id is None:
            continue  # a customer not yet tiered (before the nightly tiering) has no limit of its own
        limit, already = limits.get(segment_id, 0), done.get(segment_id, 0)
        if already + n > limit:
            tier = Segment.objects.get(pk=segment_id).name
            raise ValidationError(
                _(
                    "Today you have claimed %(done)s %(tier)s customers; the limit is %(limit)s a day, so you can "
                    "claim %(left)s more. Nothing was claimed."
                )
                % {"done": already, "tier": tier, "limit": limit, "left": max(limit - already, 0)}
            )


@transaction.atomic
def pool_assign(
    *, actor, customer_ids, rms: list[Staff], method: str = METHODS.EVEN, now: datetime | None = None
) -> list[PoolClaim]:
    """A head (of the customers' branch or above) or an administrator assigns pool customers of one branch to
    RMs of that branch: to one RM by hand, or split evenly or by tier over several (the handover's rule,
    ``relationships.services.split_customers``). Not counted against the RMs' claim limits; each RM is told."""
    head = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    now = now or timezone.now()
    if method not in METHODS.values:
        raise ValidationError({"method": _("Choose how to split the customers.")})
    if not rms:
        raise ValidationError({"rms": _("Choose at least one RM.")})
    if method == METHODS.MANUAL and len(rms) != 1:
        raise ValidationError({"rms": _("By hand, choose the one RM who takes the selected customers.")})
    wanted = len({int(pk) for pk in customer_ids})
    rows = _locked_pool_rows(customer_ids)
    branches = {r["branch_id"] for r in rows}
    if len(branches) > 1:
        raise ValidationError(_("Assign the customers of one outlet at a time."))
    branch = Branch.objects.get(pk=branches.pop()) if rows else None
    if branch is None or not access.can_approve(head, branch):
        raise PermissionDenied(_("One of these customers is not in your outlet's pool."))
    _check_in_pool(rows, wanted, lambda branch_id: branch_id == branch.pk)
    receivers = list(Staff.objects.filter(pk__in=[r.pk for r in rms]).order_by("employee_no"))
    if len(receivers) != len({r.pk for r in rms}) or any(
        not r.accepts_customers or r.branch_id != branch.pk for r in receivers
    ):
        raise ValidationError({"rms": _("Assign only to active RMs of %(outlet)s.") % {"outlet": branch.name}})
    ordered = sorted(rows, key=lambda r: (-r["aum"], r["pk"]))
    lines = split_customers(((r["pk"], r["segment_id"]) for r in ordered), [r.pk for r in receivers], method)
    by_pk = {r.pk: r for r in receivers}
    moves = {pk: by_pk[staff_id] for pk, staff_id in lines.items()}
    claims = _take(rows=rows, moves=moves, method=PoolClaim.Method.ASSIGN, actor=head, now=now)
    counts: dict[Staff, int] = defaultdict(int)
    for staff in moves.values():
        counts[staff] += 1
    for staff, n in counts.items():
        notification_send(
            [staff],
            ngettext(
                "%(head)s assigned you %(n)s customer from the pool of %(outlet)s.",
                "%(head)s assigned you %(n)s customers from the pool of %(outlet)s.",
                n,
            )
            % {"head": head.name if head else _("The system"), "n": n, "outlet": branch.name},
            reverse("relationships:my-customers"),
        )
    return claims


@transaction.atomic
def pool_keeper_set(*, actor, branch: Branch, staff: Staff | None) -> PoolKeeper | None:
    """A head of the branch (or above) or an administrator names who keeps the branch's pool: an active RM or head
    of that branch; ``staff=None`` gives the pool back to the branch's own head."""
    head = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    if not access.can_approve(head, branch):
        raise PermissionDenied(_("Only a head of this outlet or above can name its pool keeper."))
    if staff is None:
        PoolKeeper.objects.filter(branch=branch).delete()
        return None
    staff = Staff.objects.get(pk=staff.pk)
    if (
        staff.branch_id != branch.pk
        or staff.status != Staff.Status.ACTIVE
        or staff.role
        not in (
            Staff.Role.RM,
            Staff.Role.HEAD,
        )
    ):
        raise ValidationError(
            {"staff": _("The pool keeper must be an active RM or head of %(outlet)s.") % {"outlet": branch.name}}
        )
    keeper = PoolKeeper.objects.filter(branch=branch).first() or PoolKeeper(branch=branch)
    keeper.staff, keeper.named_by, keeper.named_at = staff, head, timezone.now()
    keeper.full_clean()
    keeper.save()
    return keeper
