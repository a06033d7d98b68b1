"""Reads of the targets app. Every read starts from ``targets_visible_to``: an administrator sees every target, a
head those of their subtree (its branches and its RMs), an RM their own."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from organisation import access
from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to

from .models import Metric, Target, TargetPeriod
from .services import can_set_for, children_of, key_of

NOTHING = Q(pk__in=[])


def targets_visible_to(user) -> QuerySet:
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return Target.objects.none()
    if scope.is_all:
        return Target.objects.all()
    if scope.is_subtree:
        return Target.objects.filter(access.subtree_q(scope, "branch") | access.subtree_q(scope, "staff__branch"))
    return Target.objects.filter(staff=scope.staff)


def target_get_visible(user, pk) -> Target:
    return get_object_or_404(targets_visible_to(user).select_related("period", "branch", "staff", "parent"), pk=pk)


# ----------------------------------------------------------------------------------------------------------------
# The period a page shows
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodChoice:
    kind: str
    start: date
    end: date

    @property
    def on(self) -> str:
        return self.start.isoformat()

    @property
    def label(self) -> str:
        return TargetPeriod(kind=self.kind, start=self.start, end=self.end).label

    def previous(self) -> "PeriodChoice":
        return period_choice(self.kind, self.start - timedelta(days=1))

    def next(self) -> "PeriodChoice":
        return period_choice(self.kind, self.end + timedelta(days=1))

    @property
    def is_closed(self) -> bool:
        return self.end < timezone.localdate()


PERIOD_YEARS = range(2000, 2100)


def period_choice(kind: str | None, on) -> PeriodChoice:
    """The month, quarter or year (``kind``, a month by default) that holds ``on`` (an ISO date; today by
    default). A malformed date, or one outside the years a period can be set for (PERIOD_YEARS), is today."""
    kind = kind if kind in TargetPeriod.Kind.values else TargetPeriod.Kind.MONTH
    day = timezone.localdate()
    if on:
        try:
            asked = date.fromisoformat(str(on))
        except ValueError:
            asked = None
        if asked is not None and asked.year in PERIOD_YEARS:
            day = asked
    start, end = TargetPeriod.bounds(kind, day)
    return PeriodChoice(kind, start, end)


# ----------------------------------------------------------------------------------------------------------------
# The targets page
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One holder (a branch's subtree or an RM) and its target of one metric (None: not set)."""

    holder: object
    target: Target | None

    @property
    def is_branch(self) -> bool:
        return isinstance(self.holder, Branch)

    @property
    def attainment(self):
        return getattr(self.target, "attainment", None) if self.target is not None else None


@dataclass
class MetricRow:
    metric: str
    product_category: str
    own: Line  # the root's target
    children: list = field(default_factory=list)  # Lines of the branches and RMs directly below

    @property
    def label(self) -> str:
        sample = Target(metric=self.metric, product_category=self.product_category)
        return sample.metric_label

    @property
    def unit(self) -> str:
        return Target(metric=self.metric).unit

    @property
    def display_unit(self) -> str:
        return Target(metric=self.metric).display_unit

    @property
    def lower_is_better(self) -> bool:
        return Target(metric=self.metric).lower_is_better

    @property
    def out_of_step(self) -> bool:
        """A distributed additive target whose children no longer add up to it (it was changed since)."""
        target = self.own.target
        if target is None or not target.is_additive:
            return False
        parts = [line.target.value for line in self.children if line.target and line.target.parent_id == target.pk]
        return bool(parts) and sum(parts) != target.value


@dataclass
class Board:
    period: PeriodChoice
    root: Branch | None  # None for an RM's own page
    rm: Staff | None
    rows: list
    branch_choices: list
    can_set: bool

    @property
    def is_empty(self) -> bool:
        return not self.rows


METRIC_ORDER = {m: i for i, m in enumerate(Metric.values)}


def _row_key(target: Target) -> tuple:
    return (METRIC_ORDER[target.metric], target.product_category)


def target_board(user, *, kind=None, on=None, branch_id=None) -> Board:
    """The targets of a period for the page: an RM's own; for a head or an administrator, those of a branch of
    their scope (their own by default) and of the branches and RMs directly below it, by metric."""
    period = period_choice(kind, on)
    staff = access.active_staff(user)
    visible = targets_visible_to(user).filter(period__kind=period.kind, period__start=period.start)
    visible = visible.select_related("attainment", "parent").order_by("metric", "product_category", "pk")
    if staff.role == Staff.Role.RM:
        rows = [MetricRow(t.metric, t.product_category, Line(staff, t)) for t in visible.filter(staff=staff)]
        rows.sort(key=lambda r: (METRIC_ORDER[r.metric], r.product_category))
        return Board(period, None, staff, rows, [], False)

    branches = list(branches_visible_to(user).order_by("path").only("id", "name", "code", "path", "level", "parent"))
    root = None
    if branch_id not in (None, ""):
        root = next((b for b in branches if str(b.pk) == str(branch_id)), None)
        if root is None:
            raise Http404
    else:
        root = next((b for b in branches if b.pk == staff.branch_id), branches[0] if branches else None)
    if root is None:
        return Board(period, None, None, [], [], False)
    children = children_of(root)
    child_branches = [c for c in children if isinstance(c, Branch)]
    child_rms = [c for c in children if isinstance(c, Staff)]
    targets = list(visible.filter(Q(branch=root) | Q(branch__in=child_branches) | Q(staff__in=child_rms)))
    by_key: dict = {}
    for t in targets:
        by_key.setdefault((t.metric, t.product_category), {})[
            "root" if t.branch_id == root.pk else (f"b{t.branch_id}" if t.branch_id else f"s{t.staff_id}")
        ] = t
    rows = []
    for (metric, category), held in sorted(by_key.items(), key=lambda kv: (METRIC_ORDER[kv[0][0]], kv[0][1])):
        rows.append(
            MetricRow(
                metric,
                category,
                Line(root, held.get("root")),
                [Line(child, held.get(key_of(child))) for child in children],
            )
        )
    choices = [b for b in branches if b.level != Branch.Level.OUTLET or b.parent_id is None]
    return Board(period, root, None, rows, choices if len(branches) > 1 else [], can_set_for(staff, root))


def export_lines(board: Board):
    """The board's lines, flat, for the Excel file: (metric label, holder, target, actual, attainment %, as of)."""
    for row in board.rows:
        for line in [row.own, *row.children]:
            if line.target is None:
                continue
            a = line.attainment
            yield [
                row.label,
                str(row.unit),
                line.holder.name,
                line.target.value,
                a.actual if a else None,
                a.percent if a else None,
                a.as_of.isoformat() if a else "",
            ]


def current_targets(*, branch: Branch | None = None, staff: Staff | None = None, day: date | None = None):
    """The targets of the month holding ``day`` (today) of one branch's subtree or one RM, with their attainment:
    one query, for the dashboards' panels (their page already checked the reader may see that branch or RM)."""
    period = period_choice(TargetPeriod.Kind.MONTH, (day or timezone.localdate()).isoformat())
    holder = {"branch": branch} if branch is not None else {"staff": staff}
    return period, list(
        Target.objects.filter(period__kind=period.kind, period__start=period.start, **holder)
        .select_related("attainment")
        .order_by("metric", "product_category")
    )
