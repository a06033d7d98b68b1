"""Portfolios (管户): who looks after which customer. Customers move only through an approved request or an
approved handover, never by one person alone; every move ends one assignment and starts another."""

from collections import defaultdict
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from customers.models import Customer
from customers.selectors import customers_visible_to
from notifications.services import notification_send
from organisation import access
from organisation.models import Branch, Staff
from organisation.services import staff_mark_left

from .. import signals
from ..models import Assignment, Handover, HandoverItem, ReassignmentItem, ReassignmentRequest, VisitPlan
from .contact import visit_items_move


def common_branch(paths: list[str]) -> Branch:
    """The lowest branch above (or equal to) every branch of ``paths``: their longest common path prefix."""
    first, *rest = paths
    segments = first.split("/")[:-1]
    for path in rest:
        other = path.split("/")[:-1]
        keep = 0
        while keep < min(len(segments), len(other)) and segments[keep] == other[keep]:
            keep += 1
        segments = segments[:keep]
    if not segments:
        raise ValidationError(_("These customers and the new RM belong to different banks."))
    return Branch.objects.get(path="/".join(segments) + "/")


# ----------------------------------------------------------------------------------------------------------------
# Assignments
# ----------------------------------------------------------------------------------------------------------------


def split_customers(customers, receivers: list, method: str, *, kept: dict | None = None) -> dict:
    """Split ``customers`` ((id, tier id) pairs, largest AUM first) over ``receivers`` (staff ids, in order) by
    ``Handover.Method``: evenly (round-robin by AUM, so that each RM gets a similar share of large customers), or
    by tier (the same within each tier). By hand, the lines in ``kept`` stay and the others are dealt evenly until
    changed one by one. The one rule behind a handover's distribution and an assignment out of the customer pool.
    Returns {customer id: staff id}."""
    kept = kept or {}
    lines: dict = {}
    counters: dict[object, int] = defaultdict(int)
    for customer_id, segment_id in customers:
        if customer_id in kept:
            lines[customer_id] = kept[customer_id]
            continue
        key = segment_id if method == Handover.Method.BY_TIER else "all"
        lines[customer_id] = receivers[counters[key] % len(receivers)]
        counters[key] += 1
    return lines


def assignment_open_primary(*, customer, staff: Staff, reason: str = "", now: datetime | None = None) -> Assignment:
    """The first primary assignment of a newly registered customer (a move uses ``move_customers``)."""
    if not staff.accepts_customers:
        raise ValidationError({"primary_rm": _("The relationship manager must be an active RM.")})
    assignment = Assignment(
        customer=customer, staff=staff, role=Assignment.Role.PRIMARY, started_at=now or timezone.now(), reason=reason
    )
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def assignment_add_secondary(*, actor, customer, staff: Staff, reason: str) -> Assignment:
    """Add a secondary RM (协管户): a branch head of the customer's branch, or an admin, decides it."""
    head = access.actor_staff(actor)
    if not access.can_approve(head, customer.branch):
        raise PermissionDenied(_("Only a branch head of the customer's branch can add a secondary RM."))
    if not staff.accepts_customers:
        raise ValidationError({"staff": _("The secondary RM must be an active RM.")})
    if (
        staff.pk == customer.primary_rm_id
        or Assignment.objects.current().filter(customer=customer, staff=staff).exists()
    ):
        raise ValidationError({"staff": _("This RM already looks after the customer.")})
    assignment = Assignment(
        customer=customer,
        staff=staff,
        role=Assignment.Role.SECONDARY,
        started_at=timezone.now(),
        reason=reason,
        approved_by=head,
    )
    assignment.full_clean()
    assignment.save()
    notification_send(
        [staff], _("You are now secondary RM of %(name)s.") % {"name": customer.name}, _customer_url(customer.pk)
    )
    return assignment


@transaction.atomic
def assignment_end_secondary(*, actor, assignment: Assignment, reason: str) -> Assignment:
    head = access.actor_staff(actor)
    assignment = Assignment.objects.select_for_update().select_related("customer__branch").get(pk=assignment.pk)
    if assignment.role != Assignment.Role.SECONDARY or assignment.ended_at is not None:
        raise ValidationError(_("Only a current secondary assignment can be ended."))
    if not access.can_approve(head, assignment.customer.branch):
        raise PermissionDenied(_("Only a branch head of the customer's branch can end a secondary assignment."))
    assignment.ended_at, assignment.end_reason = timezone.now(), reason
    assignment.save(update_fields=["ended_at", "end_reason"])
    return assignment


