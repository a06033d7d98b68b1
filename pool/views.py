"""Pages of the pool."""

# Release
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form, as_text
from idempotency.services import submit_once
from organisation import access
from organisation.permissions import RoleRequiredMixin

from . import selectors, services
from .forms import ReleaseDecisionForm, ReleaseProposeForm
from .models import ReleaseRequest


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
