"""The daily figures behind the dashboards: one row per branch per day and one per RM per day.

Each day is built by a handful of GROUP BY statements over the source tables — customers with the day's asset
snapshot, interactions, follow-ups, complaints, ratings and the customer history — never by a loop over
customers. Their results (a few hundred rows: one per branch × RM × tier, channel or category) are folded into
the day's rows, which are written with one ``INSERT … ON CONFLICT DO UPDATE`` per table. Building a day again
rewrites the same rows: the unique (branch, day) and (staff, day) keys make the job idempotent, and rows of the
day whose key no longer comes out (a branch or RM deleted since) are removed in the same transaction.

The predicates are public (``customers_as_of``, ``not_contacted_in_time``, ``follow_ups_open_at`` …): the
dashboards' drill-down pages list the records behind a number with the very same conditions, so a figure and
its list agree. What is exact for a past day and what is an approximation is in docs/dashboards.md.
"""

import logging
import time as clock
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from complaints.models import Complaint
from crm_site.sql import insert_from_select
from customers.models import Customer, Holding, Segment
from organisation.models import Branch, Staff
from pool.keepers import keepers_of
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp
from reminders.services import EXPIRE_AFTER_DAYS

from .models import BranchDayFigures, FigureSettings, RmDayFigures, UncoveredCustomer
from .signals import figures_built

logger = logging.getLogger(__name__)

NEVER = Q(pk__in=[])

# The columns a build writes (everything but the key).
FIELDS = [
    "customers",
    "aum",
    "by_tier",
    "new_customers",
    "lost_customers",
    "policy_customers",
    "overdue_customers",
    "interactions",
    "by_channel",
    "follow_ups_open",
    "follow_ups_overdue",
    "follow_ups_done",
    "follow_ups_done_on_time",
    "churn_risk",
    "complaints_received",
    "complaints_decided",
    "complaints_on_time",
    "complaints_overdue",
    "by_category",
    "rating_count",
    "rating_sum",
    "effective_customers",
    "holdings_opened",
    "built_at",
]
# The columns only the branch rows have: the outlet customer pool (docs/dashboards.md, "The pool").
POOL_FIELDS = ["pool_customers", "pool_aum", "pool_policy_customers", "pool_overdue_customers", "pool_unkept"]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day, in the site's time zone (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def segments() -> list:
    return list(Segment.objects.order_by("aum_min"))


# ----------------------------------------------------------------------------------------------------------------
# The predicates, shared with the drill-down pages
# ----------------------------------------------------------------------------------------------------------------


def customers_as_of(day: date, queryset: QuerySet | None = None, tiers: list | None = None) -> QuerySet:
    """Customers registered by the end of ``day`` and not lost, each with ``aum_on_day`` (the day's asset
    snapshot, or the current AUM where the day has none) and ``tier_on_day`` (the tier that AUM falls in)."""

    tiers = segments() if tiers is None else tiers
    _start, end = day_bounds(day)
    qs = Customer.objects.all() if queryset is None else queryset
    qs = (
        qs.filter(created_at__lt=end)
        .exclude(lifecycle=Customer.Lifecycle.LOST)
        .annotate(day_snapshot=FilteredRelation("snapshots", condition=Q(snapshots__date=day)))
        .annotate(aum_on_day=Coalesce(F("day_snapshot__aum"), F("aum")))
    )
    whens = [
        When(Q(aum_on_day__gte=t.aum_min) & (Q() if t.aum_max is None else Q(aum_on_day__lt=t.aum_max)), then=t.pk)
        for t in tiers
    ]
    return qs.annotate(tier_on_day=Case(*whens, default=None, output_field=IntegerField()))


def not_contacted_in_time(day: date, tiers: list | None = None) -> Q:
    """On a ``customers_as_of(day)`` queryset: customers under a contact policy not contacted within it at the end
    of ``day`` — the rule of the contact-policy reminders (docs/reminders.md): the last contact that reached the
    customer is before the policy window, or there is none and they registered before it. The window of a
    90-day tier on day D starts at the beginning of D − 89. ``last_contacted_at`` answers for most customers;
    only those contacted since the day are looked up in the interactions."""
    tiers = segments() if tiers is None else tiers
    _start, end = day_bounds(day)
    parts = []
    for tier in tiers:
        cutoff, _next = day_bounds(day - timedelta(days=tier.contact_policy_days - 1))
        reached_in_window = Exists(
            Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=cutoff, occurred_at__lt=end).exclude(
                outcome=Interaction.Outcome.NO_ANSWER
            )
        )
        in_window = Q(last_contacted_at__gte=cutoff, last_contacted_at__lt=end) | (
            Q(last_contacted_at__gte=end) & Q(reached_in_window)
        )
        parts.append(Q(tier_on_day=tier.pk, created_at__lt=cutoff) & ~in_window)
    return reduce(or_, parts, NEVER)