def assignments_open_primary_bulk(
    *, moves: dict[int, Staff], reason: str, approved_by: Staff | None, now: datetime
) -> dict[int, Assignment]:
    """Give customers without a primary RM one (id → RM), inside the caller's transaction, in a few set-based
    statements: one UPDATE per RM pointing the customers at them (only those still without an RM: the caller has
    locked the rows and checked), and one INSERT of the new primary assignments, the portfolio history. Returns
    {customer id: the new Assignment}."""
    by_target: dict[Staff, list[int]] = defaultdict(list)
    for customer_id, target in moves.items():
        if not target.accepts_customers:
            raise ValidationError(_("The relationship manager must be an active RM."))
        by_target[target].append(customer_id)
    for target, customer_ids in by_target.items():
        # An RM who was a secondary RM of one of these customers is now their primary RM: that role ends.
        Assignment.objects.current().secondary().filter(customer_id__in=customer_ids, staff=target).update(
            ended_at=now, end_reason=reason[:200]
        )
        updated = Customer.objects.filter(pk__in=customer_ids, primary_rm__isnull=True).update(
            primary_rm=target, updated_at=now
        )
        if updated != len(customer_ids):
            raise ValidationError(_("A customer was given an RM a moment ago. Reload the page and try again."))
    created = Assignment.objects.bulk_create(
        Assignment(
            customer_id=customer_id,
            staff=target,
            role=Assignment.Role.PRIMARY,
            started_at=now,
            reason=reason[:200],
            approved_by=approved_by,
        )
        for customer_id, target in moves.items()
    )
    return {a.customer_id: a for a in created}


@transaction.atomic
def assignment_release_primary(*, actor, customers: dict[int, int], reason: str, now: datetime | None = None) -> dict:
    """Release customers from their primary RM back into their home outlet's pool (the pool app decides when, after
    a branch head's approval): end each current primary assignment with ``reason`` and clear the customer's primary
    RM, in a few set-based statements. ``customers`` is {customer id: the RM expected to hold them}; a customer
    held by someone else by now (moved meanwhile) is left as it is. The customers' rows are locked first, so a move
    approved at the same moment waits for this one (or this one for it). Returns {customer id: previous RM id} of
    the customers released. Their home branch stays: the pool is the home outlet's."""
    approver = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    rows = list(
        Customer.objects.select_for_update(of=("self",))
        .select_related("branch")
        .filter(pk__in=list(customers))
        .order_by("pk")
    )
    if approver is not None and any(not access.can_approve(approver, c.branch) for c in rows):
        raise PermissionDenied(_("Only a branch head above these customers can release them."))
    previous = {c.pk: c.primary_rm_id for c in rows if c.primary_rm_id and c.primary_rm_id == customers[c.pk]}
    if not previous:
        return {}
    now = now or timezone.now()
    ids = list(previous)
    Assignment.objects.current().primary().filter(customer_id__in=ids).update(ended_at=now, end_reason=reason[:200])
    released = [c for c in rows if c.pk in previous]
    for customer in released:
        customer.primary_rm, customer.updated_at = None, now
    # The customers' own history records the release, with who approved it and why.
    bulk_update_with_history(
        released,
        Customer,
        ["primary_rm", "updated_at"],
        default_user=access.history_user(actor),
        default_change_reason=reason[:100],
        default_date=now,
    )
    return previous


def _customer_url(pk) -> str:
    return reverse("customers:customer-detail", args=[pk])


