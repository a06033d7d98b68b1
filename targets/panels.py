"""What the targets app adds to the dashboards' pages: this month's attainment with progress bars (the page has
already checked that its reader may see the branch or RM it shows)."""

from django.db.models import Q
from django.urls import reverse

from dashboards import panels
from organisation.models import Branch

from .models import Metric, Target
from .selectors import current_targets, period_choice

# The HQ ranking shows one metric's attainment per branch.
HQ_METRIC = Metric.AUM_GROWTH


@panels.branch_dashboard.register
def branch_dashboard_panel(request, board) -> dict:
    root = board.scope.root
    if root is None:
        return {}
    period, targets = current_targets(branch=root)
    if not targets:
        return {}
    more = reverse("targets:target-list") + f"?branch={root.pk}"
    return {"targets_panel": {"period": period, "targets": targets, "branch": root, "more": more}}


@panels.rm_performance.register
def rm_performance_panel(request, rm) -> dict:
    period, targets = current_targets(staff=rm)
    if not targets:
        return {}
    if request.user.staff.pk == rm.pk:
        more = reverse("targets:my-targets")
    else:
        more = reverse("targets:target-list") + f"?branch={rm.branch_id}"
    return {"targets_panel": {"period": period, "targets": targets, "rm": rm, "more": more}}


@panels.hq_dashboard.register
def hq_dashboard_panel(request, board) -> dict:
    """Each ranked branch's attainment of this month's AUM growth target, best first (one query)."""
    branches: list[Branch] = [line.branch for line in board.ranking]
    if not branches:
        return {}
    period = period_choice("month", None)
    targets = list(
        Target.objects.filter(period__kind=period.kind, period__start=period.start, metric=HQ_METRIC)
        .filter(Q(branch__in=branches))
        .select_related("attainment", "branch")
    )
    if not targets:
        return {}

    def rank(t):
        a = getattr(t, "attainment", None)
        return (0, -a.ratio, t.branch.code) if a is not None else (1, 0, t.branch.code)

    targets.sort(key=rank)
    return {"targets_panel": {"period": period, "targets": targets, "metric": Target(metric=HQ_METRIC)}}
