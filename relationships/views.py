from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import UncountedPaginator, paginate
from crm_site.service_errors import apply_to_form, as_text
from customers.selectors import customer_get_visible, customers_visible_to

from . import dashboards, exports, selectors, services
from .forms import (
    FollowUpDoneForm,
    HandoverForm,
    InteractionForm,
    LeavingForm,
    OrgTreeFilterForm,
    RatingForm,
    ReassignmentForm,
    SecondaryForm,
    SkipForm,
    SnoozeForm,
    VisitPlanForm,
    VisitReportLineForm,
)
from .models import Assignment, Branch, FollowUp, Handover, Notification, ReassignmentRequest, Staff, VisitPlan
from .permissions import EVERY_ROLE, HEADS_AND_ADMINS, LOGGERS, REQUESTERS, RoleRequiredMixin
from .services.portfolio import may_approve


class HomeView(RoleRequiredMixin, TemplateView):
    """Each role's home: Today for RMs, the dashboard for branch heads, the HQ dashboard for admins, the complaint
    list (overdue and due-soon counts first) for complaints officers."""

    template_name = "relationships/home.html"
    HOMES = {
        Staff.Role.RM: "relationships:today",
        Staff.Role.HEAD: "relationships:dashboard",
        Staff.Role.ADMIN: "relationships:dashboard-hq",
        Staff.Role.OFFICER: "complaints:complaint-list",
    }

    def get(self, request, *args, **kwargs):
        home = self.HOMES.get(request.user.staff.role)
        if home:
            return redirect(home)
        return super().get(request, *args, **kwargs)


class BranchTreeView(RoleRequiredMixin, TemplateView):
    """The branch tree with its staff, scoped to the viewer's subtree, filterable by branch and role."""

    template_name = "relationships/branch_tree.html"
    allowed_roles = HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        form = OrgTreeFilterForm(
            self.request.GET or None, branch_choices=selectors.branch_filter_choices(self.request.user)
        )
        filters = form.cleaned_data if form.is_valid() else {}
        branch = filters.get("branch")
        within = filters.get("within")
        tree = selectors.org_tree_for(
            self.request.user,
            branch_id=within or (branch.pk if branch else None),
            role=filters.get("role", ""),
            q=filters.get("q", ""),
            page=self.request.GET.get("page", 1),
        )
        return super().get_context_data(form=form, tree=tree, **kwargs)


# ----------------------------------------------------------------------------------------------------------------
# RM workspace
# ----------------------------------------------------------------------------------------------------------------

RMS = frozenset({Staff.Role.RM})
RATERS = frozenset({Staff.Role.HEAD, Staff.Role.OFFICER, Staff.Role.ADMIN, Staff.Role.RM})


