"""Writes of opportunities (docs/opportunities.md): create one (by hand, from a contact, from a campaign), change its
stage, edit its amount and date; hand open ones on with their customer (reassignment, handover, the pool); the
morning reminder of stale ones; the reconciliation of won ones with the core-banking holdings.

Every action reads the same way: establish who acts (``access.actor_staff``), lock the row, check that the actor may
see the customer and may change the opportunity, check the stage rule, change, append an event. The moves and the
daily jobs are set-based: a few statements whatever the number of customers."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, NullIf, TruncDate
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm_site.sql import insert_from_select
from customers.models import Customer, Holding, Product
from customers.selectors import customers_visible_to
from notifications.services import notifications_send_each
from organisation import access
from organisation.models import Staff
from pool.keepers import keeper_expression, keepers_of
from relationships.models import Assignment, Interaction

from .models import MIN_AMOUNT, Opportunity, OpportunityEvent, OpportunityRules, StaleNotice
from .selectors import stale_q

Stage = Opportunity.Stage
OPEN = Opportunity.OPEN_STAGES
MAX_DAYS_AHEAD = 730  # an expected date at most two years ahead

# Why an open opportunity changed owner, as its event records it (``OpportunityEvent.data["why"]``).
WHY_MOVED, WHY_HANDOVER, WHY_POOL_OUT, WHY_POOL_IN, WHY_KEEPER = "moved", "handover", "pool_out", "pool_in", "keeper"

EVENT_COLUMNS = [
    "opportunity",
    "kind",
    "actor",
    "at",
    "from_stage",
    "to_stage",
    "from_owner",
    "to_owner",
    "text",
    "data",
]


# ----------------------------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------------------------


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)) if value is not None and value != "" else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < MIN_AMOUNT:
        raise ValidationError({"amount": _("The expected amount must be more than zero.")})
    return amount


def _check_expected(expected_on: date | None, today: date) -> None:
    if expected_on is None:
        raise ValidationError({"expected_on": _("Give the day the sale is expected.")})
    if expected_on < today:
        raise ValidationError({"expected_on": _("The expected date is in the past. Choose today or a later day.")})
    if expected_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({"expected_on": _("The expected date is at most two years ahead.")})


def _may_see(staff: Staff, customer_id: int) -> bool:
    return customers_visible_to(staff).filter(pk=customer_id).exists()


def _check_may_change(staff: Staff | None, opportunity: Opportunity) -> None:
    """The customer is still the actor's to see, and the actor is the owner, a head above the customer's branch or
    an administrator (the SYSTEM actor skips both)."""
    if staff is None:
        return
    if not _may_see(staff, opportunity.customer_id):
        raise PermissionDenied(
            _("This customer is no longer yours to see: their opportunities are not yours to change.")
        )
    if not (opportunity.owner_id == staff.pk or access.can_approve(staff, opportunity.branch)):
        raise PermissionDenied(_("Only the opportunity's owner, a head above it or an administrator can change it."))


def _locked(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update(of=("self",)).select_related("branch").get(pk=opportunity.pk)


def _event(opportunity: Opportunity, kind: str, staff: Staff | None, at: datetime, **fields) -> OpportunityEvent:
    event = OpportunityEvent(opportunity=opportunity, kind=kind, actor=staff, at=at, **fields)
    event.save()
    return event


def _owner_for(staff: Staff | None, customer: Customer) -> Staff:
    """Who owns a new opportunity: the RM who opens it; else the customer's RM; for a pool customer, the outlet's
    pool keeper; else the head or administrator who opens it."""
    if staff is not None and staff.role == Staff.Role.RM:
        return staff
    if customer.primary_rm_id:
        return Staff.objects.get(pk=customer.primary_rm_id)
    keeper = keepers_of([customer.branch_id]).get(customer.branch_id)
    if keeper is not None:
        return Staff.objects.get(pk=keeper)
    if staff is not None:
        return staff
    raise ValidationError(_("This customer has neither an RM nor a pool keeper: nobody could own the opportunity."))


def _product_and_kind(product: Product | None, product_category: str) -> tuple[Product | None, str]:
    if product is not None:
        if product_category and product_category != product.category:
            raise ValidationError({"product": _("The product is not of the kind chosen.")})
        return product, product.category
    if product_category not in Product.Category.values:
        raise ValidationError({"product_category": _("Choose the product, or at least its kind.")})
    return None, product_category


# ----------------------------------------------------------------------------------------------------------------
# Create, stage, edit
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    actor,
    customer: Customer,
    amount,
    expected_on: date,
    product: Product | None = None,
    product_category: str = "",
    stage: str = Stage.LEAD,
    note: str = "",
    source: str = Opportunity.Source.MANUAL,
    interaction: Interaction | None = None,
    source_ref: int | None = None,
) -> Opportunity:
    """Open an opportunity for a customer the actor may see (a campaign's job acts as ``SYSTEM``). It starts at an
    open stage and is owned by the RM who opens it — else the customer's RM, or the pool's keeper for a pool
    customer. ``interaction``: the contact it came from (the source is then "interaction"); ``source_ref``: the id
    of the record of the app that opened it (a campaign's target) — a second call with the same source and
    reference returns the first opportunity, so a retry opens nothing twice."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    if source not in Opportunity.Source.values:
        raise ValidationError(_("Unknown source."))
    if source_ref is not None:
        existing = Opportunity.objects.filter(source=source, source_ref=source_ref).first()
        if existing is not None:
            return existing
    customer = Customer.objects.get(pk=customer.pk)
    if staff is not None and not _may_see(staff, customer.pk):
        raise PermissionDenied(_("This customer is not in your scope."))
    if customer.closed_on is not None:
        raise ValidationError(_("This customer has closed their relationship with the bank: no new opportunity."))
    if interaction is not None:
        if interaction.customer_id != customer.pk:
            raise ValidationError(_("That contact was with another customer."))
        source = Opportunity.Source.INTERACTION
    elif source == Opportunity.Source.INTERACTION:
        raise ValidationError(_("Choose the contact the opportunity came from."))
    if source == Opportunity.Source.CAMPAIGN and source_ref is None:
        raise ValidationError(_("An opportunity from a campaign names the campaign's record."))
    if stage not in OPEN:
        raise ValidationError({"stage": _("A new opportunity starts as a lead, an interest or a proposal.")})
    product, product_category = _product_and_kind(product, product_category)
    amount = _amount(amount)
    now = timezone.now()
    _check_expected(expected_on, timezone.localdate(now))
    owner = _owner_for(staff, customer)
    opportunity = Opportunity(
        customer=customer,
        branch_id=customer.branch_id,
        owner=owner,
        product=product,
        product_category=product_category,
        amount=amount,
        expected_on=expected_on,
        stage=stage,
        note=(note or "").strip(),
        source=source,
        interaction=interaction,
        source_ref=source_ref,
        created_by=staff,
        created_at=now,
        updated_at=now,
        stage_changed_at=now,
    )
    opportunity.full_clean()
    try:
        with transaction.atomic():
            opportunity.save()
    except IntegrityError:
        if source_ref is None:
            raise
        return Opportunity.objects.get(source=source, source_ref=source_ref)  # opened a moment ago by a retry
    _event(
        opportunity, OpportunityEvent.Kind.CREATED, staff, now, to_stage=stage, to_owner=owner,
        data={"amount": str(amount), "expected_on": expected_on.isoformat(), "source": source},
    )  # fmt: skip
    return opportunity


@transaction.atomic
def opportunity_stage_set(
    *,
    actor,
    opportunity: Opportunity,
    stage: str,
    lost_reason: str = "",
    lost_note: str = "",
    won_on: date | None = None,
) -> Opportunity:
    """Move an opportunity to another stage. Between the open stages, either way; to won (成交) with the day it was
    won (today by default; not in the future, not before it was created), which starts the check against the
    holdings; to lost (失败) with the reason. A lost one may be reopened. A won one is closed: only an
    administrator may change its stage (which clears its check)."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    opportunity = _locked(opportunity)
    _check_may_change(staff, opportunity)
    old = opportunity.stage
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Choose a stage.")})
    if stage == old:
        raise ValidationError({"stage": _("The opportunity is already at this stage.")})
    if old == Stage.WON and staff is not None and staff.role != Staff.Role.ADMIN:
        raise ValidationError(_("A won opportunity is closed: only an administrator can change its stage."))
    now = timezone.now()
    today = timezone.localdate(now)
    o = opportunity
    o.lost_reason, o.lost_note = "", ""
    o.won_on, o.match_status, o.matched_holding, o.matched_at = None, "", None, None
    if stage == Stage.LOST:
        if lost_reason not in Opportunity.LostReason.values:
            raise ValidationError({"lost_reason": _("Choose why the opportunity was lost.")})
        o.lost_reason, o.lost_note = lost_reason, (lost_note or "").strip()
    if stage == Stage.WON:
        won_on = won_on or today
        if won_on > today:
            raise ValidationError({"won_on": _("The day it was won cannot be in the future.")})
        if won_on < timezone.localdate(o.created_at):
            raise ValidationError({"won_on": _("The day it was won cannot be before the opportunity was created.")})
        o.won_on, o.match_status = won_on, Opportunity.Match.PENDING
    o.stage, o.stage_changed_at, o.updated_at = stage, now, now
    o.full_clean()
    o.save()
    data = {"won_on": won_on.isoformat()} if stage == Stage.WON else {}
    if stage == Stage.LOST:
        data = {"lost_reason": o.lost_reason}
    _event(o, OpportunityEvent.Kind.STAGE, staff, now, from_stage=old, to_stage=stage, text=o.lost_note, data=data)
    return o


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, amount, expected_on: date, note: str | None = None):
    """Change an open opportunity's expected amount and date (and its note). The amount stays above zero; a date that
    changes must be today or later (an expected date already past may be kept while the amount is corrected)."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    opportunity = _locked(opportunity)
    _check_may_change(staff, opportunity)
    if not opportunity.is_open:
        raise ValidationError(
            _("Only an open opportunity can be edited: this one is %(stage)s.")
            % {"stage": opportunity.get_stage_display()}
        )
    amount = _amount(amount)
    now = timezone.now()
    changes = {}
    if amount != opportunity.amount:
        changes["amount"] = [str(opportunity.amount), str(amount)]
    if expected_on != opportunity.expected_on:
        _check_expected(expected_on, timezone.localdate(now))
        changes["expected_on"] = [opportunity.expected_on.isoformat(), expected_on.isoformat()]
    note = opportunity.note if note is None else note.strip()
    if not changes and note == opportunity.note:
        return opportunity
    opportunity.amount, opportunity.expected_on, opportunity.note, opportunity.updated_at = (
        amount,
        expected_on,
        note,
        now,
    )
    opportunity.full_clean()
    opportunity.save(update_fields=["amount", "expected_on", "note", "updated_at"])
    if changes:
        _event(opportunity, OpportunityEvent.Kind.EDITED, staff, now, data=changes)
    return opportunity


# ----------------------------------------------------------------------------------------------------------------
# Open opportunities follow the customer (relationships' and the pool's signals, opportunities.receivers)
# ----------------------------------------------------------------------------------------------------------------


def _not_secondary_owned() -> Exists:
    """The owner is a current secondary RM (协管) of the customer: those opportunities stay with them."""
    return Exists(
        Assignment.objects.current()
        .secondary()
        .filter(customer_id=OuterRef("customer_id"), staff_id=OuterRef("owner_id"))
    )


def _hand_on(
    rows: QuerySet[Opportunity], to_owner: int, *, why: str, actor: Staff | None, now: datetime, keep_secondary=True
) -> int:
    """Give the open opportunities of ``rows`` to ``to_owner``: one INSERT … SELECT of their events (who had them),
    then one UPDATE. Those already theirs, and (``keep_secondary``) those of a secondary RM of the customer, are left
    alone."""
    rows = rows.filter(stage__in=OPEN).exclude(owner_id=to_owner)
    if keep_secondary:
        rows = rows.exclude(_not_secondary_owned())
    events = rows.annotate(
        _kind=Value(OpportunityEvent.Kind.OWNER, output_field=CharField()),
        _actor=Value(actor.pk if actor else None, output_field=BigIntegerField()),
        _at=Value(now, output_field=DateTimeField()),
        _to=Value(to_owner, output_field=BigIntegerField()),
        _text=Value("", output_field=CharField()),
        _data=Value({"why": why}, output_field=JSONField()),
    ).values_list("pk", "_kind", "_actor", "_at", "stage", "stage", "owner_id", "_to", "_text", "_data")
    if not insert_from_select(OpportunityEvent, EVENT_COLUMNS, events):
        return 0
    return rows.update(owner_id=to_owner, updated_at=now)


def _by_target(targets: dict[int, int | None]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for customer_id, owner in targets.items():
        if owner is not None:
            grouped[owner].append(customer_id)
    return grouped


def opportunities_follow_customers(
    *, targets: dict[int, int | None], why: str, actor: Staff | None = None, now: datetime | None = None
) -> int:
    """Customers changed hands ({customer id: the staff id who looks after them now, or None}): their open
    opportunities go to that person — two statements per receiving person. Closed ones stay with who won or lost
    them; a secondary RM's own stay theirs; a customer with nobody (a pool without keeper) keeps them where they
    are until someone takes the customer."""
    now = now or timezone.now()
    moved = 0
    for owner, customer_ids in _by_target(targets).items():
        rows = Opportunity.objects.filter(customer_id__in=customer_ids)
        moved += _hand_on(rows, owner, why=why, actor=actor, now=now)
    return moved


def opportunities_follow_branch(*, customer_ids) -> int:
    """The customers' home branch changed (a move to an RM of another outlet): every opportunity of theirs, open or
    closed, takes the customer's branch again (the pipeline's subtree is the customer's). One UPDATE."""
    home = Customer.objects.filter(pk=OuterRef("customer_id")).values("branch_id")[:1]
    return (
        Opportunity.objects.filter(customer_id__in=list(customer_ids))
        .exclude(branch_id=Subquery(home))
        .update(branch_id=Subquery(home))
    )


def opportunities_of_leaver_to(*, leaver: Staff, fallback: Staff, actor: Staff | None = None) -> int:
    """After a leaver's handover, whatever open opportunity they still own (of a customer that was not theirs to hand
    over: one they looked after as a secondary RM, a pool they kept) goes to whoever looks after that customer now —
    the primary RM, else the pool's keeper — else to the receiving RM named for the rest. Two statements per
    receiving person, and one to find them."""
    now = timezone.now()
    rows = Opportunity.objects.filter(owner=leaver, stage__in=OPEN).annotate(
        _to=Coalesce(
            NullIf(F("customer__primary_rm_id"), Value(leaver.pk)),
            keeper_expression("customer__branch_id"),
            Value(fallback.pk),
            output_field=BigIntegerField(),
        )
    )
    moved = 0
    for target in sorted(set(rows.values_list("_to", flat=True))):
        # The leaver kept the customer's pool: the pool has a new keeper only once one is named.
        to_owner = fallback.pk if target == leaver.pk else target
        moved += _hand_on(
            Opportunity.objects.filter(pk__in=rows.filter(_to=target).values("pk")),
            to_owner, why=WHY_HANDOVER, actor=actor, now=now, keep_secondary=False,
        )  # fmt: skip
    return moved


def opportunities_to_new_keeper(*, branch_id: int, new: int | None) -> int:
    """The keeper of an outlet's pool changed: the open opportunities of the pool's customers go to the new keeper
    (none move while the pool has no keeper)."""
    if new is None:
        return 0
    pool = Customer.objects.filter(branch_id=branch_id, primary_rm__isnull=True).values("pk")
    rows = Opportunity.objects.filter(customer_id__in=pool)
    return _hand_on(rows, new, why=WHY_KEEPER, actor=None, now=timezone.now())


# ----------------------------------------------------------------------------------------------------------------
# The morning reminder of stale opportunities
# ----------------------------------------------------------------------------------------------------------------


def _pipeline_url(staff_id: int, role: str) -> str:
    if role == Staff.Role.RM:
        return reverse("opportunities:my-pipeline") + "?flag=stale"
    return reverse("opportunities:pipeline") + f"?rm={staff_id}&flag=stale"


@transaction.atomic
def opportunity_stale_reminders(*, today: date | None = None) -> dict:
    """Tell each owner, once a day, how many of their open opportunities are stale — the expected date has passed,
    or the stage has not moved for ``OpportunityRules.stale_days`` days — with a link to them. One notice per owner
    and day (``StaleNotice``, unique): the day's notices are inserted in one INSERT … SELECT … ON CONFLICT DO
    NOTHING, claimed (FOR UPDATE SKIP LOCKED), told in one INSERT and marked, in one transaction; a second run,
    or two at once, tells nobody twice."""
    today = today or timezone.localdate()
    rules = OpportunityRules.current()
    per_owner = (
        Opportunity.objects.filter(stale_q(today, rules), owner__status__in=[Staff.Status.ACTIVE, Staff.Status.LEAVING])
        .values("owner_id")
        .annotate(_day=Value(today, output_field=DateField()), n=Count("pk"))
        .values_list("owner_id", "_day", "n")
    )
    insert_from_select(StaleNotice, ["owner", "day", "opportunities"], per_owner, ignore_conflicts=True)
    notices = list(
        StaleNotice.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(day=today, notified_at__isnull=True)
        .select_related("owner")
        .order_by("owner_id")
    )
    if not notices:
        return {"owners": 0, "opportunities": 0}
    with translation.override("zh-hans"):
        messages = [
            (
                n.owner_id,
                ngettext(
                    "%(n)s opportunity needs you: its expected date has passed or its stage has not moved for "
                    "%(days)s days.",
                    "%(n)s opportunities need you: their expected date has passed or their stage has not moved for "
                    "%(days)s days.",
                    n.opportunities,
                )
                % {"n": n.opportunities, "days": rules.stale_days},
                _pipeline_url(n.owner_id, n.owner.role),
            )
            for n in notices
        ]
    notifications_send_each(messages)
    StaleNotice.objects.filter(pk__in=[n.pk for n in notices]).update(notified_at=timezone.now())
    return {"owners": len(notices), "opportunities": sum(n.opportunities for n in notices)}


# ----------------------------------------------------------------------------------------------------------------
# The reconciliation of won opportunities with the holdings
# ----------------------------------------------------------------------------------------------------------------


def _candidates(pending: QuerySet[Opportunity], window: int, *, by_product: bool) -> list[tuple[int, int, date]]:
    """(opportunity, holding, won on) for each pending one: the customer's first holding, in the product (or, without
    one, of the kind), opened on or after the day the opportunity was created and within ``window`` days of the won
    date, that no other opportunity has matched. One query (the holdings by the customer's index)."""
    span = timedelta(days=window)
    holdings = Holding.objects.filter(
        customer_id=OuterRef("customer_id"),
        opened_on__gte=OuterRef("_from"),
        opened_on__lte=OuterRef("_until"),
        opportunity__isnull=True,
    )
    if by_product:
        holdings = holdings.filter(product_id=OuterRef("product_id"))
    else:
        holdings = holdings.filter(product__category=OuterRef("product_category"))
    rows = (
        pending.filter(product__isnull=not by_product)
        .annotate(
            _from=Greatest(TruncDate("created_at"), F("won_on") - span, output_field=DateField()),
            _until=F("won_on") + span,
        )
        .annotate(_holding=Subquery(holdings.order_by("opened_on", "pk").values("pk")[:1]))
        .filter(_holding__isnull=False)
        .values_list("pk", "_holding", "won_on")
    )
    return list(rows)


@transaction.atomic
def opportunities_reconcile(*, today: date | None = None) -> dict:
    """The daily check of won opportunities against the holdings the core-banking feed loaded: each one waiting
    (待核对) is matched to the holding that shows the sale (``_candidates``; a holding matches one opportunity at
    most, the earliest won first), and one still waiting ``unmatched_after_days`` after it was won is flagged
    unmatched (未匹配). Also puts back any opportunity whose branch is not its customer's. A handful of
    statements; the waiting rows are claimed (FOR UPDATE SKIP LOCKED), so two runs at once never match twice."""
    today = today or timezone.localdate()
    now = timezone.now()
    rules = OpportunityRules.current()
    repaired = opportunities_follow_branch(
        customer_ids=Opportunity.objects.exclude(branch_id=F("customer__branch_id")).values_list(
            "customer_id", flat=True
        )
    )
    waiting = Opportunity.objects.filter(match_status=Opportunity.Match.PENDING)
    pending = waiting.select_for_update(skip_locked=True, of=("self",))
    found = _candidates(pending, rules.match_window_days, by_product=True)
    found += _candidates(pending, rules.match_window_days, by_product=False)
    chosen: dict[int, int] = {}
    taken: set[int] = set()
    for pk, holding, _won in sorted(found, key=lambda r: (r[2], r[0])):
        if holding not in taken:
            chosen[pk] = holding
            taken.add(holding)
    if chosen:
        Opportunity.objects.filter(pk__in=list(chosen), match_status=Opportunity.Match.PENDING).update(
            matched_holding_id=Case(*(When(pk=pk, then=Value(h)) for pk, h in chosen.items())),
            match_status=Opportunity.Match.MATCHED,
            matched_at=now,
            updated_at=now,
        )
        OpportunityEvent.objects.bulk_create(
            OpportunityEvent(opportunity_id=pk, kind=OpportunityEvent.Kind.MATCHED, at=now, data={"holding": h})
            for pk, h in chosen.items()
        )
    overdue = waiting.filter(won_on__lt=today - timedelta(days=rules.unmatched_after_days)).exclude(pk__in=list(chosen))
    events = overdue.annotate(
        _kind=Value(OpportunityEvent.Kind.UNMATCHED, output_field=CharField()),
        _actor=Value(None, output_field=BigIntegerField()),
        _at=Value(now, output_field=DateTimeField()),
        _owner=Value(None, output_field=BigIntegerField()),
        _text=Value("", output_field=CharField()),
        _data=Value({"days": rules.unmatched_after_days}, output_field=JSONField()),
    ).values_list("pk", "_kind", "_actor", "_at", "stage", "stage", "_owner", "_owner", "_text", "_data")
    insert_from_select(OpportunityEvent, EVENT_COLUMNS, events)
    unmatched = overdue.update(match_status=Opportunity.Match.UNMATCHED, matched_at=now, updated_at=now)
    return {"matched": len(chosen), "unmatched": unmatched, "branches_repaired": repaired}
