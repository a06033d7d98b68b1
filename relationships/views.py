from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from crm_site.actions import Action, run_posted
from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form, as_text
from customers import search
from customers.exports import export_logged
from customers.selectors import customer_get_visible, customers_visible_to, portfolio_counts
from idempotency.services import submit_once
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin
from organisation.selectors import rms_visible_to, staff_visible_to

from . import exports, panels, selectors, services
from .forms import (
    DecisionNoteForm,
    HandoverAssignForm,
    HandoverDistributeForm,
    HandoverForm,
    InteractionForm,
    LeavingForm,
    RatingForm,
    ReassignmentForm,
    SecondaryForm,
    VisitPlanForm,
    VisitReportLineForm,
)
from .models import Assignment, Handover, Interaction, ReassignmentRequest, SatisfactionRating, VisitPlan

# ----------------------------------------------------------------------------------------------------------------
# RM workspace
# ----------------------------------------------------------------------------------------------------------------


class MyCustomersView(RoleRequiredMixin, search.TokenSearchMixin, TemplateView):
    """我的客户: the RM's portfolio, the longest without contact first, with the quick log on every row.
    The search posts its term (``customers.search``): the URL carries a token, never the term."""

    template_name = "relationships/my_customers.html"
    allowed_roles = access.RMS

    def get_context_data(self, **kwargs):
        q = self.search_query.get("q", "")[:40]
        sort = self.request.GET.get("sort", "contact")
        page = paginate(selectors.portfolio_of(self.request.user, q=q, sort=sort), self.request.GET.get("page"), 50)
        return super().get_context_data(
            page_obj=page,
            q=q,
            sort=sort,
            # The RM's open follow-ups come from reminders (relationships.panels).
            **panels.my_customers.context(self.request, self.request.user.staff),
            secondary=selectors.secondary_portfolio_of(self.request.user),
            counts=None if q else portfolio_counts(self.request.user.staff),
            **kwargs,
        )


def week_bounds(value: str | None) -> tuple[date, date]:
    """The Monday and next Monday of an ISO week like 2026-W48 (the current week when absent or invalid)."""
    today = timezone.localdate()
    try:
        year, week = (value or "").split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=7)


class MyVisitsView(RoleRequiredMixin, TemplateView):
    """我的拜访: the RM's visit plans and logged interactions, week by week."""

    template_name = "relationships/my_visits.html"
    allowed_roles = access.RMS

    def get_context_data(self, **kwargs):
        staff = self.request.user.staff
        monday, next_monday = week_bounds(self.request.GET.get("week"))
        tz = timezone.get_current_timezone()
        start = datetime.combine(monday, time.min, tzinfo=tz)
        end = datetime.combine(next_monday, time.min, tzinfo=tz)
        plans = (
            selectors.visit_plans_visible_to(self.request.user)
            .filter(staff=staff, planned_on__gte=monday, planned_on__lt=next_monday)
            .annotate(n=Count("items"))
            .order_by("planned_on", "pk")
        )
        interactions = paginate(
            selectors.interactions_of(staff, since=start, until=end), self.request.GET.get("page"), 30
        )
        return super().get_context_data(
            monday=monday,
            sunday=next_monday - timedelta(days=1),
            previous_week=(monday - timedelta(days=7)).strftime("%G-W%V"),
            next_week=next_monday.strftime("%G-W%V"),
            plans=plans,
            page_obj=interactions,
            **kwargs,
        )


# ----------------------------------------------------------------------------------------------------------------
# Interactions (the quick log), timeline, ratings
# ----------------------------------------------------------------------------------------------------------------


