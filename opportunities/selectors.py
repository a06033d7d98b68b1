"""Reads of opportunities. Every read starts from ``opportunities_visible_to``: a user sees an opportunity only if
they may see its customer; an opportunity outside it is a 404. The pipeline's figures (``pipeline_figures``,
``closed_figures``) take any set of opportunities, so the pages, the exports and the dashboards above sum the
same way."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customers_visible_to, search_condition, visible_customer_condition
from organisation import access
from organisation.models import Branch, Staff

from .models import Opportunity, OpportunityRules

OPEN = Opportunity.OPEN_STAGES
Stage = Opportunity.Stage

# The stage filter of the pipeline pages: the open ones (the default), one stage, or everything.
STAGE_FILTERS = ("open", *Stage.values, "all")
# The flags: open ones the morning reminder names, won ones no holding matched.
FLAGS = ("stale", "unmatched")


def opportunities_visible_to(user) -> QuerySet[Opportunity]:
    """The one visibility rule for opportunities.

    - Administrator (HQ): every opportunity.
    - Branch head: those of the customers of their branch and every branch below it (by the customer's home branch,
      which the opportunity keeps in step: ``Opportunity.branch``).
    - RM: those of the customers they may see (``customers_visible_to``: their own, their secondary customers, the
      pool they keep) — so none of a customer who has moved to another RM, even one they won.
    - Complaints officer, no active staff: none."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return Opportunity.objects.none()
    if scope.is_all:
        return Opportunity.objects.all()
    if scope.is_subtree:
        ids = access.subtree_branch_ids(scope)
        return Opportunity.objects.all() if ids is None else Opportunity.objects.filter(branch_id__in=ids)
    if scope.staff.role != Staff.Role.RM:
        return Opportunity.objects.none()
    return Opportunity.objects.filter(customer__in=customers_visible_to(scope.staff).values("pk"))


def opportunity_get_visible(user, pk) -> Opportunity:
    """One opportunity the user may see, with what its page shows, or 404."""
    return get_object_or_404(
        opportunities_visible_to(user).select_related(
            "customer", "customer__segment", "branch", "owner", "product", "created_by", "interaction",
            "matched_holding__product",
        ),
        pk=pk,
    )  # fmt: skip


def may_change(user, opportunity: Opportunity) -> bool:
    """Whether the user may change the stage, the amount or the date of an opportunity they see: its owner, a head
    whose subtree holds the customer's branch, or an administrator. (The services ask this again, with the
    visibility rule.)"""
    staff = access.active_staff(user)
    if staff is None or staff.role not in access.PORTFOLIO_ROLES:
        return False
    return opportunity.owner_id == staff.pk or access.can_approve(staff, opportunity.branch)


def may_create(user) -> bool:
    return access.has_role(user, access.PORTFOLIO_ROLES)


# ----------------------------------------------------------------------------------------------------------------
# Stale ones (the morning reminder, the page's flag)
# ----------------------------------------------------------------------------------------------------------------


def stale_since(today: date, rules: OpportunityRules) -> datetime:
    """The moment before which a stage change makes an open opportunity stale: a change on the day ``stale_days``
    days before ``today`` or earlier (changed on 03-10, stale after 30 days from 04-09)."""
    day = today - timedelta(days=rules.stale_days - 1)
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def stale_q(today: date, rules: OpportunityRules) -> Q:
    """Open, and its expected date has passed or its stage has not changed for ``stale_days`` days."""
    return Q(stage__in=OPEN) & (Q(expected_on__lt=today) | Q(stage_changed_at__lt=stale_since(today, rules)))


# ----------------------------------------------------------------------------------------------------------------
# The pipeline pages
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineFilters:
    stage: str = "open"
    month: date | None = None  # the first day of the expected month
    branch: Branch | None = None  # the customer's outlet, or any branch whose subtree holds it
    owner_id: int | None = None
    flag: str = ""

    def describe(self) -> dict:
        return {
            "stage": self.stage,
            "month": self.month.strftime("%Y-%m") if self.month else "",
            "branch": self.branch.pk if self.branch else None,
            "owner": self.owner_id,
            "flag": self.flag,
        }


def _month_range(month: date) -> tuple[date, date]:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return month, following


def pipeline_base(user, *, mine: bool, branch: Branch | None = None, owner_id: int | None = None):
    """The opportunities a pipeline page sums and lists before its stage, month and flag filters: the user's own
    (我的商机, ``mine``) or everything they see, within a branch's subtree and of one owner when chosen."""
    qs = opportunities_visible_to(user)
    if mine:
        qs = qs.filter(owner=access.active_staff(user))
    if branch is not None:
        qs = qs.filter(access.within_q(branch, "branch"))
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    return qs


