"""Contact with customers: interactions (visits, calls, …), visit plans and their reports, satisfaction ratings."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.selectors import customers_visible_to
from notifications.services import notification_send
from organisation import access
from organisation.models import Staff

from .. import signals
from ..models import Interaction, SatisfactionRating, VisitPlan, VisitPlanItem

FUTURE_TOLERANCE = timedelta(minutes=10)


# ----------------------------------------------------------------------------------------------------------------
# Interactions
# ----------------------------------------------------------------------------------------------------------------


def _check_interaction(interaction: Interaction) -> None:
    errors = {}
    if interaction.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = _("An interaction cannot be in the future.")
    if (
        interaction.next_follow_up_on
        and interaction.next_follow_up_on < timezone.localtime(interaction.occurred_at).date()
    ):
        errors["next_follow_up_on"] = _("The next follow-up cannot be before the interaction.")
    if interaction.next_action and not interaction.next_follow_up_on:
        errors["next_follow_up_on"] = _("Give a date for the next action.")
    if errors:
        raise ValidationError(errors)


def _check_visible(staff: Staff, customer) -> None:
    """The actor's writes about a customer need the customer in their scope (the one access policy)."""
    if not customers_visible_to(staff).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("This customer is not in your scope."))


def _touch_last_contact(customer_id: int, occurred_at: datetime) -> None:
    """Keep Customer.last_contacted_at the latest contact (one conditional UPDATE)."""

    Customer.objects.filter(pk=customer_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=occurred_at)
    ).update(last_contacted_at=occurred_at)