def in_pool_at(day: date) -> Q:
    """On a Customer queryset: the customers of their outlet's pool at the end of ``day`` — without a primary RM
    (today's: see "What is exact") and not closed by then (``pool``'s definition)."""
    return Q(primary_rm__isnull=True) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day))


def uncovered_listed(day: date) -> bool:
    """Whether the customers not contacted in time at the end of ``day`` are listed (``UncoveredCustomer``): the
    day was built since the list exists, and its list is not pruned yet."""
    rows = BranchDayFigures.objects.filter(day=day)
    return rows.exists() and not rows.filter(uncovered_listed=False).exists()


def uncovered_customers(day: date, queryset: QuerySet | None = None) -> QuerySet:
    """The customers the build of ``day`` found not contacted in time (``not_contacted_in_time``), each with
    ``aum_on_day``: the same set as the rule's, read from the rows the build wrote."""

    qs = Customer.objects.all() if queryset is None else queryset
    return (
        qs.annotate(uncovered=FilteredRelation("uncovered_days", condition=Q(uncovered_days__day=day)))
        .filter(uncovered__isnull=False)
        .annotate(aum_on_day=F("uncovered__aum"))
    )


def follow_ups_open_at(day: date) -> Q:
    """Follow-ups open at the end of ``day``: created by then and not closed by then. Expired reminders carry no
    closing time; they closed by the nightly rule (a greeting the day after its day, …)."""
    _start, end = day_bounds(day)
    expired_later = reduce(
        or_, (Q(kind=kind, due_on__gt=day - timedelta(days=days)) for kind, days in EXPIRE_AFTER_DAYS.items())
    )
    return Q(created_at__lt=end) & (
        Q(status__in=FollowUp.OPEN_STATES)
        | Q(completed_at__gte=end)
        | (Q(status=FollowUp.Status.EXPIRED) & expired_later)
    )


def follow_ups_overdue_at(day: date) -> Q:
    """Open at the end of ``day`` and due on or before it (snoozed ones past the day are not late)."""
    return follow_ups_open_at(day) & Q(due_on__lte=day) & ~Q(status=FollowUp.Status.SNOOZED, snoozed_until__gt=day)


def follow_ups_done_on(day: date) -> Q:
    start, end = day_bounds(day)
    return Q(status=FollowUp.Status.DONE, completed_at__gte=start, completed_at__lt=end)


def follow_ups_done_on_time() -> Q:
    """Done on or before the day it was due (local date)."""
    return Q(completed_at__date__lte=F("due_on"))


def churn_risk_at(day: date) -> Q:
    return follow_ups_open_at(day) & Q(kind=FollowUp.Kind.CHURN_RISK)


def complaints_overdue_at(day: date) -> Q:
    """Complaints open at the end of ``day`` (not yet first decided nor withdrawn then), their clock running
    (not paused) and their deadline passed by then."""

    _start, end = day_bounds(day)
    open_then = (
        Q(status__in=Complaint.OPEN_STATES)
        | Q(first_decided_at__gte=end)
        | Q(status=Complaint.Status.WITHDRAWN, withdrawn_at__gte=end, first_decided_at__isnull=True)
    )
    return Q(received_at__lt=end, due_at__lt=end, paused_since__isnull=True) & open_then


def lost_customers_on(day: date) -> QuerySet:
    """Customer history records of ``day`` that turned a customer's lifecycle to lost."""
    return lost_customers_between(day, day)


