"""The drill-downs: the records behind a dashboard figure, through the user's visibility rule and the very
conditions the nightly build counted with (``figures``), so that a figure and its list agree."""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from customers.selectors import customers_visible_to
from organisation.models import Staff
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp

from . import figures as f
from .cache import Figures, branch_rows, rm_rows
from .periods import Period, Scope, period_for, rm_get_visible, scope_for

DRILLS = {
    "customers": _("Customers"),
    "not_contacted": _("Customers not contacted in time"),
    "new_customers": _("New customers"),
    "lost_customers": _("Lost customers"),
    "interactions": _("Interactions"),
    "follow_ups_overdue": _("Overdue follow-ups"),
    "churn": _("Churn-risk customers"),
    "ratings": _("Satisfaction ratings"),
}


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
        metric = "customers"
    period = period_for(period_key)
    day = period.end
    rm = rm_get_visible(user, rm_id) if rm_id not in (None, "") else None
    scope = None if rm is not None else scope_for(user, branch_id)
    visible = customers_visible_to(user)
    start, _end = f.day_bounds(period.start)
    _day_start, end = f.day_bounds(period.end)

    def by_customer(qs, staff_field):
        if rm is not None:
            return qs.filter(**{staff_field: rm})
        if scope.root is not None and scope.narrows:
            return qs.filter(customer__branch_id__in=scope.ids)
        return qs

    if metric in ("customers", "not_contacted", "new_customers"):
        # Largest customers first. The list of customers not contacted in time is ordered by the day's AUM, as the
        # build wrote it; the others by the current AUM, which an index gives in order, so that the page stops
        # after 50 rows instead of sorting the scope (seconds at a million customers). For the last built day,
        # which the drill-down shows, the day's AUM is the latest snapshot: the same order.
        order = ("-aum", "pk")
        if metric == "not_contacted" and f.uncovered_listed(day):
            # The list the day's build wrote with the rule: the rule itself over every customer of a large
            # scope takes seconds (docs/performance.md).
            customers = f.uncovered_customers(day, visible)
            order = ("-aum_on_day", "pk")
        else:
            customers = f.customers_as_of(day, visible)
            if metric == "not_contacted":
                customers = customers.filter(f.not_contacted_in_time(day))
        if rm is not None:
            customers = customers.filter(primary_rm=rm)
        elif scope.root is not None and scope.narrows:
            customers = customers.filter(branch_id__in=scope.ids)
        if metric == "new_customers":
            customers = customers.filter(created_at__gte=start)
        records = customers.select_related("segment", "primary_rm", "branch").order_by(*order)
        kind = "customers"
    elif metric == "lost_customers":
        records = f.lost_customers_between(period.start, period.end).filter(id__in=visible.values("pk"))
        if rm is not None:
            records = records.filter(primary_rm_id=rm.pk)
        elif scope.root is not None:
            records = records.filter(branch_id__in=scope.ids)
        records = records.order_by("-history_date")
        kind = "history"
    elif metric == "interactions":
        records = Interaction.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, customer__in=visible.values("pk")
        )
        if channel in Interaction.Channel.values:
            records = records.filter(channel=channel)
        records = by_customer(records, "staff").select_related("customer", "staff").order_by("-occurred_at", "-pk")
        kind = "interactions"
    elif metric in ("follow_ups_overdue", "churn"):
        condition = f.follow_ups_overdue_at(day) if metric == "follow_ups_overdue" else f.churn_risk_at(day)
        records = FollowUp.objects.filter(condition, customer__in=visible.values("pk"))
        records = by_customer(records, "staff").select_related("customer__segment", "staff").order_by("due_on", "pk")
        kind = "follow_ups"
    else:
        records = SatisfactionRating.objects.filter(
            recorded_at__gte=start, recorded_at__lt=end, customer__in=visible.values("pk")
        )
        records = by_customer(records, "rated_staff").select_related("customer", "rated_staff", "recorded_by")
        records = records.order_by("-recorded_at")
        kind = "ratings"
    headline = None if channel and metric == "interactions" else _headline(metric, scope, rm, period)
    return Drill(metric, DRILLS[metric], kind, records, period, day, scope, rm, headline)


HEADLINE_FIELD = {
    "customers": "customers",
    "not_contacted": "overdue_customers",
    "new_customers": "new_customers",
    "lost_customers": "lost_customers",
    "interactions": "interactions",
    "follow_ups_overdue": "follow_ups_overdue",
    "churn": "churn_risk",
    "ratings": "rating_count",
}


def _headline(metric, scope, rm, period) -> int:
    if rm is not None:
        rows = rm_rows([rm.pk], period)
    else:
        rows = branch_rows(scope, period)
    return Figures.of(rows).now[HEADLINE_FIELD[metric]]