def move_customers(
    *,
    moves: dict[int, Staff],
    reason: str,
    approved_by: Staff,
    now: datetime,
    request: ReassignmentRequest | None = None,
    handover: Handover | None = None,
) -> dict:
    """Move each customer (id → new primary RM) in a few set-based statements, inside the caller's transaction:
    end the current primary assignments, start the new ones, point the customers (and their home branch) at the
    new RM, and hand over what was open for them — follow-ups, visits in open plans, complaint assignments."""

    by_target: dict[Staff, list[int]] = defaultdict(list)
    for customer_id, target in moves.items():
        by_target[target].append(customer_id)
    ids = list(moves)
    previous = dict(
        Assignment.objects.current().primary().filter(customer_id__in=ids).values_list("customer_id", "staff_id")
    )
    Assignment.objects.current().primary().filter(customer_id__in=ids).update(ended_at=now, end_reason=reason[:200])
    for target, customer_ids in by_target.items():
        # The new RM may have been a secondary RM of some of these customers: that role ends now.
        Assignment.objects.current().secondary().filter(customer_id__in=customer_ids, staff=target).update(
            ended_at=now, end_reason=reason[:200]
        )
        Customer.objects.filter(pk__in=customer_ids).update(primary_rm=target, branch=target.branch_id, updated_at=now)
    Assignment.objects.bulk_create(
        Assignment(
            customer_id=customer_id,
            staff=target,
            role=Assignment.Role.PRIMARY,
            started_at=now,
            reason=reason[:200],
            approved_by=approved_by,
            request=request,
            handover=handover,
        )
        for customer_id, target in moves.items()
    )
    moved_visits = visit_items_move(moves=moves, previous=previous, note=reason)
    # Reminders hand over the open follow-ups (and regenerate the customers' reminders after the commit);
    # complaints hand over the complaints the previous RMs handled for these customers.
    moved = signals.counts_of(
        signals.customers_moved.send(sender=Assignment, moves=moves, previous=previous, actor_staff=approved_by)
    )
    return {
        "customers": len(ids),
        "follow_ups": moved.get("follow_ups", 0),
        "visits": moved_visits,
        "complaints": moved.get("complaints", 0),
    }


# ----------------------------------------------------------------------------------------------------------------
# Reassignment requests
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def reassignment_request(*, actor, customers: list, to_staff: Staff, reason: str) -> ReassignmentRequest:
    """Ask to move one or many customers to another RM. ``customers`` must already be scoped to what the actor
    may see; an RM may only move customers whose primary RM they are."""
    requester = access.actor_staff(actor)
    if requester.role not in access.PORTFOLIO_ROLES:
        raise PermissionDenied(_("Your role cannot request reassignments."))
    if not customers:
        raise ValidationError({"customers": _("Choose at least one customer.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the move.")})
    if not to_staff.accepts_customers:
        raise ValidationError({"to_staff": _("The new RM must be an active RM.")})
    if requester.role == Staff.Role.RM and any(c.primary_rm_id != requester.pk for c in customers):
        raise PermissionDenied(_("You can only ask to move customers of your own portfolio."))
    if any(c.primary_rm_id == to_staff.pk for c in customers):
        raise ValidationError({"to_staff": _("Some of these customers already belong to this RM.")})
    ids = [c.pk for c in customers]
    if customers_visible_to(requester).filter(pk__in=ids).count() != len(set(ids)):
        raise PermissionDenied(_("You can only ask to move customers you look after."))
    pending = ReassignmentItem.objects.filter(customer_id__in=ids, request__status=ReassignmentRequest.Status.PENDING)
    if pending.exists():
        raise ValidationError(_("Some of these customers are already in a pending request."))
    paths = list(
        Branch.objects.filter(pk__in={c.branch_id for c in customers} | {to_staff.branch_id}).values_list(
            "path", flat=True
        )
    )
    request = ReassignmentRequest(
        requested_by=requester, to_staff=to_staff, scope_branch=common_branch(paths), reason=reason.strip()
    )
    request.full_clean()
    request.save()
    ReassignmentItem.objects.bulk_create(
        ReassignmentItem(request=request, customer_id=c.pk, from_staff_id=c.primary_rm_id) for c in customers
    )
    approvers = (
        Staff.objects.filter(role=Staff.Role.HEAD, status=Staff.Status.ACTIVE)
        .filter(branch__in=request.scope_branch.ancestors_and_self())
        .exclude(pk=requester.pk)
    )
    notification_send(
        list(approvers),
        _("%(name)s asks to move %(n)s customer(s) to %(rm)s.")
        % {"name": requester.name, "n": len(ids), "rm": to_staff.name},
        reverse("relationships:reassignment-detail", args=[request.pk]),
    )
    return request


def _decide(actor, request: ReassignmentRequest) -> tuple[Staff, ReassignmentRequest]:
    approver = access.actor_staff(actor)
    request = (
        ReassignmentRequest.objects.select_for_update()
        .select_related("scope_branch", "to_staff", "requested_by")
        .get(pk=request.pk)
    )
    if request.status != ReassignmentRequest.Status.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if approver.pk == request.requested_by_id:
        raise PermissionDenied(_("You cannot decide your own request."))
    if not access.can_approve(approver, request.scope_branch):
        raise PermissionDenied(_("Only a branch head above these customers can decide this request."))
    return approver, request


