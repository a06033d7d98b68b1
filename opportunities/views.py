from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.excel import xlsx_response
from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form
from customers import search
from customers.exports import export_logged
from customers.selectors import customer_get_visible
from idempotency.services import submit_once
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin
from organisation.selectors import branches_visible_to, staff_visible_to
from relationships.models import Interaction
from relationships.selectors import interaction_get_visible

from . import selectors, services
from .forms import EditForm, OpportunityForm, PipelineFilterForm, StageForm
from .models import Opportunity, OpportunityRules

Stage = Opportunity.Stage


# ----------------------------------------------------------------------------------------------------------------
# The pipelines
# ----------------------------------------------------------------------------------------------------------------


class PipelineView(RoleRequiredMixin, TemplateView):
    """商机 (the branch pipeline): the opportunities of the customers of a head's subtree (an administrator's: the
    bank's), with the open ones summed by stage and by expected month, and a list filtered by outlet, owner, stage,
    expected month, or the two flags (needing follow-up, won without a holding)."""

    template_name = "opportunities/pipeline.html"
    allowed_roles = access.HEADS_AND_ADMINS
    mine = False
    per_page = 25

    def filter_form(self):
        data = self.request.GET or None
        if self.mine:
            return PipelineFilterForm(data)
        user = self.request.user
        branches = branches_visible_to(user).only("id", "name", "depth", "path").order_by("path")
        owners = (
            staff_visible_to(user)
            .filter(role__in=[Staff.Role.RM, Staff.Role.HEAD])
            .exclude(status=Staff.Status.LEFT)
            .select_related("branch")
            .order_by("branch__path", "name")
        )
        return PipelineFilterForm(data, branches=branches, owners=owners)

    def base(self, filters):
        return selectors.pipeline_base(
            self.request.user, mine=self.mine, branch=filters.branch, owner_id=filters.owner_id
        )

    def get_context_data(self, **kwargs):
        form = self.filter_form()
        filters = form.filters()
        rules = OpportunityRules.current()
        base = self.base(filters)
        rows = selectors.pipeline_list(base, filters, rules=rules)
        page = paginate(rows, self.request.GET.get("page"), self.per_page)
        return super().get_context_data(
            form=form,
            filters=filters,
            summary=selectors.pipeline_summary(base, rules=rules),
            rules=rules,
            page_obj=page,
            mine=self.mine,
            today=timezone.localdate(),
            export_query=self.request.GET.urlencode(),
            **kwargs,
        )


class MyPipelineView(PipelineView):
    """我的商机: an RM's own opportunities (of the customers they still have)."""

    allowed_roles = access.RMS
    mine = True


class PipelineExportView(PipelineView):
    """The pipeline as filtered, as an Excel file: an RM's own, or a head's subtree. No personal identifier but the
    customer's name and number; written to the access log, as every export."""

    allowed_roles = access.PORTFOLIO_ROLES

    def get(self, request, *args, **kwargs):
        self.mine = request.user.staff.role == Staff.Role.RM
        form = self.filter_form()
        filters = form.filters()
        rows = selectors.pipeline_list(self.base(filters), filters)
        limit = settings.EXPORT_MAX_ROWS
        count = rows[: limit + 1].count()
        back = reverse("opportunities:my-pipeline" if self.mine else "opportunities:pipeline")
        if count > limit:
            messages.error(
                request,
                _("The list has more than %(limit)s opportunities. Narrow the filters to export it.")
                % {"limit": f"{limit:,}"},
            )
            return redirect(back + "?" + request.GET.urlencode())
        header = [
            _("Customer no."), _("Customer"), _("Outlet"), _("Owner"), _("Product"), _("Expected amount (CNY)"),
            _("Expected on"), _("Stage"), _("Source"), _("Created on"), _("Stage changed on"), _("Won on"),
            _("Holding check"),
        ]  # fmt: skip
        response = xlsx_response(_("Opportunities"), [(_("Opportunities"), header, _export_rows(rows))])
        return export_logged(
            request,
            response,
            reason=_("Opportunity pipeline export"),
            detail={"filters": filters.describe()},
            rows=count,
        )


def _export_rows(rows):
    for o in rows.iterator(chunk_size=2000):
        yield [
            o.customer.customer_no,
            o.customer.name,
            o.branch.name,
            o.owner.name,
            o.what,
            float(o.amount),
            o.expected_on.isoformat(),
            o.get_stage_display(),
            o.get_source_display(),
            timezone.localdate(o.created_at).isoformat(),
            timezone.localdate(o.stage_changed_at).isoformat(),
            o.won_on.isoformat() if o.won_on else "",
            o.get_match_status_display(),
        ]


# ----------------------------------------------------------------------------------------------------------------
# New opportunity
# ----------------------------------------------------------------------------------------------------------------


