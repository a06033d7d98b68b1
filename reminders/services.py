"""Follow-up reminders: set-based generators, the nightly expiry, the RM's actions, and the morning digest.

Every generator is a handful of ``INSERT … SELECT … ON CONFLICT DO NOTHING`` statements over the whole customer
base (or a given subset). ``FollowUp.dedupe_key`` is unique, so running a generator twice — or two workers at once
— creates nothing twice, and a generator that missed a day creates what was missed the next time it runs: each
one looks at a window of days (birthdays, holidays, maturities, movements) or at the current state (contact
policy, churn risk).
"""

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    JSONField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Abs, Cast, Coalesce, Concat, JSONObject, NullIf, Round, TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.selectors import customers_with_open_complaints
from crm_site.sql import insert_from_select
from customers.masking import mask_name
from customers.models import AssetSnapshot, Customer, Holding, LargeTransaction, Segment
from notifications.services import notification_send
from organisation import access
from organisation.models import Staff
from pool.keepers import customer_owner_expression, keeper_expression
from relationships.models import Interaction
from relationships.services import interaction_log

from . import greetings
from .models import DigestDelivery, FollowUp
from .selectors import today_for

logger = logging.getLogger(__name__)

COLUMNS = [
    "customer",
    "staff",
    "kind",
    "due_on",
    "title",
    "detail",
    "source_ref",
    "dedupe_key",
    "status",
    "created_at",
    "skip_reason",
]
# Kinds that lose their point some days after they were due (a greeting after the holiday), and close themselves.
EXPIRE_AFTER_DAYS = {
    FollowUp.Kind.BIRTHDAY: 1,
    FollowUp.Kind.HOLIDAY: 1,
    FollowUp.Kind.MATURITY: 7,
    FollowUp.Kind.LARGE_MOVEMENT: 14,
}


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _key(*parts) -> Concat:
    """A dedupe key made of literal parts and expressions (ids are cast to text)."""
    exprs = []
    for part in parts:
        if isinstance(part, str):
            exprs.append(_text(part))
        else:
            exprs.append(Cast(part, CharField()))
    return Concat(*exprs, output_field=CharField())


def _insert(rows: QuerySet, *, kind: str, due_on, title, key, source_ref, detail=None, staff="owner_id") -> int:
    """INSERT the follow-ups described by ``rows`` (a customer-shaped queryset: ``customer_id`` and ``staff``
    are expressions on it; ``owner_id`` is the one ``_customers`` and ``_of_customers`` annotate), ignoring those
    whose dedupe key already exists."""
    now = timezone.now()
    annotated = rows.annotate(
        _kind=_text(kind),
        _due=due_on if not isinstance(due_on, date) else Value(due_on, output_field=DateField()),
        _title=title,
        _detail=detail if detail is not None else Value({}, output_field=JSONField()),
        _source=source_ref,
        _key=key,
        _status=_text(FollowUp.Status.OPEN),
        _at=Value(now, output_field=DateTimeField()),
        _skip=_text(""),
    )
    customer = "pk" if rows.model._meta.model_name == "customer" else "customer_id"
    values = annotated.values_list(
        customer, staff, "_kind", "_due", "_title", "_detail", "_source", "_key", "_status", "_at", "_skip"
    )
    return insert_from_select(FollowUp, COLUMNS, values, ignore_conflicts=True)


def _reminded(prefix: str = "") -> Q:
    """The customers reminders are for: not closed in core banking (a closed customer keeps their history and gets
    no new reminder). Who receives them is ``_owner``; a customer without one gets none."""
    return Q(**{f"{prefix}closed_on__isnull": True})


def _owner(prefix: str = ""):
    """Who a customer's reminders go to, as one SQL expression: the primary RM, or for a pool customer (no primary
    RM) the home outlet's pool keeper — the named keeper while active, else the outlet's head (``pool.keepers``).
    NULL for a pool without a keeper: those customers get no reminder and are counted on the dashboards instead.
    ``prefix`` reaches the customer from another table. PostgreSQL's COALESCE stops at the first value that is
    not NULL, so the keeper is looked up only for pool customers."""
    if not prefix:
        return customer_owner_expression()
    return Coalesce(
        F(f"{prefix}primary_rm_id"), keeper_expression(f"{prefix}branch_id"), output_field=BigIntegerField()
    )