def lost_customers_between(first: date, last: date) -> QuerySet:
    """Customer history records from ``first`` to ``last`` (inclusive) that turned a lifecycle to lost."""

    history = Customer.history.model
    start, _next = day_bounds(first)
    _start, end = day_bounds(last)
    previous = (
        history.objects.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
        .order_by("-history_date", "-history_id")
        .values("lifecycle")[:1]
    )
    return (
        history.objects.filter(history_date__gte=start, history_date__lt=end, lifecycle=Customer.Lifecycle.LOST)
        .annotate(previous_lifecycle=Subquery(previous))
        .filter(previous_lifecycle__isnull=False)
        .exclude(previous_lifecycle=Customer.Lifecycle.LOST)
    )


# ----------------------------------------------------------------------------------------------------------------
# Building a day
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class FiguresRun:
    day: date
    branches: int
    rms: int
    seconds: float


def _blank() -> dict:
    maps = ("by_tier", "by_channel", "by_category", "holdings_opened", "built_at")
    row = {name: 0 for name in FIELDS if name not in maps}
    row.update(aum=Decimal(0), by_tier={}, by_channel={}, by_category={}, holdings_opened={})
    return row


def _add_tier(row: dict, tier_id, customers: int, aum: Decimal) -> None:
    if tier_id is None:
        return
    cell = row["by_tier"].setdefault(str(tier_id), {"customers": 0, "aum": "0"})
    cell["customers"] += customers
    cell["aum"] = str(Decimal(cell["aum"]) + aum)


def _add_count(mapping: dict, key, n: int) -> None:
    mapping[str(key)] = mapping.get(str(key), 0) + n


class _Day:
    """The day's rows, keyed by branch id and by RM id, filled from each source in turn."""

    def __init__(self, branch_ids, rm_ids):
        self.branches = {
            pk: {**_blank(), **{name: 0 for name in POOL_FIELDS}, "pool_aum": Decimal(0)} for pk in branch_ids
        }
        self.rms = {pk: _blank() for pk in rm_ids}

    def rows(self, branch_id, rm_id):
        return [r for r in (self.branches.get(branch_id), self.rms.get(rm_id)) if r is not None]


# The days whose list of customers not contacted in time is kept (the drill-down shows the last built day).
UNCOVERED_KEEP_DAYS = 7


def _uncovered_write(day: date, tiers: list) -> int:
    """List the customers not contacted in time at the end of ``day`` (one INSERT … SELECT with the rule), in
    place of the day's previous list, and prune the lists of the days long past."""

    UncoveredCustomer.objects.filter(day=day).delete()
    overdue = (
        customers_as_of(day, Customer.objects.all(), tiers)
        .filter(not_contacted_in_time(day, tiers))
        .annotate(list_day=Value(day, output_field=DateField()))
        .values_list("list_day", "pk", "aum_on_day")
    )
    written = insert_from_select(UncoveredCustomer, ["day", "customer", "aum"], overdue, ignore_conflicts=True)
    cutoff = day - timedelta(days=UNCOVERED_KEEP_DAYS)
    UncoveredCustomer.objects.filter(day__lt=cutoff).delete()
    BranchDayFigures.objects.filter(day__lt=cutoff, uncovered_listed=True).update(uncovered_listed=False)
    return written


