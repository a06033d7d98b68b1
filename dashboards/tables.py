"""What the dashboards show and in what order: the KPI cards, the columns of the RM and branch tables, the figures
those tables sort by and the lines of an RM's performance page."""

from django.utils.translation import gettext_lazy as _

# The KPI cards: (figure, label, format, whether up is good, drill-down metric).
KPIS = (
    ("aum", _("Total AUM"), "money", True, "customers"),
    ("customers", _("Customers"), "count", True, "customers"),
    ("coverage", _("Coverage"), "percent", True, "not_contacted"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", False, "follow_ups_overdue"),
    ("complaints_on_time_rate", _("Complaints decided on time"), "percent", True, "complaints"),
    ("satisfaction", _("Satisfaction"), "score", True, "ratings"),
)

# The columns of the RM and branch tables: (figure, label, format, drill-down metric or "").
RM_COLUMNS = (
    ("customers", _("Portfolio"), "count", "customers"),
    ("aum", _("AUM (10k CNY)"), "money", "customers"),
    ("aum_change", _("AUM change (10k CNY)"), "money", ""),
    ("coverage", _("Coverage"), "percent", "not_contacted"),
    ("interactions", _("Interactions"), "count", "interactions"),
    ("follow_ups_on_time_rate", _("Follow-ups on time"), "percent", ""),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", "follow_ups_overdue"),
    ("satisfaction", _("Satisfaction"), "score", "ratings"),
    ("complaints_received", _("Complaints"), "count", ""),
)
BRANCH_COLUMNS = (
    ("customers", _("Customers"), "count", "customers"),
    ("aum", _("AUM (10k CNY)"), "money", "customers"),
    ("aum_change", _("AUM change (10k CNY)"), "money", ""),
    ("coverage", _("Coverage"), "percent", "not_contacted"),
    ("interactions", _("Interactions"), "count", "interactions"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count", "follow_ups_overdue"),
    ("churn_risk", _("Churn risk"), "count", "churn"),
    ("complaints_on_time_rate", _("Complaints on time"), "percent", ""),
    ("satisfaction", _("Satisfaction"), "score", "ratings"),
)

# The figures the tables sort by (largest first); any other sort asked for falls back to AUM.
RM_SORTS = (
    "customers",
    "aum",
    "aum_change",
    "coverage",
    "interactions",
    "follow_ups_on_time_rate",
    "satisfaction",
    "complaints_received",
    "follow_ups_overdue",
)
BRANCH_SORTS = ("aum", "aum_change", "customers", "coverage", "interactions", "complaints_on_time_rate", "satisfaction")

# The lines of an RM's performance page, each beside the median of the RMs of their branch: (figure, label, format).
PERFORMANCE = (
    ("customers", _("Portfolio"), "count"),
    ("aum", _("AUM"), "money"),
    ("aum_change", _("AUM change"), "money"),
    ("coverage", _("Coverage"), "percent"),
    ("interactions", _("Interactions"), "count"),
    ("follow_ups_on_time_rate", _("Follow-ups done on time"), "percent"),
    ("follow_ups_overdue", _("Overdue follow-ups"), "count"),
    ("churn_risk", _("Churn risk"), "count"),
    ("satisfaction", _("Satisfaction"), "score"),
    ("complaints_received", _("Complaints about them"), "count"),
)