def _customers(scope: QuerySet | None):
    """The customers reminders are for, each with ``owner_id`` (``_owner``), those without an owner left out."""
    qs = Customer.objects.filter(_reminded())
    if scope is not None:
        qs = qs.filter(pk__in=scope.values("pk"))
    return qs.annotate(owner_id=_owner()).filter(owner_id__isnull=False)


def _of_customers(rows: QuerySet, scope: QuerySet | None, owner=None) -> QuerySet:
    """The rows of another table (interactions, holdings, transactions) that belong to the customers reminders
    are for (``_customers``), within ``scope``, each with ``owner_id``: the customer's owner (``_owner``), or
    ``owner`` where a kind has its own rule."""
    rows = rows.filter(_reminded("customer__"))
    if scope is not None:
        rows = rows.filter(customer__in=scope.values("pk"))
    return rows.annotate(owner_id=owner if owner is not None else _owner("customer__")).filter(owner_id__isnull=False)


def _open_holdings(scope: QuerySet | None) -> QuerySet:
    """Holdings still open (a holding absent from a later holdings extract is closed) of the reminded customers."""
    return _of_customers(Holding.objects.filter(closed_on__isnull=True), scope)


# ----------------------------------------------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------------------------------------------


def generate_manual(today: date, scope=None) -> int:
    """The follow-ups interactions asked for, should one be missing (the log creates them at once; this catches
    up on interactions loaded in bulk). They go to the primary RM; a pool customer's to whoever logged the
    interaction and promised the next contact, as when the log creates them (``_follow_up_owner``)."""
    interactions = _of_customers(
        Interaction.objects.filter(next_follow_up_on__gte=today - timedelta(days=30)),
        scope,
        owner=Coalesce(F("customer__primary_rm_id"), F("staff_id"), output_field=BigIntegerField()),
    )
    return _insert(
        interactions,
        kind=FollowUp.Kind.MANUAL,
        due_on=F("next_follow_up_on"),
        title=Coalesce(NullIf(F("next_action"), _text("")), Concat(_text("跟进："), F("customer__name"))),
        key=_key("manual:interaction:", F("pk")),
        source_ref=_key("interaction:", F("pk")),
    )


def generate_contact_policy(today: date, scope=None) -> int:
    """定期回访: a customer not contacted within their tier's policy gets one follow-up per policy cycle (the cycle
    is keyed by the date of the last contact, so contacting the customer starts a new one)."""

    created = 0
    tz = timezone.get_current_timezone()
    for segment in Segment.objects.all():
        cutoff = datetime.combine(today - timedelta(days=segment.contact_policy_days), datetime.min.time(), tzinfo=tz)
        due = (
            _customers(scope)
            .filter(segment=segment)
            .exclude(lifecycle=Customer.Lifecycle.LOST)
            .filter(Q(last_contacted_at__lt=cutoff) | Q(last_contacted_at__isnull=True, created_at__lt=cutoff))
        )
        created += _insert(
            due,
            kind=FollowUp.Kind.CONTACT_POLICY,
            due_on=today,
            title=Concat(_text("定期回访："), F("name")),
            key=_key(
                "policy:", F("pk"), ":", Coalesce(Cast(TruncDate("last_contacted_at"), CharField()), _text("never"))
            ),
            source_ref=_text(f"policy:{segment.code}"),
            detail=_json(days=Value(segment.contact_policy_days), tier=_text(segment.name)),
        )
    return created


