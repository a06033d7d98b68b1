from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form, as_text
from customers import search
from customers.selectors import CustomerFilters
from idempotency.services import submit_once
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin

from . import selectors, services
from .forms import AssignForm, KeeperForm, PoolFilterForm, ReleaseDecisionForm, ReleaseProposeForm, SelectionForm
from .models import ReleaseRequest


def _back(request, form) -> str:
    """The pool page with the filters it was posted from (a query string only: never another address)."""
    back = getattr(form, "cleaned_data", {}).get("back") or ""
    query = QueryDict(mutable=True)
    for key, values in QueryDict(back.lstrip("?")).lists():
        values = [v for v in values if v]
        if key != "page" and values:
            query.setlist(key, values)
    url = reverse("pool:pool-list")
    return url + ("?" + query.urlencode() if query else "")


class PoolListView(RoleRequiredMixin, search.TokenSearchMixin, TemplateView):
    """池客户: the customers without an RM of the pools in the user's scope, with the customer list's filters (the
    filter form posts; the search term goes through ``customers.search``, the filters stay in the URL)."""

    template_name = "pool/pool_list.html"
    allowed_roles = access.PORTFOLIO_ROLES
    per_page = 50

    def get_context_data(self, **kwargs):
        user = self.request.user
        staff = user.staff
        form = PoolFilterForm(self.search_query or None, user=user)
        filters = form.filters() if form.is_bound else CustomerFilters()
        rows = selectors.pool_list(user, filters)
        page = paginate(rows, self.request.GET.get("page"), self.per_page)
        is_rm = staff.role == Staff.Role.RM
        can_assign = staff.role in access.HEADS_AND_ADMINS
        return super().get_context_data(
            form=form,
            page_obj=page,
            totals=selectors.pool_totals(rows),
            is_rm=is_rm,
            can_claim=is_rm and staff.accepts_customers,
            can_assign=can_assign,
            allowances=selectors.claim_allowances(staff, timezone.localdate()) if is_rm else [],
            keepers=selectors.pool_keepers_for(user),
            assign_form=AssignForm(user=user) if can_assign else None,
            methods=services.METHODS.choices,
            back=self.request.GET.urlencode(),
            **kwargs,
        )


class _PoolActionView(RoleRequiredMixin, View):
    form_class = SelectionForm

    def build(self, request):
        return self.form_class(request.POST)

    def run(self, request, form, ids):
        raise NotImplementedError

    def post(self, request):
        form = self.build(request)
        if not form.is_valid():
            messages.error(request, as_text(ValidationError(list(form.errors.values())[0])))
            return redirect(_back(request, form))
        ids = form.customer_ids()
        if not ids:
            messages.error(request, _("Choose at least one customer."))
            return redirect(_back(request, form))
        if not selectors.pool_selection_in_scope(request.user, ids):
            raise Http404
        try:
            done = self.run(request, form, ids)
        except (ValidationError, PermissionDenied) as e:
            messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
        else:
            messages.success(request, self.done_message(len(done)))
        return redirect(_back(request, form))


class PoolClaimView(_PoolActionView):
    """An RM claims the ticked customers, or the one row's."""

    allowed_roles = access.RMS

    def run(self, request, form, ids):
        return services.pool_claim(actor=request.user, customer_ids=ids)

    def done_message(self, n):
        return ngettext(
            "You claimed %(n)s customer. They are now in My customers.",
            "You claimed %(n)s customers. They are now in My customers.",
            n,
        ) % {"n": n}


class PoolAssignView(_PoolActionView):
    """A head assigns the ticked customers to RMs of their outlet."""

    allowed_roles = access.HEADS_AND_ADMINS
    form_class = AssignForm

    def build(self, request):
        return AssignForm(request.POST, user=request.user)

    def run(self, request, form, ids):
        return services.pool_assign(
            actor=request.user,
            customer_ids=ids,
            rms=list(form.cleaned_data["rms"]),
            method=form.cleaned_data["method"],
        )

    def done_message(self, n):
        return ngettext(
            "%(n)s customer assigned; the RMs have been told.", "%(n)s customers assigned; the RMs have been told.", n
        ) % {"n": n}