@transaction.atomic
def reassignment_approve(*, actor, request: ReassignmentRequest, note: str = "") -> ReassignmentRequest:
    approver, request = _decide(actor, request)
    if not request.to_staff.accepts_customers:
        raise ValidationError(_("The new RM can no longer receive customers."))
    items = list(request.items.select_related("customer"))
    stale = [i.customer.name for i in items if i.customer.primary_rm_id != i.from_staff_id]
    if stale:
        raise ValidationError(
            _("These customers have changed RM since the request: %(names)s. Reject it and request again.")
            % {"names": "、".join(stale)}
        )
    now = timezone.now()
    result = move_customers(
        moves={i.customer_id: request.to_staff for i in items},
        reason=_("Reassignment #%(id)s: %(reason)s") % {"id": request.pk, "reason": request.reason},
        approved_by=approver,
        now=now,
        request=request,
    )
    request.status, request.decided_by, request.decided_at, request.decision_note = (
        ReassignmentRequest.Status.APPROVED,
        approver,
        now,
        note[:200],
    )
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    url = reverse("relationships:reassignment-detail", args=[request.pk])
    from_staff = Staff.objects.filter(pk__in={i.from_staff_id for i in items})
    notification_send(
        list(from_staff),
        _("%(n)s of your customers moved to %(rm)s (request #%(id)s approved).")
        % {"n": len(items), "rm": request.to_staff.name, "id": request.pk},
        url,
    )
    notification_send(
        [request.to_staff],
        _("%(n)s customers are now in your portfolio (request #%(id)s); %(f)s follow-ups came with them.")
        % {"n": len(items), "id": request.pk, "f": result["follow_ups"]},
        url,
    )
    if request.requested_by_id not in {s.pk for s in from_staff} | {request.to_staff_id}:
        notification_send(
            [request.requested_by], _("Your reassignment request #%(id)s was approved.") % {"id": request.pk}, url
        )
    return request


@transaction.atomic
def reassignment_reject(*, actor, request: ReassignmentRequest, note: str) -> ReassignmentRequest:
    approver, request = _decide(actor, request)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the request is rejected.")})
    request.status, request.decided_by, request.decided_at, request.decision_note = (
        ReassignmentRequest.Status.REJECTED,
        approver,
        timezone.now(),
        note.strip()[:200],
    )
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    notification_send(
        [request.requested_by],
        _("Your reassignment request #%(id)s was rejected: %(note)s")
        % {"id": request.pk, "note": request.decision_note},
        reverse("relationships:reassignment-detail", args=[request.pk]),
    )
    return request


@transaction.atomic
def reassignment_cancel(*, actor, request: ReassignmentRequest) -> ReassignmentRequest:
    requester = access.actor_staff(actor)
    request = ReassignmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.requested_by_id != requester.pk:
        raise PermissionDenied(_("Only the requester can withdraw a request."))
    if request.status != ReassignmentRequest.Status.PENDING:
        raise ValidationError(_("This request has already been decided."))
    request.status = ReassignmentRequest.Status.CANCELLED
    request.save(update_fields=["status"])
    return request


# ----------------------------------------------------------------------------------------------------------------
# Handover when an RM leaves (离职交接)
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def staff_mark_leaving(*, actor, staff: Staff, last_day: date) -> Staff:
    """A branch head records that an RM is leaving: they receive no new customers until the handover is done."""
    head = access.actor_staff(actor)
    staff = Staff.objects.select_for_update().select_related("branch").get(pk=staff.pk)
    if not access.can_approve(head, staff.branch) or head.pk == staff.pk:
        raise PermissionDenied(_("Only a branch head above this RM can record that they are leaving."))
    if staff.role != Staff.Role.RM or staff.status != Staff.Status.ACTIVE:
        raise ValidationError(_("Only an active RM can be marked as leaving."))
    staff.status, staff.left_on = Staff.Status.LEAVING, last_day
    staff.full_clean()
    staff._history_user = actor
    staff.save()
    return staff


def _handover_for_update(handover: Handover) -> Handover:
    return Handover.objects.select_for_update().select_related("leaver__branch", "prepared_by").get(pk=handover.pk)


def _check_preparer(staff: Staff, handover: Handover) -> None:
    """Who prepares a handover: a branch head above the leaver, or an administrator."""
    if not access.can_approve(staff, handover.leaver.branch):
        raise PermissionDenied(_("Only a branch head above the leaving RM can prepare the handover."))


