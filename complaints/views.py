from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from crm_site.actions import Action
from crm_site.excel import xlsx_response
from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form
from customers import search
from customers.exports import export_logged
from customers.selectors import customers_visible_to
from idempotency.services import submit_once
from organisation import access
from organisation.access import EVERY_ROLE
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin

from . import forms, permissions, rules, selectors, services
from .models import Complaint, ComplaintExtension


class ComplaintListView(RoleRequiredMixin, search.TokenSearchMixin, TemplateView):
    """Complaints in the user's scope (an RM: those they handle), with filters and deadline badges. The filter
    form posts; its search term (a complainant's name) goes through ``customers.search``, never the URL."""

    template_name = "complaints/complaint_list.html"
    allowed_roles = EVERY_ROLE
    per_page = 30

    def get_context_data(self, **kwargs):
        form = forms.ComplaintFilterForm(self.search_query or None, user=self.request.user)
        filters = form.filters() if form.is_bound else selectors.ComplaintFilters()
        now = timezone.now()
        complaints = selectors.complaint_list(self.request.user, filters, now)
        page = paginate(complaints, self.request.GET.get("page"), self.per_page)
        return super().get_context_data(
            form=form,
            page_obj=page,
            counts=selectors.deadline_counts(self.request.user, now),
            can_register=permissions.can_register(self.request.user.staff),
            now=now,
            **kwargs,
        )


class IntakeCustomerSearchView(RoleRequiredMixin, View):
    """Intake's customer search posts here: back to intake with the term behind a token (``customers.search``)."""

    allowed_roles = access.COMPLAINT_MANAGERS

    def post(self, request):
        if request.htmx:  # the page stays, with what was typed in it: only the customer picker is replaced
            q = (request.POST.get(search.TERM) or "").strip()[:40]
            return render(request, ComplaintCreateView.fragment, ComplaintCreateView.picker_context(request, None, q))
        return search.redirect_with_token(request, request.POST, to=reverse("complaints:complaint-create"))


