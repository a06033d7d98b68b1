"""Reads for the organisation. Every read starts from ``branches_visible_to(user)``."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Branch, Staff


def staff_of(user) -> Staff | None:
    """The user's Staff record (cached on the user by ActiveStaffMiddleware), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def branches_visible_to(user) -> QuerySet[Branch]:
    """The one scoping rule for the organisation.

    Admin/HQ: every branch. Branch head and complaints officer: their branch and everything below it.
    Relationship manager: their own branch. Anyone else: nothing.
    """
    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return Branch.objects.none()
    if staff.sees_everything:
        return Branch.objects.all()
    if staff.role in (Staff.Role.HEAD, Staff.Role.OFFICER):
        return Branch.objects.subtree_of(staff.branch)
    return Branch.objects.filter(pk=staff.branch_id)


def staff_visible_to(user) -> QuerySet[Staff]:
    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return Staff.objects.none()
    if staff.sees_everything:
        return Staff.objects.all()
    if staff.role in (Staff.Role.HEAD, Staff.Role.OFFICER):
        return Staff.objects.in_subtree_of(staff.branch)
    return Staff.objects.filter(pk=staff.pk)


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
        branches = branches.filter(path__startswith=root.path)
    if q:
        branches = branches.filter(Q(name__icontains=q) | Q(code__istartswith=q))
    staff_qs = Staff.objects.order_by("role", "employee_no")
    if role:
        staff_qs = staff_qs.filter(role=role)
        branches = branches.filter(staff__role=role).distinct()
    branches = branches.order_by("path").prefetch_related(Prefetch("staff", queryset=staff_qs, to_attr="members"))
    return OrgTree(root=root, page=Paginator(branches, per_page).get_page(page), role=role, q=q)
