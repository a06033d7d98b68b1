"""Reads of the organisation: branches and staff, scoped by ``organisation.access``."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from . import access
from .access import staff_of  # noqa: F401 - re-exported: the selectors' entry point
from .models import Branch, Staff


def branches_visible_to(user) -> QuerySet[Branch]:
    """Branches the user may see: every branch (admin), their subtree (head, officer), their own branch (RM)."""
    scope = access.scope_of(user)
    if scope.is_none:
        return Branch.objects.none()
    if scope.is_own:
        return Branch.objects.filter(pk=scope.staff.branch_id)
    return Branch.objects.filter(access.subtree_q(scope))


def staff_visible_to(user) -> QuerySet[Staff]:
    """Staff the user may see: everyone (admin), the staff of their subtree (head, officer), themself (RM)."""
    scope = access.scope_of(user)
    if scope.is_none:
        return Staff.objects.none()
    if scope.is_own:
        return Staff.objects.filter(pk=scope.staff.pk)
    return Staff.objects.filter(access.subtree_q(scope, "branch"))


def branch_get_visible(user, pk) -> Branch:
    return get_object_or_404(branches_visible_to(user), pk=pk)


def branch_scope_root(user) -> Branch | None:
    """The top of what the user sees: their own branch, or the first top-level branch for HQ."""
    staff = staff_of(user)
    if staff is None:
        return None
    return staff.branch


def branch_filter_choices(user) -> QuerySet[Branch]:
    """Branches offered in filter drop-downs: the non-outlet levels of the user's scope (outlets are reached
    by clicking them in the tree)."""
    return branches_visible_to(user).exclude(level=Branch.Level.OUTLET).only("id", "name", "code", "depth")


@dataclass
class OrgTree:
    root: Branch | None
    page: Page
    role: str
    q: str


def org_tree_for(user, *, branch_id=None, role: str = "", q: str = "", page: int | str = 1, per_page: int = 25):
    """The branch tree of the user's scope (or of one branch in it), each branch with its staff.

    A constant number of queries: the branches of one page, their staff in one prefetch, and the count.
    """
    branches = branches_visible_to(user)
    root = get_object_or_404(branches, pk=branch_id) if branch_id else None
    if root is not None:
        branches = branches.filter(access.within_q(root))
    if q:
        branches = branches.filter(Q(name__icontains=q) | Q(code__istartswith=q))
    staff_qs = Staff.objects.order_by("role", "employee_no")
    if role:
        staff_qs = staff_qs.filter(role=role)
        branches = branches.filter(staff__role=role).distinct()
    branches = branches.order_by("path").prefetch_related(Prefetch("staff", queryset=staff_qs, to_attr="members"))
    return OrgTree(root=root, page=Paginator(branches, per_page).get_page(page), role=role, q=q)


def rms_visible_to(user):
    """RMs the user may hand customers to: for an RM, the RMs of their sub-branch; for a head, of their subtree."""
    scope = access.scope_of(user)
    if scope.is_none:
        return Staff.objects.none()
    qs = Staff.objects.accepting_customers().select_related("branch").order_by("branch__path", "name")
    if scope.is_all:
        return qs
    if scope.is_subtree:
        return qs.filter(access.subtree_q(scope, "branch"))
    staff = scope.staff
    parent = staff.branch.parent or staff.branch
    return qs.filter(access.within_q(parent, "branch")).exclude(pk=staff.pk)
