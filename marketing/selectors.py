"""Reads of saved segments. Every read starts from ``segments_visible_to``; a segment outside it is a 404.

The customers a segment finds are read through the customer list's own filter form, so they are not here but in
``marketing.segments`` (the import-linter contract keeps forms out of selectors and services)."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from organisation import access
from organisation.models import Staff

from .models import SavedSegment
from .permissions import SEGMENT_ROLES

R = Staff.Role


def _shared_with(staff: Staff) -> Q:
    """The others' shared segments ``staff`` sees (docs/marketing.md, "Who sees a shared segment"):

    - an administrator's: everyone;
    - a head's: everyone in the head's subtree (the owner's branch is the viewer's or above it);
    - an RM's: the RMs of the same branch (their outlet);
    - and whatever anyone below a head shares: that head (the owner's branch lies in the head's subtree).
    """
    branch = staff.branch
    q = Q(owner__role=R.ADMIN) | Q(owner__role=R.HEAD, owner__branch__path__in=branch.ancestor_paths())
    if staff.role == R.RM:
        q |= Q(owner__role=R.RM, owner__branch_id=branch.pk)
    if staff.role == R.HEAD:
        q |= Q(owner__branch__path__startswith=branch.path)
    return Q(visibility=SavedSegment.Visibility.SHARED) & q


def segments_visible_to(user) -> QuerySet[SavedSegment]:
    """The one visibility rule for segments: one's own, and the others' shared segments of one's scope
    (``_shared_with``); an administrator sees every shared segment. Complaints officers and anyone without an active
    staff record: none."""
    staff = access.active_staff(user)
    if staff is None or staff.role not in SEGMENT_ROLES:
        return SavedSegment.objects.none()
    if staff.role == R.ADMIN:
        return SavedSegment.objects.filter(Q(owner=staff) | Q(visibility=SavedSegment.Visibility.SHARED))
    return SavedSegment.objects.filter(Q(owner=staff) | _shared_with(staff))


def segments_editable_by(user) -> QuerySet[SavedSegment]:
    """The segments ``user`` may rename, share or delete: their own; an administrator, every one they see."""
    staff = access.active_staff(user)
    if staff is not None and staff.role == R.ADMIN:
        return segments_visible_to(staff)
    return segments_visible_to(user).filter(owner=staff) if staff is not None else SavedSegment.objects.none()


def segment_get_visible(user, pk) -> SavedSegment:
    return get_object_or_404(segments_visible_to(user).select_related("owner__branch"), pk=pk)


def segment_get_editable(user, pk) -> SavedSegment:
    """A segment ``user`` may change, or 404 (a shared segment one may open but not change included)."""
    return get_object_or_404(segments_editable_by(user).select_related("owner__branch"), pk=pk)


def segment_list(user) -> QuerySet[SavedSegment]:
    """The segments page: one's own first, then the others' shared ones, each by name."""
    staff = access.active_staff(user)
    mine = Case(When(owner=staff, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        segments_visible_to(user)
        .select_related("owner__branch")
        .annotate(not_mine=mine)
        .order_by("not_mine", "name", "pk")
    )
