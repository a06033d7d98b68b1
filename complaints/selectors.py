"""Reads of complaints. Everything starts from ``complaints_visible_to(user)``: the one visibility rule."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.selectors import customers_visible_to, search_condition, with_customer_access
from organisation import access
from organisation.models import Branch, Staff
from organisation.selectors import staff_of, staff_visible_to

from . import rules
from .models import Complaint, ComplaintCategory, ComplaintCause, ComplaintEvent, ComplaintExtension


def complaints_visible_to(user) -> QuerySet[Complaint]:
    """The one visibility rule for complaints (docs/architecture.md, "Roles and visibility").

    - Admin/HQ: every complaint.
    - Branch head and complaints officer: complaints about their branch and every branch below it.
    - RM: the complaints they handle. (Their customers' complaints show read-only on the 360° page, through
      ``complaints_of_customer``.)
    - Anyone else: none.
    """
    scope = access.scope_of(user)
    if scope.is_none:
        return Complaint.objects.none()
    if scope.is_all:
        return Complaint.objects.all()
    if scope.is_subtree:
        return Complaint.objects.filter(access.subtree_q(scope, "branch"))
    return Complaint.objects.filter(handler=scope.staff)


def complaint_get_visible(user, pk) -> Complaint:
    """One complaint the user may see, or 404; it says whether the user may open its customer (a handler need not
    be the customer's RM)."""
    return get_object_or_404(
        with_customer_access(complaints_visible_to(user), user).select_related(
            "customer__segment",
            "customer__primary_rm",
            "branch",
            "product",
            "subject_staff",
            "handler__branch",
            "registered_by",
            "category",
            "cause",
            "duplicate_of",
        ),
        pk=pk,
    )


def complaints_of_customer(user, customer, limit: int = 10) -> list[Complaint]:
    """A customer's complaints for their 360° page. The caller has already checked that the user sees the
    customer; an RM sees them read-only."""
    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return []
    return list(
        Complaint.objects.filter(customer=customer)
        .select_related("category", "handler")
        # Every row carries the number of the customer's open complaints, counted before the limit (the 360°
        # page's highlights show it without a query of their own).
        .annotate(
            open_total=Window(
                Sum(
                    Case(
                        When(status__in=Complaint.OPEN_STATES, then=Value(1)),
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                )
            )
        )
        .order_by("-received_at", "-pk")[:limit]
    )


def open_complaint_count(complaints: list[Complaint]) -> int:
    """The customer's open complaints, from the rows ``complaints_of_customer`` read (all of them, not the
    first ``limit``)."""
    return complaints[0].open_total if complaints else 0


def customer_complaints_for_intake(user, customer) -> QuerySet[Complaint]:
    """The customer's complaints the user sees, newest first: the intake page shows the open ones (a resubmission
    is attached to one of them) and offers any as "the same matter"."""
    return (
        complaints_visible_to(user)
        .filter(customer=customer)
        .select_related("branch", "handler", "subject_staff")
        .order_by("-received_at", "-pk")
    )


def intake_customer_matches(user, q: str, *, limit: int = 10) -> list:
    """Intake's customer search: the first ``limit`` customers the user may see that the term finds (name prefix,
    customer number, mobile, ID number or its last 4: ``customers.selectors.search_condition``), by name."""
    if not q:
        return []
    return list(
        customers_visible_to(user)
        .filter(search_condition(q))
        .select_related("branch", "primary_rm")
        .order_by("name", "pk")[:limit]
    )


def customers_with_open_complaints() -> QuerySet:
    """Customer ids with an open complaint, as a subquery (the churn-risk reminder uses it)."""
    return Complaint.objects.filter(status__in=Complaint.OPEN_STATES, customer__isnull=False).values("customer_id")


def open_complaints_handled_by(staff: Staff, limit: int = 20) -> list[Complaint]:
    """The handler's open complaints, soonest due first (the Today page)."""
    return list(
        Complaint.objects.filter(handler=staff, status__in=Complaint.OPEN_STATES)
        .select_related("customer")
        .order_by("due_at")[:limit]
    )


# ----------------------------------------------------------------------------------------------------------------
# The list
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class ComplaintFilters:
    q: str = ""
    status: str = ""
    category: ComplaintCategory | None = None
    cause: ComplaintCause | None = None
    channel: str = ""
    branch: object = None
    handler: Staff | None = None
    deadline: str = ""
    severity: str = ""


def complaint_list(user, filters: ComplaintFilters, now: datetime | None = None) -> QuerySet[Complaint]:
    now = now or timezone.now()
    qs = complaints_visible_to(user)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(reference=term.upper()) | Q(complainant_name__startswith=term))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.cause:
        qs = qs.filter(cause=filters.cause)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.branch:
        qs = qs.filter(access.within_q(filters.branch, "branch"))
    if filters.handler:
        qs = qs.filter(handler=filters.handler)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.deadline:
        qs = qs.filter(rules.deadline_condition(filters.deadline, now))
        if filters.deadline in (rules.Deadline.BREACHED, rules.Deadline.DUE_SOON):
            return qs.select_related("customer", "branch", "handler", "category").order_by("due_at", "pk")
    return qs.select_related("customer", "branch", "handler", "category").order_by("-received_at", "-pk")


def deadline_counts(user, now: datetime | None = None) -> dict[str, int]:
    """How many of the user's open complaints are overdue, due soon and paused: one query."""
    now = now or timezone.now()
    D = rules.Deadline
    return complaints_visible_to(user).aggregate(
        **{state: Count("pk", filter=rules.deadline_condition(state, now)) for state in (D.BREACHED, D.DUE_SOON)},
        paused=Count("pk", filter=rules.deadline_condition(D.PAUSED, now)),
        pending_extensions=Count(
            "extensions", filter=Q(extensions__status=ComplaintExtension.Status.PENDING), distinct=True
        ),
    )


# ----------------------------------------------------------------------------------------------------------------
# The detail page
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class ComplaintView:
    complaint: Complaint
    events: list[ComplaintEvent]
    extensions: list[ComplaintExtension]
    attachments: list
    pending_extension: ComplaintExtension | None = None


def complaint_detail(user, pk) -> ComplaintView:
    complaint = complaint_get_visible(user, pk)
    events = list(complaint.events.select_related("actor").order_by("at", "pk"))
    extensions = list(complaint.extensions.select_related("requested_by", "decided_by").order_by("pk"))
    attachments = list(complaint.attachments.select_related("uploaded_by"))
    pending = next((e for e in extensions if e.status == ComplaintExtension.Status.PENDING), None)
    return ComplaintView(complaint, events, extensions, attachments, pending)


def handler_choices(user, complaint: Complaint | None = None) -> QuerySet[Staff]:
    """Who may be made handler: active staff within the user's area, never the subject of the complaint."""
    qs = staff_visible_to(user).filter(status=Staff.Status.ACTIVE).select_related("branch")
    if complaint is not None and complaint.subject_staff_id:
        qs = qs.exclude(pk=complaint.subject_staff_id)
    return qs.order_by("branch__path", "role", "name")


# ----------------------------------------------------------------------------------------------------------------
# Monthly statistics and repeated causes
# ----------------------------------------------------------------------------------------------------------------


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(following, time.min, tzinfo=tz)


DAYS_TO_DECIDE = ExpressionWrapper(F("first_decided_at") - F("received_at"), output_field=DurationField())


def _figures(now: datetime) -> dict:
    """The figures of a group of complaints, as aggregate expressions (one GROUP BY query per table).

    - received: every complaint received in the period;
    - withdrawn: withdrawn ones (not counted in the timeliness figures);
    - decided: with a first decision; on_time: decided by its deadline;
    - overdue_open: still open and past its deadline (counts against timeliness too);
    - on-time rate = on_time / (decided + overdue_open);
    - average days to decide, over the decided; satisfaction, over the callbacks.
    """
    return {
        "received": Count("pk"),
        "withdrawn": Count("pk", filter=Q(status=Complaint.Status.WITHDRAWN)),
        "decided": Count("pk", filter=Q(first_decided_at__isnull=False)),
        "on_time": Count("pk", filter=Q(decided_on_time=True)),
        "overdue_open": Count("pk", filter=rules.deadline_condition(rules.Deadline.BREACHED, now)),
        "closed": Count("pk", filter=Q(status=Complaint.Status.CLOSED)),
        "avg_decide": Avg(DAYS_TO_DECIDE, filter=Q(first_decided_at__isnull=False)),
        "avg_satisfaction": Avg("satisfaction"),
        "callbacks": Count("satisfaction"),
    }


@dataclass
class Row:
    key: object
    label: str
    received: int = 0
    withdrawn: int = 0
    decided: int = 0
    on_time: int = 0
    overdue_open: int = 0
    closed: int = 0
    avg_days: Decimal | None = None
    satisfaction: Decimal | None = None
    callbacks: int = 0

    @property
    def judged(self) -> int:
        return self.decided + self.overdue_open

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.judged:
            return None
        return (Decimal(self.on_time) * 100 / self.judged).quantize(Decimal("0.1"))


def _row(key, label, values: dict) -> Row:
    avg = values.get("avg_decide")
    sat = values.get("avg_satisfaction")
    return Row(
        key=key,
        label=label,
        received=values["received"],
        withdrawn=values["withdrawn"],
        decided=values["decided"],
        on_time=values["on_time"],
        overdue_open=values["overdue_open"],
        closed=values["closed"],
        avg_days=Decimal(avg.total_seconds() / 86400).quantize(Decimal("0.1")) if avg is not None else None,
        satisfaction=Decimal(sat).quantize(Decimal("0.01")) if sat is not None else None,
        callbacks=values["callbacks"],
    )


@dataclass
class MonthlyStatistics:
    month: date
    total: Row
    by_category: list[Row] = field(default_factory=list)
    by_cause: list[Row] = field(default_factory=list)
    by_branch: list[Row] = field(default_factory=list)
    by_channel: list[Row] = field(default_factory=list)


def counted_once() -> Q:
    """A matter is counted once: a complaint registered as the same matter as an earlier one (``duplicate_of``)
    is left out of the statistics, the earlier one counts. (A repeat contact recorded on the open complaint adds
    no complaint at all.)"""
    return Q(duplicate_of__isnull=True)


def monthly_statistics(user, month: date, branch=None, now: datetime | None = None) -> MonthlyStatistics:
    """Complaints received in ``month`` within the user's scope (and ``branch``), by business category, by
    cause, by branch and by channel, with the totals: five GROUP BY queries and the labels. Each matter once."""
    now = now or timezone.now()
    start, end = month_bounds(month)
    base = complaints_visible_to(user).filter(counted_once(), received_at__gte=start, received_at__lt=end)
    if branch is not None:
        base = base.filter(access.within_q(branch, "branch"))
    total = _row(None, "", base.aggregate(**_figures(now)))

    def grouped(key: str, labels: dict) -> list[Row]:
        rows = base.values(key).order_by().annotate(**_figures(now))
        result = [_row(r[key], labels.get(r[key], "—"), r) for r in rows]
        return sorted(result, key=lambda r: (-r.received, str(r.label)))

    categories = {c.pk: str(c) for c in ComplaintCategory.objects.all()}
    causes = {c.pk: str(c) for c in ComplaintCause.objects.all()}
    by_branch = grouped("branch", {})
    names = dict(Branch.objects.filter(pk__in=[r.key for r in by_branch]).values_list("pk", "name"))
    for r in by_branch:
        r.label = names.get(r.key, "—")
    channels = dict(Complaint.Channel.choices)
    return MonthlyStatistics(
        month=month.replace(day=1),
        total=total,
        by_category=grouped("category", categories),
        by_cause=grouped("cause", causes),
        by_branch=by_branch,
        by_channel=grouped("channel", {k: str(v) for k, v in channels.items()}),
    )


@dataclass
class RepeatedCause:
    cause: ComplaintCause
    count: int
    branches: list[tuple[str, int]]
    products: list[tuple[str, int]]
    categories: list[tuple[str, int]]


def repeated_causes(user, start: date, end: date, top: int = 5, branch=None) -> list[RepeatedCause]:
    """The causes behind most complaints received between ``start`` and ``end`` (inclusive), each with the
    branches, products and categories behind it: four GROUP BY queries whatever the volume."""
    tz = timezone.get_current_timezone()
    qs = complaints_visible_to(user).filter(
        counted_once(),
        received_at__gte=datetime.combine(start, time.min, tzinfo=tz),
        received_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
        cause__isnull=False,
    )
    if branch is not None:
        qs = qs.filter(access.within_q(branch, "branch"))
    tops = list(qs.values("cause").annotate(n=Count("pk")).order_by("-n", "cause")[:top])
    if not tops:
        return []
    cause_ids = [t["cause"] for t in tops]
    causes = ComplaintCause.objects.in_bulk(cause_ids)
    within = qs.filter(cause__in=cause_ids)

    def behind(*fields) -> dict[int, list[tuple[str, int]]]:
        out: dict[int, list[tuple[str, int]]] = {c: [] for c in cause_ids}
        for r in within.values("cause", *fields).annotate(n=Count("pk")).order_by("cause", "-n", *fields):
            if len(out[r["cause"]]) < 5:
                out[r["cause"]].append((r[fields[-1]] or "—", r["n"]))
        return out

    branches = behind("branch__name")
    products = behind("product__name")
    categories_raw = behind("category")
    names = {c.pk: str(c) for c in ComplaintCategory.objects.all()}
    categories = {k: [(names.get(pk, "—"), n) for pk, n in v] for k, v in categories_raw.items()}
    return [
        RepeatedCause(causes[t["cause"]], t["n"], branches[t["cause"]], products[t["cause"]], categories[t["cause"]])
        for t in tops
    ]