class InteractionCreateView(RoleRequiredMixin, View):
    """The quick log. Over htmx the form comes and goes in place; without it, it is an ordinary page."""

    allowed_roles = access.PORTFOLIO_ROLES
    template_name = "relationships/interaction_form.html"
    fragment = "relationships/partials/_quick_log.html"

    def render_form(self, request, customer, form, status=200):
        template = self.fragment if request.htmx else self.template_name
        return render(request, template, {"customer": customer, "form": form}, status=status)

    def form(self, request, customer, data=None):
        """The form, offering to close the actor's open follow-ups of the customer (reminders'
        ``panels.quick_log`` provider; one query)."""
        to_close = panels.quick_log.context(request, customer).get("follow_ups_to_close", [])
        return InteractionForm(data, follow_ups_to_close=to_close)

    def get(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        return self.render_form(request, customer, self.form(request, customer))

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = self.form(request, customer, request.POST)
        if form.is_valid():
            try:
                interaction = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=Interaction,
                    create=lambda: services.interaction_log(actor=request.user, customer=customer, **form.cleaned_data),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                message = _("Logged: %(channel)s with %(name)s.") % {
                    "channel": interaction.get_channel_display(),
                    "name": customer.name,
                }
                closed = len(form.cleaned_data.get("close_follow_ups") or ())
                if closed:
                    message += " " + _("%(n)s follow-ups closed.") % {"n": closed}
                if request.htmx:
                    interaction.editable = True  # its author, just now
                    context = {
                        "customer": customer,
                        "interaction": interaction,
                        "message": message,
                        "interaction_links": panels.interaction_links_for(request, customer),
                    }
                    return render(request, "relationships/partials/_quick_log_done.html", context)
                messages.success(request, message)
                return redirect("customers:customer-detail", pk=customer.pk)
        return self.render_form(request, customer, form)


class InteractionUpdateView(RoleRequiredMixin, View):
    """Correcting an interaction: its author, within 24 hours; afterwards it is read-only."""

    allowed_roles = access.PORTFOLIO_ROLES
    template_name = "relationships/interaction_form.html"

    def get_interaction(self, request, pk):
        interaction = selectors.interaction_get_visible(request.user, pk)
        if not interaction.editable_by(request.user.staff):
            raise PermissionDenied
        return interaction

    def initial(self, interaction):
        fields = ("channel", "purpose", "outcome", "occurred_at", "notes", "next_follow_up_on", "next_action")
        data = {f: getattr(interaction, f) for f in fields}
        data["occurred_at"] = timezone.localtime(interaction.occurred_at)
        data["products"] = list(interaction.products.all())
        return data

    def get(self, request, pk):
        interaction = self.get_interaction(request, pk)
        form = InteractionForm(initial=self.initial(interaction))
        return render(
            request, self.template_name, {"customer": interaction.customer, "form": form, "interaction": interaction}
        )

    def post(self, request, pk):
        interaction = self.get_interaction(request, pk)
        form = InteractionForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            products = data.pop("products")
            try:
                services.interaction_update(actor=request.user, interaction=interaction, products=products, **data)
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Interaction updated."))
                return redirect("customers:customer-detail", pk=interaction.customer_id)
        return render(
            request, self.template_name, {"customer": interaction.customer, "form": form, "interaction": interaction}
        )


class TimelineView(RoleRequiredMixin, View):
    """A page of the customer's timeline. Over htmx ("Earlier contacts") only the items, appended in place;
    opened directly (a bookmark, a new tab, no JavaScript) the same items inside the full page."""

    allowed_roles = access.EVERY_ROLE
    template_name = "relationships/timeline.html"
    fragment = "relationships/partials/_timeline.html"

    def get(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        page = selectors.customer_timeline(request.user, customer, page=request.GET.get("page", 1))
        template = self.fragment if request.htmx else self.template_name
        links = panels.interaction_links_for(request, customer)
        return render(request, template, {"customer": customer, "timeline": page, "interaction_links": links})


class RatingCreateView(RoleRequiredMixin, View):
    """Record a customer's satisfaction after a callback (回访)."""

    allowed_roles = access.EVERY_ROLE

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = RatingForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a score from 1 to 5."))
        else:
            try:
                submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=SatisfactionRating,
                    create=lambda: services.rating_record(actor=request.user, customer=customer, **form.cleaned_data),
                )
            except (ValidationError, PermissionDenied) as e:
                messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
            else:
                messages.success(request, _("Rating recorded."))
        return redirect("customers:customer-detail", pk=customer.pk)


class SecondaryAssignView(RoleRequiredMixin, View):
    """A branch head adds a secondary RM (协管户) to a customer, or ends one."""

    allowed_roles = access.HEADS_AND_ADMINS

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        end = request.POST.get("end")
        try:
            if end:
                assignment = get_object_or_404(Assignment.objects.current().secondary(), pk=end, customer=customer)
                services.assignment_end_secondary(
                    actor=request.user, assignment=assignment, reason=_("Ended by the branch head")
                )
                messages.success(request, _("Secondary RM removed."))
            else:
                form = SecondaryForm(request.POST, rm_choices=rms_visible_to(request.user))
                if not form.is_valid():
                    messages.error(request, _("Choose an RM and give a reason."))
                else:
                    submit_once(
                        actor=request.user,
                        key=form.posted_key,
                        model=Assignment,
                        create=lambda: services.assignment_add_secondary(
                            actor=request.user, customer=customer, **form.cleaned_data
                        ),
                    )
                    messages.success(request, _("Secondary RM added."))
        except ValidationError as e:
            messages.error(request, as_text(e))
        return redirect("customers:customer-detail", pk=customer.pk)


# ----------------------------------------------------------------------------------------------------------------
# Reassignment requests
# ----------------------------------------------------------------------------------------------------------------


class ReassignmentCreateView(RoleRequiredMixin, View):
    """Ask to move the chosen customers (``?customer=`` repeated, from a list or the 360° page) to another RM."""

    allowed_roles = access.PORTFOLIO_ROLES
    template_name = "relationships/reassignment_form.html"

    def customers(self, request):
        ids = [v for v in request.GET.getlist("customer") + request.POST.getlist("customer") if v.isdigit()][:500]
        return list(
            customers_visible_to(request.user).filter(pk__in=ids).select_related("segment", "primary_rm", "branch")
        )

    def render_form(self, request, customers, form):
        return render(request, self.template_name, {"customers": customers, "form": form})

    def get(self, request):
        customers = self.customers(request)
        if not customers:
            messages.info(request, _("Choose the customers to move first (tick them in My customers)."))
            return redirect("customers:customer-list")
        return self.render_form(request, customers, ReassignmentForm(rm_choices=rms_visible_to(request.user)))

    def post(self, request):
        customers = self.customers(request)
        form = ReassignmentForm(request.POST, rm_choices=rms_visible_to(request.user))
        if form.is_valid():
            try:
                reassignment = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=ReassignmentRequest,
                    create=lambda: services.reassignment_request(
                        actor=request.user, customers=customers, **form.cleaned_data
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Request #%(id)s sent for approval.") % {"id": reassignment.pk})
                return redirect("relationships:reassignment-detail", pk=reassignment.pk)
        return self.render_form(request, customers, form)


class ReassignmentListView(RoleRequiredMixin, TemplateView):
    template_name = "relationships/reassignment_list.html"
    allowed_roles = access.EVERY_ROLE

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", ReassignmentRequest.Status.PENDING)
        if status not in ReassignmentRequest.Status.values:
            status = ReassignmentRequest.Status.PENDING
        requests = (
            selectors.reassignments_visible_to(self.request.user)
            .filter(status=status)
            .annotate(n=Count("items", distinct=True))
            .order_by("-created_at")
        )
        return super().get_context_data(
            status=status,
            statuses=ReassignmentRequest.Status.choices,
            page_obj=paginate(requests, self.request.GET.get("page"), 30),
            **kwargs,
        )


def _valid(form) -> dict:
    """The cleaned input of an action's form, or its errors as the action's refusal (shown as a message)."""
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.as_data().values() for e in errors])
    return form.cleaned_data


