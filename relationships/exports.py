"""Excel reports of the relationships app."""

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from crm_site.excel import xlsx_response


def handover_xlsx(handover):
    """The handover summary: one sheet per receiving RM's totals, one with every customer (masked)."""

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