@transaction.atomic
def interaction_log(
    *,
    actor,
    customer,
    channel: str = Interaction.Channel.VISIT,
    purpose: str = Interaction.Purpose.MAINTENANCE,
    occurred_at: datetime | None = None,
    outcome: str = Interaction.Outcome.REACHED,
    notes: str = "",
    products=(),
    next_follow_up_on: date | None = None,
    next_action: str = "",
    close_follow_ups=(),
) -> Interaction:
    """Record a contact with a customer in the actor's scope. Keeps the customer's last contact current; reminders
    (through ``signals.interaction_recorded``) close the follow-ups named in ``close_follow_ups`` (ids of the
    actor's open follow-ups of this customer: any other id is a ValidationError and nothing is written), close
    the regular-contact follow-up and create the one the interaction asks for — all in this transaction."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    _check_visible(staff, customer)
    now = timezone.now()
    interaction = Interaction(
        customer=customer,
        staff=staff,
        channel=channel,
        purpose=purpose,
        occurred_at=occurred_at or now,
        outcome=outcome,
        notes=notes,
        next_follow_up_on=next_follow_up_on,
        next_action=next_action,
        created_at=now,
        updated_at=now,
    )
    interaction.full_clean()
    _check_interaction(interaction)
    interaction.save()
    if products:
        interaction.products.set(products)
    if interaction.outcome != Interaction.Outcome.NO_ANSWER:
        _touch_last_contact(customer.pk, interaction.occurred_at)
    # Reminders close the chosen follow-ups and the regular-contact one, and create the follow-up it asks for.
    signals.interaction_recorded.send(
        sender=Interaction,
        interaction=interaction,
        staff=staff,
        created=True,
        close_follow_ups=tuple(close_follow_ups or ()),
    )
    return interaction


@transaction.atomic
def interaction_update(*, actor, interaction: Interaction, products=None, **fields) -> Interaction:
    """Correct an interaction: only its author, and only within 24 hours of logging it."""
    staff = access.actor_staff(actor)
    interaction = Interaction.objects.select_for_update().select_related("customer").get(pk=interaction.pk)
    if not interaction.editable_by(staff):
        raise PermissionDenied(_("Only the author can change an interaction, within 24 hours of logging it."))
    allowed = {"channel", "purpose", "occurred_at", "outcome", "notes", "next_follow_up_on", "next_action"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(interaction, name, value)
    interaction.updated_at = timezone.now()
    interaction.full_clean()
    _check_interaction(interaction)
    interaction.save()
    if products is not None:
        interaction.products.set(products)
    if interaction.outcome != Interaction.Outcome.NO_ANSWER:
        _touch_last_contact(interaction.customer_id, interaction.occurred_at)
    signals.interaction_recorded.send(sender=Interaction, interaction=interaction, staff=staff, created=False)
    return interaction


# ----------------------------------------------------------------------------------------------------------------
# Visit plans (拜访计划) and reports (拜访报告)
# ----------------------------------------------------------------------------------------------------------------


def _own_plan(actor, plan: VisitPlan) -> tuple[Staff, VisitPlan]:
    staff = access.actor_staff(actor)
    plan = VisitPlan.objects.select_for_update().select_related("staff__branch").get(pk=plan.pk)
    if plan.staff_id != staff.pk:
        raise PermissionDenied(_("Only the RM who made the plan can change it."))
    return staff, plan


def _check_plan_customers(staff: Staff, customers) -> None:
    if not customers:
        raise ValidationError({"customers": _("Choose at least one customer to visit.")})

    visible = set(
        customers_visible_to(staff.user).filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True)
    )
    if len(visible) != len({c.pk for c in customers}):
        raise PermissionDenied(_("You can only plan visits to your own customers."))


@transaction.atomic
def visit_plan_create(
    *, actor, planned_on: date, customers, purpose: str, preparation: str = "", notes: dict | None = None
) -> VisitPlan:
    staff = access.actor_staff(actor)
    if staff.role != Staff.Role.RM:
        raise PermissionDenied(_("Visit plans are made by relationship managers."))
    if planned_on < timezone.localdate():
        raise ValidationError({"planned_on": _("A visit plan is for today or a later day.")})
    _check_plan_customers(staff, customers)
    plan = VisitPlan(staff=staff, planned_on=planned_on, purpose=purpose, preparation=preparation)
    plan.full_clean()
    plan.save()
    notes = notes or {}
    VisitPlanItem.objects.bulk_create(
        VisitPlanItem(plan=plan, customer=c, note=notes.get(c.pk, "")[:200]) for c in customers
    )
    return plan


@transaction.atomic
def visit_plan_update(
    *, actor, plan: VisitPlan, planned_on: date, customers, purpose: str, preparation: str = ""
) -> VisitPlan:
    staff, plan = _own_plan(actor, plan)
    if not plan.is_editable:
        raise ValidationError(_("Only a draft or returned plan can be changed."))
    if planned_on < timezone.localdate():
        raise ValidationError({"planned_on": _("A visit plan is for today or a later day.")})
    _check_plan_customers(staff, customers)
    plan.planned_on, plan.purpose, plan.preparation = planned_on, purpose, preparation
    plan.full_clean()
    plan.save()
    keep = {c.pk for c in customers}
    plan.items.exclude(customer_id__in=keep).delete()
    have = set(plan.items.values_list("customer_id", flat=True))
    VisitPlanItem.objects.bulk_create(VisitPlanItem(plan=plan, customer=c) for c in customers if c.pk not in have)
    return plan


@transaction.atomic
def visit_plan_submit(*, actor, plan: VisitPlan) -> VisitPlan:
    staff, plan = _own_plan(actor, plan)
    if not plan.is_editable:
        raise ValidationError(_("This plan has already been submitted."))
    plan.status = VisitPlan.Status.SUBMITTED
    plan.save(update_fields=["status"])
    heads = Staff.objects.filter(
        role=Staff.Role.HEAD, status=Staff.Status.ACTIVE, branch__in=staff.branch.ancestors_and_self()
    )
    notification_send(
        list(heads),
        _("%(name)s submitted a visit plan for %(day)s.") % {"name": staff.name, "day": plan.planned_on.isoformat()},
        reverse("relationships:visit-plan-detail", args=[plan.pk]),
    )
    return plan


@transaction.atomic
def visit_plan_create_and_submit(
    *, actor, planned_on: date, customers, purpose: str, preparation: str = "", notes: dict | None = None
) -> VisitPlan:
    """Create a plan and submit it for approval in one transaction: either both happen or neither."""
    plan = visit_plan_create(
        actor=actor, planned_on=planned_on, customers=customers, purpose=purpose, preparation=preparation, notes=notes
    )
    return visit_plan_submit(actor=actor, plan=plan)


@transaction.atomic
def visit_plan_review(*, actor, plan: VisitPlan, approve: bool, note: str = "") -> VisitPlan:
    """A branch head above the RM approves the plan, or returns it with a note."""

    head = access.actor_staff(actor)
    plan = VisitPlan.objects.select_for_update().select_related("staff__branch").get(pk=plan.pk)
    if plan.status != VisitPlan.Status.SUBMITTED:
        raise ValidationError(_("Only a submitted plan can be reviewed."))
    if head.pk == plan.staff_id or not access.can_approve(head, plan.staff.branch):
        raise PermissionDenied(_("Only a branch head above the RM can review the plan."))
    if not approve and not (note or "").strip():
        raise ValidationError({"note": _("Say what should change.")})
    plan.status = VisitPlan.Status.APPROVED if approve else VisitPlan.Status.RETURNED
    plan.reviewed_by, plan.reviewed_at, plan.review_note = head, timezone.now(), (note or "").strip()[:200]
    plan.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    text = (
        _("Your visit plan for %(day)s was approved.")
        if approve
        else _("Your visit plan for %(day)s was returned: %(note)s")
    ) % {"day": plan.planned_on.isoformat(), "note": plan.review_note}
    notification_send([plan.staff], text, reverse("relationships:visit-plan-detail", args=[plan.pk]))
    return plan


@transaction.atomic
def visit_plan_report(*, actor, plan: VisitPlan, reports: dict[int, dict]) -> VisitPlan:
    """After the visits, the RM files the report: one interaction per visited customer (``reports`` maps a plan
    item id to the interaction's fields). Items without a report stay unvisited."""
    staff, plan = _own_plan(actor, plan)
    if plan.status != VisitPlan.Status.APPROVED:
        raise ValidationError(_("Only an approved plan can be reported."))
    if not reports:
        raise ValidationError(_("Report at least one visit."))
    items = {i.pk: i for i in plan.items.select_related("customer").select_for_update()}
    for item_id, fields in reports.items():
        item = items.get(item_id)
        if item is None or item.interaction_id:
            raise ValidationError(_("Unknown or already reported visit."))
        interaction = interaction_log(
            actor=actor,
            customer=item.customer,
            channel=Interaction.Channel.VISIT,
            purpose=plan.purpose,
            occurred_at=fields.get("occurred_at") or timezone.now(),
            outcome=fields.get("outcome", Interaction.Outcome.REACHED),
            notes=fields.get("notes", ""),
            next_follow_up_on=fields.get("next_follow_up_on"),
            next_action=fields.get("next_action", ""),
        )
        item.interaction = interaction
        item.save(update_fields=["interaction"])
    plan.status, plan.reported_at = VisitPlan.Status.REPORTED, timezone.now()
    plan.save(update_fields=["status", "reported_at"])
    return plan


@transaction.atomic
def visit_plan_cancel(*, actor, plan: VisitPlan) -> VisitPlan:
    _staff_, plan = _own_plan(actor, plan)
    if plan.status not in VisitPlan.OPEN_STATES:
        raise ValidationError(_("This plan can no longer be cancelled."))
    plan.status = VisitPlan.Status.CANCELLED
    plan.save(update_fields=["status"])
    return plan


def visit_items_move(*, moves: dict[int, Staff], previous: dict[int, int], note: str) -> int:
    """Planned, unreported visits to moved customers leave the previous RM's open plans and go to a draft plan of
    the new RM for the same day (which the new RM submits for approval). Returns the number of visits moved."""
    items = list(
        VisitPlanItem.objects.filter(
            customer_id__in=list(moves), interaction__isnull=True, plan__status__in=VisitPlan.OPEN_STATES
        ).select_related("plan")
    )
    items = [i for i in items if i.plan.staff_id == previous.get(i.customer_id)]
    groups: dict[tuple, list[VisitPlanItem]] = defaultdict(list)
    for item in items:
        groups[(moves[item.customer_id].pk, item.plan.planned_on, item.plan.purpose)].append(item)
    for (staff_id, day, purpose), group in groups.items():
        plan, _created = VisitPlan.objects.get_or_create(
            staff_id=staff_id,
            planned_on=day,
            purpose=purpose,
            status=VisitPlan.Status.DRAFT,
            defaults={"preparation": note[:200]},
        )
        VisitPlanItem.objects.filter(pk__in=[i.pk for i in group]).update(plan=plan)
    emptied = {i.plan_id for i in items}
    VisitPlan.objects.filter(pk__in=emptied, items__isnull=True).update(
        status=VisitPlan.Status.CANCELLED, review_note=note[:200]
    )
    return len(items)


# ----------------------------------------------------------------------------------------------------------------
# Satisfaction (满意度)
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def rating_record(
    *,
    actor,
    customer,
    score: int,
    comment: str = "",
    rated_staff: Staff | None = None,
    interaction: Interaction | None = None,
) -> SatisfactionRating:
    """Record a customer's rating after a callback (回访). The rated staff member (by default the customer's RM,
    or the author of the rated interaction) may not record their own rating."""
    recorder = access.actor_staff(actor)
    _check_visible(recorder, customer)
    if interaction is not None:
        if interaction.customer_id != customer.pk:
            raise ValidationError(_("The interaction belongs to another customer."))
        rated_staff = rated_staff or interaction.staff
    rated_staff = rated_staff or customer.primary_rm
    if rated_staff is None:
        raise ValidationError(_("The customer has no RM to rate."))
    if rated_staff.pk == recorder.pk:
        raise PermissionDenied(_("A rating of you must be recorded by someone else."))
    rating = SatisfactionRating(
        customer=customer,
        rated_staff=rated_staff,
        interaction=interaction,
        score=score,
        comment=comment,
        recorded_by=recorder,
    )
    rating.full_clean()
    rating.save()
    return rating