def _note(data) -> str:
    return _valid(DecisionNoteForm(data))["note"]


REASSIGNMENT_ACTIONS = {
    "approve": Action(
        gettext_lazy("Approve"),
        lambda actor, r, d: services.reassignment_approve(actor=actor, request=r, note=_note(d)),
        gettext_lazy("Approved: the customers have moved."),
    ),
    "reject": Action(
        gettext_lazy("Reject"),
        lambda actor, r, d: services.reassignment_reject(actor=actor, request=r, note=_note(d)),
        gettext_lazy("Rejected."),
    ),
    "cancel": Action(
        gettext_lazy("Withdraw the request"),
        lambda actor, r, d: services.reassignment_cancel(actor=actor, request=r),
        gettext_lazy("Request withdrawn."),
    ),
}


class ReassignmentDetailView(RoleRequiredMixin, View):
    allowed_roles = access.EVERY_ROLE
    template_name = "relationships/reassignment_detail.html"

    def get(self, request, pk):
        reassignment = selectors.reassignment_get_visible(request.user, pk)
        items = reassignment.items.select_related("customer__segment", "from_staff").order_by("pk")
        staff = request.user.staff
        can_decide = (
            reassignment.status == ReassignmentRequest.Status.PENDING
            and staff.pk != reassignment.requested_by_id
            and access.can_approve(staff, reassignment.scope_branch)
        )
        return render(
            request,
            self.template_name,
            {
                "reassignment": reassignment,
                "page_obj": paginate(items, request.GET.get("page"), 50),
                "can_decide": can_decide,
            },
        )

    def post(self, request, pk):
        reassignment = selectors.reassignment_get_visible(request.user, pk)
        return run_posted(request, REASSIGNMENT_ACTIONS, reassignment, back="relationships:reassignment-detail", pk=pk)


