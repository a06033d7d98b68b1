"""Writes of the customer pool: an RM claims customers (认领), a head assigns them (分配), a head names who keeps
an outlet's pool (池管理员). Every claim and assignment opens the primary assignment (the portfolio history),
writes a ``PoolClaim`` and sends ``customers_left_pool``, set-based, in one transaction (docs/pool.md)."""

from collections import defaultdict
from datetime import date, datetime
from functools import reduce
from operator import and_, or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Count, DateTimeField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from complaints.models import Complaint
from crm_site.sql import insert_from_select
from customers.models import Customer, Segment
from notifications.models import Notification
from notifications.services import notification_send
from organisation import access
from organisation.models import Branch, Staff
from relationships.models import Assignment, Handover
from relationships.services import assignment_release_primary, assignments_open_primary_bulk, split_customers

from . import signals
from .keepers import keepers_of
from .models import PoolClaim, PoolKeeper, ReleaseRequest
from .selectors import (
    CANDIDATE_FIELDS,
    candidate_columns,
    claim_limits,
    claimed_on,
    contacts_by,
    release_candidates,
    release_rules,
)

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
    before = keepers_of([branch.pk])[branch.pk]
    if staff is None:
        PoolKeeper.objects.filter(branch=branch).delete()
        keeper = None
    else:
        staff = Staff.objects.get(pk=staff.pk)
        if (
            staff.branch_id != branch.pk
            or staff.status != Staff.Status.ACTIVE
            or staff.role not in (Staff.Role.RM, Staff.Role.HEAD)
        ):
            raise ValidationError(
                {"staff": _("The pool keeper must be an active RM or head of %(outlet)s.") % {"outlet": branch.name}}
            )
        keeper = PoolKeeper.objects.filter(branch=branch).first() or PoolKeeper(branch=branch)
        keeper.staff, keeper.named_by, keeper.named_at = staff, head, timezone.now()
        keeper.full_clean()
        keeper.save()
    after = keepers_of([branch.pk])[branch.pk]
    if after != before:
        # The open follow-ups of the pool's customers go to whoever keeps the pool now (reminders answers).
        signals.pool_keeper_changed.send(sender=PoolKeeper, branch_id=branch.pk, old=before, new=after)
    return keeper


# Release


Reason, Status = ReleaseRequest.Reason, ReleaseRequest.Status


def _release_url(status: str = "") -> str:
    url = reverse("pool:release-list")
    return f"{url}?status={status}" if status else url


def _per_rm_text(message: str) -> tuple[str, str]:
    """A translated message with one ``%(n)s`` split around it, for a count written by SQL."""
    head, _sep, tail = message.partition("%(n)s")
    return head, tail


def _notify_new_proposals(now) -> int:
    """One notification per RM for the proposals this run made (those proposed at ``now``): one statement."""
    head, tail = _per_rm_text(_("%(n)s of your customers are proposed for release to the pool: contact them."))
    rows = (
        ReleaseRequest.objects.filter(proposed_at=now, proposed_by__isnull=True, status=Status.PROPOSED)
        .values("rm_id")
        .annotate(n=Count("pk"))
        .annotate(
            n_text=Concat(Value(head), Cast("n", CharField()), Value(tail), output_field=CharField()),
            n_url=Value(_release_url()),
            n_at=Value(now, output_field=DateTimeField()),
        )
        .values_list("rm_id", "n_text", "n_url", "n_at")
    )
    return insert_from_select(Notification, ["recipient", "text", "url", "created_at"], rows)


@transaction.atomic
def release_candidates_propose(*, today: date | None = None) -> dict:
    """The nightly recycle job, in a few set-based statements and no actor: withdraw the open proposals whose reason
    no longer holds (the customer moved; for the job's own proposals, the customer is no longer a candidate — the
    RM made contact, a complaint opened, the rule changed), then propose every candidate without an open proposal
    (one per customer: the partial unique constraint, so a second run the same day adds nothing), and tell each RM
    how many of their customers were proposed."""
    today = today or timezone.localdate()
    now = timezone.now()
    rules = release_rules()
    candidates = release_candidates(today, rules)
    open_ = ReleaseRequest.objects.filter(status=Status.PROPOSED)
    moved = open_.filter(
        Q(customer__primary_rm__isnull=True) | ~Q(customer__primary_rm=F("rm")) | Q(assignment__ended_at__isnull=False)
    ).update(status=Status.WITHDRAWN, decided_at=now, decision_note=_("The customer has moved since the proposal."))
    no_longer = reduce(
        or_,
        (
            reduce(and_, (~Q(customer_id__in=qs.values("pk")) for qs in tiers), Q(reason=reason))
            for reason, tiers in candidates.items()
        ),
    )
    stale = (
        open_.filter(proposed_by__isnull=True)
        .filter(no_longer)
        .update(
            status=Status.WITHDRAWN, decided_at=now, decision_note=_("The reason for the proposal no longer holds.")
        )
    )
    proposed = {}
    for reason, tiers in candidates.items():
        proposed[reason] = sum(
            insert_from_select(
                ReleaseRequest,
                CANDIDATE_FIELDS,
                candidate_columns(qs, reason=reason, today=today, now=now),
                ignore_conflicts=True,
            )
            for qs in tiers
        )
    notified = _notify_new_proposals(now) if any(proposed.values()) else 0
    return {
        "proposed": sum(proposed.values()),
        **{str(reason): n for reason, n in proposed.items()},
        "withdrawn": moved + stale,
        "notified": notified,
    }


