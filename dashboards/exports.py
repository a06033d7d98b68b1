"""Excel reports of the dashboards."""

from django.utils.translation import gettext as _

from crm_site.excel import xlsx_response

from .boards import churn_reasons

CHURN_EXPORT_LIMIT = 5000


def _pct(value):
    return "" if value is None else value


def _caption(report, period) -> str:
    """The sheet's row 1, above the header: the report and its period (not a row among the data)."""
    return _("%(report)s, %(start)s to %(end)s") % {
        "report": report,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _figure_columns():
    return [
        _("Customers"),
        _("AUM (CNY)"),
        _("AUM change (CNY)"),
        _("Coverage %"),
        _("Interactions"),
        _("Follow-ups done on time %"),
        _("Overdue follow-ups"),
        _("Churn risk"),
        _("Satisfaction"),
        _("Complaints"),
        _("Complaints decided on time %"),
    ]


def _figure_values(f: dict) -> list:
    return [
        f["customers"],
        float(f["aum"]),
        "" if f["aum_change"] is None else float(f["aum_change"]),
        _pct(f["coverage"]),
        f["interactions"],
        _pct(f["follow_ups_on_time_rate"]),
        f["follow_ups_overdue"],
        f["churn_risk"],
        _pct(f["satisfaction"]),
        f["complaints_received"],
        _pct(f["complaints_on_time_rate"]),
    ]


def rms_xlsx(lines, period):
    """The RM table of a dashboard: one line per RM (figures only, no customer data)."""
    rows = [[line.name, line.branch, *_figure_values(line.figures)] for line in lines]
    response = xlsx_response(
        _("rm-performance"),
        [(_("RMs"), [_("RM"), _("Branch"), *_figure_columns()], rows)],
        caption=_caption(_("RMs"), period),
    )
    return response, len(rows)


def branches_xlsx(lines, period, *, title):
    rows = [[line.branch.code, line.branch.name, *_figure_values(line.figures)] for line in lines]
    response = xlsx_response(
        _("branches"),
        [(str(title), [_("Code"), _("Branch"), *_figure_columns()], rows)],
        caption=_caption(title, period),
    )
    return response, len(rows)


def churn_xlsx(follow_ups):
    """The churn-risk list: customer number, name, masked mobile, tier, AUM, RM and the reasons."""

    rows = [
        [
            f.customer.customer_no,
            f.customer.name,
            f.customer.mobile_masked,
            f.customer.segment.name if f.customer.segment else "",
            float(f.customer.aum),
            f.staff.name,
            f.due_on.isoformat(),
            "、".join(str(r) for r in churn_reasons(f)),
        ]
        for f in follow_ups
    ]
    header = [_("Customer no."), _("Name"), _("Mobile"), _("Tier"), _("AUM (CNY)"), _("RM"), _("Since"), _("Reasons")]
    return xlsx_response(_("churn-risk"), [(_("Churn risk"), header, rows)]), len(rows)