class MyCustomersView(RoleRequiredMixin, TemplateView):
    """我的客户: the RM's portfolio, the longest without contact first, with the quick log on every row."""

    template_name = "relationships/my_customers.html"
    allowed_roles = RMS

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")[:40]
        sort = self.request.GET.get("sort", "contact")
        page = paginate(selectors.portfolio_of(self.request.user, q=q, sort=sort), self.request.GET.get("page"), 50)
        return super().get_context_data(
            page_obj=page,
            q=q,
            sort=sort,
            follow_ups=selectors.follow_ups_open_for(self.request.user.staff, limit=10),
            secondary=selectors.secondary_portfolio_of(self.request.user),
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
    allowed_roles = RMS

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

    allowed_roles = LOGGERS
    template_name = "relationships/interaction_form.html"
    fragment = "relationships/partials/_quick_log.html"

    def render_form(self, request, customer, form, status=200):
        template = self.fragment if request.htmx else self.template_name
        return render(request, template, {"customer": customer, "form": form}, status=status)

    def get(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        return self.render_form(request, customer, InteractionForm())

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                interaction = services.interaction_log(actor=request.user, customer=customer, **form.cleaned_data)
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                message = _("Logged: %(channel)s with %(name)s.") % {
                    "channel": interaction.get_channel_display(),
                    "name": customer.name,
                }
                if request.htmx:
                    interaction.editable = True  # its author, just now
                    context = {"customer": customer, "interaction": interaction, "message": message}
                    return render(request, "relationships/partials/_quick_log_done.html", context)
                messages.success(request, message)
                return redirect("customers:customer-detail", pk=customer.pk)
        return self.render_form(request, customer, form)


class InteractionUpdateView(RoleRequiredMixin, View):
    """Correcting an interaction: its author, within 24 hours; afterwards it is read-only."""

    allowed_roles = LOGGERS
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
    """A page of the customer's timeline (htmx "more")."""

    allowed_roles = EVERY_ROLE

    def get(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        page = selectors.customer_timeline(request.user, customer, page=request.GET.get("page", 1))
        return render(request, "relationships/partials/_timeline.html", {"customer": customer, "timeline": page})


class RatingCreateView(RoleRequiredMixin, View):
    """Record a customer's satisfaction after a callback (回访)."""

    allowed_roles = RATERS

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = RatingForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a score from 1 to 5."))
        else:
            try:
                services.rating_record(actor=request.user, customer=customer, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as e:
                messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
            else:
                messages.success(request, _("Rating recorded."))
        return redirect("customers:customer-detail", pk=customer.pk)


class SecondaryAssignView(RoleRequiredMixin, View):
    """A branch head adds a secondary RM (协管户) to a customer, or ends one."""

    allowed_roles = HEADS_AND_ADMINS

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
                form = SecondaryForm(request.POST, rm_choices=selectors.rms_visible_to(request.user))
                if not form.is_valid():
                    messages.error(request, _("Choose an RM and give a reason."))
                else:
                    services.assignment_add_secondary(actor=request.user, customer=customer, **form.cleaned_data)
                    messages.success(request, _("Secondary RM added."))
        except ValidationError as e:
            messages.error(request, as_text(e))
        return redirect("customers:customer-detail", pk=customer.pk)


# ----------------------------------------------------------------------------------------------------------------
# Reassignment requests
# ----------------------------------------------------------------------------------------------------------------


class ReassignmentCreateView(RoleRequiredMixin, View):
    """Ask to move the chosen customers (``?customer=`` repeated, from a list or the 360° page) to another RM."""

    allowed_roles = REQUESTERS
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
        return self.render_form(request, customers, ReassignmentForm(rm_choices=selectors.rms_visible_to(request.user)))

    def post(self, request):
        customers = self.customers(request)
        form = ReassignmentForm(request.POST, rm_choices=selectors.rms_visible_to(request.user))
        if form.is_valid():
            try:
                reassignment = services.reassignment_request(
                    actor=request.user, customers=customers, **form.cleaned_data
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Request #%(id)s sent for approval.") % {"id": reassignment.pk})
                return redirect("relationships:reassignment-detail", pk=reassignment.pk)
        return self.render_form(request, customers, form)


class ReassignmentListView(RoleRequiredMixin, TemplateView):
    template_name = "relationships/reassignment_list.html"
    allowed_roles = EVERY_ROLE

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


class ReassignmentDetailView(RoleRequiredMixin, View):
    allowed_roles = EVERY_ROLE
    template_name = "relationships/reassignment_detail.html"

    def get(self, request, pk):
        reassignment = selectors.reassignment_get_visible(request.user, pk)
        items = reassignment.items.select_related("customer__segment", "from_staff").order_by("pk")
        staff = request.user.staff
        can_decide = (
            reassignment.status == ReassignmentRequest.Status.PENDING
            and staff.pk != reassignment.requested_by_id
            and may_approve(staff, reassignment.scope_branch)
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
        action = request.POST.get("action")
        note = request.POST.get("note", "")[:200]
        try:
            if action == "approve":
                services.reassignment_approve(actor=request.user, request=reassignment, note=note)
                messages.success(request, _("Approved: the customers have moved."))
            elif action == "reject":
                services.reassignment_reject(actor=request.user, request=reassignment, note=note)
                messages.success(request, _("Rejected."))
            elif action == "cancel":
                services.reassignment_cancel(actor=request.user, request=reassignment)
                messages.success(request, _("Request withdrawn."))
        except ValidationError as e:
            messages.error(request, as_text(e))
        return redirect("relationships:reassignment-detail", pk=pk)


class ApprovalsView(RoleRequiredMixin, TemplateView):
    """What waits for the head's decision: reassignments, visit plans and handovers from their subtree."""

    template_name = "relationships/approvals.html"
    allowed_roles = HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        return super().get_context_data(pending=selectors.pending_approvals(self.request.user), **kwargs)


# ----------------------------------------------------------------------------------------------------------------
# Leaving RMs and handovers (离职交接)
# ----------------------------------------------------------------------------------------------------------------


class StaffLeavingView(RoleRequiredMixin, View):
    """A branch head records that an RM is leaving, then prepares the handover."""

    allowed_roles = HEADS_AND_ADMINS
    template_name = "relationships/staff_leaving.html"

    def get_staff(self, request, pk):
        return get_object_or_404(selectors.staff_visible_to(request.user).select_related("branch"), pk=pk)

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
    allowed_roles = HEADS_AND_ADMINS
    template_name = "relationships/handover_form.html"

    def leaver(self, request):
        pk = request.GET.get("leaver") or request.POST.get("leaver") or ""
        if not pk.isdigit():
            raise Http404
        return get_object_or_404(
            selectors.staff_visible_to(request.user).select_related("branch").filter(status=Staff.Status.LEAVING), pk=pk
        )

    def form(self, request, data=None):
        return HandoverForm(data, rm_choices=selectors.rms_visible_to(request.user))

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
                handover = services.handover_start(
                    actor=request.user,
                    leaver=leaver,
                    targets=list(form.cleaned_data["targets"]),
                    method=form.cleaned_data["method"],
                    note=form.cleaned_data["note"],
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
    allowed_roles = HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        handovers = selectors.handovers_visible_to(self.request.user).order_by("-created_at")
        leaving = (
            selectors.staff_visible_to(self.request.user).filter(status=Staff.Status.LEAVING).select_related("branch")
        )
        return super().get_context_data(
            page_obj=paginate(handovers, self.request.GET.get("page"), 30), leaving=leaving, **kwargs
        )


class HandoverDetailView(RoleRequiredMixin, View):
    """The handover: the distribution by receiving RM and by tier, the lines (changeable by hand while being
    prepared), and the decision."""

    allowed_roles = HEADS_AND_ADMINS
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
        action = request.POST.get("action")
        try:
            if action == "distribute":
                method = request.POST.get("method")
                services.handover_distribute(
                    actor=request.user, handover=handover, method=method if method in Handover.Method.values else None
                )
                messages.success(request, _("Distributed again."))
            elif action == "assign":
                to_staff = get_object_or_404(handover.targets.all(), pk=request.POST.get("to_staff") or 0)
                customer_id = request.POST.get("customer", "")
                if not customer_id.isdigit():
                    raise Http404
                services.handover_assign(
                    actor=request.user, handover=handover, customer_id=int(customer_id), to_staff=to_staff
                )
                if request.htmx:
                    return HttpResponse(status=204)
            elif action == "submit":
                services.handover_submit(actor=request.user, handover=handover)
                messages.success(request, _("Submitted for approval."))
            elif action == "approve":
                services.handover_approve(
                    actor=request.user, handover=handover, note=request.POST.get("note", "")[:200]
                )
                messages.success(request, _("Handover approved and carried out."))
            elif action == "reject":
                services.handover_reject(actor=request.user, handover=handover, note=request.POST.get("note", "")[:200])
                messages.success(request, _("Handover returned."))
        except ValidationError as e:
            messages.error(request, as_text(e))
        return redirect("relationships:handover-detail", pk=pk)


class HandoverReportView(RoleRequiredMixin, View):
    """The handover summary as Excel: per receiving RM, and every customer with masked identifiers."""

    allowed_roles = HEADS_AND_ADMINS

    def get(self, request, pk):
        handover = selectors.handover_get_visible(request.user, pk)
        from customers.models import AccessLog
        from customers.services import access_log_record

        response = exports.handover_xlsx(handover)
        access_log_record(
            actor=request.user,
            action=AccessLog.Action.EXPORT,
            reason=_("Handover report"),
            detail={"handover": handover.pk},
            row_count=handover.items.count(),
            ip_address=request.META.get("REMOTE_ADDR"),
        )
        return response


# ----------------------------------------------------------------------------------------------------------------
# Visit plans (拜访计划 / 拜访报告)
# ----------------------------------------------------------------------------------------------------------------


class VisitPlanCreateView(RoleRequiredMixin, View):
    allowed_roles = RMS
    template_name = "relationships/visit_plan_form.html"

    def form(self, request, data=None, initial=None):
        choices = selectors.portfolio_of(request.user).order_by("name")
        return VisitPlanForm(data, initial=initial, customer_choices=choices)

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
            try:
                plan = services.visit_plan_create(
                    actor=request.user,
                    planned_on=data["planned_on"],
                    customers=list(data["customers"]),
                    purpose=data["purpose"],
                    preparation=data["preparation"],
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                if "submit" in request.POST:
                    services.visit_plan_submit(actor=request.user, plan=plan)
                    messages.success(request, _("Plan submitted for approval."))
                else:
                    messages.success(request, _("Plan saved as a draft."))
                return redirect("relationships:visit-plan-detail", pk=plan.pk)
        return render(request, self.template_name, {"form": form})


class VisitPlanDetailView(RoleRequiredMixin, View):
    allowed_roles = frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN})
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
                and may_approve(staff, plan.staff.branch),
            },
        )

    def post(self, request, pk):
        plan = selectors.visit_plan_get_visible(request.user, pk)
        action = request.POST.get("action")
        note = request.POST.get("note", "")[:200]
        try:
            if action == "submit":
                services.visit_plan_submit(actor=request.user, plan=plan)
                messages.success(request, _("Plan submitted for approval."))
            elif action in ("approve", "return"):
                services.visit_plan_review(actor=request.user, plan=plan, approve=action == "approve", note=note)
                messages.success(request, _("Plan approved.") if action == "approve" else _("Plan returned."))
            elif action == "cancel":
                services.visit_plan_cancel(actor=request.user, plan=plan)
                messages.success(request, _("Plan cancelled."))
        except ValidationError as e:
            messages.error(request, as_text(e))
        return redirect("relationships:visit-plan-detail", pk=pk)


class VisitPlanReportView(RoleRequiredMixin, View):
    """After the visits: one line per planned customer; ticked lines become interactions."""

    allowed_roles = RMS
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


# ----------------------------------------------------------------------------------------------------------------
# Notifications
# ----------------------------------------------------------------------------------------------------------------


class NotificationListView(RoleRequiredMixin, View):
    allowed_roles = EVERY_ROLE

    def get(self, request):
        notifications = Notification.objects.filter(recipient=request.user.staff).order_by("-created_at")
        return render(
            request,
            "relationships/notifications.html",
            {"page_obj": paginate(notifications, request.GET.get("page"), 30)},
        )

    def post(self, request):
        services.notifications_mark_read(actor=request.user)
        return redirect("relationships:notification-list")


# ----------------------------------------------------------------------------------------------------------------
# Today (今日工作)
# ----------------------------------------------------------------------------------------------------------------

TODAY_ROLES = frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN})


class TodayView(RoleRequiredMixin, TemplateView):
    """今日工作: the RM's open follow-ups by kind, overdue first, with one-tap actions. A head sees any RM of their
    subtree read-only (``?rm=``), and the counts per RM."""

    template_name = "relationships/today.html"
    allowed_roles = TODAY_ROLES

    def get_context_data(self, **kwargs):
        from complaints.selectors import open_complaints_handled_by

        user, staff = self.request.user, self.request.user.staff
        rm_id = self.request.GET.get("rm", "")
        kind = self.request.GET.get("kind", "")
        kind = kind if kind in FollowUp.Kind.values else ""
        context = {"kind": kind, "kinds": FollowUp.Kind.choices}
        if rm_id.isdigit() and staff.role != Staff.Role.RM:
            rm = get_object_or_404(selectors.staff_visible_to(user).filter(role=Staff.Role.RM), pk=rm_id)
            context.update(today=selectors.today_for(rm, kind=kind or None), read_only=True, viewed_rm=rm)
            context.update(complaints=open_complaints_handled_by(rm))
        elif staff.role == Staff.Role.RM:
            context.update(today=selectors.today_for(staff, kind=kind or None), read_only=False)
            context.update(complaints=open_complaints_handled_by(staff))
        else:
            context.update(per_rm=selectors.follow_up_counts_by_rm(user), read_only=True)
        context.update(done_form=FollowUpDoneForm(), snooze_form=SnoozeForm(), skip_form=SkipForm())
        return super().get_context_data(**context, **kwargs)


class FollowUpActionView(RoleRequiredMixin, View):
    """Done (with a quick log), snooze, or skip one follow-up. Over htmx the item is replaced in place."""

    allowed_roles = RMS
    fragment = "relationships/partials/_follow_up.html"
    forms = {"done": FollowUpDoneForm, "snooze": SnoozeForm, "skip": SkipForm}

    def post(self, request, pk, action):
        follow_up = selectors.follow_up_get_own(request.user, pk)
        if action not in self.forms:
            raise Http404
        form = self.forms[action](request.POST)
        error = None
        if form.is_valid():
            try:
                if action == "done":
                    follow_up = services.follow_up_complete(
                        actor=request.user, follow_up=follow_up, **form.cleaned_data
                    )
                elif action == "snooze":
                    follow_up = services.follow_up_snooze(
                        actor=request.user, follow_up=follow_up, until=form.cleaned_data["until"]
                    )
                else:
                    follow_up = services.follow_up_skip(
                        actor=request.user, follow_up=follow_up, reason=form.cleaned_data["reason"]
                    )
            except ValidationError as e:
                error = as_text(e)
        else:
            error = " ".join(str(m) for errors in form.errors.values() for m in errors)
        if request.htmx:
            context = {"f": follow_up, "error": error, "read_only": False, "done_form": FollowUpDoneForm(),
                       "snooze_form": SnoozeForm(), "skip_form": SkipForm()}  # fmt: skip
            return render(request, self.fragment, context)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Follow-up updated."))
        return redirect("relationships:today")


# ----------------------------------------------------------------------------------------------------------------
# Dashboards (仪表盘) and performance (绩效)
# ----------------------------------------------------------------------------------------------------------------

ADMINS = frozenset({Staff.Role.ADMIN})
PERFORMANCE_ROLES = frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN})