def _has_open_complaint(customer_ids) -> set[int]:
    return set(
        Complaint.objects.filter(customer_id__in=list(customer_ids), status__in=Complaint.OPEN_STATES).values_list(
            "customer_id", flat=True
        )
    )


@transaction.atomic
def release_propose(*, actor, customer: Customer, note: str) -> ReleaseRequest:
    """A branch head (or an administrator) proposes by hand to release a customer of their subtree to the pool.
    Another head above the customer, or an administrator, decides it (as a reassignment request)."""
    head = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    customer = Customer.objects.select_for_update(of=("self",)).select_related("branch").get(pk=customer.pk)
    if not access.can_approve(head, customer.branch):
        raise PermissionDenied(_("Only a branch head above this customer can propose their release."))
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the customer should go back to the pool.")})
    if customer.primary_rm_id is None:
        raise ValidationError(_("This customer is already in the pool."))
    if _has_open_complaint([customer.pk]):
        raise ValidationError(
            _("%(name)s has an open complaint: they keep their RM until it is closed.") % {"name": customer.name}
        )
    if ReleaseRequest.objects.filter(customer=customer, status=Status.PROPOSED).exists():
        raise ValidationError(_("A release of this customer is already awaiting approval."))
    assignment = Assignment.objects.current().primary().filter(customer=customer).order_by("-started_at").first()
    if assignment is None:
        raise ValidationError(_("This customer has no current primary assignment."))
    last = contacts_by(customer=customer, staff=customer.primary_rm_id).order_by("-occurred_at").first()
    claim = PoolClaim.objects.filter(assignment=assignment).values_list("claimed_on", flat=True).first()
    now = timezone.now()
    request = ReleaseRequest(
        customer=customer,
        rm_id=customer.primary_rm_id,
        assignment=assignment,
        reason=Reason.BY_HAND,
        held_since=assignment.started_at,
        last_contact_at=last.occurred_at if last else None,
        period_days=customer.segment.contact_policy_days if customer.segment_id else None,
        claimed_on=claim,
        proposed_on=timezone.localdate(now),
        proposed_at=now,
        proposed_by=head,
        note=note.strip()[:200],
    )
    request.full_clean()
    request.save()
    notification_send(
        [request.rm],
        _("%(head)s proposes to release %(name)s to the pool: %(note)s")
        % {"head": head.name, "name": customer.name, "note": request.note},
        _release_url(),
    )
    approvers = (
        Staff.objects.filter(role=Staff.Role.HEAD, status=Staff.Status.ACTIVE)
        .filter(branch__in=customer.branch.ancestors_and_self())
        .exclude(pk__in=[head.pk, request.rm_id])
    )
    notification_send(
        list(approvers),
        _("%(head)s proposes to release %(name)s to the pool.") % {"head": head.name, "name": customer.name},
        _release_url(),
    )
    return request


def _locked(ids) -> list[ReleaseRequest]:
    return list(
        ReleaseRequest.objects.select_for_update(of=("self",))
        .select_related("customer__branch", "rm")
        .filter(pk__in=list(ids))
        .order_by("pk")
    )


def _refusal(approver: Staff, request: ReleaseRequest) -> Exception | None:
    """Why ``approver`` may not decide ``request`` (the two-person rule of reassignments), or None."""
    if request.status != Status.PROPOSED:
        return ValidationError(_("This proposal has already been decided."))
    if approver.pk == request.proposed_by_id:
        return PermissionDenied(_("You cannot decide your own proposal."))
    if approver.pk == request.rm_id:
        return PermissionDenied(_("You cannot decide the release of your own customer."))
    if not access.can_approve(approver, request.customer.branch):
        return PermissionDenied(_("Only a branch head above this customer can decide this proposal."))
    return None


def _has_moved(request: ReleaseRequest) -> bool:
    return request.customer.primary_rm_id != request.rm_id


def _close(requests, *, status: str, by: Staff | None, now, note: str) -> None:
    ReleaseRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        status=status, decided_by=by, decided_at=now, decision_note=note[:200]
    )
    for r in requests:
        r.status, r.decided_by, r.decided_at, r.decision_note = status, by, now, note[:200]


