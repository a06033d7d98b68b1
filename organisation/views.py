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