class PoolKeeperSetView(RoleRequiredMixin, View):
    """A head names who keeps an outlet's pool, or gives it back to the outlet's head."""

    allowed_roles = access.HEADS_AND_ADMINS

    def post(self, request):
        form = KeeperForm(request.POST, user=request.user)
        if not form.is_valid():
            if "branch" in form.errors:
                raise Http404
            messages.error(request, _("Choose an active RM or head of the outlet."))
            return redirect(_back(request, form))
        branch, staff = form.cleaned_data["branch"], form.cleaned_data["staff"]
        try:
            services.pool_keeper_set(actor=request.user, branch=branch, staff=staff)
        except (ValidationError, PermissionDenied) as e:
            messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
        else:
            if staff is None:
                messages.success(request, _("The head of %(outlet)s keeps its pool again.") % {"outlet": branch.name})
            else:
                messages.success(
                    request,
                    _("%(name)s now keeps the pool of %(outlet)s.") % {"name": staff.name, "outlet": branch.name},
                )
        return redirect(_back(request, form))


# Release


class ReleaseListView(RoleRequiredMixin, TemplateView):
    """释放审批: the release proposals of the head's subtree, with their facts, to approve (one by one or ticked)
    or reject; an RM sees those of their own customers, read-only."""

    template_name = "pool/release_list.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def get_context_data(self, propose_form=None, **kwargs):
        status = self.request.GET.get("status", ReleaseRequest.Status.PROPOSED)
        if status not in ReleaseRequest.Status.values:
            status = ReleaseRequest.Status.PROPOSED
        staff = access.active_staff(self.request.user)
        can_decide = staff.role in access.HEADS_AND_ADMINS
        return super().get_context_data(
            status=status,
            statuses=ReleaseRequest.Status.choices,
            page_obj=paginate(selectors.release_list(self.request.user, status=status), self.request.GET.get("page")),
            can_decide=can_decide and status == ReleaseRequest.Status.PROPOSED,
            columns=7 if can_decide and status == ReleaseRequest.Status.PROPOSED else 6,
            propose_form=propose_form or (ReleaseProposeForm(user=self.request.user) if can_decide else None),
            **kwargs,
        )


class ReleaseDecideView(RoleRequiredMixin, View):
    """Approve or reject the ticked proposals (or one row's)."""

    allowed_roles = access.HEADS_AND_ADMINS

    def post(self, request):
        form = ReleaseDecisionForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("pool:release-list")
        rows, note = list(form.cleaned_data["ids"]), form.cleaned_data["note"]
        approve = form.cleaned_data["decision"] == ReleaseDecisionForm.APPROVE
        try:
            if approve and len(rows) == 1:
                done = services.release_approve(actor=request.user, request=rows[0], note=note)
                if done.status == ReleaseRequest.Status.WITHDRAWN:
                    messages.warning(request, _("The customer has moved since the proposal: it was withdrawn."))
                else:
                    messages.success(request, _("%(name)s went back to the pool.") % {"name": done.customer.name})
            elif approve:
                counts = services.release_approve_many(actor=request.user, ids=[r.pk for r in rows], note=note)
                messages.success(request, _approved_text(counts))
            elif len(rows) == 1:
                services.release_reject(actor=request.user, request=rows[0], note=note)
                messages.success(request, _("The customer stays with their RM."))
            else:
                rejected = services.release_reject_many(actor=request.user, ids=[r.pk for r in rows], note=note)
                messages.success(request, _("%(n)s customer(s) stay with their RM.") % {"n": len(rejected)})
        except (ValidationError, PermissionDenied) as e:
            messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
        return redirect("pool:release-list")


def _approved_text(counts: dict) -> str:
    parts = [_("%(n)s customer(s) went back to the pool.") % {"n": counts["released"]}]
    if counts["withdrawn"]:
        parts.append(_("%(n)s had moved meanwhile: withdrawn.") % {"n": counts["withdrawn"]})
    if counts["complaints"]:
        parts.append(
            _("%(n)s have an open complaint and stay with their RM until it is closed.") % {"n": counts["complaints"]}
        )
    if counts["skipped"]:
        parts.append(_("%(n)s you may not decide (your own proposal or customer).") % {"n": counts["skipped"]})
    return " ".join(parts)


class ReleaseProposeView(ReleaseListView):
    """A head proposes by hand to release a customer of their subtree; another head or an administrator decides."""

    allowed_roles = access.HEADS_AND_ADMINS
    http_method_names = ["post"]

    def post(self, request):
        form = ReleaseProposeForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                proposal = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=ReleaseRequest,
                    create=lambda: services.release_propose(
                        actor=request.user, customer=form.cleaned_data["customer_no"], note=form.cleaned_data["note"]
                    ),
                )
            except (ValidationError, PermissionDenied) as e:
                if isinstance(e, PermissionDenied):
                    e = ValidationError(str(e))
                apply_to_form(form, e)
            else:
                messages.success(
                    request, _("The release of %(name)s awaits approval.") % {"name": proposal.customer.name}
                )
                return redirect("pool:release-list")
        return self.render_to_response(self.get_context_data(propose_form=form))