def _export_log(request, reason: str, detail: dict, rows: int) -> None:
    from customers.models import AccessLog
    from customers.services import access_log_record

    access_log_record(
        actor=request.user,
        action=AccessLog.Action.EXPORT,
        reason=reason,
        detail=detail,
        row_count=rows,
        ip_address=request.META.get("REMOTE_ADDR"),
    )


class DashboardView(RoleRequiredMixin, TemplateView):
    """The branch head's home: KPI cards, charts, the RMs and the churn-risk list of a branch subtree."""

    template_name = "relationships/dashboard.html"
    allowed_roles = HEADS_AND_ADMINS

    def get_context_data(self, **kwargs):
        board = dashboards.dashboard_for(
            self.request.user,
            branch_id=self.request.GET.get("branch"),
            period_key=self.request.GET.get("period", dashboards.DEFAULT_PERIOD),
            sort=self.request.GET.get("sort", "aum"),
        )
        root = board.scope.root
        return super().get_context_data(
            board=board,
            periods=dashboards.PERIODS,
            query=dashboard_query(board.period.key, root),
            complaints_query=f"branch={root.pk}" if root is not None else "",
            rm_columns=dashboards.RM_COLUMNS,
            branch_columns=dashboards.BRANCH_COLUMNS,
            coverage_chart=[{"label": line.branch.name, "value": line.figures["coverage"]} for line in board.branches],
            **kwargs,
        )


