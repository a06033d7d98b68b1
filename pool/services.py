"""Writes of the pool app."""

# Release
from collections import defaultdict
from datetime import date
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Count, DateTimeField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Complaint
from crm_site.sql import insert_from_select
from customers.models import Customer
from notifications.models import Notification
from notifications.services import notification_send
from organisation import access
from organisation.models import Staff
from relationships.models import Assignment
from relationships.services import assignment_release_primary

from . import signals
from .keepers import keepers_of
from .models import PoolClaim, ReleaseRequest
from .selectors import CANDIDATE_FIELDS, candidate_columns, contacts_by, release_candidates, release_rules

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
        or_, (Q(reason=reason) & ~Q(customer_id__in=qs.values("pk")) for reason, qs in candidates.items())
    )
    stale = (
        open_.filter(proposed_by__isnull=True)
        .filter(no_longer)
        .update(
            status=Status.WITHDRAWN, decided_at=now, decision_note=_("The reason for the proposal no longer holds.")
        )
    )
    proposed = {}
    for reason, qs in candidates.items():
        proposed[reason] = insert_from_select(
            ReleaseRequest,
            CANDIDATE_FIELDS,
            candidate_columns(qs, reason=reason, today=today, now=now),
            ignore_conflicts=True,
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