class ApprovalsView(RoleRequiredMixin, TemplateView):
    """What waits for the head's decision: reassignments, visit plans and handovers from their subtree."""

    template_name = "relationships/approvals.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        cards = panels.approvals.context(self.request, access.active_staff(self.request.user))
        return super().get_context_data(
            pending=selectors.pending_approvals(self.request.user),
            approval_cards=[card for card in cards.values() if isinstance(card, panels.ApprovalCard)],
            **kwargs,
        )


# ----------------------------------------------------------------------------------------------------------------
# Leaving RMs and handovers (离职交接)
# ----------------------------------------------------------------------------------------------------------------


class StaffLeavingView(RoleRequiredMixin, View):
    """A branch head records that an RM is leaving, then prepares the handover."""

    allowed_roles = access.HEADS_AND_ADMINS
    template_name = "relationships/staff_leaving.html"

    def get_staff(self, request, pk):
        return get_object_or_404(staff_visible_to(request.user).select_related("branch"), pk=pk)

    def get(self, request, pk):
        staff = self.get_staff(request, pk)
        return render(
            request,
            self.template_name,
            {"member": staff, "form": LeavingForm(), "portfolio": staff.primary_customers.count()},
        )

    def post(self, request, pk):
        staff = self.get_staff(request, pk)
        form = LeavingForm(request.POST)
        if form.is_valid():
            try:
                services.staff_mark_leaving(actor=request.user, staff=staff, last_day=form.cleaned_data["last_day"])
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(
                    request, _("%(name)s is marked as leaving. Now prepare the handover.") % {"name": staff.name}
                )
                return redirect(reverse("relationships:handover-create") + f"?leaver={staff.pk}")
        return render(
            request, self.template_name, {"member": staff, "form": form, "portfolio": staff.primary_customers.count()}
        )


