"""Writes of marketing consent (docs/consent.md). Every change writes the current row and its history event in one
transaction, and a withdrawal sends ``consent.signals.consent_withdrawn`` inside it.

- ``consent_record``: one customer and channel, from the page (the customer's RM, a head over them, an
  administrator; not a complaints officer), with a reason.
- ``dnd_window_add`` / ``dnd_window_remove``: the customer's do-not-disturb windows, by the same people.
- ``consents_apply_staged``: many customers at once, set-based, from a staging table (the core-banking feed's
  consent file, the demo): the same rules as ``consent_record``, in SQL.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.bulk import plain_indexes_rebuilt
from customers.selectors import customers_visible_to
from organisation import access
from organisation.models import Staff

from . import signals
from .models import (
    EVERY_DAY,
    REASON_MAX,
    REFERENCE_REQUIRED,
    Channel,
    ConsentEvent,
    ConsentRecord,
    DndWindow,
    Source,
    State,
)

REASON_MIN = 2
# A staged load changing at least this many rows, and a quarter of the table, rebuilds the plain indexes once
# after writing instead of maintaining them row by row (a first load).
BULK_MIN_ROWS = 100_000


def _editor(actor, customer) -> Staff | None:
    """Who changes a customer's consent: the RM who looks after them, a head whose subtree holds them, an
    administrator (``access.PORTFOLIO_ROLES`` and the one access policy); never a complaints officer. None for the
    SYSTEM actor."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    if staff is not None and not customers_visible_to(staff).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("This customer is not in your scope."))
    return staff


def _reason_error(reason: str) -> str | None:
    """What is wrong with the reason of a change, or None. A reason is required: what the customer said."""
    if len(reason) < REASON_MIN:
        return _("Give the reason: what the customer said, signed or asked for.")
    if len(reason) > REASON_MAX:
        return _("At most %(limit)s characters, please.") % {"limit": REASON_MAX}
    return None


def _merge(errors: dict, error: ValidationError) -> dict:
    for name, messages in error.message_dict.items():
        errors.setdefault(name, messages[0])
    return errors


def is_older(current: ConsentRecord | None, state: str, effective_on: date) -> bool:
    """Whether a change would go back behind the current state: an earlier date than the one in force, or a giving
    on the same day as a withdrawal (a withdrawal wins a tie: when in doubt, no marketing). The same rule as the
    ``older`` condition of ``consents_apply_staged``."""
    if current is None:
        return False
    if effective_on < current.effective_on:
        return True
    return effective_on == current.effective_on and current.state == State.WITHDRAWN and state == State.GIVEN


def _via(staff: Staff | None) -> str:
    return ConsentEvent.Via.PAGE if staff is not None else ConsentEvent.Via.SYSTEM