def _portfolio(acc: _Day, day: date, tiers: list) -> None:
    start, _end = day_bounds(day)
    effective = Q(aum_on_day__gte=FigureSettings.current().effective_aum_min)
    _uncovered_write(day, tiers)
    listed = Exists(UncoveredCustomer.objects.filter(day=day, customer=OuterRef("pk")))
    pool = in_pool_at(day)
    cells = (
        customers_as_of(day, Customer.objects.all(), tiers)
        .values("branch_id", "primary_rm_id", "tier_on_day")
        .annotate(
            n=Count("pk"),
            aum_sum=Sum("aum_on_day"),
            overdue=Count("pk", filter=listed),
            new=Count("pk", filter=Q(created_at__gte=start)),
            pool_n=Count("pk", filter=pool),
            pool_aum=Sum("aum_on_day", filter=pool),
            pool_overdue=Count("pk", filter=pool & listed),
            effective=Count("pk", filter=effective),
        )
        .order_by()
    )
    for cell in cells:
        aum = cell["aum_sum"] or Decimal(0)
        for row in acc.rows(cell["branch_id"], cell["primary_rm_id"]):
            row["customers"] += cell["n"]
            row["aum"] += aum
            row["new_customers"] += cell["new"]
            row["overdue_customers"] += cell["overdue"]
            row["effective_customers"] += cell["effective"]
            if cell["tier_on_day"] is not None:
                row["policy_customers"] += cell["n"]
            _add_tier(row, cell["tier_on_day"], cell["n"], aum)
        pool_row = acc.branches.get(cell["branch_id"])
        if pool_row is not None and cell["pool_n"]:
            pool_row["pool_customers"] += cell["pool_n"]
            pool_row["pool_aum"] += cell["pool_aum"] or Decimal(0)
            pool_row["pool_overdue_customers"] += cell["pool_overdue"]
            if cell["tier_on_day"] is not None:
                pool_row["pool_policy_customers"] += cell["pool_n"]
    # A pool whose outlet has no keeper (no named keeper, no active head): its customers' reminders reach nobody.
    # Today's keepers, as the reminders of tomorrow morning will find them (one query over the branches).
    for branch_id, keeper in keepers_of(pk for pk, row in acc.branches.items() if row["pool_customers"]).items():
        if keeper is None:
            acc.branches[branch_id]["pool_unkept"] = acc.branches[branch_id]["pool_customers"]
    for lost in lost_customers_on(day).values("branch_id", "primary_rm_id").annotate(n=Count("id", distinct=True)):
        for row in acc.rows(lost["branch_id"], lost["primary_rm_id"]):
            row["lost_customers"] += lost["n"]


def holdings_opened_on(first: date, last: date) -> QuerySet:
    """Holdings opened from ``first`` to ``last`` (inclusive) by customers registered and not lost: the rows
    behind ``holdings_opened``, counted by the customer's branch and primary RM."""
    return Holding.objects.filter(opened_on__gte=first, opened_on__lte=last).exclude(
        customer__lifecycle=Customer.Lifecycle.LOST
    )


def _holdings(acc: _Day, day: date) -> None:
    groups = (
        holdings_opened_on(day, day)
        .values("customer__branch_id", "customer__primary_rm_id", "product__category")
        .annotate(n=Count("id"))
        .order_by()
    )
    for g in groups:
        for row in acc.rows(g["customer__branch_id"], g["customer__primary_rm_id"]):
            _add_count(row["holdings_opened"], g["product__category"], g["n"])


