from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import UncountedPaginator
from customers.exports import export_logged
from customers.selectors import portfolio_counts
from organisation import access
from organisation.models import Branch, Staff
from organisation.permissions import RoleRequiredMixin
from worktasks.selectors import task_lines_overdue_count

from . import boards, drills, exports, panels, tables
from .periods import DEFAULT_PERIOD, PERIODS, period_for, rm_get_visible, scope_for


class DashboardView(RoleRequiredMixin, TemplateView):
    """The branch head's home: KPI cards, charts, the RMs and the churn-risk list of a branch subtree."""

    template_name = "dashboards/dashboard.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        board = boards.dashboard_for(
            self.request.user,
            branch_id=self.request.GET.get("branch"),
            period_key=self.request.GET.get("period", DEFAULT_PERIOD),
            sort=self.request.GET.get("sort", "aum"),
        )
        root = board.scope.root
        return super().get_context_data(
            board=board,
            periods=PERIODS,
            query=dashboard_query(board.period.key, root),
            complaints_query=f"branch={root.pk}" if root is not None else "",
            rm_columns=tables.RM_COLUMNS,
            branch_columns=tables.BRANCH_COLUMNS,
            coverage_chart=[{"label": line.branch.name, "value": line.figures["coverage"]} for line in board.branches],
            tasks_overdue=task_lines_overdue_count(self.request.user, root),
            **panels.branch_dashboard.context(self.request, board),
            **kwargs,
        )


def dashboard_query(period_key: str, root) -> str:
    """The query string that keeps the period and branch on drill-down and export links."""

    params = {"period": period_key}
    if root is not None:
        params["branch"] = root.pk
    return urlencode(params)


class HqDashboardView(RoleRequiredMixin, TemplateView):
    """HQ: the figures of the whole bank and the ranking of its branches."""

    template_name = "dashboards/dashboard_hq.html"
    allowed_roles = access.ADMINS

    def get_context_data(self, **kwargs):
        board = boards.ranking_for(
            self.request.user,
            period_key=self.request.GET.get("period", DEFAULT_PERIOD),
            level=self.request.GET.get("level", Branch.Level.SUB_BRANCH),
            sort=self.request.GET.get("sort", "aum"),
        )
        return super().get_context_data(
            board=board,
            periods=PERIODS,
            levels=[(v, label) for v, label in Branch.Level.choices if v != Branch.Level.BRANCH],
            branch_sorts=tables.BRANCH_SORTS,
            branch_columns=tables.BRANCH_COLUMNS,
            coverage_chart=[
                {"label": line.branch.name, "value": line.figures["coverage"]} for line in board.ranking[:30]
            ],
            query=dashboard_query(board.period.key, None),
            **panels.hq_dashboard.context(self.request, board),
            **kwargs,
        )


class RmPerformanceView(RoleRequiredMixin, TemplateView):
    """绩效: one RM over a period against the median of their branch's RMs. An RM sees only themself (another
    RM is a 404); a head any RM of their subtree."""

    template_name = "dashboards/dashboard_rm.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def get_rm(self):
        return rm_get_visible(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        rm = self.get_rm()
        performance = boards.performance_for(rm, period_key=self.request.GET.get("period", DEFAULT_PERIOD))
        churn = boards.churn_list(self.request.user, None, rm=rm)
        return super().get_context_data(
            counts=portfolio_counts(rm),
            perf=performance,
            churn=churn,
            periods=PERIODS,
            is_self=rm.pk == self.request.user.staff.pk,
            rm_query=f"rm={rm.pk}&period={performance.period.key}",
            **panels.rm_performance.context(self.request, rm),
            **kwargs,
        )


class MyPerformanceView(RmPerformanceView):
    """我的绩效: the RM's own performance page."""

    allowed_roles = access.RMS

    def get_rm(self):
        return rm_get_visible(self.request.user, self.request.user.staff.pk)


class DashboardRecordsView(RoleRequiredMixin, TemplateView):
    """The records behind a dashboard figure (drill-down), through the same visibility rule."""

    template_name = "dashboards/dashboard_records.html"
    allowed_roles = access.PORTFOLIO_ROLES
    per_page = 50

    def get_context_data(self, **kwargs):
        params = self.request.GET
        staff = self.request.user.staff
        rm_id = params.get("rm", "")
        if staff.role == Staff.Role.RM:
            rm_id = rm_id or str(staff.pk)  # an RM's figures are their own
        if rm_id and not rm_id.isdigit():
            raise Http404
        branch_id = params.get("branch", "")
        if branch_id and not branch_id.isdigit():
            raise Http404
        drill = drills.drill_for(
            self.request.user,
            metric=params.get("metric", ""),
            period_key=params.get("period", DEFAULT_PERIOD),
            branch_id=branch_id or None,
            rm_id=rm_id or None,
            channel=params.get("channel", ""),
        )
        return super().get_context_data(
            drill=drill,
            # No count: the page shows the dashboard's figure, and counting the records of a large scope costs
            # more than the page (docs/performance.md).
            page_obj=UncountedPaginator(drill.records, self.per_page).get_page(params.get("page")),
            back=self._back(drill),
            **kwargs,
        )

    def _back(self, drill) -> str:
        if drill.rm is not None:
            return reverse("dashboards:rm-performance", args=[drill.rm.pk]) + f"?period={drill.period.key}"
        return reverse("dashboards:dashboard") + "?" + dashboard_query(drill.period.key, drill.scope.root)


class DashboardExportView(RoleRequiredMixin, View):
    """Excel of a dashboard table (RMs, branches, churn risk): masked identifiers, written to the access log."""

    allowed_roles = access.HEADS_AND_ADMINS
    TABLES = ("rms", "branches", "ranking", "churn")

    def get(self, request):
        table = request.GET.get("table", "")
        if table not in self.TABLES:
            raise Http404
        period_key = request.GET.get("period", DEFAULT_PERIOD)
        branch_id = request.GET.get("branch") or None
        if branch_id and not str(branch_id).isdigit():
            raise Http404
        if table == "ranking":
            if request.user.staff.role != Staff.Role.ADMIN:
                raise PermissionDenied
            board = boards.ranking_for(
                request.user, period_key=period_key, level=request.GET.get("level", Branch.Level.SUB_BRANCH)
            )
            response, rows = exports.branches_xlsx(board.ranking, board.period, title=_("Branch ranking"))
            scope_name = _("All branches")
        else:
            scope = scope_for(request.user, branch_id)
            period = period_for(period_key)
            scope_name = scope.root.name if scope.root else _("All branches")
            if table == "rms":
                lines = boards.rm_lines(request.user, scope, period)
                response, rows = exports.rms_xlsx(boards.sorted_by(lines, "aum"), period)
            elif table == "branches":
                board = boards.dashboard_for(request.user, branch_id=branch_id, period_key=period_key)
                response, rows = exports.branches_xlsx(board.branches, period, title=_("Branches"))
            else:
                follow_ups = boards.churn_follow_ups(request.user, scope)[: exports.CHURN_EXPORT_LIMIT]
                response, rows = exports.churn_xlsx(follow_ups)
        return export_logged(
            request,
            response,
            reason=_("Dashboard export: %(table)s, %(scope)s") % {"table": table, "scope": scope_name},
            detail={"table": table, "period": period_key, "branch": branch_id},
            rows=rows,
        )