@transaction.atomic
def handover_start(*, actor, leaver: Staff, targets: list[Staff], method: str, note: str = "") -> Handover:
    """Prepare the handover of a leaving RM's whole portfolio across one or more RMs, and distribute it."""
    head = access.actor_staff(actor)
    leaver = Staff.objects.select_related("branch").get(pk=leaver.pk)
    if leaver.status != Staff.Status.LEAVING:
        raise ValidationError(_("Mark the RM as leaving first."))
    if not access.can_approve(head, leaver.branch):
        raise PermissionDenied(_("Only a branch head above this RM can prepare the handover."))
    _check_targets(leaver, targets)
    handover = Handover(leaver=leaver, method=method, last_day=leaver.left_on, note=note, prepared_by=head)
    handover.full_clean()
    handover.save()
    handover.targets.set(targets)
    handover_distribute(actor=actor, handover=handover)
    return handover


def _check_targets(leaver: Staff, targets: list[Staff]) -> None:
    if not targets:
        raise ValidationError({"targets": _("Choose at least one receiving RM.")})
    if any(not t.accepts_customers or t.pk == leaver.pk for t in targets):
        raise ValidationError({"targets": _("Receiving RMs must be active RMs other than the leaver.")})


@transaction.atomic
def handover_distribute(
    *, actor, handover: Handover, method: str | None = None, targets: list[Staff] | None = None
) -> Handover:
    """(Re)distribute the leaver's current customers by rule: evenly (round-robin by AUM, so that each receiving
    RM gets a similar share of large customers), or by tier (the same within each tier). "By hand" keeps the
    lines and lets the head change them one by one (``handover_assign``)."""
    staff = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    handover = _handover_for_update(handover)
    _check_preparer(staff, handover)
    if handover.status not in (Handover.Status.DRAFT, Handover.Status.REJECTED):
        raise ValidationError(_("Only a handover being prepared can be changed."))
    if targets is not None:
        _check_targets(handover.leaver, targets)
        handover.targets.set(targets)
    if method:
        handover.method = method
    handover.status = Handover.Status.DRAFT
    handover.save(update_fields=["method", "status"])
    receivers = [r.pk for r in handover.targets.order_by("employee_no")]
    customers = (
        Customer.objects.filter(primary_rm=handover.leaver).order_by("-aum", "pk").values_list("pk", "segment_id")
    )
    existing = dict(handover.items.values_list("customer_id", "to_staff_id"))
    kept = (
        {c: s for c, s in existing.items() if s in set(receivers)} if handover.method == Handover.Method.MANUAL else {}
    )
    lines = split_customers(customers.iterator(chunk_size=5000), receivers, handover.method, kept=kept)
    handover.items.all().delete()
    HandoverItem.objects.bulk_create(
        (HandoverItem(handover=handover, customer_id=c, to_staff_id=s) for c, s in lines.items()), batch_size=2000
    )
    return handover


@transaction.atomic
def handover_assign(*, actor, handover: Handover, customer_id: int, to_staff: Staff) -> HandoverItem:
    """Change one line of a handover by hand."""
    staff = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    handover = _handover_for_update(handover)
    _check_preparer(staff, handover)
    if handover.status not in (Handover.Status.DRAFT, Handover.Status.REJECTED):
        raise ValidationError(_("Only a handover being prepared can be changed."))
    if not handover.targets.filter(pk=to_staff.pk).exists():
        raise ValidationError(_("Choose one of the receiving RMs of this handover."))
    item = handover.items.select_for_update().get(customer_id=customer_id)
    item.to_staff = to_staff
    item.save(update_fields=["to_staff"])
    if handover.method != Handover.Method.MANUAL:
        handover.method = Handover.Method.MANUAL
        handover.save(update_fields=["method"])
    return item


@transaction.atomic
def handover_submit(*, actor, handover: Handover) -> Handover:
    head = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    handover = _handover_for_update(handover)
    _check_preparer(head, handover)
    if handover.status not in (Handover.Status.DRAFT, Handover.Status.REJECTED):
        raise ValidationError(_("This handover has already been submitted."))
    missing = handover.leaver.primary_customers.exclude(pk__in=handover.items.values("customer_id"))
    if missing.exists():
        raise ValidationError(_("Some customers have no receiving RM yet; distribute again."))
    handover.status = Handover.Status.PENDING
    handover.save(update_fields=["status"])
    approvers = Staff.objects.filter(
        role=Staff.Role.HEAD, status=Staff.Status.ACTIVE, branch__in=handover.leaver.branch.ancestors_and_self()
    ).exclude(pk=head.pk)
    notification_send(
        list(approvers),
        _("The handover of %(name)s awaits your approval.") % {"name": handover.leaver.name},
        reverse("relationships:handover-detail", args=[handover.pk]),
    )
    return handover