@transaction.atomic
def consent_record(
    *,
    actor,
    customer,
    channel: str,
    state: str,
    effective_on: date,
    source: str,
    reason: str,
    reference: str = "",
) -> ConsentRecord:
    """Record that the customer gave or withdrew marketing consent on ``channel``, effective on ``effective_on``
    (today or earlier, and not before the state in force), with how (``source``, ``reference``) and why
    (``reason``, required). The current row and a history event are written together; a withdrawal (from given or
    from no record) sends ``consent_withdrawn``. Recording what is already recorded changes nothing (the record
    comes back with ``unchanged = True``), so a page posted twice writes once."""
    staff = _editor(actor, customer)
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = _("Choose a channel.")
    if state not in State.values:
        errors["state"] = _("Choose given or withdrawn.")
    if source not in Source.values:
        errors["source"] = _("Choose how the customer expressed it.")
    reference = (reference or "").strip()
    if source in REFERENCE_REQUIRED and not reference:
        errors["reference"] = _("Give the recording's number: it is the evidence of the consent.")
    reason = (reason or "").strip()
    if message := _reason_error(reason):
        errors["reason"] = message
    if effective_on is None:
        errors["effective_on"] = _("Give the date it took effect.")
    elif effective_on > timezone.localdate():
        errors["effective_on"] = _("The date it took effect cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    current = ConsentRecord.objects.select_for_update().filter(customer=customer, channel=channel).first()
    if current is not None and (current.state, current.effective_on, current.source, current.reference) == (
        state,
        effective_on,
        source,
        reference,
    ):
        current.unchanged = True
        return current
    if is_older(current, state, effective_on):
        raise ValidationError(
            {
                "effective_on": _(
                    "The consent on this channel is already %(state)s since %(date)s: a change takes effect on that "
                    "day or later (a withdrawal and a consent on the same day: the withdrawal stands)."
                )
                % {"state": current.get_state_display(), "date": f"{current.effective_on:%Y-%m-%d}"}
            }
        )
    before = current.state if current is not None else ""
    now = timezone.now()
    record = current or ConsentRecord(customer=customer, channel=channel)
    record.state, record.effective_on, record.source, record.reference = state, effective_on, source, reference
    record.updated_at, record.updated_by = now, staff
    record.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # Another change of the same customer and channel was saved in the meantime (the row did not exist when
        # this one was checked): nothing is written, and the page says so.
        raise ValidationError(_("The consent was changed meanwhile by someone else. Check it and try again.")) from None
    event = ConsentEvent(
        customer=customer, kind=ConsentEvent.Kind.CONSENT, channel=channel, state_before=before, state=state,
        effective_on=effective_on, source=source, reference=reference, reason=reason, actor=staff, via=_via(staff),
        at=now,
    )  # fmt: skip
    event.full_clean()
    event.save()
    if state == State.WITHDRAWN and before != State.WITHDRAWN:
        signals.consent_withdrawn.send(sender=ConsentRecord, customer_ids=[customer.pk], channel=channel, actor=staff)
    record.unchanged = False
    return record


@transaction.atomic
def dnd_window_add(
    *,
    actor,
    customer,
    reason: str,
    channel: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    weekdays: int = EVERY_DAY,
    start_time=None,
    end_time=None,
) -> DndWindow:
    """Add a do-not-disturb window for the customer (on ``channel``, or every channel when blank): a date range,
    days of the week and a time of day, any combination (``DndWindow``). A window that is already over, or that
    the customer already has, is refused."""
    staff = _editor(actor, customer)
    window = DndWindow(
        customer=customer, channel=channel or "", start_date=start_date, end_date=end_date, weekdays=weekdays,
        start_time=start_time, end_time=end_time, reason=(reason or "").strip(), created_by=staff,
        created_at=timezone.now(),
    )  # fmt: skip
    errors = {"reason": message} if (message := _reason_error(window.reason)) else {}
    try:
        window.full_clean(exclude=["reason"])
    except ValidationError as e:
        _merge(errors, e)
    if "end_date" not in errors and window.is_over(timezone.localdate()):
        errors["end_date"] = _("This window is already over.")
    if errors:
        raise ValidationError(errors)
    same = DndWindow.objects.filter(
        customer=customer, channel=window.channel, start_date=start_date, end_date=end_date, weekdays=weekdays,
        start_time=start_time, end_time=end_time,
    )  # fmt: skip
    if same.exists():
        raise ValidationError(_("The customer already has this window."))
    window.save()
    _window_event(window, ConsentEvent.Kind.DND_ADDED, staff, window.reason)
    return window


@transaction.atomic
def dnd_window_remove(*, actor, window: DndWindow, reason: str) -> DndWindow:
    """Remove a do-not-disturb window (the customer lifted it), with the reason; the history keeps the window as it
    was."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    locked = DndWindow.objects.select_for_update().select_related("customer").filter(pk=window.pk).first()
    if locked is None:
        raise ValidationError(_("This window has already been removed."))
    if staff is not None:
        _editor(staff, locked.customer)
    reason = (reason or "").strip()
    if message := _reason_error(reason):
        raise ValidationError({"reason": message})
    _window_event(locked, ConsentEvent.Kind.DND_REMOVED, staff, reason)
    locked.delete()
    return locked


def _window_event(window: DndWindow, kind: str, staff: Staff | None, reason: str) -> None:
    event = ConsentEvent(
        customer_id=window.customer_id, kind=kind, channel=window.channel, window_detail=window.snapshot(), reason=reason,
        actor=staff, via=_via(staff), at=timezone.now(),
    )  # fmt: skip
    event.full_clean()
    event.save()


# ----------------------------------------------------------------------------------------------------------------
# Many customers at once: the core-banking feed and the demo
# ----------------------------------------------------------------------------------------------------------------

# The columns a staging table handed to ``consents_apply_staged`` has (more may follow; they are not read).
STAGED_COLUMNS = (
    ("line", "integer: the row's number in its file, for the report"),
    ("cust_no", "text: the customer number, for the report"),
    ("customer_id", "bigint: the customer, resolved (rows of unknown customers already removed)"),
    ("channel", "text: a Channel value"),
    ("state", "text: a State value"),
    ("effective_on", "date: not after the business date"),
    ("source", "text: a Source value"),
    ("reference", "text: at most 100 characters, '' when none"),
)


@dataclass
class StagedResult:
    """What ``consents_apply_staged`` did: rows changed (each with its history event), rows already so, rows older
    than the state in force (left as they are, listed by customer number), and how many withdrawals it sent."""

    changed: int = 0
    unchanged: int = 0
    older: int = 0
    older_sample: list[str] = field(default_factory=list)
    withdrawn: int = 0


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns_list(model, *fields: str) -> list[str]:
    return [_qn(model._meta.get_field(name).column) for name in fields]


def _columns(model, *fields: str) -> str:
    return ", ".join(_columns_list(model, *fields))


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _timestamp(value: datetime):
    return value if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(value)


@transaction.atomic
def consents_apply_staged(*, table: str, via: str, reason: str, now: datetime | None = None) -> StagedResult:
    """Apply the consents of a staging table (``STAGED_COLUMNS``; at most one row per customer and channel) in a
    few statements whatever its size, by the rules of ``consent_record``:

    - a row already in force (same state, date, source and reference) changes nothing;
    - a row older than the state in force (``is_older``) is left out and listed: the CRM holds a later change;
    - every other row writes the current row (insert or update) and a history event (``via``, ``reason``: the feed
      gives its file's name), and a withdrawal sends ``consent_withdrawn`` once per channel with every customer.

    The staging table loses the rows it did not apply. ``table`` is a name from code (the feed's stage), never
    from input. No actor: the feed and the demo act for nobody on the staff."""
    if via not in ConsentEvent.Via.values:
        raise ValueError(via)
    now = now or timezone.now()
    result = StagedResult()
    s, r, e = _qn(table), _qn(ConsentRecord._meta.db_table), _qn(ConsentEvent._meta.db_table)
    same_row = f"r.customer_id = {s}.customer_id AND r.channel = {s}.channel"
    older = (
        f"r.effective_on > {s}.effective_on OR (r.effective_on = {s}.effective_on AND r.state = %s AND {s}.state = %s)"
    )
    rows = _fetch(
        f"SELECT {s}.cust_no FROM {s} JOIN {r} r ON {same_row} WHERE {older} ORDER BY {s}.line",  # noqa: S608
        [State.WITHDRAWN, State.GIVEN],
    )
    result.older, result.older_sample = len(rows), [str(row[0]) for row in rows[:100]]
    if rows:
        _execute(
            f"DELETE FROM {s} WHERE EXISTS (SELECT 1 FROM {r} r WHERE {same_row} AND ({older}))",  # noqa: S608
            [State.WITHDRAWN, State.GIVEN],
        )
    result.unchanged = _execute(
        f"DELETE FROM {s} WHERE EXISTS (SELECT 1 FROM {r} r WHERE {same_row} AND r.state = {s}.state AND "  # noqa: S608
        f"r.effective_on = {s}.effective_on AND r.source = {s}.source AND r.reference = {s}.reference)"
    )
    count = _fetch(f"SELECT COUNT(*) FROM {s}")[0][0]  # noqa: S608 - names from code
    if not count:
        return result
    withdrawals = _fetch(
        f"SELECT {s}.channel, {s}.customer_id FROM {s} LEFT JOIN {r} r ON {same_row} "  # noqa: S608
        f"WHERE {s}.state = %s AND (r.state IS NULL OR r.state <> %s) ORDER BY {s}.channel, {s}.customer_id",
        [State.WITHDRAWN, State.WITHDRAWN],
    )
    bulk = connection.vendor == "postgresql" and count >= max(BULK_MIN_ROWS, _estimated_rows(ConsentRecord) // 4)
    stamp = _timestamp(now)
    event_columns = _columns(
        ConsentEvent, "customer", "kind", "channel", "state_before", "state", "effective_on", "source", "reference",
        "window_detail", "reason", "actor", "via", "at",
    )  # fmt: skip
    record_columns = _columns(
        ConsentRecord, "customer", "channel", "state", "effective_on", "source", "reference", "updated_at", "updated_by"
    )
    kept = ", ".join(f"{c} = excluded.{c}" for c in _columns_list(ConsentRecord, "state", "effective_on", "source",
                                                                   "reference", "updated_at", "updated_by"))  # fmt: skip
    with plain_indexes_rebuilt(ConsentRecord, ConsentEvent, references_checked=True) if bulk else nullcontext():
        _execute(
            f"INSERT INTO {e} ({event_columns}) SELECT {s}.customer_id, %s, {s}.channel, COALESCE(r.state, ''), "  # noqa: S608
            f"{s}.state, {s}.effective_on, {s}.source, {s}.reference, %s, %s, NULL, %s, %s FROM {s} "
            f"LEFT JOIN {r} r ON {same_row}",
            [ConsentEvent.Kind.CONSENT, "{}", reason[:REASON_MAX], via, stamp],
        )
        result.changed = _execute(
            f"INSERT INTO {r} ({record_columns}) SELECT customer_id, channel, state, effective_on, source, "  # noqa: S608
            f"reference, %s, NULL FROM {s} WHERE true ON CONFLICT ({_columns(ConsentRecord, 'customer', 'channel')}) "
            f"DO UPDATE SET {kept}",
            [stamp],
        )
    by_channel: dict[str, list[int]] = {}
    for channel, customer_id in withdrawals:
        by_channel.setdefault(channel, []).append(customer_id)
    for channel, ids in by_channel.items():
        signals.consent_withdrawn.send(sender=ConsentRecord, customer_ids=ids, channel=channel, actor=None)
    result.withdrawn = len(withdrawals)
    if bulk:
        for model in (ConsentRecord, ConsentEvent):
            _execute(f"ANALYZE {_qn(model._meta.db_table)}")
    return result


def _estimated_rows(model) -> int:
    rows = _fetch("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
    return max(int(rows[0][0]), 0) if rows else 0