def dashboard_query(period_key: str, root) -> str:
    """The query string that keeps the period and branch on drill-down and export links."""
    from urllib.parse import urlencode

    params = {"period": period_key}
    if root is not None:
        params["branch"] = root.pk
    return urlencode(params)


class HqDashboardView(RoleRequiredMixin, TemplateView):
    """HQ: the figures of the whole bank and the ranking of its branches."""

    template_name = "relationships/dashboard_hq.html"
    allowed_roles = ADMINS

    def get_context_data(self, **kwargs):
        board = dashboards.ranking_for(
            self.request.user,
            period_key=self.request.GET.get("period", dashboards.DEFAULT_PERIOD),
            level=self.request.GET.get("level", Branch.Level.SUB_BRANCH),
            sort=self.request.GET.get("sort", "aum"),
        )
        return super().get_context_data(
            board=board,
            periods=dashboards.PERIODS,
            levels=[(v, label) for v, label in Branch.Level.choices if v != Branch.Level.BRANCH],
            branch_sorts=dashboards.BRANCH_SORTS,
            branch_columns=dashboards.BRANCH_COLUMNS,
            coverage_chart=[
                {"label": line.branch.name, "value": line.figures["coverage"]} for line in board["ranking"][:30]
            ],
            query=dashboard_query(board["period"].key, None),
            **kwargs,
        )


