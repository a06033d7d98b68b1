from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.excel import xlsx_response
from crm_site.service_errors import apply_to_form, as_text
from customers.exports import export_logged
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin
from organisation.selectors import branches_visible_to, staff_visible_to

from . import selectors, services
from .forms import DistributeForm, TargetForm
from .models import TargetPeriod


def board_query(board) -> str:
    params = {"kind": board.period.kind, "on": board.period.on}
    if board.root is not None:
        params["branch"] = board.root.pk
    return urlencode(params)


class TargetListView(RoleRequiredMixin, TemplateView):
    """指标: a branch's targets for a period beside those of the branches and RMs directly below it, with what
    each has reached (as of the last figures built) and a progress bar."""

    template_name = "targets/target_list.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def get_board(self):
        params = self.request.GET
        branch_id = params.get("branch") or None
        if branch_id and not branch_id.isdigit():
            raise Http404
        return selectors.target_board(
            self.request.user, kind=params.get("kind"), on=params.get("on"), branch_id=branch_id
        )

    def get_context_data(self, **kwargs):
        board = self.get_board()
        return super().get_context_data(
            board=board, kinds=TargetPeriod.Kind.choices, query=board_query(board), **kwargs
        )


class MyTargetsView(TargetListView):
    """An RM's own targets for a period (reached from 我的绩效)."""

    allowed_roles = access.RMS

    def get_board(self):
        params = self.request.GET
        return selectors.target_board(self.request.user, kind=params.get("kind"), on=params.get("on"))


class TargetExportView(TargetListView):
    """The targets page as an Excel file (written to the access log, as every export)."""

    allowed_roles = access.PORTFOLIO_ROLES

    def get(self, request, *args, **kwargs):
        board = MyTargetsView.get_board(self) if request.user.staff.role == Staff.Role.RM else self.get_board()
        rows = list(selectors.export_lines(board))
        holder = board.root.name if board.root is not None else board.rm.name
        caption = _("Targets, %(period)s, %(holder)s") % {"period": board.period.label, "holder": holder}
        header = [_("Metric"), _("Unit"), _("Branch or RM"), _("Target"), _("Actual"), _("Attainment %"), _("As of")]
        response = xlsx_response(_("Targets"), [(_("Targets"), header, rows)], caption=caption)
        return export_logged(
            request,
            response,
            reason=_("Targets export: %(period)s, %(holder)s") % {"period": board.period.label, "holder": holder},
            detail={"kind": board.period.kind, "on": board.period.on, "branch": board.root.pk if board.root else None},
            rows=len(rows),
        )


class TargetSetView(RoleRequiredMixin, View):
    """Set a target for a branch of one's subtree or an RM in it."""

    template_name = "targets/target_form.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def form(self, request, data=None):
        branches = list(
            branches_visible_to(request.user).filter(is_active=True).order_by("path").only("id", "name", "depth")
        )
        rms = list(
            staff_visible_to(request.user)
            .filter(role=Staff.Role.RM, status=Staff.Status.ACTIVE)
            .select_related("branch")
            .order_by("branch__path", "name")
        )
        initial = {}
        if data is None:
            initial = {k: request.GET[k] for k in ("metric", "holder", "period") if k in request.GET}
        return TargetForm(data, branches=branches, rms=rms, initial=initial)

    def get(self, request):
        return render(request, self.template_name, {"form": self.form(request)})

    def post(self, request):
        form = self.form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                period = services.period_of(kind=data["period_kind"], day=date.fromisoformat(data["period_on"]))
                target = services.target_set(
                    actor=request.user,
                    period=period,
                    metric=data["metric"],
                    value=data["value"],
                    branch=data["branch"],
                    staff=data["staff"],
                    product_category=data["product_category"],
                )
            except ValidationError as error:
                apply_to_form(form, error)
            except PermissionDenied as error:
                form.add_error("holder", str(error))
            else:
                messages.success(
                    request,
                    _("Target set: %(metric)s for %(holder)s, %(period)s.")
                    % {"metric": target.metric_label, "holder": target.holder.name, "period": period.label},
                )
                params = {"kind": period.kind, "on": period.start.isoformat()}
                if target.branch_id:
                    params["branch"] = target.branch_id
                elif target.staff.branch_id:
                    params["branch"] = target.staff.branch_id
                return redirect(reverse("targets:target-list") + "?" + urlencode(params))
        return render(request, self.template_name, {"form": form}, status=400)


class TargetDistributeView(RoleRequiredMixin, View):
    """Distribute a branch's target over the branches and RMs directly below it."""

    template_name = "targets/target_distribute.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def context(self, request, pk, data=None):
        target = selectors.target_get_visible(request.user, pk)
        if target.branch_id is None:
            raise Http404
        children = services.children_of(target.branch)
        current = {services.key_of(t.holder): t.value for t in target.children.select_related("branch", "staff")}
        form = DistributeForm(data, target=target, children=children, initial=current)
        back = (
            reverse("targets:target-list")
            + "?"
            + urlencode({"kind": target.period.kind, "on": target.period.start.isoformat(), "branch": target.branch_id})
        )
        return {"target": target, "form": form, "back": back, "editable": not target.period.is_closed}

    def get(self, request, pk):
        return render(request, self.template_name, self.context(request, pk))

    def post(self, request, pk):
        context = self.context(request, pk, request.POST)
        form = context["form"]
        if form.is_valid():
            try:
                services.target_distribute(
                    actor=request.user,
                    target=context["target"],
                    method=form.cleaned_data["method"],
                    values=form.values(),
                )
            except ValidationError as error:
                apply_to_form(form, error)
            except PermissionDenied as error:
                messages.error(request, str(error) or as_text(ValidationError(_("You may not do this."))))
                return redirect(context["back"])
            else:
                messages.success(
                    request,
                    _("%(target)s distributed over %(n)s branches and RMs.")
                    % {"target": context["target"].metric_label, "n": len(form.children)},
                )
                return redirect(context["back"])
        return render(request, self.template_name, context, status=400)