class ComplaintCreateView(RoleRequiredMixin, View):
    """登记: pick the customer by search (or come from their 360° page), then fill the Art. 13 record."""

    template_name = "complaints/complaint_form.html"
    fragment = "complaints/partials/_intake_customer.html"  # the customer picker, swapped in place by htmx
    allowed_roles = access.COMPLAINT_MANAGERS

    @classmethod
    def picker_context(cls, request, customer, q: str, form=None) -> dict:
        """What the customer picker shows: the search and its matches, or the picked customer with their open
        complaints and the "same matter" choice (a field of the intake form, tied to it by its form attribute)."""
        if form is None:
            form = cls.intake_form(request, customer)
            form.initial["customer"] = customer.pk if customer else None
        return {
            "form": form,
            "customer": customer,
            "q": q,
            "matches": selectors.intake_customer_matches(request.user, q) if customer is None else [],
            "open_complaints": cls.open_complaints(request, customer),
        }

    @staticmethod
    def customer(request):
        raw = request.POST.get("customer") or request.GET.get("customer") or ""
        if not raw.isdigit():
            return None
        return get_object_or_404(customers_visible_to(request.user).select_related("branch", "primary_rm"), pk=raw)

    @staticmethod
    def intake_form(request, customer, *args):
        choices = selectors.customer_complaints_for_intake(request.user, customer) if customer else None
        return forms.IntakeForm(*args, user=request.user, same_matter_choices=choices)

    @staticmethod
    def open_complaints(request, customer) -> list[dict]:
        """The customer's open complaints, each with the form that attaches this contact to it (posted to the
        complaint's own page, as its "repeat" action) when the user may."""
        if customer is None:
            return []
        staff = request.user.staff
        rows = []
        for c in selectors.customer_complaints_for_intake(request.user, customer).filter(
            status__in=Complaint.OPEN_STATES
        ):
            can = permissions.may(staff, c, "repeat") and rules.ready(c, "repeat")
            form = forms.RepeatForm(
                auto_id=f"id_repeat{c.pk}_%s", initial={"received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
            )
            rows.append({"complaint": c, "form": form if can else None})
        return rows

    def render_form(self, request, form, customer, status=200):
        # The customer search posts to IntakeCustomerSearchView; the URL carries a token, never the term.
        # With JavaScript the search is an htmx POST that replaces only the picker (IntakeCustomerSearchView).
        q = (search.term_of(request) or "").strip()[:40]
        return render(request, self.template_name, self.picker_context(request, customer, q, form), status=status)

    def get(self, request):
        response = search.legacy_redirect(request)
        if response is None and search.term_of(request) is None:
            response = search.without_token(request)
        if response is not None:
            return response
        customer = self.customer(request)
        if request.htmx:  # a customer picked (or "choose another"): only the picker, the typed text stays
            return render(request, self.fragment, self.picker_context(request, customer, ""))
        form = self.intake_form(request, customer)
        form.initial["customer"] = customer.pk if customer else None
        return self.render_form(request, form, customer)

    def post(self, request):
        customer = self.customer(request)
        form = self.intake_form(request, customer, request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("customer")
            uploads = data.pop("attachments")
            for upload in uploads:  # a bad file is a form error before anything is written
                try:
                    services.attachment_check(upload)
                except ValidationError as e:
                    form.add_error("attachments", e)
            if form.is_valid():
                try:
                    complaint = submit_once(
                        actor=request.user,
                        key=form.posted_key,
                        model=Complaint,
                        create=lambda: services.complaint_register(
                            actor=request.user, customer=customer, attachments=uploads, **data
                        ),
                    )
                except ValidationError as e:
                    apply_to_form(form, e)
                else:
                    messages.success(
                        request,
                        _("Complaint %(ref)s registered. Its deadline is %(due)s.")
                        % {
                            "ref": complaint.reference,
                            "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d"),
                        },
                    )
                    return redirect("complaints:complaint-detail", pk=complaint.pk)
        return self.render_form(request, form, customer)


# ----------------------------------------------------------------------------------------------------------------
# The detail page and its actions
# ----------------------------------------------------------------------------------------------------------------


def _extension_decision(call):
    def run(actor, view, d):
        if view.pending_extension is None:
            raise ValidationError(_("No extension is waiting for approval."))
        return call(actor=actor, extension=view.pending_extension, note=d.get("note", ""))

    return run


ACTIONS = {
    "accept": Action(
        gettext_lazy("Accept"),
        lambda actor, v, d: services.complaint_accept(actor=actor, complaint=v.complaint, handler=d.get("handler")),
        gettext_lazy("Accepted."),
        form=forms.AssignForm,
    ),
    "assign": Action(
        gettext_lazy("Assign a handler"),
        lambda actor, v, d: services.complaint_assign(
            actor=actor, complaint=v.complaint, handler=d["handler"], note=d.get("note", "")
        ),
        gettext_lazy("Handler assigned."),
        form=forms.AssignForm,
    ),
    "start": Action(
        gettext_lazy("Start handling"),
        lambda actor, v, d: services.complaint_start(actor=actor, complaint=v.complaint),
        gettext_lazy("Handling started."),
        form=forms.NoteForm,
    ),
    "extend": Action(
        gettext_lazy("Extend the deadline"),
        lambda actor, v, d: services.extension_request(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Extension recorded."),
        form=forms.ExtensionForm,
    ),
    "approve": Action(
        gettext_lazy("Approve the extension"),
        _extension_decision(services.extension_approve),
        gettext_lazy("Extension approved."),
        form=forms.ExtensionDecisionForm,
    ),
    "reject": Action(
        gettext_lazy("Reject the extension"),
        _extension_decision(services.extension_reject),
        gettext_lazy("Extension rejected."),
        form=forms.ExtensionDecisionForm,
    ),
    "pause": Action(
        gettext_lazy("Pause the clock"),
        lambda actor, v, d: services.clock_pause(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Clock paused."),
        form=forms.PauseForm,
    ),
    "resume": Action(
        gettext_lazy("Resume the clock"),
        lambda actor, v, d: services.clock_resume(actor=actor, complaint=v.complaint),
        gettext_lazy("Clock resumed."),
        form=forms.NoteForm,
    ),
    "decide": Action(
        gettext_lazy("Record the decision"),
        lambda actor, v, d: services.complaint_decide(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Decision recorded."),
        form=forms.DecideForm,
    ),
    "callback": Action(
        gettext_lazy("Record the callback"),
        lambda actor, v, d: services.callback_record(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Callback recorded."),
        form=forms.CallbackForm,
    ),
    "close": Action(
        gettext_lazy("Close"),
        lambda actor, v, d: services.complaint_close(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Complaint closed."),
        form=forms.CloseForm,
    ),
    "reopen": Action(
        gettext_lazy("Reopen for review"),
        lambda actor, v, d: services.complaint_reopen(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Reopened for review."),
        form=forms.ReopenForm,
    ),
    "withdraw": Action(
        gettext_lazy("Record a withdrawal"),
        lambda actor, v, d: services.complaint_withdraw(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Withdrawal recorded."),
        form=forms.WithdrawForm,
    ),
    "note": Action(
        gettext_lazy("Add a note"),
        lambda actor, v, d: services.note_add(actor=actor, complaint=v.complaint, text=d["text"]),
        gettext_lazy("Note added."),
        form=forms.NoteForm,
    ),
    "contact": Action(
        gettext_lazy("Record a contact"),
        lambda actor, v, d: services.contact_record(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Contact recorded."),
        form=forms.ContactForm,
    ),
    "attach": Action(
        gettext_lazy("Add an attachment"),
        lambda actor, v, d: services.attachment_add(actor=actor, complaint=v.complaint, upload=d["file"]),
        gettext_lazy("Attachment added."),
        form=forms.AttachForm,
    ),
    "repeat": Action(
        gettext_lazy("Record a repeat contact"),
        lambda actor, v, d: services.repeat_contact_record(actor=actor, complaint=v.complaint, **d),
        gettext_lazy("Repeat contact recorded on this complaint."),
        form=forms.RepeatForm,
    ),
}
# Actions whose form has no required fields: a plain button.
BUTTONS = {"start", "resume"}


def available(staff: Staff, view: selectors.ComplaintView) -> list[str]:
    """The actions this member of staff may take on the complaint now (the services check again)."""
    c = view.complaint
    pending = view.pending_extension is not None
    # Who may (complaints.permissions) and what the state allows (complaints.rules): the services ask the same.
    # The decision on a pending extension is offered only while one waits.
    decision = pending and permissions.may(staff, c, "approve", view.pending_extension)
    can = {
        a: decision
        if a in ("approve", "reject")
        else permissions.may(staff, c, a) and rules.ready(c, a, extension_pending=pending)
        for a in ACTIONS
    }
    return [a for a in ACTIONS if can[a]]


def _form(action: str, request, complaint: Complaint, data=None, files=None):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    if action in ("accept", "assign"):
        form = forms.AssignForm(data, choices=selectors.handler_choices(request.user, complaint))
        if action == "accept":
            form.fields["handler"].required = False
            form.fields["handler"].empty_label = _("Assign later")
        return form
    if action in ("start", "resume"):
        form = forms.NoteForm(data)
        form.fields["text"].required = False
        return form
    initial = {}
    if action == "extend":
        initial = {"customer_told_at": now}
    elif action == "reopen":
        initial = {"requested_at": now}
    elif action in ("withdraw", "repeat"):
        initial = {"received_at": now}
    elif action in ("decide", "close"):
        initial = {"cause": complaint.cause_id}
    cls = ACTIONS[action].form
    return cls(data, files, initial=initial) if cls is forms.AttachForm else cls(data, initial=initial)


def _run_once(request, action: str, view, form) -> None:
    """Run a posted action. The forms of the actions that add a row each time (a note, a contact, an attachment,
    an extension, a callback) carry a submission key: posted twice, the action runs once."""

    def run() -> Complaint:
        ACTIONS[action].run(request.user, view, form.cleaned_data)
        return view.complaint

    submit_once(actor=request.user, key=getattr(form, "posted_key", None), model=Complaint, create=run)


class ComplaintDetailView(RoleRequiredMixin, View):
    template_name = "complaints/complaint_detail.html"
    allowed_roles = EVERY_ROLE

    def render_page(self, request, view, bound=None, status=200):
        staff = request.user.staff
        actions = available(staff, view)
        bound = bound or {}
        panels = [
            {
                "name": a,
                "label": ACTIONS[a].label,
                "form": bound.get(a) or _form(a, request, view.complaint),
                "open": a in bound,
                "button": a in BUTTONS,
            }
            for a in actions
        ]
        c = view.complaint
        return render(
            request,
            self.template_name,
            {
                "view": view,
                "complaint": c,
                "panels": panels,
                "deadline": rules.deadline_state(c, timezone.now()),
                "limit_days": rules.limit_days(c.extension_level),
                "remedies": services.REMEDIES,
                "extension_statuses": ComplaintExtension.Status,
                "recused": permissions.is_subject(staff, c),
            },
            status=status,
        )

    def get(self, request, pk):
        return self.render_page(request, selectors.complaint_detail(request.user, pk))

    def post(self, request, pk):
        view = selectors.complaint_detail(request.user, pk)
        action = request.POST.get("action", "")
        if action not in available(request.user.staff, view):
            messages.error(request, _("This action is not available on this complaint now."))
            return redirect("complaints:complaint-detail", pk=pk)
        form = _form(action, request, view.complaint, request.POST, request.FILES)
        if form.is_valid():
            try:
                _run_once(request, action, view, form)
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, ACTIONS[action].done)
                return redirect("complaints:complaint-detail", pk=pk)
        return self.render_page(request, selectors.complaint_detail(request.user, pk), bound={action: form})


class AttachmentDownloadView(RoleRequiredMixin, View):
    """An attachment, only for those who see its complaint; always as a download, never rendered inline."""

    allowed_roles = EVERY_ROLE

    def get(self, request, pk, attachment_pk):
        complaint = selectors.complaint_get_visible(request.user, pk)
        attachment = get_object_or_404(complaint.attachments, pk=attachment_pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as e:
            raise Http404 from e
        return FileResponse(
            handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
        )


# ----------------------------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------------------------


def _pct(value) -> str:
    return "" if value is None else f"{value}%"


STAT_HEADER = (
    gettext_lazy("Group"),
    gettext_lazy("Received"),
    gettext_lazy("Withdrawn"),
    gettext_lazy("Decided"),
    gettext_lazy("Decided on time"),
    gettext_lazy("Open and overdue"),
    gettext_lazy("On-time rate"),
    gettext_lazy("Average days to decide"),
    gettext_lazy("Satisfaction (1–5)"),
    gettext_lazy("Callbacks"),
)


def _stat_cells(row: selectors.Row, label=None) -> list:
    return [
        str(label if label is not None else row.label),
        row.received,
        row.withdrawn,
        row.decided,
        row.on_time,
        row.overdue_open,
        _pct(row.on_time_rate),
        float(row.avg_days) if row.avg_days is not None else "",
        float(row.satisfaction) if row.satisfaction is not None else "",
        row.callbacks,
    ]


class StatisticsView(RoleRequiredMixin, TemplateView):
    """Monthly statistics by business category, cause, branch and channel (JR/T 0169 axes), with Excel."""

    template_name = "complaints/statistics.html"
    allowed_roles = access.COMPLAINT_MANAGERS

    def get(self, request, *args, **kwargs):
        today = timezone.localdate()
        form = forms.StatisticsForm(request.GET or {"month": today.strftime("%Y-%m")}, user=request.user)
        month, branch = today.replace(day=1), None
        if form.is_valid():
            month, branch = form.cleaned_data["month"], form.cleaned_data.get("branch")
        stats = selectors.monthly_statistics(request.user, month, branch)
        if request.GET.get("export") == "xlsx":
            return self.export(request, stats)
        previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
        following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                stats=stats,
                tables=[
                    (_("By business category"), stats.by_category, "category"),
                    (_("By cause"), stats.by_cause, "cause"),
                    (_("By branch"), stats.by_branch, "branch"),
                    (_("By channel"), stats.by_channel, "channel"),
                ],
                chart={
                    "categories": [[str(r.label), r.received] for r in stats.by_category],
                    "causes": [[str(r.label), r.received] for r in stats.by_cause],
                },
                previous=previous.strftime("%Y-%m"),
                following=following.strftime("%Y-%m") if following <= today else "",
                query=request.GET.urlencode(),
            )
        )

    def export(self, request, stats):
        month = stats.month.strftime("%Y-%m")
        header = [str(h) for h in STAT_HEADER]
        sheets = [
            (str(title), header, [_stat_cells(r) for r in rows] + [_stat_cells(stats.total, _("Total"))])
            for title, rows in (
                (_("By business category"), stats.by_category),
                (_("By cause"), stats.by_cause),
                (_("By branch"), stats.by_branch),
                (_("By channel"), stats.by_channel),
            )
        ]
        return export_logged(
            request,
            xlsx_response(
                f"{_('Complaint statistics')}-{month}",
                sheets,
                caption=_("Complaint statistics, %(month)s") % {"month": month},
            ),
            reason=_("Complaint statistics export"),
            detail={"month": month},
            rows=stats.total.received,
        )


class RepeatedCausesView(RoleRequiredMixin, TemplateView):
    """溯源整改: the causes behind most complaints over a period, and the branches and products behind them."""

    template_name = "complaints/repeated_causes.html"
    allowed_roles = access.COMPLAINT_MANAGERS

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        defaults = {"start": (today - timedelta(days=89)).isoformat(), "end": today.isoformat()}
        form = forms.PeriodForm(self.request.GET or defaults, user=self.request.user)
        start, end, branch = today - timedelta(days=89), today, None
        if form.is_valid():
            start, end, branch = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data.get("branch")
        causes = selectors.repeated_causes(self.request.user, start, end, branch=branch)
        return super().get_context_data(form=form, causes=causes, start=start, end=end, **kwargs)