def generate_birthday(today: date, scope=None) -> int:
    """生日祝福: birthdays in the next REMINDER_BIRTHDAY_LEAD_DAYS days — solar, or lunar for customers who keep
    the lunar birthday; 29 February births in common years on 28 February."""
    created = 0
    for offset in range(settings.REMINDER_BIRTHDAY_LEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        solar = _customers(scope).filter(lunar_birthday=False, birth_md__in=greetings.solar_birthdays_on(day))
        lunar = _customers(scope).filter(lunar_birthday=True, lunar_birth_md__in=greetings.lunar_birthdays_on(day))
        for rows, label, is_lunar in ((solar, "生日祝福：", False), (lunar, "农历生日祝福：", True)):
            created += _insert(
                rows,
                kind=FollowUp.Kind.BIRTHDAY,
                due_on=day,
                title=Concat(_text(label), F("name")),
                key=_key("birthday:", F("pk"), f":{day.isoformat()}"),
                source_ref=_text(f"birthday:{day.isoformat()}"),
                detail=_json(lunar=Value(is_lunar)),
            )
    return created


def generate_holiday(today: date, scope=None) -> int:
    """节日问候: the Chinese public holidays (from the holidays package) and traditional festivals (lunar) in the
    next REMINDER_HOLIDAY_LEAD_DAYS days, for customers of the tiers chosen in admin."""
    created = 0
    for occasion in greetings.occasions_between(today, today + timedelta(days=settings.REMINDER_HOLIDAY_LEAD_DAYS)):
        rows = _customers(scope).filter(segment__holiday_greetings=True)
        created += _insert(
            rows,
            kind=FollowUp.Kind.HOLIDAY,
            due_on=occasion.day,
            title=Concat(_text(f"{occasion.name}问候："), F("name")),
            key=_key(f"holiday:{occasion.key}:{occasion.day.isoformat()}:", F("pk")),
            source_ref=_text(f"holiday:{occasion.key}"),
        )
    return created


def generate_maturity(today: date, scope=None) -> int:
    """到期提醒: open holdings maturing in the next REMINDER_MATURITY_LEAD_DAYS days."""

    holdings = _open_holdings(scope).filter(
        maturity_on__gte=today, maturity_on__lte=today + timedelta(days=settings.REMINDER_MATURITY_LEAD_DAYS)
    )
    return _insert(
        holdings,
        kind=FollowUp.Kind.MATURITY,
        due_on=F("maturity_on"),
        title=Concat(_text("到期提醒："), F("product__name"), _text("（"), F("customer__name"), _text("）")),
        key=_key("maturity:", F("pk"), ":", F("maturity_on")),
        source_ref=_key("holding:", F("pk")),
        detail=_json(amount=F("amount"), product=F("product__name")),
    )


def _json(**fields):
    return JSONObject(**fields)


def _snapshot_dates(today: date, days: int) -> list[date]:
    since = today - timedelta(days=days)
    return sorted(AssetSnapshot.objects.filter(date__gt=since, date__lte=today).dates("date", "day"))


def generate_movement(today: date, scope=None) -> int:
    """资金异动 and 大额交易: a customer's funds moving by at least their tier's threshold, seen either way — a
    day-over-day change of AUM (``_aum_movements``) or a single large transaction (``_large_transactions``)."""
    return _aum_movements(today, scope) + _large_transactions(today, scope)


def _aum_movements(today: date, scope) -> int:
    """A day-over-day change of a customer's AUM of at least their tier's threshold (up or down), for each of the
    last REMINDER_MOVEMENT_LOOKBACK_DAYS snapshot days. The two days are joined, not looked up row by row."""
    created = 0
    for day in _snapshot_dates(today, settings.REMINDER_MOVEMENT_LOOKBACK_DAYS):
        rows = (
            _customers(scope)
            .filter(segment__isnull=False)
            .annotate(
                now=FilteredRelation("snapshots", condition=Q(snapshots__date=day)),
                before=FilteredRelation("snapshots", condition=Q(snapshots__date=day - timedelta(days=1))),
            )
            .filter(now__aum__isnull=False, before__aum__isnull=False)
            .annotate(change=ExpressionWrapper(F("now__aum") - F("before__aum"), output_field=DecimalField()))
            .filter(
                Q(change__gte=F("segment__large_movement_threshold"))
                | Q(change__lte=-F("segment__large_movement_threshold"))
            )
        )
        created += _insert(
            rows,
            kind=FollowUp.Kind.LARGE_MOVEMENT,
            due_on=day,
            title=Concat(
                _text("资金异动："),
                F("name"),
                Case(When(change__lt=0, then=_text(" 减少 ")), default=_text(" 增加 ")),
                Cast(Abs("change"), CharField()),
                _text(" 元"),
            ),
            key=_key("movement:", F("pk"), f":{day.isoformat()}"),
            source_ref=_text(f"snapshot:{day.isoformat()}"),
            detail=_json(previous=F("before__aum"), current=F("now__aum"), change=F("change")),
        )
    return created


def _large_transactions(today: date, scope) -> int:
    """A single transaction (from the core-banking TXN extract) of the last REMINDER_MOVEMENT_LOOKBACK_DAYS
    business days whose amount, in or out, is at least the customer's tier threshold: one follow-up per
    transaction, in one statement."""
    rows = (
        _of_customers(LargeTransaction.objects.all(), scope)
        .filter(
            business_date__gt=today - timedelta(days=settings.REMINDER_MOVEMENT_LOOKBACK_DAYS),
            business_date__lte=today,
            customer__segment__isnull=False,
        )
        .annotate(size=Abs("amount"))
        .filter(size__gte=F("customer__segment__large_movement_threshold"))
    )
    return _insert(
        rows,
        kind=FollowUp.Kind.LARGE_MOVEMENT,
        due_on=F("business_date"),
        title=Concat(
            _text("大额交易："),
            F("customer__name"),
            Case(When(amount__lt=0, then=_text(" 转出 ")), default=_text(" 转入 ")),
            Cast("size", CharField()),
            _text(" 元"),
        ),
        key=_key("txn:", F("pk")),
        source_ref=_key("txn:", F("pk")),
        detail=_json(amount=F("amount"), channel=F("channel"), time=F("txn_time")),
    )


def generate_churn(today: date, scope=None) -> int:
    """流失预警: customers (not already lost, nor prospects) with at least one warning sign — no contact for
    CHURN_NO_CONTACT_DAYS, AUM falling across the last two months by CHURN_AUM_DROP_PERCENT or more (today below
    30 days ago below 60 days ago), or an open complaint. The follow-up carries the reasons; one a month."""

    tz = timezone.get_current_timezone()
    cutoff = datetime.combine(today - timedelta(days=settings.CHURN_NO_CONTACT_DAYS), datetime.min.time(), tzinfo=tz)
    drop = (100 - settings.CHURN_AUM_DROP_PERCENT) / 100
    no_contact = Q(last_contacted_at__lt=cutoff) | Q(last_contacted_at__isnull=True, created_at__lt=cutoff)
    falling = Q(m30__aum__lt=F("m60__aum"), aum__lt=F("m30__aum"), aum__lte=F("m60__aum") * drop)
    complaint = Q(pk__in=customers_with_open_complaints())
    # A pool customer not contacted for long is the pool's ordinary state, which the contact-policy reminder already
    # puts to the keeper: for them only falling assets or an open complaint are a warning.
    signs = (Q(primary_rm__isnull=False) & no_contact) | falling | complaint
    rows = (
        _customers(scope)
        .exclude(lifecycle__in=[Customer.Lifecycle.LOST, Customer.Lifecycle.PROSPECT])
        .annotate(
            m30=FilteredRelation("snapshots", condition=Q(snapshots__date=today - timedelta(days=30))),
            m60=FilteredRelation("snapshots", condition=Q(snapshots__date=today - timedelta(days=60))),
        )
        .filter(signs)
    )

    def flag(condition):
        return Case(When(condition, then=Value(True)), default=Value(False))

    return _insert(
        rows,
        kind=FollowUp.Kind.CHURN_RISK,
        due_on=today,
        title=Concat(_text("流失预警："), F("name")),
        key=_key("churn:", F("pk"), f":{today:%Y-%m}"),
        source_ref=_text("churn"),
        detail=_json(
            no_contact=flag(no_contact),
            falling_aum=flag(falling),
            open_complaint=flag(complaint),
            no_contact_days=Value(settings.CHURN_NO_CONTACT_DAYS),
            drop_percent=Case(
                When(falling, then=Cast(Round(100 * (F("m60__aum") - F("aum")) / F("m60__aum")), IntegerField()))
            ),
        ),
    )


GENERATORS = {
    FollowUp.Kind.MANUAL: generate_manual,
    FollowUp.Kind.CONTACT_POLICY: generate_contact_policy,
    FollowUp.Kind.BIRTHDAY: generate_birthday,
    FollowUp.Kind.HOLIDAY: generate_holiday,
    FollowUp.Kind.MATURITY: generate_maturity,
    FollowUp.Kind.LARGE_MOVEMENT: generate_movement,
    FollowUp.Kind.CHURN_RISK: generate_churn,
}


@dataclass
class Run:
    kind: str
    created: int
    seconds: float


def reminders_generate(*, today: date | None = None, kinds=None, scope=None) -> list[Run]:
    """Run the generators (all, or ``kinds``) for ``today`` (Asia/Shanghai), over every customer or ``scope``."""
    today = today or timezone.localdate()
    runs = []
    for kind in kinds or GENERATORS:
        started = time.monotonic()
        with transaction.atomic():
            created = GENERATORS[kind](today, scope)
        runs.append(Run(kind, created, round(time.monotonic() - started, 2)))
        logger.info("reminders %s %s: %s created in %.2f s", kind, today, created, runs[-1].seconds)
    return runs


@transaction.atomic
def follow_ups_housekeeping(*, today: date | None = None) -> dict:
    """Close what lost its point (a greeting after the day, a maturity long past) and wake snoozed follow-ups."""
    today = today or timezone.localdate()
    expired = 0
    for kind, days in EXPIRE_AFTER_DAYS.items():
        expired += FollowUp.objects.filter(
            kind=kind, status__in=FollowUp.OPEN_STATES, due_on__lt=today - timedelta(days=days - 1)
        ).update(status=FollowUp.Status.EXPIRED)
    woken = FollowUp.objects.filter(status=FollowUp.Status.SNOOZED, snoozed_until__lte=today).update(
        status=FollowUp.Status.OPEN, due_on=F("snoozed_until")
    )
    return {"expired": expired, "woken": woken}


# ----------------------------------------------------------------------------------------------------------------
# The RM's actions on a follow-up (from Today)
# ----------------------------------------------------------------------------------------------------------------


def _own_open(actor, follow_up: FollowUp) -> tuple[Staff, FollowUp]:
    staff = access.actor_staff(actor)
    follow_up = FollowUp.objects.select_for_update().select_related("customer").get(pk=follow_up.pk)
    if follow_up.staff_id != staff.pk:
        raise PermissionDenied(_("Only the member of staff it is assigned to can act on a follow-up."))
    if not follow_up.is_open:
        raise ValidationError(_("This follow-up is already closed."))
    return staff, follow_up


# How far ahead the next follow-up set when closing one may be.
NEXT_FOLLOW_UP_MAX_DAYS = 365


@transaction.atomic
def follow_up_complete(*, actor, follow_up: FollowUp, **interaction_fields) -> FollowUp:
    """Done: log the contact that fulfils it and close it with that interaction. With ``next_follow_up_on`` (and
    optionally ``next_action``) the interaction asks for the next follow-up, which is created in this
    transaction (``follow_up_create_manual``, through relationships' signal)."""

    staff, follow_up = _own_open(actor, follow_up)
    next_on, today = interaction_fields.get("next_follow_up_on"), timezone.localdate()
    if next_on and not today <= next_on <= today + timedelta(days=NEXT_FOLLOW_UP_MAX_DAYS):
        raise ValidationError(
            {"next_follow_up_on": _("The next follow-up is for today or a later day, at most a year ahead.")}
        )
    interaction = interaction_log(actor=actor, customer=follow_up.customer, **interaction_fields)
    follow_up.refresh_from_db()
    if follow_up.is_open:  # logging a contact may already have closed a contact-policy follow-up
        follow_up.status, follow_up.completed_by, follow_up.completed_at, follow_up.interaction = (
            FollowUp.Status.DONE, staff, timezone.now(), interaction,
        )  # fmt: skip
        follow_up.save(update_fields=["status", "completed_by", "completed_at", "interaction"])
    return follow_up


@transaction.atomic
def follow_up_snooze(*, actor, follow_up: FollowUp, until: date) -> FollowUp:
    _staff, follow_up = _own_open(actor, follow_up)
    today = timezone.localdate()
    if not today < until <= today + timedelta(days=90):
        raise ValidationError({"until": _("Snooze to a day after today, at most 90 days ahead.")})
    follow_up.status, follow_up.snoozed_until = FollowUp.Status.SNOOZED, until
    follow_up.save(update_fields=["status", "snoozed_until"])
    return follow_up


@transaction.atomic
def follow_up_skip(*, actor, follow_up: FollowUp, reason: str) -> FollowUp:
    staff, follow_up = _own_open(actor, follow_up)
    if len((reason or "").strip()) < 2:
        raise ValidationError({"reason": _("Say why it is skipped.")})
    follow_up.status, follow_up.skip_reason, follow_up.completed_by, follow_up.completed_at = (
        FollowUp.Status.SKIPPED, reason.strip()[:200], staff, timezone.now(),
    )  # fmt: skip
    follow_up.save(update_fields=["status", "skip_reason", "completed_by", "completed_at"])
    return follow_up


# ----------------------------------------------------------------------------------------------------------------
# What contact work and portfolio moves change (relationships' signals, subscribed in apps.py)
# ----------------------------------------------------------------------------------------------------------------


def _follow_up_owner(customer, author: Staff) -> Staff:
    """Who receives a follow-up set in an interaction: its author when they look after the customer, otherwise
    the customer's primary RM (the accountable one)."""
    if author.pk == customer.primary_rm_id or customer.assignments.current().filter(staff=author).exists():
        return author
    return customer.primary_rm or author


def follow_up_create_manual(*, interaction: Interaction) -> FollowUp | None:
    """The follow-up an interaction asks for (its next follow-up date), created once per interaction."""
    if not interaction.next_follow_up_on:
        return None
    customer = interaction.customer
    owner = _follow_up_owner(customer, interaction.staff)
    title = interaction.next_action or _("Follow up with %(name)s") % {"name": customer.name}
    follow_up, created = FollowUp.objects.get_or_create(
        dedupe_key=f"manual:interaction:{interaction.pk}",
        defaults={
            "customer": customer,
            "staff": owner,
            "kind": FollowUp.Kind.MANUAL,
            "due_on": interaction.next_follow_up_on,
            "title": title[:200],
            "source_ref": f"interaction:{interaction.pk}",
        },
    )
    if not created and follow_up.is_open:
        follow_up.due_on, follow_up.title = interaction.next_follow_up_on, title[:200]
        follow_up.save(update_fields=["due_on", "title"])
    return follow_up


def contact_policy_close(*, customer_id: int, staff: Staff, interaction: Interaction) -> int:
    """A contact that reached the customer fulfils their open contact-policy follow-ups."""
    return FollowUp.objects.filter(
        customer_id=customer_id, kind=FollowUp.Kind.CONTACT_POLICY, status__in=FollowUp.OPEN_STATES
    ).update(status=FollowUp.Status.DONE, completed_by=staff, completed_at=timezone.now(), interaction=interaction)


def follow_ups_close_with(*, interaction: Interaction, staff: Staff, ids) -> int:
    """Close, as done with ``interaction``, the follow-ups the author chose in the quick log. Each must be one of
    the author's open follow-ups (as on their Today) of the interaction's customer; otherwise it is a
    ValidationError and, the caller's transaction rolling back, nothing is written."""
    ids = set(ids or ())
    if not ids:
        return 0
    rows = list(
        FollowUp.objects.select_for_update()
        .filter(pk__in=ids, customer_id=interaction.customer_id, staff=staff, status__in=FollowUp.OPEN_STATES)
        .values_list("pk", flat=True)
    )
    if len(rows) != len(ids):
        raise ValidationError(
            {"close_follow_ups": _("A follow-up to close is not one of this customer's open follow-ups.")}
        )
    return FollowUp.objects.filter(pk__in=rows).update(
        status=FollowUp.Status.DONE, completed_by=staff, completed_at=timezone.now(), interaction=interaction
    )


def follow_ups_after_interaction(*, interaction: Interaction, staff: Staff, created: bool, close_follow_ups=()) -> None:
    """A new contact closes the follow-ups its author chose to close with it and, when it reached the customer,
    their regular-contact follow-up; a new or corrected interaction creates (or moves) the follow-up it asks for."""
    if created:
        follow_ups_close_with(interaction=interaction, staff=staff, ids=close_follow_ups)
    if created and interaction.outcome != Interaction.Outcome.NO_ANSWER:
        contact_policy_close(customer_id=interaction.customer_id, staff=staff, interaction=interaction)
    follow_up_create_manual(interaction=interaction)


def follow_ups_hand_over(*, moves: dict[int, Staff], previous: dict[int, int]) -> int:
    """Customers moved to new RMs: their open follow-ups held by the previous RMs go with them, and their
    reminders (birthdays, policy, …) are regenerated after the commit by ``reminders.receivers``."""

    by_target: dict[Staff, list[int]] = {}
    for customer_id, target in moves.items():
        by_target.setdefault(target, []).append(customer_id)
    moved = 0
    for target, customer_ids in by_target.items():
        moved += FollowUp.objects.filter(
            customer_id__in=customer_ids, status__in=FollowUp.OPEN_STATES, staff_id__in=set(previous.values())
        ).update(staff=target)
    return moved


def follow_ups_of_leaver_to(*, leaver: Staff, fallback: Staff) -> int:
    """Whatever is still open for a leaver after their handover goes to one receiving RM."""
    return FollowUp.objects.filter(staff=leaver, status__in=FollowUp.OPEN_STATES).update(staff=fallback)


# ----------------------------------------------------------------------------------------------------------------
# What the pool changes (pool's signals, subscribed in apps.py)
# ----------------------------------------------------------------------------------------------------------------


def _no_keeper_reason() -> str:
    """The reason written on follow-ups closed because nobody can take them (stored in the site's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("Back in the outlet's pool, which has no keeper")[:200]


def _close_unkept(rows: QuerySet) -> int:
    """Close open follow-ups nobody can take any more (their customer is in a pool without keeper) as skipped, with
    the reason: left with the RM they would stay on a Today whose owner may no longer open the customer."""
    return rows.update(status=FollowUp.Status.SKIPPED, skip_reason=_no_keeper_reason(), completed_at=timezone.now())


def _pairs(targets: dict[int, int | None], holders: dict[int, int | None]) -> dict[tuple, list[int]]:
    """Customer ids grouped by (who holds their follow-ups, who receives them): one UPDATE per pair."""
    grouped: dict[tuple, list[int]] = {}
    for customer_id, target in targets.items():
        grouped.setdefault((holders.get(customer_id), target), []).append(customer_id)
    return grouped


def follow_ups_out_of_pool(*, moves: dict[int, Staff], keepers: dict[int, int | None]) -> int:
    """Customers claimed or assigned out of their outlet's pool: the open follow-ups their keeper held go to the
    new RM, one UPDATE per keeper and RM. Their dedupe keys go with them, so tomorrow's generators create nothing
    a second time for the same birthday, maturity or policy cycle."""
    moved = 0
    for (keeper, target), customer_ids in _pairs({c: s.pk for c, s in moves.items()}, keepers).items():
        if keeper is None or keeper == target:
            continue
        moved += FollowUp.objects.filter(
            customer_id__in=customer_ids, staff_id=keeper, status__in=FollowUp.OPEN_STATES
        ).update(staff_id=target)
    return moved


def follow_ups_into_pool(*, previous: dict[int, int], keepers: dict[int, int | None]) -> dict:
    """Customers released back into their outlet's pool: the open follow-ups their RM held go to the pool's keeper,
    one UPDATE per RM and keeper. Where the pool has no keeper they are closed as skipped with the reason (the RM no
    longer sees the customer, and nobody else can take them); the dashboards count those customers as followed up
    by nobody until the head names a keeper."""
    moved = closed = 0
    for (rm, keeper), customer_ids in _pairs({c: keepers.get(c) for c in previous}, previous).items():
        rows = FollowUp.objects.filter(customer_id__in=customer_ids, staff_id=rm, status__in=FollowUp.OPEN_STATES)
        if keeper is None:
            closed += _close_unkept(rows)
        elif keeper != rm:
            moved += rows.update(staff_id=keeper)
    return {"follow_ups": moved, "follow_ups_closed": closed}


def follow_ups_to_new_keeper(*, branch_id: int, old: int | None, new: int | None) -> int:
    """The keeper of an outlet's pool changed: the open follow-ups of the pool's customers that the old keeper held
    go to the new one in one UPDATE (closed as skipped, with the reason, when the pool has no keeper any more)."""
    if old is None or old == new:
        return 0
    pool = Customer.objects.filter(branch_id=branch_id, primary_rm__isnull=True).values("pk")
    rows = FollowUp.objects.filter(customer_id__in=pool, staff_id=old, status__in=FollowUp.OPEN_STATES)
    if new is None:
        return _close_unkept(rows)
    return rows.update(staff_id=new)


def pool_customers_of(branch_id: int) -> QuerySet:
    """The customers of an outlet's pool (no primary RM, not closed), as a scope for ``reminders_generate``."""
    return Customer.objects.filter(branch_id=branch_id, primary_rm__isnull=True, closed_on__isnull=True)


# ----------------------------------------------------------------------------------------------------------------
# The morning digest
# ----------------------------------------------------------------------------------------------------------------


def _masked(follow_up: FollowUp) -> str:
    """The follow-up's title for the digest: a next action written by the RM may name the customer; masked."""
    name = follow_up.customer.name
    return follow_up.headline.replace(name, mask_name(name)) if name else follow_up.headline


def digest_recipients(day: date) -> list[int]:
    """Active RMs, and heads keeping an outlet's pool, with open follow-ups due by the end of the Today horizon."""
    horizon = day + timedelta(days=settings.TODAY_HORIZON_DAYS)
    return list(
        Staff.objects.filter(status=Staff.Status.ACTIVE, role__in=[Staff.Role.RM, Staff.Role.HEAD])
        .filter(follow_ups__status=FollowUp.Status.OPEN, follow_ups__due_on__lte=horizon)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def digest_send(*, staff_id: int, day: date) -> str:
    """Send one RM's digest for ``day``, at most once: the delivery row (unique per RM and day) is claimed with
    SELECT … FOR UPDATE SKIP LOCKED, and the e-mail, the in-app notification and the "sent" mark happen while it
    is held. A retried task finds it sent (or held by another worker) and does nothing."""

    DigestDelivery.objects.get_or_create(staff_id=staff_id, day=day)
    with transaction.atomic():
        delivery = (
            DigestDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(staff_id=staff_id, day=day, status=DigestDelivery.Status.PENDING)
            .select_related("staff__user")
            .first()
        )
        if delivery is None:
            return "skipped"
        delivery.attempts += 1
        staff = delivery.staff
        today = today_for(staff, day=day)
        if not today.total:
            delivery.status = DigestDelivery.Status.EMPTY
            delivery.save(update_fields=["status", "attempts"])
            return "empty"
        with translation.override("zh-hans"):
            subject = _("Today's work: %(n)s follow-ups") % {"n": today.total}
            # E-mail leaves the CRM: customers appear as surname + * (JR/T 0171 style), never in full.
            lines = [
                (g.label, g.count, g.overdue, [(f.due_on, mask_name(f.customer.name), _masked(f)) for f in g.items[:5]])
                for g in today.groups
            ]
            body = render_to_string(
                "reminders/email/digest.txt", {"staff": staff, "today": today, "day": day, "lines": lines}
            )
            if staff.user.email:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [staff.user.email])
            notification_send([staff], subject, reverse("reminders:today"))
        delivery.status, delivery.follow_ups, delivery.sent_at = DigestDelivery.Status.SENT, today.total, timezone.now()
        delivery.save(update_fields=["status", "follow_ups", "sent_at", "attempts"])
        return "sent"