def pipeline_list(
    base: QuerySet[Opportunity], filters: PipelineFilters, *, today: date | None = None, rules=None
) -> QuerySet:
    """The rows of a pipeline page: open ones soonest expected first; closed ones most recently closed first."""
    today = today or timezone.localdate()
    qs = base
    if filters.stage == "open":
        qs = qs.filter(stage__in=OPEN)
    elif filters.stage in Stage.values:
        qs = qs.filter(stage=filters.stage)
    if filters.month is not None:
        start, end = _month_range(filters.month)
        qs = qs.filter(expected_on__gte=start, expected_on__lt=end)
    if filters.flag == "stale":
        qs = qs.filter(stale_q(today, rules or OpportunityRules.current()))
    elif filters.flag == "unmatched":
        qs = qs.filter(match_status=Opportunity.Match.UNMATCHED)
    qs = qs.select_related("customer", "customer__segment", "owner", "branch", "product")
    if filters.stage in Opportunity.CLOSED_STAGES or filters.flag == "unmatched":
        return qs.order_by("-stage_changed_at", "-pk")
    if filters.stage == "open" or filters.stage in OPEN:
        return qs.order_by("expected_on", "pk")
    return qs.order_by(F("won_on").desc(nulls_last=True), "expected_on", "pk")


@dataclass(frozen=True)
class PipelineFigure:
    """One group of a pipeline's figures: how many opportunities and their expected amount, by whichever of branch
    (the customer's), owner, stage and expected month (its first day) it was grouped by (None for the others)."""

    count: int
    amount: Decimal
    branch_id: int | None = None
    owner_id: int | None = None
    stage: str | None = None
    month: date | None = None


GROUPINGS = {"branch": "branch_id", "owner": "owner_id", "stage": "stage", "month": "_month"}


def pipeline_figures(opportunities: QuerySet[Opportunity], *, by: Iterable[str] = ("stage",)) -> list[PipelineFigure]:
    """The count and expected amount of ``opportunities`` grouped ``by`` any of "branch", "owner", "stage" and
    "month" (the expected month): one grouped query. Pass ``opportunities_visible_to(user)`` for a page, or every
    opportunity (``Opportunity.objects.all()``) for a nightly build; filter it first for the open ones
    (``stage__in=Opportunity.OPEN_STAGES``) or one period."""
    by = list(by)
    unknown = set(by) - set(GROUPINGS)
    if unknown:
        raise ValueError(f"unknown grouping: {sorted(unknown)}")
    qs = opportunities.order_by()
    if "month" in by:
        qs = qs.annotate(_month=TruncMonth("expected_on"))
    columns = [GROUPINGS[key] for key in by]
    rows = qs.values(*columns).annotate(n=Count("pk"), total=Sum("amount")).order_by(*columns)
    figures = []
    for row in rows:
        keys = {key: row[GROUPINGS[key]] for key in by}
        if "month" in keys and isinstance(keys["month"], datetime):
            keys["month"] = keys["month"].date()
        figures.append(PipelineFigure(count=row["n"], amount=row["total"] or Decimal(0), **keys))
    return figures


@dataclass(frozen=True)
class ClosedFigure:
    """Won and lost opportunities closed in a period, for one group: conversion = won / (won + lost)."""

    won: int
    won_amount: Decimal
    lost: int
    branch_id: int | None = None
    owner_id: int | None = None

    @property
    def conversion(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(100) * self.won / closed).quantize(Decimal("0.1")) if closed else None


def closed_figures(
    opportunities: QuerySet[Opportunity], *, since: date, until: date, by: Iterable[str] = ()
) -> list[ClosedFigure]:
    """Won and lost in the days ``since``..``until`` (won by its won date, lost by the day of its stage change),
    grouped ``by`` "branch" and/or "owner" (the one who won or lost it): one grouped query."""
    by = [key for key in by if key in ("branch", "owner")]
    tz = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
    won = Q(stage=Stage.WON, won_on__gte=since, won_on__lte=until)
    lost = Q(stage=Stage.LOST, stage_changed_at__gte=start, stage_changed_at__lt=end)
    columns = [GROUPINGS[key] for key in by]
    qs = opportunities.order_by().filter(won | lost)
    aggregates = {
        "won": Count("pk", filter=Q(stage=Stage.WON)),
        "won_amount": Sum("amount", filter=Q(stage=Stage.WON)),
        "lost": Count("pk", filter=Q(stage=Stage.LOST)),
    }
    if not columns:
        row = qs.aggregate(**aggregates)
        return [ClosedFigure(row["won"], row["won_amount"] or Decimal(0), row["lost"])]
    rows = qs.values(*columns).annotate(**aggregates).order_by(*columns)
    return [
        ClosedFigure(r["won"], r["won_amount"] or Decimal(0), r["lost"], **{k: r[GROUPINGS[k]] for k in by})
        for r in rows
    ]


@dataclass(frozen=True)
class StageTotal:
    stage: str
    label: str
    count: int
    amount: Decimal


