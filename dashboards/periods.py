"""What a dashboard is read over: the period (the last complete day with figures and the days before it, beside
the previous period of the same length) and the scope (the branch picked within what the user may see, or an RM
whose figures they may see)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to, staff_of, staff_visible_to

from .models import BranchDayFigures

PERIODS = {"7": _("Last 7 days"), "30": _("Last 30 days"), "90": _("Last 90 days"), "mtd": _("Month to date")}
DEFAULT_PERIOD = "30"


# ----------------------------------------------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    prev_start: date
    prev_end: date

    @property
    def label(self):
        return PERIODS[self.key]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def latest_day() -> date:
    """The last complete day with figures: yesterday once the nightly job has run (the day before otherwise)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    built = BranchDayFigures.objects.filter(day__lte=yesterday).aggregate(last=Max("day"))["last"]
    return built or yesterday


def period_for(key: str, end: date | None = None) -> Period:
    key = key if key in PERIODS else DEFAULT_PERIOD
    end = end or latest_day()
    if key == "mtd":
        start = end.replace(day=1)
        prev_end = start - timedelta(days=1)
        prev_start = prev_end.replace(day=1)
        prev_end = min(prev_end, prev_start + timedelta(days=(end - start).days))
    else:
        start = end - timedelta(days=int(key) - 1)
        prev_end = start - timedelta(days=1)
        prev_start = prev_end - timedelta(days=int(key) - 1)
    return Period(key, start, end, prev_start, prev_end)


# ----------------------------------------------------------------------------------------------------------------
# Scope: the branch picked within what the user may see
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Scope:
    root: Branch | None  # None: the whole bank (HQ)
    branches: list  # every branch of the scope, tree order
    choices: list  # the branch picker
    # Whether the scope is narrower than everything the user sees. Records read through the user's visibility rule
    # are filtered by the scope's branches only then: the same branch list twice makes PostgreSQL estimate the
    # rows as the square of their share, and pick plans for a few hundred rows when there are thousands.
    narrows: bool = True

    @property
    def ids(self) -> list[int]:
        return [b.pk for b in self.branches]

    def children(self) -> list:
        """The branches one level below the root (the top-level branches for the whole bank); the root alone
        when it has none."""
        if self.root is None:
            return [b for b in self.branches if b.parent_id is None]
        below = [b for b in self.branches if b.parent_id == self.root.pk]
        return below or [self.root]

    def within(self, rows, field: str = "branch_id"):
        """``rows`` of the scope's branches (``field`` holds the branch) whenever a branch is picked: for the
        precomputed figures, which no visibility rule filters, and the RMs of the picked subtree."""
        if self.root is None:
            return rows
        return rows.filter(**{f"{field}__in": self.ids})

    def narrow(self, records, field: str = "branch_id"):
        """``records`` already read through the user's visibility rule, of the scope's branches (``field`` holds
        the branch) only where the scope is narrower than that rule (see ``narrows``): everything else the rule
        lets through is in the scope already."""
        if self.root is None or not self.narrows:
            return records
        return records.filter(**{f"{field}__in": self.ids})


def scope_for(user, branch_id=None) -> Scope:
    """The picked branch's subtree within the user's (404 for a branch outside it). Heads start at their own
    branch, admins at the whole bank."""
    visible = list(
        branches_visible_to(user).order_by("path").only("id", "name", "code", "path", "parent", "depth", "level")
    )
    staff = staff_of(user)
    root = None
    if branch_id not in (None, ""):
        root = next((b for b in visible if str(b.pk) == str(branch_id)), None)
        if root is None:
            get_object_or_404(Branch.objects.none())
    elif not staff.sees_everything:
        root = next((b for b in visible if b.pk == staff.branch_id), None)
    branches = visible if root is None else [b for b in visible if b.path.startswith(root.path)]
    choices = [b for b in visible if b.level != Branch.Level.OUTLET or b.parent_id is None] if len(visible) > 1 else []
    return Scope(root=root, branches=branches, choices=choices or visible, narrows=len(branches) < len(visible))


def rm_get_visible(user, pk) -> Staff:
    """An RM whose performance the user may see: themself (an RM), an RM of their subtree (a head), any (admin)."""
    return get_object_or_404(staff_visible_to(user).filter(role=Staff.Role.RM).select_related("branch"), pk=pk)
