from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from complaints.selectors import open_complaints_handled_by
from crm_site.actions import Action
from crm_site.service_errors import as_text
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin
from organisation.selectors import staff_visible_to

from . import panels, selectors, services
from .forms import FollowUpDoneForm, SkipForm, SnoozeForm
from .models import FollowUp


class TodayView(RoleRequiredMixin, TemplateView):
    """今日工作: the RM's open follow-ups by kind, overdue first, with one-tap actions. A head sees any RM of their
    subtree read-only (``?rm=``), and the counts per RM."""

    template_name = "reminders/today.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def get_context_data(self, **kwargs):

        user, staff = self.request.user, self.request.user.staff
        rm_id = self.request.GET.get("rm", "")
        kind = self.request.GET.get("kind", "")
        kind = kind if kind in FollowUp.Kind.values else ""
        context = {"kind": kind, "kinds": FollowUp.Kind.choices}
        if rm_id.isdigit() and staff.role != Staff.Role.RM:
            rm = get_object_or_404(staff_visible_to(user).filter(role=Staff.Role.RM), pk=rm_id)
            context.update(today=selectors.today_for(rm, kind=kind or None, viewer=user), read_only=True, viewed_rm=rm)
            context.update(complaints=open_complaints_handled_by(rm))
        elif staff.role == Staff.Role.RM:
            context.update(today=selectors.today_for(staff, kind=kind or None), read_only=False)
            context.update(complaints=open_complaints_handled_by(staff))
        else:
            # A head may keep an outlet's pool (pool.keepers): their own follow-ups come first, theirs to act on.
            own = selectors.today_for(staff, kind=kind or None)
            context.update(per_rm=selectors.follow_up_counts_by_rm(user), read_only=False)
            if own.total or kind:
                context.update(today=own)
        context.update(done_form=FollowUpDoneForm(), snooze_form=SnoozeForm(), skip_form=SkipForm())
        context.update(panels.today.context(self.request, context.get("viewed_rm") or staff))
        return super().get_context_data(**context, **kwargs)


FOLLOW_UP_ACTIONS = {
    "done": Action(
        gettext_lazy("Done"),
        lambda actor, f, d: services.follow_up_complete(actor=actor, follow_up=f, **d),
        form=FollowUpDoneForm,
    ),
    "snooze": Action(
        gettext_lazy("Snooze"),
        lambda actor, f, d: services.follow_up_snooze(actor=actor, follow_up=f, until=d["until"]),
        form=SnoozeForm,
    ),
    "skip": Action(
        gettext_lazy("Skip"),
        lambda actor, f, d: services.follow_up_skip(actor=actor, follow_up=f, reason=d["reason"]),
        form=SkipForm,
    ),
}


class FollowUpActionView(RoleRequiredMixin, View):
    """Done (with a quick log), snooze, or skip one follow-up of one's own (an RM's, or a pool keeper's: a head's).
    Over htmx the item is replaced in place."""

    allowed_roles = access.PORTFOLIO_ROLES
    fragment = "reminders/partials/_follow_up.html"

    def post(self, request, pk, action):
        follow_up = selectors.follow_up_get_own(request.user, pk)
        if action not in FOLLOW_UP_ACTIONS:
            raise Http404
        form = FOLLOW_UP_ACTIONS[action].form(request.POST)
        error = None
        if form.is_valid():
            try:
                follow_up = FOLLOW_UP_ACTIONS[action].run(request.user, follow_up, form.cleaned_data)
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
        return redirect("reminders:today")
