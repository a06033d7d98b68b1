"""The feed's pages, for administrators (docs/feed.md, "Pages and admin"): 数据加载 (every load), the upload, a
load's page with its live progress and report, the report as Excel, and the open identity conflicts."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from crm_site.excel import xlsx_response
from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form, as_text
from customers.exports import export_logged
from idempotency.services import submit_once
from organisation import access
from organisation.permissions import RoleRequiredMixin

from . import forms, progress, selectors, services
from . import messages as feed_messages
from .models import Load

LIVE_FRAGMENT = "feed/partials/_load_live.html"
SAMPLE_SHOWN = 20
MESSAGE_SHOWN = (Load.Status.REJECTED, Load.Status.FAILED, Load.Status.DUPLICATE, Load.Status.WAITING)
# The loader's phases (feed.progress) in order, with how far along the bar each one stands.
PHASES = {
    "queued": (gettext_lazy("Queued: waiting for a worker"), 5),
    "waiting": (gettext_lazy("Waiting for the earlier files of the same date"), 5),
    "running": (gettext_lazy("Starting"), 10),
    "reading": (gettext_lazy("Reading and checking the rows"), 35),
    "checking": (gettext_lazy("Checking across the file and against the CRM"), 70),
    "writing": (gettext_lazy("Writing to the CRM"), 90),
}


class FeedPage(RoleRequiredMixin):
    allowed_roles = access.ADMINS


class LoadListView(FeedPage, TemplateView):
    """数据加载: every load, newest first, with filters by status, kind and business date."""

    template_name = "feed/load_list.html"
    per_page = 30

    def get_context_data(self, **kwargs):
        form = forms.LoadFilterForm(self.request.GET or None)
        filters = form.filters() if form.is_bound else selectors.LoadFilters()
        page = paginate(selectors.load_list(self.request.user, filters), self.request.GET.get("page"), self.per_page)
        return super().get_context_data(form=form, page_obj=page, **kwargs)


class LoadUploadView(FeedPage, View):
    """An administrator uploads one extract file; it is checked, queued, and its page follows the load."""

    template_name = "feed/load_upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": forms.UploadForm()})

    def post(self, request):
        form = forms.UploadForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            try:
                load = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=Load,
                    create=lambda: services.upload_start(
                        actor=request.user, uploaded_file=d["file"], kind=d["kind"], business_date=d["business_date"]
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("%(name)s is uploaded and queued for loading.") % {"name": load.file_name})
                return redirect("feed:load-detail", pk=load.pk)
        return render(request, self.template_name, {"form": form}, status=200)


def live_context(request, load: Load) -> dict:
    """What the live part of a load's page shows: the progress while it runs, the report once it has finished."""
    context = {"load": load}
    if load.is_finished:
        context["errors_page"] = paginate(selectors.load_errors(load), request.GET.get("page"), 50)
        context["summary"] = report_summary(load)
        context["conflicts"] = selectors.load_conflicts_open(load).count() if load.rows_rejected else 0
    else:
        now = progress.read(load.pk)
        phase = now.get("phase") or load.status
        label, percent = PHASES.get(phase, PHASES.get(load.status, (phase, 10)))
        context.update(progress=now, phase_label=label, percent=percent)
    return context


class LoadDetailView(FeedPage, View):
    """A load: what file, who, when; its live progress while it is queued or running, then its report."""

    template_name = "feed/load_detail.html"

    def get(self, request, pk):
        load = selectors.load_get(request.user, pk)
        return render(request, self.template_name, live_context(request, load))


class LoadProgressView(FeedPage, View):
    """The fragment the load's page polls every second; once the load has finished it is the report, which polls
    no more. Opened directly (not over htmx) it is the load's whole page."""

    def get(self, request, pk):
        load = selectors.load_get(request.user, pk)
        template = LIVE_FRAGMENT if request.htmx else LoadDetailView.template_name
        return render(request, template, live_context(request, load))


@dataclass(frozen=True)
class SummaryRow:
    code: str
    label: str
    count: int
    sample: list


def report_summary(load: Load) -> list[SummaryRow]:
    """What the loader left for people to look at (customers without an RM, portfolios the core system disagrees
    with, columns ignored, holdings closed), as rows with a count and the first keys."""
    rows = []
    for code, value in (load.summary or {}).items():
        if code not in feed_messages.NOTICES or not isinstance(value, dict):
            continue
        sample = [str(v) for v in value.get("sample") or []]
        label = str(feed_messages.NOTICES[code])
        if "%(" in label:
            label = label % {"columns": ", ".join(sample), "files": "", "load": "", "at": ""}
        rows.append(SummaryRow(code, label, int(value.get("count") or 0), sample[:SAMPLE_SHOWN]))
    return rows


class LoadReportView(FeedPage, View):
    """The load's report as Excel: the summary and every rejected row (values masked as stored). The download is
    written to the access log like every export."""

    def get(self, request, pk):
        load = selectors.load_get(request.user, pk)
        errors = selectors.load_errors(load)
        count = errors.count()
        facts = [
            (_("File"), load.file_name),
            (_("Kind"), load.get_kind_display()),
            (_("Business date"), load.business_date.isoformat()),
            (_("Status"), load.get_status_display()),
            (_("SHA-256"), load.sha256),
            (_("Rows read"), load.rows_read),
            (_("Rows loaded"), load.rows_loaded),
            (_("Rows rejected"), load.rows_rejected),
        ]
        if load.message and load.status in MESSAGE_SHOWN:
            facts.append((_("Message"), load.message))
            facts.append((_("Message (English)"), load.message_en))
        facts.extend(
            (r.label, f"{r.count}: {', '.join(r.sample)}" if r.sample else r.count) for r in report_summary(load)
        )
        rows = (
            (e.line, e.column, e.value, e.code, e.reason, e.reason_en, e.key)
            for e in errors.only("line", "column", "value", "code", "reason", "reason_en", "key").iterator(
                chunk_size=2000
            )
        )
        header = [
            _("Line"),
            _("Column"),
            _("Value (masked)"),
            _("Code"),
            _("Reason"),
            _("Reason (English)"),
            _("Customer or product no."),
        ]
        sheets = [(_("Summary"), [_("Item"), _("Value")], facts), (_("Rejected rows"), header, rows)]
        return export_logged(
            request,
            xlsx_response(f"load-report-{load.kind}-{load.business_date:%Y%m%d}-{load.pk}", sheets),
            reason=_("Data load report"),
            detail={"load": load.pk, "file": load.file_name},
            rows=count,
        )


class ConflictListView(FeedPage, TemplateView):
    """Identity conflicts the loads found (an ID number held by another customer number), until an administrator
    marks each resolved."""

    template_name = "feed/conflict_list.html"

    def get_context_data(self, **kwargs):
        page = paginate(selectors.conflicts_open(), self.request.GET.get("page"), 30)
        return super().get_context_data(page_obj=page, **kwargs)


class ConflictResolveView(FeedPage, View):
    def post(self, request, pk):
        error = selectors.conflict_get(request.user, pk)
        form = forms.ConflictResolveForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(m) for m in form.errors.get("note", [])))
            return redirect("feed:conflict-list")
        try:
            services.conflict_resolve(actor=request.user, error=error, note=form.cleaned_data["note"])
        except ValidationError as e:
            messages.error(request, as_text(e))
        else:
            messages.success(
                request,
                _("Conflict of %(key)s (line %(line)s) marked resolved.") % {"key": error.key, "line": error.line},
            )
        return redirect("feed:conflict-list")
