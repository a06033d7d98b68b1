from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone
from django.views.generic import TemplateView

from . import access, selectors
from .forms import OrgTreeFilterForm
from .permissions import RoleRequiredMixin


class BranchTreeView(RoleRequiredMixin, TemplateView):
    """The branch tree with its staff, scoped to the viewer's subtree, filterable by branch and role."""

    template_name = "organisation/branch_tree.html"
    allowed_roles = access.HEADS_AND_ADMINS

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


def locked_out(request, response=None, credentials=None):
    """django-axes' lock page (``AXES_LOCKOUT_CALLABLE``): how long the lock lasts (``AXES_COOLOFF_TIME``) and when
    it ends. A failed attempt during the lock starts it again (django-axes' default), so it ends that long after the
    account's latest attempt."""
    cool_off = get_cool_off(request)
    username = get_client_username(request, credentials)
    latest = None
    if username:
        latest = AccessAttempt.objects.filter(username=username).aggregate(at=Max("attempt_time"))["at"]
    latest = latest or getattr(request, "axes_attempt_time", None) or timezone.now()
    context = {
        "minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
        "unlocks_at": timezone.localtime(latest + cool_off) if cool_off else None,
    }
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
