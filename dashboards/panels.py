"""The dashboards' pages that apps above add to (docs/architecture.md, "Pages made of panels")."""

from crm_site.panels import PanelRegistry

# The branch dashboard: providers take (request, board).
branch_dashboard = PanelRegistry("dashboards.branch_dashboard")
# The HQ dashboard: providers take (request, board), the ranking board.
hq_dashboard = PanelRegistry("dashboards.hq_dashboard")
# 绩效 (an RM's performance page, 我的绩效 included): providers take (request, rm).
rm_performance = PanelRegistry("dashboards.rm_performance")