def _release(actor, approver: Staff, requests: list[ReleaseRequest], note: str, now) -> tuple[list, list]:
    """Carry out approved proposals: end the assignments and clear the RMs (relationships), tell the apps above
    (``customers_entered_pool``: the keeper takes the open follow-ups) and the RMs. Returns (released, moved)."""
    previous = assignment_release_primary(
        actor=actor,
        customers={r.customer_id: r.rm_id for r in requests},
        reason=_("Released to the pool, approved by %(name)s") % {"name": approver.name},
        now=now,
    )
    released = [r for r in requests if r.customer_id in previous]
    moved = [r for r in requests if r.customer_id not in previous]
    _close(released, status=Status.APPROVED, by=approver, now=now, note=note)
    _close(moved, status=Status.WITHDRAWN, by=approver, now=now, note=_("The customer has moved since the proposal."))
    if released:
        branch_of = {r.customer_id: r.customer.branch_id for r in released}
        keeper_of_branch = keepers_of(set(branch_of.values()))
        signals.customers_entered_pool.send(
            sender=ReleaseRequest,
            previous=previous,
            keepers={c: keeper_of_branch.get(b) for c, b in branch_of.items()},
        )
        by_rm: dict[Staff, list[ReleaseRequest]] = defaultdict(list)
        for r in released:
            by_rm[r.rm].append(r)
        for rm, rows in by_rm.items():
            notification_send(
                [rm],
                _("%(names)s went back to the pool (release approved by %(head)s).")
                % {
                    "names": "、".join(r.customer.name for r in rows[:5]) + ("…" if len(rows) > 5 else ""),
                    "head": approver.name,
                },
                _release_url(Status.APPROVED),
            )
    return released, moved


@transaction.atomic
def release_approve(*, actor, request: ReleaseRequest, note: str = "") -> ReleaseRequest:
    """Approve one proposal. A customer with an open complaint is refused (they keep their RM until it is closed);
    a customer who has moved meanwhile is not released: the proposal is withdrawn and returned as such."""
    approver = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    (request,) = _locked([request.pk])
    refusal = _refusal(approver, request)
    if refusal is not None:
        raise refusal
    now = timezone.now()
    if _has_moved(request):
        _close(
            [request],
            status=Status.WITHDRAWN,
            by=approver,
            now=now,
            note=_("The customer has moved since the proposal."),
        )
        return request
    if _has_open_complaint([request.customer_id]):
        raise ValidationError(
            _("%(name)s has an open complaint: they keep their RM until it is closed.")
            % {"name": request.customer.name}
        )
    _release(actor, approver, [request], note, now)
    return request


@transaction.atomic
def release_approve_many(*, actor, ids, note: str = "") -> dict:
    """Approve several proposals at once (the page's ticked rows). Each is decided as ``release_approve`` would:
    released; withdrawn when the customer has moved; left open when the customer has an open complaint; left as
    it is when this approver may not decide it (their own proposal or customer, or decided meanwhile). Returns the
    counts."""
    approver = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    rows = _locked(ids)
    allowed = [r for r in rows if _refusal(approver, r) is None]
    now = timezone.now()
    moved = [r for r in allowed if _has_moved(r)]
    _close(moved, status=Status.WITHDRAWN, by=approver, now=now, note=_("The customer has moved since the proposal."))
    complaints = _has_open_complaint(r.customer_id for r in allowed if not _has_moved(r))
    ready = [r for r in allowed if not _has_moved(r) and r.customer_id not in complaints]
    released, moved_now = _release(actor, approver, ready, note, now) if ready else ([], [])
    return {
        "released": len(released),
        "withdrawn": len(moved) + len(moved_now),
        "complaints": len(complaints),
        "skipped": len(rows) - len(allowed),
    }


@transaction.atomic
def release_reject(*, actor, request: ReleaseRequest, note: str) -> ReleaseRequest:
    """Keep the customer with their RM. The rules do not propose them again until the RM has made contact with
    them after the rejection."""
    return release_reject_many(actor=actor, ids=[request.pk], note=note, strict=True)[0]


@transaction.atomic
def release_reject_many(*, actor, ids, note: str, strict: bool = False) -> list[ReleaseRequest]:
    approver = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the customer stays with the RM.")})
    rows = _locked(ids)
    if strict:
        for r in rows:
            refusal = _refusal(approver, r)
            if refusal is not None:
                raise refusal
    rejected = [r for r in rows if _refusal(approver, r) is None]
    now = timezone.now()
    _close(rejected, status=Status.REJECTED, by=approver, now=now, note=note.strip())
    for r in rejected:
        recipients = [r.rm] + ([r.proposed_by] if r.proposed_by_id else [])
        notification_send(
            recipients,
            _("%(name)s stays with %(rm)s: the release was rejected (%(note)s).")
            % {"name": r.customer.name, "rm": r.rm.name, "note": r.decision_note},
            _release_url(Status.REJECTED),
        )
    return rejected