def _interactions(acc: _Day, day: date) -> None:
    start, end = day_bounds(day)
    groups = (
        Interaction.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .values("customer__branch_id", "staff_id", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    for g in groups:
        for row in acc.rows(g["customer__branch_id"], g["staff_id"]):
            row["interactions"] += g["n"]
            _add_count(row["by_channel"], g["channel"], g["n"])


def _follow_ups(acc: _Day, day: date) -> None:
    open_then = follow_ups_open_at(day)
    done = follow_ups_done_on(day)
    groups = (
        FollowUp.objects.filter(open_then | done)
        .values("customer__branch_id", "staff_id")
        .annotate(
            open=Count("id", filter=open_then),
            overdue=Count("id", filter=follow_ups_overdue_at(day)),
            churn=Count("id", filter=churn_risk_at(day)),
            done=Count("id", filter=done),
            on_time=Count("id", filter=done & follow_ups_done_on_time()),
        )
        .order_by()
    )
    for g in groups:
        for row in acc.rows(g["customer__branch_id"], g["staff_id"]):
            row["follow_ups_open"] += g["open"]
            row["follow_ups_overdue"] += g["overdue"]
            row["churn_risk"] += g["churn"]
            row["follow_ups_done"] += g["done"]
            row["follow_ups_done_on_time"] += g["on_time"]


def _complaints(acc: _Day, day: date) -> None:
    start, end = day_bounds(day)
    received = (
        # A complaint registered as the same matter as an earlier one is counted once, on the earlier one.
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end, duplicate_of__isnull=True)
        .values("branch_id", "subject_staff_id", "category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for g in received:
        for row in acc.rows(g["branch_id"], g["subject_staff_id"]):
            row["complaints_received"] += g["n"]
            _add_count(row["by_category"], g["category_id"], g["n"])
    decided = Q(first_decided_at__gte=start, first_decided_at__lt=end)
    overdue = complaints_overdue_at(day)
    groups = (
        Complaint.objects.filter(decided | overdue, duplicate_of__isnull=True)
        .values("branch_id", "subject_staff_id")
        .annotate(
            decided=Count("id", filter=decided),
            on_time=Count("id", filter=decided & Q(decided_on_time=True)),
            overdue=Count("id", filter=overdue),
        )
        .order_by()
    )
    for g in groups:
        for row in acc.rows(g["branch_id"], g["subject_staff_id"]):
            row["complaints_decided"] += g["decided"]
            row["complaints_on_time"] += g["on_time"]
            row["complaints_overdue"] += g["overdue"]


def _ratings(acc: _Day, day: date) -> None:
    start, end = day_bounds(day)
    groups = (
        SatisfactionRating.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .values("customer__branch_id", "rated_staff_id")
        .annotate(n=Count("id"), total=Sum("score"))
        .order_by()
    )
    for g in groups:
        for row in acc.rows(g["customer__branch_id"], g["rated_staff_id"]):
            row["rating_count"] += g["n"]
            row["rating_sum"] += g["total"] or 0


def figures_build(*, day: date, notify: bool = True) -> FiguresRun:
    """Build (or build again) the branch and RM rows of one day. Safe to run twice, and concurrently with itself
    for another day. ``figures_built`` is sent with the day inside the same transaction (``notify=False``: the
    caller sends it once for several days)."""

    started = clock.monotonic()
    tiers = segments()
    rms = dict(Staff.objects.filter(role=Staff.Role.RM).exclude(left_on__lt=day).values_list("pk", "branch_id"))
    acc = _Day(Branch.objects.values_list("pk", flat=True), rms)
    # One transaction: the day's list of customers not contacted in time and the figures counted from it are
    # replaced together.
    with transaction.atomic():
        _portfolio(acc, day, tiers)
        _interactions(acc, day)
        _follow_ups(acc, day)
        _complaints(acc, day)
        _ratings(acc, day)
        _holdings(acc, day)
        now = timezone.now()
        branch_rows = [
            BranchDayFigures(branch_id=pk, day=day, built_at=now, uncovered_listed=True, **row)
            for pk, row in acc.branches.items()
        ]
        rm_rows = [
            RmDayFigures(staff_id=pk, branch_id=rms[pk], day=day, built_at=now, **row) for pk, row in acc.rms.items()
        ]
        BranchDayFigures.objects.bulk_create(
            branch_rows,
            update_conflicts=True,
            unique_fields=["branch", "day"],
            update_fields=[*FIELDS, *POOL_FIELDS, "uncovered_listed"],
        )
        RmDayFigures.objects.bulk_create(
            rm_rows, update_conflicts=True, unique_fields=["staff", "day"], update_fields=[*FIELDS, "branch"]
        )
        BranchDayFigures.objects.filter(day=day).exclude(branch_id__in=list(acc.branches)).delete()
        RmDayFigures.objects.filter(day=day).exclude(staff_id__in=list(acc.rms)).delete()
        if notify:
            figures_built.send(sender=BranchDayFigures, days=[day])
    figures_version_bump()
    run = FiguresRun(day, len(branch_rows), len(rm_rows), round(clock.monotonic() - started, 2))
    logger.info("figures %s: %s branches, %s RMs in %.2f s", day, run.branches, run.rms, run.seconds)
    return run


VERSION_KEY = "dashboards:figures-version"


def figures_version() -> str:
    """A token that changes whenever figures are (re)built: the dashboards cache their sums under it."""

    version = cache.get(VERSION_KEY)
    if version is None:
        version = figures_version_bump()
    return version


def figures_version_bump() -> str:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, timeout=None)
    return version


def figures_rebuild(*, since: date, until: date) -> list[FiguresRun]:
    """Build every day from ``since`` to ``until`` (inclusive), one transaction per day; then ``figures_built``
    once with every day built."""
    runs = []
    day = since
    while day <= until:
        runs.append(figures_build(day=day, notify=False))
        day += timedelta(days=1)
    if runs:
        with transaction.atomic():
            figures_built.send(sender=BranchDayFigures, days=[run.day for run in runs])
        figures_version_bump()
    return runs


def figures_build_yesterday(*, today: date | None = None) -> FiguresRun:
    """The nightly job: yesterday's rows (Asia/Shanghai), complete once the day is over."""
    today = today or timezone.localdate()
    return figures_build(day=today - timedelta(days=1))