class RmPerformanceView(RoleRequiredMixin, TemplateView):
    """绩效: one RM over a period against the median of their branch's RMs. An RM sees only themself (another
    RM is a 404); a head any RM of their subtree."""

    template_name = "relationships/dashboard_rm.html"
    allowed_roles = PERFORMANCE_ROLES

    def get_rm(self):
        return dashboards.rm_get_visible(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        rm = self.get_rm()
        performance = dashboards.performance_for(
            rm, period_key=self.request.GET.get("period", dashboards.DEFAULT_PERIOD)
        )
        churn = dashboards.churn_list(self.request.user, None, rm=rm)
        return super().get_context_data(
            perf=performance,
            churn=churn,
            periods=dashboards.PERIODS,
            is_self=rm.pk == self.request.user.staff.pk,
            rm_query=f"rm={rm.pk}&period={performance['period'].key}",
            **kwargs,
        )


class MyPerformanceView(RmPerformanceView):
    """我的绩效: the RM's own performance page."""

    allowed_roles = RMS

    def get_rm(self):
        return dashboards.rm_get_visible(self.request.user, self.request.user.staff.pk)


class DashboardRecordsView(RoleRequiredMixin, TemplateView):
    """The records behind a dashboard figure (drill-down), through the same visibility rule."""

    template_name = "relationships/dashboard_records.html"
    allowed_roles = PERFORMANCE_ROLES
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
        drill = dashboards.drill_for(
            self.request.user,
            metric=params.get("metric", ""),
            period_key=params.get("period", dashboards.DEFAULT_PERIOD),
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
            return reverse("relationships:rm-performance", args=[drill.rm.pk]) + f"?period={drill.period.key}"
        return reverse("relationships:dashboard") + "?" + dashboard_query(drill.period.key, drill.scope.root)


class DashboardExportView(RoleRequiredMixin, View):
    """Excel of a dashboard table (RMs, branches, churn risk): masked identifiers, written to the access log."""

    allowed_roles = HEADS_AND_ADMINS
    TABLES = ("rms", "branches", "ranking", "churn")

    def get(self, request):
        table = request.GET.get("table", "")
        if table not in self.TABLES:
            raise Http404
        period_key = request.GET.get("period", dashboards.DEFAULT_PERIOD)
        branch_id = request.GET.get("branch") or None
        if branch_id and not str(branch_id).isdigit():
            raise Http404
        if table == "ranking":
            if request.user.staff.role != Staff.Role.ADMIN:
                raise PermissionDenied
            board = dashboards.ranking_for(
                request.user, period_key=period_key, level=request.GET.get("level", Branch.Level.SUB_BRANCH)
            )
            response, rows = exports.branches_xlsx(board["ranking"], board["period"], title=_("Branch ranking"))
            scope_name = _("All branches")
        else:
            scope = dashboards.scope_for(request.user, branch_id)
            period = dashboards.period_for(period_key)
            scope_name = scope.root.name if scope.root else _("All branches")
            if table == "rms":
                lines = dashboards.rm_lines(request.user, scope, period)
                response, rows = exports.rms_xlsx(dashboards._sorted(lines, "aum"), period)
            elif table == "branches":
                board = dashboards.dashboard_for(request.user, branch_id=branch_id, period_key=period_key)
                response, rows = exports.branches_xlsx(board.branches, period, title=_("Branches"))
            else:
                follow_ups = dashboards.churn_follow_ups(request.user, scope)[: exports.CHURN_EXPORT_LIMIT]
                response, rows = exports.churn_xlsx(follow_ups)
        _export_log(
            request,
            _("Dashboard export: %(table)s, %(scope)s") % {"table": table, "scope": scope_name},
            {"table": table, "period": period_key, "branch": branch_id},
            rows,
        )
        return response