class HandoverCreateView(RoleRequiredMixin, View):
    allowed_roles = access.HEADS_AND_ADMINS
    template_name = "relationships/handover_form.html"

    def leaver(self, request):
        pk = request.GET.get("leaver") or request.POST.get("leaver") or ""
        if not pk.isdigit():
            raise Http404
        return get_object_or_404(
            staff_visible_to(request.user).select_related("branch").filter(status=Staff.Status.LEAVING), pk=pk
        )

    def form(self, request, data=None):
        return HandoverForm(data, rm_choices=rms_visible_to(request.user))

    def get(self, request):
        leaver = self.leaver(request)
        return render(
            request,
            self.template_name,
            {"leaver": leaver, "form": self.form(request), "portfolio": leaver.primary_customers.count()},
        )

    def post(self, request):
        leaver = self.leaver(request)
        form = self.form(request, request.POST)
        if form.is_valid():
            try:
                handover = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=Handover,
                    create=lambda: services.handover_start(
                        actor=request.user,
                        leaver=leaver,
                        targets=list(form.cleaned_data["targets"]),
                        method=form.cleaned_data["method"],
                        note=form.cleaned_data["note"],
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                return redirect("relationships:handover-detail", pk=handover.pk)
        return render(
            request, self.template_name, {"leaver": leaver, "form": form, "portfolio": leaver.primary_customers.count()}
        )


class HandoverListView(RoleRequiredMixin, TemplateView):
    template_name = "relationships/handover_list.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        handovers = selectors.handovers_visible_to(self.request.user).order_by("-created_at")
        leaving = staff_visible_to(self.request.user).filter(status=Staff.Status.LEAVING).select_related("branch")
        return super().get_context_data(
            page_obj=paginate(handovers, self.request.GET.get("page"), 30), leaving=leaving, **kwargs
        )


def _handover_distribute(actor, handover: Handover, data):
    method = _valid(HandoverDistributeForm(data))["method"]
    return services.handover_distribute(actor=actor, handover=handover, method=method or None)


def _handover_assign(actor, handover: Handover, data):
    """Move one line to another receiving RM (over htmx: no page to redraw)."""
    form = HandoverAssignForm(data)
    if not form.is_valid():
        raise Http404
    to_staff = get_object_or_404(handover.targets.all(), pk=form.cleaned_data["to_staff"])
    return services.handover_assign(
        actor=actor, handover=handover, customer_id=form.cleaned_data["customer"], to_staff=to_staff
    )


HANDOVER_ACTIONS = {
    "distribute": Action(gettext_lazy("Distribute again"), _handover_distribute, gettext_lazy("Distributed again.")),
    "assign": Action(gettext_lazy("Move to another RM"), _handover_assign, quiet_over_htmx=True),
    "submit": Action(
        gettext_lazy("Submit for approval"),
        lambda actor, h, d: services.handover_submit(actor=actor, handover=h),
        gettext_lazy("Submitted for approval."),
    ),
    "approve": Action(
        gettext_lazy("Approve and carry out"),
        lambda actor, h, d: services.handover_approve(actor=actor, handover=h, note=_note(d)),
        gettext_lazy("Handover approved and carried out."),
    ),
    "reject": Action(
        gettext_lazy("Return"),
        lambda actor, h, d: services.handover_reject(actor=actor, handover=h, note=_note(d)),
        gettext_lazy("Handover returned."),
    ),
}


class HandoverDetailView(RoleRequiredMixin, View):
    """The handover: the distribution by receiving RM and by tier, the lines (changeable by hand while being
    prepared), and the decision."""

    allowed_roles = access.HEADS_AND_ADMINS
    template_name = "relationships/handover_detail.html"

    def get(self, request, pk):
        handover = selectors.handover_get_visible(request.user, pk)
        return render(
            request,
            self.template_name,
            selectors.handover_overview(request.user, handover, page=request.GET.get("page")),
        )

    def post(self, request, pk):
        handover = selectors.handover_get_visible(request.user, pk)
        return run_posted(request, HANDOVER_ACTIONS, handover, back="relationships:handover-detail", pk=pk)


class HandoverReportView(RoleRequiredMixin, View):
    """The handover summary as Excel: per receiving RM, and every customer with masked identifiers."""

    allowed_roles = access.HEADS_AND_ADMINS

    def get(self, request, pk):
        handover = selectors.handover_get_visible(request.user, pk)

        return export_logged(
            request,
            exports.handover_xlsx(handover),
            reason=_("Handover report"),
            detail={"handover": handover.pk},
            rows=handover.items.count(),
        )


# ----------------------------------------------------------------------------------------------------------------
# Visit plans (拜访计划 / 拜访报告)
# ----------------------------------------------------------------------------------------------------------------


class VisitPlanCreateView(RoleRequiredMixin, View):
    allowed_roles = access.RMS
    template_name = "relationships/visit_plan_form.html"

    def form(self, request, data=None, initial=None):
        return VisitPlanForm(
            data,
            initial=initial,
            customer_choices=selectors.visit_plan_customer_choices(request.user),
            customer_label=selectors.visit_plan_customer_label,
        )

    def get(self, request):
        preset = [v for v in request.GET.getlist("customer") if v.isdigit()]
        return render(
            request,
            self.template_name,
            {"form": self.form(request, initial={"customers": preset, "planned_on": timezone.localdate()})},
        )

    def post(self, request):
        form = self.form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            submit = "submit" in request.POST
            create = services.visit_plan_create_and_submit if submit else services.visit_plan_create
            try:
                plan = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=VisitPlan,
                    create=lambda: create(
                        actor=request.user,
                        planned_on=data["planned_on"],
                        customers=list(data["customers"]),
                        purpose=data["purpose"],
                        preparation=data["preparation"],
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Plan submitted for approval.") if submit else _("Plan saved as a draft."))
                return redirect("relationships:visit-plan-detail", pk=plan.pk)
        return render(request, self.template_name, {"form": form})


VISIT_PLAN_ACTIONS = {
    "submit": Action(
        gettext_lazy("Submit for approval"),
        lambda actor, p, d: services.visit_plan_submit(actor=actor, plan=p),
        gettext_lazy("Plan submitted for approval."),
    ),
    "approve": Action(
        gettext_lazy("Approve"),
        lambda actor, p, d: services.visit_plan_review(actor=actor, plan=p, approve=True, note=_note(d)),
        gettext_lazy("Plan approved."),
    ),
    "return": Action(
        gettext_lazy("Return for changes"),
        lambda actor, p, d: services.visit_plan_review(actor=actor, plan=p, approve=False, note=_note(d)),
        gettext_lazy("Plan returned."),
    ),
    "cancel": Action(
        gettext_lazy("Cancel"),
        lambda actor, p, d: services.visit_plan_cancel(actor=actor, plan=p),
        gettext_lazy("Plan cancelled."),
    ),
}


class VisitPlanDetailView(RoleRequiredMixin, View):
    allowed_roles = access.PORTFOLIO_ROLES
    template_name = "relationships/visit_plan_detail.html"

    def get(self, request, pk):
        plan = selectors.visit_plan_get_visible(request.user, pk)
        staff = request.user.staff
        return render(
            request,
            self.template_name,
            {
                "plan": plan,
                "is_owner": plan.staff_id == staff.pk,
                "can_review": plan.status == VisitPlan.Status.SUBMITTED
                and plan.staff_id != staff.pk
                and access.can_approve(staff, plan.staff.branch),
            },
        )

    def post(self, request, pk):
        plan = selectors.visit_plan_get_visible(request.user, pk)
        return run_posted(request, VISIT_PLAN_ACTIONS, plan, back="relationships:visit-plan-detail", pk=pk)


class VisitPlanReportView(RoleRequiredMixin, View):
    """After the visits: one line per planned customer; ticked lines become interactions."""

    allowed_roles = access.RMS
    template_name = "relationships/visit_plan_report.html"

    def get_plan(self, request, pk):
        plan = selectors.visit_plan_get_visible(request.user, pk)
        if plan.staff_id != request.user.staff.pk:
            raise PermissionDenied
        return plan

    def forms(self, plan, data=None):
        return [
            (item, VisitReportLineForm(data, prefix=f"item{item.pk}"))
            for item in plan.items.all()
            if not item.interaction_id
        ]

    def get(self, request, pk):
        plan = self.get_plan(request, pk)
        if plan.status != VisitPlan.Status.APPROVED:
            messages.info(request, _("Only an approved plan can be reported."))
            return redirect("relationships:visit-plan-detail", pk=plan.pk)
        return render(request, self.template_name, {"plan": plan, "lines": self.forms(plan)})

    def post(self, request, pk):
        plan = self.get_plan(request, pk)
        lines = self.forms(plan, request.POST)
        if all(form.is_valid() for _item, form in lines):
            reports = {
                item.pk: {k: v for k, v in form.cleaned_data.items() if k != "visited"}
                for item, form in lines
                if form.cleaned_data["visited"]
            }
            try:
                services.visit_plan_report(actor=request.user, plan=plan, reports=reports)
            except ValidationError as e:
                messages.error(request, as_text(e))
            else:
                messages.success(request, _("Visit report filed: %(n)s interactions logged.") % {"n": len(reports)})
                return redirect("relationships:visit-plan-detail", pk=plan.pk)
        return render(request, self.template_name, {"plan": plan, "lines": lines})