def _key(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and int(value) <= 2**63 - 1 else None


class OpportunityCreateView(RoleRequiredMixin, View):
    """新建商机: for a customer the user may see — from their 360° page (``?customer=``), from a contact on the
    timeline or the quick log's result (``?interaction=``), or chosen here by search (the term goes through the
    customer search's token step, never in the URL)."""

    template_name = "opportunities/opportunity_form.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def target(self, request, data) -> tuple:
        """The customer and the contact the page is for (404 for what the user may not see)."""
        interaction_pk, customer_pk = _key(data.get("interaction")), _key(data.get("customer"))
        if interaction_pk is not None:
            interaction = interaction_get_visible(request.user, interaction_pk)
            return customer_get_visible(request.user, interaction.customer_id), interaction
        if customer_pk is not None:
            return customer_get_visible(request.user, customer_pk), None
        return None, None

    def initial(self, interaction: Interaction | None) -> dict:
        initial = {"expected_on": timezone.localdate() + timedelta(days=30), "stage": Stage.LEAD}
        if interaction is not None:
            if interaction.outcome == Interaction.Outcome.INTERESTED:
                initial["stage"] = Stage.INTEREST
            product = interaction.products.order_by("pk").first()
            if product is not None:
                initial.update(product=product.pk, product_category=product.category)
        return initial

    def render_page(self, request, form, customer, interaction, *, q="", matches=()):
        context = {"form": form, "customer": customer, "interaction": interaction, "q": q, "matches": matches}
        return render(request, self.template_name, context)

    def get(self, request):
        customer, interaction = self.target(request, request.GET)
        if customer is None:
            term = search.term_of(request)
            if term is None:
                return search.without_token(request)
            q = term.strip()[:40]
            return self.render_page(request, None, None, None, q=q, matches=selectors.customer_choices(request.user, q))
        form = OpportunityForm(initial=self.initial(interaction))
        return self.render_page(request, form, customer, interaction)

    def post(self, request):
        customer, interaction = self.target(request, request.POST)
        if customer is None:
            messages.error(request, _("Choose the customer first."))
            return redirect("opportunities:opportunity-create")
        form = OpportunityForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                opportunity = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=Opportunity,
                    create=lambda: services.opportunity_create(
                        actor=request.user,
                        customer=customer,
                        interaction=interaction,
                        product=data["product"],
                        product_category=data["product_category"],
                        amount=data["amount"],
                        expected_on=data["expected_on"],
                        stage=data["stage"],
                        note=data["note"],
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(
                    request,
                    _("Opportunity opened: %(what)s for %(name)s.") % {"what": opportunity.what, "name": customer.name},
                )
                return redirect("opportunities:opportunity-detail", pk=opportunity.pk)
        return self.render_page(request, form, customer, interaction)


class OpportunityCustomerSearchView(RoleRequiredMixin, View):
    """The create page's customer search: the term is kept in the session and the page opened with its token."""

    allowed_roles = access.PORTFOLIO_ROLES

    def post(self, request):
        return search.redirect_with_token(request, request.POST, to=reverse("opportunities:opportunity-create"))


# ----------------------------------------------------------------------------------------------------------------
# One opportunity
# ----------------------------------------------------------------------------------------------------------------


class OpportunityDetailView(RoleRequiredMixin, View):
    """An opportunity: what it is, its history, and — for its owner, a head above it or an administrator — the
    stage change (with the lost reason) and the edit of its amount and date. A refused change is drawn again with
    its errors in place; a forged one is refused by the service."""

    template_name = "opportunities/opportunity_detail.html"
    allowed_roles = access.PORTFOLIO_ROLES

    @staticmethod
    def allowed(request, opportunity) -> tuple[bool, bool]:
        """Whether the page offers the stage change and the edit (the services decide again)."""
        can_change = selectors.may_change(request.user, opportunity)
        can_stage = can_change and (opportunity.stage != Stage.WON or request.user.staff.role == Staff.Role.ADMIN)
        return can_stage, can_change and opportunity.is_open

    def render_page(self, request, opportunity, *, stage_form=None, edit_form=None, status=200):
        can_stage, can_edit = self.allowed(request, opportunity)
        stage_form = stage_form or StageForm(initial={"won_on": timezone.localdate()})
        stage_form.fields["stage"].choices = [c for c in Stage.choices if c[0] != opportunity.stage]
        context = {
            "opportunity": opportunity,
            "customer": opportunity.customer,
            "events": list(selectors.opportunity_events(opportunity)[:50]),
            "can_stage": can_stage,
            "can_edit": can_edit,
            "stage_form": stage_form,
            "edit_form": edit_form
            or EditForm(
                initial={"amount": opportunity.amount, "expected_on": opportunity.expected_on, "note": opportunity.note}
            ),
            "today": timezone.localdate(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self.render_page(request, selectors.opportunity_get_visible(request.user, pk))

    def refused(self, request, opportunity, *, stage_form=None, edit_form=None):
        """The form again with its errors in place; or, when the page does not offer it (a won opportunity's stage to
        an RM, a closed one's edit: a post from an old page), the refusal as a message."""
        can_stage, can_edit = self.allowed(request, opportunity)
        form = stage_form or edit_form
        if (stage_form is not None and can_stage) or (edit_form is not None and can_edit):
            return self.render_page(request, opportunity, stage_form=stage_form, edit_form=edit_form)
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("opportunities:opportunity-detail", pk=opportunity.pk)

    def post(self, request, pk):
        opportunity = selectors.opportunity_get_visible(request.user, pk)
        action = request.POST.get("action", "")
        if action == "stage":
            form = StageForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                try:
                    services.opportunity_stage_set(
                        actor=request.user, opportunity=opportunity, stage=d["stage"], won_on=d["won_on"],
                        lost_reason=d["lost_reason"], lost_note=d["lost_note"],
                    )  # fmt: skip
                except ValidationError as e:
                    apply_to_form(form, e)
                else:
                    messages.success(request, _("Stage changed to %(stage)s.") % {"stage": Stage(d["stage"]).label})
                    return redirect("opportunities:opportunity-detail", pk=pk)
            return self.refused(request, opportunity, stage_form=form)
        if action == "edit":
            form = EditForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                try:
                    services.opportunity_update(
                        actor=request.user, opportunity=opportunity, amount=d["amount"],
                        expected_on=d["expected_on"], note=d["note"],
                    )  # fmt: skip
                except ValidationError as e:
                    apply_to_form(form, e)
                else:
                    messages.success(request, _("Opportunity saved."))
                    return redirect("opportunities:opportunity-detail", pk=pk)
            return self.refused(request, opportunity, edit_form=form)
        messages.error(request, _("This action is not available here."))
        return redirect("opportunities:opportunity-detail", pk=pk)
