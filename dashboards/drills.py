"""The drill-downs: the records behind a dashboard figure, through the user's visibility rule and the very
conditions the nightly build counted with (``figures``), so that a figure and its list agree.

Each metric is one ``Metric``: its label, the field of the precomputed rows the page shows as its figure, how its
records are read over a period, where their branch and their RM are, and their order. ``drill_for`` looks the
metric up and narrows the records to the picked RM or branch subtree, in one place for every metric.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from customers.selectors import customers_visible_to
from organisation.models import Staff
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp

from . import figures as f
from .cache import Figures, branch_rows, rm_rows
from .periods import Period, Scope, period_for, rm_get_visible, scope_for


@dataclass(frozen=True)
class Window:
    """What a metric's records are read over: the period, its last day (the day of the stocks), the start of its
    first day and the end of its last, the customers the user may see and the channel asked for."""

    period: Period
    day: date
    start: datetime
    end: datetime
    visible: QuerySet
    channel: str = ""


@dataclass(frozen=True)
class Metric:
    label: str
    headline: str  # the figure of the precomputed rows that the records add up to
    kind: str  # how the page lists them: customers, interactions, follow_ups, ratings, history
    records: Callable[[Window], QuerySet]  # the metric's records among the customers the user may see
    order: tuple[str, ...]  # empty where ``records`` orders them itself
    branch_field: str = "customer__branch_id"  # the branch the scope narrows by
    rm_field: str = "staff_id"  # the RM of an RM's figure
    related: tuple[str, ...] = ()
    by_channel: bool = False  # a channel narrows the records below the figure, which is then not shown


# Largest customers first. The list of customers not contacted in time is ordered by the day's AUM, as the build
# wrote it; the others by the current AUM, which an index gives in order, so that the page stops after 50 rows
# instead of sorting the scope (seconds at a million customers). For the last built day, which the drill-down
# shows, the day's AUM is the latest snapshot: the same order.
BY_AUM = ("-aum", "pk")
CUSTOMER_RELATED = ("segment", "primary_rm", "branch")


def _customers(w: Window) -> QuerySet:
    return f.customers_as_of(w.day, w.visible)


def _not_contacted(w: Window) -> QuerySet:
    if f.uncovered_listed(w.day):
        # The list the day's build wrote with the rule: the rule itself over every customer of a large scope
        # takes seconds (docs/performance.md).
        return f.uncovered_customers(w.day, w.visible).order_by("-aum_on_day", "pk")
    return f.customers_as_of(w.day, w.visible).filter(f.not_contacted_in_time(w.day)).order_by(*BY_AUM)


def _pool(w: Window) -> QuerySet:
    return f.customers_as_of(w.day, w.visible).filter(f.in_pool_at(w.day))


def _pool_not_contacted(w: Window) -> QuerySet:
    return _not_contacted(w).filter(f.in_pool_at(w.day))


def _new_customers(w: Window) -> QuerySet:
    return f.customers_as_of(w.day, w.visible).filter(created_at__gte=w.start)


def _lost_customers(w: Window) -> QuerySet:
    return f.lost_customers_between(w.period.start, w.period.end).filter(id__in=w.visible.values("pk"))


def _interactions(w: Window) -> QuerySet:
    records = Interaction.objects.filter(
        occurred_at__gte=w.start, occurred_at__lt=w.end, customer__in=w.visible.values("pk")
    )
    if w.channel in Interaction.Channel.values:
        records = records.filter(channel=w.channel)
    return records


def _follow_ups_overdue(w: Window) -> QuerySet:
    return FollowUp.objects.filter(f.follow_ups_overdue_at(w.day), customer__in=w.visible.values("pk"))


def _churn(w: Window) -> QuerySet:
    return FollowUp.objects.filter(f.churn_risk_at(w.day), customer__in=w.visible.values("pk"))


def _ratings(w: Window) -> QuerySet:
    return SatisfactionRating.objects.filter(
        recorded_at__gte=w.start, recorded_at__lt=w.end, customer__in=w.visible.values("pk")
    )


DRILLS = {
    "customers": Metric(
        _("Customers"),
        "customers",
        "customers",
        _customers,
        BY_AUM,
        branch_field="branch_id",
        rm_field="primary_rm_id",
        related=CUSTOMER_RELATED,
    ),
    "not_contacted": Metric(
        _("Customers not contacted in time"),
        "overdue_customers",
        "customers",
        _not_contacted,
        (),
        branch_field="branch_id",
        rm_field="primary_rm_id",
        related=CUSTOMER_RELATED,
    ),
    "pool": Metric(
        _("Pool customers"),
        "pool_customers",
        "customers",
        _pool,
        BY_AUM,
        branch_field="branch_id",
        rm_field="primary_rm_id",
        related=CUSTOMER_RELATED,
    ),
    "pool_not_contacted": Metric(
        _("Pool customers not contacted in time"),
        "pool_overdue_customers",
        "customers",
        _pool_not_contacted,
        (),
        branch_field="branch_id",
        rm_field="primary_rm_id",
        related=CUSTOMER_RELATED,
    ),
    "new_customers": Metric(
        _("New customers"),
        "new_customers",
        "customers",
        _new_customers,
        BY_AUM,
        branch_field="branch_id",
        rm_field="primary_rm_id",
        related=CUSTOMER_RELATED,
    ),
    "lost_customers": Metric(
        _("Lost customers"),
        "lost_customers",
        "history",
        _lost_customers,
        ("-history_date",),
        branch_field="branch_id",
        rm_field="primary_rm_id",
    ),
    "interactions": Metric(
        _("Interactions"),
        "interactions",
        "interactions",
        _interactions,
        ("-occurred_at", "-pk"),
        related=("customer", "staff"),
        by_channel=True,
    ),
    "follow_ups_overdue": Metric(
        _("Overdue follow-ups"),
        "follow_ups_overdue",
        "follow_ups",
        _follow_ups_overdue,
        ("due_on", "pk"),
        related=("customer__segment", "staff"),
    ),
    "churn": Metric(
        _("Churn-risk customers"),
        "churn_risk",
        "follow_ups",
        _churn,
        ("due_on", "pk"),
        related=("customer__segment", "staff"),
    ),
    "ratings": Metric(
        _("Satisfaction ratings"),
        "rating_count",
        "ratings",
        _ratings,
        ("-recorded_at",),
        rm_field="rated_staff_id",
        related=("customer", "rated_staff", "recorded_by"),
    ),
}
DEFAULT_METRIC = "customers"


@dataclass
class Drill:
    metric: str
    label: str
    kind: str  # customers, interactions, follow_ups, ratings, history
    records: object  # a queryset
    period: Period
    day: date
    scope: Scope | None
    rm: Staff | None
    headline: object  # the figure from the precomputed rows


def drill_for(user, *, metric: str, period_key: str, branch_id=None, rm_id=None, channel: str = "") -> Drill:
    """The records behind a dashboard figure: ``rm_id`` for an RM's figure (404 for an RM the user may not see),
    otherwise the picked branch's subtree (404 outside the user's)."""

    if metric not in DRILLS:
        metric = DEFAULT_METRIC
    spec = DRILLS[metric]
    period = period_for(period_key)
    rm = rm_get_visible(user, rm_id) if rm_id not in (None, "") else None
    scope = None if rm is not None else scope_for(user, branch_id)
    start, _end = f.day_bounds(period.start)
    _day_start, end = f.day_bounds(period.end)
    window = Window(period, period.end, start, end, customers_visible_to(user), channel)
    records = spec.records(window)
    if rm is not None:
        records = records.filter(**{spec.rm_field: rm.pk})
    else:
        records = scope.narrow(records, spec.branch_field)
    if spec.related:
        records = records.select_related(*spec.related)
    if spec.order:
        records = records.order_by(*spec.order)
    headline = None if channel and spec.by_channel else _headline(spec, scope, rm, period)
    return Drill(metric, spec.label, spec.kind, records, period, window.day, scope, rm, headline)


def _headline(spec: Metric, scope: Scope | None, rm: Staff | None, period: Period) -> int:
    rows = rm_rows([rm.pk], period) if rm is not None else branch_rows(scope, period)
    return Figures.of(rows).now[spec.headline]
