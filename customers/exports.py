"""Exports: the customer list as an Excel sheet (masked identifiers only), and the one helper through which every
file the CRM hands out is written to the access log."""

from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.excel import xlsx_response

from .models import AccessLog
from .services import access_log_record


def export_logged(request, response, *, reason: str, detail: dict, rows: int):
    """Write the export to the access log (who, when, what, why, how many rows; never the data itself) and return
    the file. Every export of every app goes through here, so none can leave unlogged."""
    access_log_record(
        actor=request.user,
        action=AccessLog.Action.EXPORT,
        reason=reason,
        detail=detail,
        row_count=rows,
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    return response


def customer_rows(customers):
    for c in customers.iterator(chunk_size=2000):
        yield [
            c.customer_no,
            c.name,
            c.get_kind_display(),
            c.segment.name if c.segment else "",
            float(c.aum),
            c.get_lifecycle_display(),
            c.risk_level,
            c.mobile_masked,
            c.id_number_masked,
            c.branch.name,
            c.primary_rm.name if c.primary_rm else "",
            timezone.localtime(c.last_contacted_at).strftime("%Y-%m-%d") if c.last_contacted_at else "",
        ]


def customers_xlsx(customers):
    header = [
        _("Customer no."),
        _("Name"),
        _("Type"),
        _("Tier"),
        _("AUM (CNY)"),
        _("Lifecycle"),
        _("Risk tolerance"),
        _("Mobile"),
        _("ID number"),
        _("Branch"),
        _("RM"),
        _("Last contact"),
    ]
    return xlsx_response(_("customers"), [(_("Customers"), header, customer_rows(customers))])
