"""Reads of marketing consent (docs/consent.md).

Two kinds of read:

- **A customer's consent** for the pages (the 360° panel, the consent page, the history): the customer comes from
  ``customers.selectors.customer_get_visible`` (the one access policy: a customer the user may not see is a 404),
  then one or two queries whatever the number of channels.
- **The exclusion rules for campaigns** (``consent_given_q`` … ``marketing_excluded_q``): conditions on the
  Customer table (``Exists`` subqueries on an outer customer id), to filter or exclude any number of customers in
  the campaign's own query — ``customers.filter(marketing_allowed_q(Channel.SMS, at))`` or an INSERT … SELECT —
  never a Python loop. They read the current rows only.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crm_site.pagination import UncountedPaginator
from organisation import access

from .models import Channel, ConsentEvent, ConsentRecord, DndWindow, State, weekday_bit

# ----------------------------------------------------------------------------------------------------------------
# The exclusion rules (the campaigns' API)
# ----------------------------------------------------------------------------------------------------------------


def consent_given_q(channel: str, on: date | None = None, *, customer_ref: str = "pk") -> Exists:
    """Customers who have given marketing consent on ``channel`` in force on ``on`` (default today): their current
    record is "given" and took effect on or before that day. ``customer_ref`` names the customer's id in the outer
    query ("pk" on Customer; "customer_id" on a table that points at customers). One probe of
    ``consent_given_idx`` per customer, or a hash join with it over many."""
    on = on or timezone.localdate()
    return Exists(
        ConsentRecord.objects.filter(
            customer_id=OuterRef(customer_ref), channel=channel, state=State.GIVEN, effective_on__lte=on
        )
    )


def consent_missing_q(channel: str, on: date | None = None, *, customer_ref: str = "pk"):
    """Customers without consent on ``channel`` on ``on``: no record (never asked), withdrawn, or given only after
    that day. Every one of them is left out of a campaign on that channel."""
    return ~consent_given_q(channel, on, customer_ref=customer_ref)


def _windows(channel: str | None, customer_ref: str) -> QuerySet[DndWindow]:
    windows = DndWindow.objects.filter(customer_id=OuterRef(customer_ref))
    if channel:
        windows = windows.filter(Q(channel="") | Q(channel=channel))
    return windows


def _on_day(windows: QuerySet[DndWindow], day: date) -> QuerySet[DndWindow]:
    """The windows that apply on ``day``: within their dates (if any) and on that day of the week."""
    return (
        windows.filter(Q(start_date__isnull=True) | Q(start_date__lte=day, end_date__gte=day))
        .annotate(_on_weekday=F("weekdays").bitand(weekday_bit(day)))
        .filter(_on_weekday__gt=0)
    )


def dnd_active_q(at: datetime, channel: str | None = None, *, customer_ref: str = "pk") -> Exists:
    """Customers inside a do-not-disturb window at the moment ``at`` (its local date, day of the week and minute),
    on ``channel`` (a window for every channel counts for each) or on any channel when None. The same rule as
    ``DndWindow.covers``."""
    local = timezone.localtime(at)
    minute = local.time().replace(second=0, microsecond=0)
    windows = _on_day(_windows(channel, customer_ref), local.date()).filter(
        Q(start_time__isnull=True) | Q(start_time__lte=minute, end_time__gte=minute)
    )
    return Exists(windows)


def dnd_all_day_q(day: date, channel: str | None = None, *, customer_ref: str = "pk") -> Exists:
    """Customers not to be disturbed at all on ``day``: a window without times applies that day (a date range such
    as "春节前后", or whole days of the week). Windows of a time of day leave the rest of the day open and are
    not counted: ``dnd_active_q`` checks the moment of a contact."""
    return Exists(_on_day(_windows(channel, customer_ref), day).filter(start_time__isnull=True))


def marketing_allowed_q(channel: str, at: datetime, *, customer_ref: str = "pk") -> Q:
    """Customers a campaign on ``channel`` may contact at the moment ``at``: consent in force that day, and no
    do-not-disturb window then. The way to build a target list (``customers.filter(marketing_allowed_q(...))``):
    PostgreSQL plans it as a semi-join on the consents and an anti-join on the windows, by index probes for a
    branch's customers or hash joins for the whole bank."""
    on = timezone.localtime(at).date()
    return Q(consent_given_q(channel, on, customer_ref=customer_ref)) & ~Q(
        dnd_active_q(at, channel, customer_ref=customer_ref)
    )


def marketing_excluded_q(channel: str, at: datetime, *, customer_ref: str = "pk") -> Q:
    """Customers a campaign on ``channel`` must leave out at the moment ``at``: without consent in force that day,
    or inside a do-not-disturb window then (the complement of ``marketing_allowed_q``: to mark or cancel rows
    already chosen)."""
    return ~marketing_allowed_q(channel, at, customer_ref=customer_ref)


def customers_without_consent(customers: QuerySet, channel: str, on: date | None = None) -> QuerySet:
    """The ids of the customers of ``customers`` (a Customer queryset, already scoped) without consent on
    ``channel`` on ``on``: a subquery for ``pk__in`` or an INSERT … SELECT."""
    return customers.filter(consent_missing_q(channel, on)).values("pk")


# ----------------------------------------------------------------------------------------------------------------
# One customer's consent (the pages)
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelState:
    channel: str
    label: str
    record: ConsentRecord | None

    @property
    def state(self) -> str:
        """given / withdrawn / none (no record: not given)."""
        return self.record.state if self.record else "none"


@dataclass(frozen=True)
class CustomerConsent:
    """Every channel's state (in the order of ``Channel``, a channel without a record as "none") and the customer's
    do-not-disturb windows; whether the user may change them."""

    channels: list[ChannelState]
    windows: list[DndWindow]
    can_edit: bool

    @property
    def given_count(self) -> int:
        return sum(1 for c in self.channels if c.state == State.GIVEN)


def can_edit_consent(user) -> bool:
    """Whether the user's role may change a customer's consent (the customer being one they see): the RM, a head,
    an administrator; the services ask again."""
    return access.has_role(user, access.PORTFOLIO_ROLES)


def customer_consent(user, customer, *, include_over: bool = False) -> CustomerConsent:
    """A visible customer's consent: two queries (the records, the windows). Windows already over are left out
    unless ``include_over``."""
    records = {r.channel: r for r in ConsentRecord.objects.filter(customer=customer).select_related("updated_by")}
    windows = DndWindow.objects.filter(customer=customer).order_by("start_date", "start_time", "pk")
    if not include_over:
        windows = windows.filter(Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()))
    channels = [ChannelState(value, label, records.get(value)) for value, label in Channel.choices]
    return CustomerConsent(channels=channels, windows=list(windows), can_edit=can_edit_consent(user))


def consent_history(customer, page=None, per_page: int = 30):
    """A visible customer's consent history, newest first, a page at a time (one query: no count)."""
    events = ConsentEvent.objects.filter(customer=customer).select_related("actor").order_by("-at", "-pk")
    return UncountedPaginator(events, per_page).get_page(page)


def dnd_window_get(customer, pk) -> DndWindow:
    """One of the (visible) customer's windows; another customer's is a 404."""
    return get_object_or_404(DndWindow, customer=customer, pk=pk)
