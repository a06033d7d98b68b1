"""Reads of the feed app's pages (docs/feed.md, "Pages and admin"). Loads and their reports are for administrators
only: everyone else sees none, and a single load is a 404 for them."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from organisation import access

from .models import Load, LoadError

# Rows an administrator must settle: an ID number, or a corporate's credit code, held by another customer number.
CONFLICT_CODES = (LoadError.CONFLICT, "uscc_conflict")


def loads_visible_to(user) -> QuerySet[Load]:
    """Every load for an administrator; none for anyone else. Newest first."""
    if not access.has_role(user, access.ADMINS):
        return Load.objects.none()
    return Load.objects.all()


@dataclass(frozen=True)
class LoadFilters:
    status: str = ""
    kind: str = ""
    business_date: date | None = None


def load_list(user, filters: LoadFilters = LoadFilters()) -> QuerySet[Load]:
    """The 数据加载 list: newest first (the created_at index), with who started each load."""
    loads = loads_visible_to(user).select_related("created_by__staff").order_by("-created_at", "-pk")
    if filters.status:
        loads = loads.filter(status=filters.status)
    if filters.kind:
        loads = loads.filter(kind=filters.kind)
    if filters.business_date:
        loads = loads.filter(business_date=filters.business_date)
    return loads


def load_get(user, pk) -> Load:
    """One load, or a 404 for anyone who may not see it."""
    return get_object_or_404(loads_visible_to(user).select_related("created_by__staff"), pk=pk)


def load_errors(load: Load) -> QuerySet[LoadError]:
    """A load's rejected rows in file order, ready to page through."""
    return LoadError.objects.filter(load=load).order_by("line", "pk")


def load_conflicts_open(load: Load) -> QuerySet[LoadError]:
    """A load's identity conflicts still open."""
    return LoadError.objects.filter(load=load, code__in=CONFLICT_CODES, resolved_at__isnull=True)


def conflicts_open() -> QuerySet[LoadError]:
    """Identity conflicts no administrator has resolved yet, newest load first. The pages that show them admit
    administrators only; ``conflict_get`` is the scoped getter."""
    return (
        LoadError.objects.filter(code__in=CONFLICT_CODES, resolved_at__isnull=True)
        .select_related("load")
        .order_by("-load_id", "line", "pk")
    )


def conflict_get(user, pk) -> LoadError:
    """One identity conflict (open or resolved), or a 404 for anyone but an administrator."""
    conflicts = LoadError.objects.filter(code__in=CONFLICT_CODES).select_related("load")
    if not access.has_role(user, access.ADMINS):
        conflicts = conflicts.none()
    return get_object_or_404(conflicts, pk=pk)