@transaction.atomic
def handover_reject(*, actor, handover: Handover, note: str) -> Handover:
    approver = access.actor_staff(actor)
    handover = _handover_for_update(handover)
    _check_decider(approver, handover)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the handover is returned.")})
    handover.status, handover.decided_by, handover.decided_at, handover.decision_note = (
        Handover.Status.REJECTED,
        approver,
        timezone.now(),
        note.strip()[:200],
    )
    handover.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    notification_send(
        [handover.prepared_by],
        _("The handover of %(name)s was returned: %(note)s")
        % {"name": handover.leaver.name, "note": handover.decision_note},
        reverse("relationships:handover-detail", args=[handover.pk]),
    )
    return handover


def _check_decider(approver: Staff, handover: Handover) -> None:
    if handover.status != Handover.Status.PENDING:
        raise ValidationError(_("This handover is not awaiting approval."))
    if approver.pk == handover.prepared_by_id:
        raise PermissionDenied(_("The handover must be approved by someone other than who prepared it."))
    if not access.can_approve(approver, handover.leaver.branch):
        raise PermissionDenied(_("Only a branch head above this RM can approve the handover."))


@transaction.atomic
def handover_approve(*, actor, handover: Handover, note: str = "") -> Handover:
    """Carry out the handover in one transaction: every customer, open follow-up, open visit and open complaint
    assignment moves to the receiving RMs, the leaver's secondary assignments end, and the leaver's account is
    closed. Afterwards nothing open points at the leaver."""

    approver = access.actor_staff(actor)
    handover = _handover_for_update(handover)
    _check_decider(approver, handover)
    leaver = handover.leaver
    lines = dict(handover.items.values_list("customer_id", "to_staff_id"))
    current = set(Customer.objects.filter(primary_rm=leaver).values_list("pk", flat=True))
    if current != set(lines):
        raise ValidationError(_("The leaver's portfolio changed since the handover was prepared; distribute again."))
    receivers = {s.pk: s for s in Staff.objects.filter(pk__in=set(lines.values())).select_related("branch")}
    if any(not s.accepts_customers for s in receivers.values()):
        raise ValidationError(_("A receiving RM can no longer receive customers; distribute again."))
    now = timezone.now()
    reason = _("Handover of %(name)s") % {"name": leaver.name}
    result = move_customers(
        moves={c: receivers[s] for c, s in lines.items()},
        reason=reason,
        approved_by=approver,
        now=now,
        handover=handover,
    )
    # Whatever else is still open for the leaver goes to the first receiving RM: follow-ups of customers no
    # longer in the portfolio, and visit plans with no customer left.
    fallback = receivers[min(receivers, key=lambda pk: receivers[pk].employee_no)] if receivers else None
    if fallback is not None:
        left = signals.counts_of(signals.leaver_handed_over.send(sender=Handover, leaver=leaver, fallback=fallback))
        result["follow_ups"] += left.get("follow_ups", 0)
    result["secondary_ended"] = (
        Assignment.objects.current().filter(staff=leaver).update(ended_at=now, end_reason=reason)
    )
    VisitPlan.objects.filter(staff=leaver, status__in=VisitPlan.OPEN_STATES).update(
        status=VisitPlan.Status.CANCELLED, review_note=reason[:200]
    )
    per_receiver = dict(handover.items.values("to_staff").annotate(n=Count("id")).values_list("to_staff", "n"))
    handover.summary = {**result, "per_receiver": {str(k): v for k, v in per_receiver.items()}}
    handover.status, handover.decided_by, handover.decided_at, handover.decision_note = (
        Handover.Status.APPROVED,
        approver,
        now,
        note[:200],
    )
    handover.save(update_fields=["summary", "status", "decided_by", "decided_at", "decision_note"])

    staff_mark_left(actor=actor, staff=leaver, left_on=handover.last_day)
    url = reverse("relationships:handover-detail", args=[handover.pk])
    for staff_id, n in per_receiver.items():
        notification_send(
            [receivers[staff_id]],
            _("%(n)s customers of %(name)s are now in your portfolio.") % {"n": n, "name": leaver.name},
            url,
        )
    notification_send(
        [handover.prepared_by], _("The handover of %(name)s was approved and carried out.") % {"name": leaver.name}, url
    )
    return handover
