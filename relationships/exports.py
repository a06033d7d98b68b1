"""Excel reports of the relationships app."""

from django.utils.translation import gettext as _

from crm_site.excel import xlsx_response


def handover_xlsx(handover):
    """The handover summary: one sheet per receiving RM's totals, one with every customer (masked)."""
    from django.db.models import Count, Sum

    totals = (
        handover.items.values("to_staff__employee_no", "to_staff__name", "to_staff__branch__name")
        .annotate(n=Count("id"), aum=Sum("customer__aum"))
        .order_by("to_staff__name")
    )
    summary_rows = [
        [t["to_staff__employee_no"], t["to_staff__name"], t["to_staff__branch__name"], t["n"], float(t["aum"] or 0)]
        for t in totals
    ]
    lines = handover.items.select_related("customer__segment", "to_staff").order_by("to_staff__name", "-customer__aum")

    def line_rows():
        for item in lines.iterator(chunk_size=2000):
            c = item.customer
            yield [
                c.customer_no,
                c.name,
                c.segment.name if c.segment else "",
                float(c.aum),
                c.mobile_masked,
                item.to_staff.name,
            ]

    head = [
        [_("Leaving RM"), handover.leaver.name, handover.leaver.employee_no],
        [_("Status"), str(handover.get_status_display())],
        [_("Prepared by"), handover.prepared_by.name],
        [_("Approved by"), handover.decided_by.name if handover.decided_by else ""],
        [_("Last working day"), handover.last_day.isoformat()],
        [],
        [_("Employee number"), _("Receiving RM"), _("Branch"), _("Customers"), _("AUM (CNY)")],
        *summary_rows,
    ]
    return xlsx_response(
        _("handover-%(id)s") % {"id": handover.pk},
        [
            (_("Summary"), [_("Handover"), f"#{handover.pk}"], head),
            (
                _("Customers"),
                [_("Customer no."), _("Name"), _("Tier"), _("AUM (CNY)"), _("Mobile"), _("Receiving RM")],
                line_rows(),
            ),
        ],
    )


# ----------------------------------------------------------------------------------------------------------------
# Dashboard tables
# ----------------------------------------------------------------------------------------------------------------

CHURN_EXPORT_LIMIT = 5000


def _pct(value):
    return "" if value is None else value


def _period_line(period) -> list:
    return [_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}"]


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
        [(_("RMs"), [_("RM"), _("Branch"), *_figure_columns()], [_period_line(period), *rows])],
    )
    return response, len(rows)


def branches_xlsx(lines, period, *, title):
    rows = [[line.branch.code, line.branch.name, *_figure_values(line.figures)] for line in lines]
    response = xlsx_response(
        _("branches"), [(str(title), [_("Code"), _("Branch"), *_figure_columns()], [_period_line(period), *rows])]
    )
    return response, len(rows)


def churn_xlsx(follow_ups):
    """The churn-risk list: customer number, name, masked mobile, tier, AUM, RM and the reasons."""
    from .dashboards import churn_reasons

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
