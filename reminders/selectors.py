"""Reads of follow-ups: an RM's Today, a head's counts per RM, one follow-up of the user's own."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.selectors import with_customer_access
from organisation.models import Staff
from organisation.selectors import staff_of, staff_visible_to

from .models import FollowUp


@dataclass
class TodayGroup:
    kind: str
    label: str
    count: int
    overdue: int
    items: list


@dataclass
class Today:
    staff: Staff
    day: object
    groups: list
    total: int
    overdue: int


TODAY_PER_KIND = 20


def today_for(staff: Staff, *, day=None, kind: str | None = None, per_kind: int = TODAY_PER_KIND, viewer=None) -> Today:
    """An RM's open follow-ups due by the end of the horizon (settings.TODAY_HORIZON_DAYS), grouped by kind and
    overdue first: the counts in one query, the first items of every kind in another (a window function). Each
    item says whether ``viewer`` (default: the RM) may open its customer."""

    day = day or timezone.localdate()
    open_ = FollowUp.objects.filter(
        staff=staff, status=FollowUp.Status.OPEN, due_on__lte=day + timedelta(days=settings.TODAY_HORIZON_DAYS)
    )
    if kind:
        open_ = open_.filter(kind=kind)
    counts = {
        row["kind"]: row
        for row in open_.values("kind").annotate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=day))).order_by()
    }
    if not counts:  # nothing due: no second query
        return Today(staff, day, [], 0, 0)
    ranked = (
        with_customer_access(open_.select_related("customer__segment"), viewer or staff)
        .annotate(rank=Window(RowNumber(), partition_by=[F("kind")], order_by=[F("due_on").asc(), F("pk").asc()]))
        .filter(rank__lte=per_kind)
        .order_by("due_on", "pk")
    )
    items: dict[str, list] = {}
    for follow_up in ranked:
        items.setdefault(follow_up.kind, []).append(follow_up)
    groups = [
        TodayGroup(k, label, counts[k]["n"], counts[k]["late"], items.get(k, []))
        for k, label in FollowUp.Kind.choices
        if k in counts
    ]
    groups.sort(key=lambda g: (-g.overdue, [k for k, _label in FollowUp.Kind.choices].index(g.kind)))
    return Today(staff, day, groups, sum(g.count for g in groups), sum(g.overdue for g in groups))


def follow_up_counts_by_rm(user, *, day=None) -> list[dict]:
    """For a head: open follow-ups per RM of the subtree (overdue, due today, upcoming), in one query."""

    day = day or timezone.localdate()
    horizon = day + timedelta(days=settings.TODAY_HORIZON_DAYS)
    open_q = Q(follow_ups__status="open", follow_ups__due_on__lte=horizon)
    return list(
        staff_visible_to(user)
        .filter(role=Staff.Role.RM, status__in=[Staff.Status.ACTIVE, Staff.Status.LEAVING])
        .annotate(
            total=Count("follow_ups", filter=open_q),
            overdue=Count("follow_ups", filter=open_q & Q(follow_ups__due_on__lt=day)),
            due_today=Count("follow_ups", filter=open_q & Q(follow_ups__due_on=day)),
        )
        .select_related("branch")
        .order_by("-overdue", "-total", "name")
        .values("pk", "name", "branch__name", "total", "overdue", "due_today")
    )


def follow_up_get_own(user, pk):
    """A follow-up assigned to the user, or 404."""

    staff = staff_of(user)
    return get_object_or_404(
        with_customer_access(FollowUp.objects.select_related("customer__segment"), staff), pk=pk, staff=staff
    )


def follow_ups_open_for(staff: Staff, *, limit: int = 20):
    return list(
        with_customer_access(FollowUp.objects.filter(staff=staff, status__in=FollowUp.OPEN_STATES), staff)
        .select_related("customer__segment")
        .order_by("due_on", "pk")[:limit]
    )


def follow_ups_open_of_customer(customer, *, limit: int = 10) -> list:
    """The customer's open follow-ups, soonest first (the 360° page; the page has checked visibility)."""
    return list(
        FollowUp.objects.filter(customer=customer, status__in=FollowUp.OPEN_STATES)
        .select_related("staff", "customer__segment")
        .order_by("due_on")[:limit]
    )


def follow_ups_to_close_with_contact(staff: Staff, customer, *, limit: int = 20) -> list:
    """The open follow-ups of ``customer`` on ``staff``'s Today (their own, not snoozed), soonest first: what the
    quick log offers to close with the contact being logged."""
    return list(
        FollowUp.objects.filter(customer=customer, staff=staff, status=FollowUp.Status.OPEN)
        .select_related("customer__segment")
        .order_by("due_on", "pk")[:limit]
    )