@dataclass
class PipelineSummary:
    """The cards, the month table and the flags of a pipeline page, over its open opportunities (and its won ones
    without a holding)."""

    stages: list[StageTotal]
    months: list[PipelineFigure]  # from this month on; earlier ones are in ``overdue``
    overdue: PipelineFigure
    count: int = 0
    amount: Decimal = field(default_factory=Decimal)
    stale: int = 0  # open ones needing follow-up (``stale_q``)
    unmatched: int = 0  # won ones no holding matched


def pipeline_summary(
    base: QuerySet[Opportunity], *, today: date | None = None, rules: OpportunityRules | None = None
) -> PipelineSummary:
    """Totals of the open opportunities of ``base`` per stage and per expected month (those expected before this
    month summed as one "overdue" row), with how many of them are stale, in one grouped query over the open
    opportunities' covering index; and how many won ones no holding matched, in one query over their partial index."""
    today = today or timezone.localdate()
    rules = rules or OpportunityRules.current()
    rows = (
        base.filter(stage__in=OPEN)
        .order_by()
        .annotate(_month=TruncMonth("expected_on"))
        .values("stage", "_month")
        # Counted on a column of the index (not the key, which it does not hold): an index-only scan.
        .annotate(n=Count("expected_on"), total=Sum("amount"), stale=Count("expected_on", filter=stale_q(today, rules)))
        .order_by("stage", "_month")
    )
    this_month = today.replace(day=1)
    per_stage = {s: [0, Decimal(0)] for s in OPEN}
    per_month: dict[date, list] = {}
    overdue = [0, Decimal(0)]
    stale = 0
    for row in rows:
        month = row["_month"].date() if isinstance(row["_month"], datetime) else row["_month"]
        total = row["total"] or Decimal(0)
        per_stage[row["stage"]][0] += row["n"]
        per_stage[row["stage"]][1] += total
        bucket = overdue if month < this_month else per_month.setdefault(month, [0, Decimal(0)])
        bucket[0] += row["n"]
        bucket[1] += total
        stale += row["stale"]
    stages = [StageTotal(s, Stage(s).label, *per_stage[s]) for s in OPEN]
    return PipelineSummary(
        stages=stages,
        months=[PipelineFigure(count=n, amount=a, month=m) for m, (n, a) in sorted(per_month.items())],
        overdue=PipelineFigure(count=overdue[0], amount=overdue[1]),
        count=sum(s.count for s in stages),
        amount=sum((s.amount for s in stages), Decimal(0)),
        stale=stale,
        unmatched=base.filter(match_status=Opportunity.Match.UNMATCHED).order_by().count(),
    )


# ----------------------------------------------------------------------------------------------------------------
# The 360° page, the opportunity's page
# ----------------------------------------------------------------------------------------------------------------

CUSTOMER_PANEL_CLOSED = 3  # the most recent closed ones shown under the open ones
CUSTOMER_PANEL_ROWS = 50  # read at most (the most recently changed): a customer has a handful


def _of_customer_visible_to(user, customer) -> QuerySet[Opportunity]:
    """``opportunities_visible_to(user)`` for one customer, written as conditions of the one query (the 360° page
    pays no query for the scope): the same rule."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    qs = Opportunity.objects.filter(customer=customer)
    if scope.is_none or (scope.is_own and scope.staff.role != Staff.Role.RM):
        return qs.none()
    if scope.is_subtree:
        return qs.filter(access.subtree_q(scope, "branch"))
    if scope.is_own:
        return qs.filter(customer__in=Customer.objects.filter(visible_customer_condition(user), pk=customer.pk))
    return qs


def customer_opportunities(user, customer) -> list[Opportunity]:
    """The customer's open opportunities (soonest expected first) and their last few closed ones, as the user may
    see them: one query."""
    qs = _of_customer_visible_to(user, customer).select_related("owner", "product").order_by("-stage_changed_at", "-pk")
    rows = list(qs[:CUSTOMER_PANEL_ROWS])
    open_rows = sorted((o for o in rows if o.is_open), key=lambda o: (o.expected_on, o.pk))
    closed = [o for o in rows if not o.is_open][:CUSTOMER_PANEL_CLOSED]
    return open_rows + closed


def opportunity_events(opportunity: Opportunity) -> QuerySet:
    return opportunity.events.select_related("actor", "from_owner", "to_owner").order_by("-at", "-pk")


def customer_choices(user, q: str, *, limit: int = 10) -> list:
    """The create page's customer picker: the first customers the user may see that the term finds (the customer
    search's meanings: name prefix, customer number, mobile, ID number or its last 4), open ones only."""
    if not q:
        return []
    return list(
        customers_visible_to(user)
        .filter(search_condition(q), closed_on__isnull=True)
        .select_related("branch", "primary_rm")
        .order_by("name", "pk")[:limit]
    )
