"""Writes of saved segments: save a filter of the customer list under a name, rename, describe, share, delete.

The filter comes read by the customer list's form (``marketing.segments.read_filter``, in the view); the service
keeps its own rules whatever it is given: a segment is a filter (a criterion other than the order), a search term
is never stored, the name is unique per owner, and only the owner or an administrator changes a segment."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisation import access

from .models import SavedSegment
from .permissions import SEGMENT_ROLES, may_edit

# Never part of a stored filter: the search term and its token (a name, a mobile or an ID number, JR/T 0171-2020),
# the page, the form's token, the segment a list was opened from.
NEVER_STORED = frozenset({"q", "s", "page", "csrfmiddlewaretoken", "saved"})
SORT = "sort"
MAX_PARAMS = 40  # far more than the list has filters
MAX_VALUES = 200  # values of one parameter (a list of tags, of products)
MAX_VALUE_LENGTH = 200


def _stored(params: dict) -> dict[str, list[str]]:
    """The parameters as stored: {name: [values]}, empty values and what is never stored left out."""
    if not isinstance(params, dict):
        raise ValidationError(_("The filter is not valid. Go back to the customer list and try again."))
    out: dict[str, list[str]] = {}
    for key, values in params.items():
        key = str(key)
        values = [str(v) for v in (values if isinstance(values, list | tuple) else [values])]
        values = [v for v in values if v.strip()]
        if key in NEVER_STORED or not values:
            continue
        if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_LENGTH for v in values) or len(key) > 50:
            raise ValidationError(_("The filter is not valid. Go back to the customer list and try again."))
        out[key] = values
    if len(out) > MAX_PARAMS:
        raise ValidationError(_("The filter is not valid. Go back to the customer list and try again."))
    if not any(key != SORT for key in out):
        raise ValidationError(
            _(
                "A segment is a filter: choose at least one filter on the customer list (a tier, a lifecycle stage, "
                "an AUM range, …) and save it from there. A search term is not saved."
            ),
            code="no_filter",
        )
    return out


def _criteria(criteria, params: dict[str, list[str]]) -> list[list[str]]:
    rows = []
    for row in criteria or []:
        if isinstance(row, list | tuple) and len(row) == 3 and str(row[0]) in params:
            rows.append([str(row[0]), str(row[1])[:100], str(row[2])[:500]])
    return rows


def _check_name(segment: SavedSegment) -> None:
    segment.name = " ".join((segment.name or "").split())
    taken = SavedSegment.objects.filter(owner_id=segment.owner_id, name=segment.name).exclude(pk=segment.pk)
    if segment.name and taken.exists():
        raise ValidationError(
            {"name": _("You already have a segment named “%(name)s”. Choose another name.") % {"name": segment.name}}
        )


def _save(segment: SavedSegment) -> SavedSegment:
    segment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as e:  # the same name saved a moment ago by another tab
        raise ValidationError(
            {"name": _("You already have a segment named “%(name)s”. Choose another name.") % {"name": segment.name}}
        ) from e
    return segment


@transaction.atomic
def segment_create(
    *,
    actor,
    name: str,
    params: dict,
    criteria=(),
    description: str = "",
    visibility: str = SavedSegment.Visibility.PRIVATE,
) -> SavedSegment:
    """Save a filter of the customer list as a segment of the actor's. ``params`` are the list's GET parameters
    ({name: [values]}) as the list's form accepted them; ``criteria`` the same in words ([parameter, label, value]),
    kept to name a criterion that a later version of the list no longer accepts."""
    staff = access.actor_staff(actor, SEGMENT_ROLES)
    if staff is None:
        raise PermissionDenied(_("A segment belongs to a member of staff."))
    stored = _stored(params)
    now = timezone.now()
    segment = SavedSegment(
        name=name,
        description=(description or "").strip(),
        owner=staff,
        visibility=visibility,
        params=stored,
        criteria=_criteria(criteria, stored),
        created_at=now,
        updated_at=now,
        updated_by=staff,
    )
    _check_name(segment)
    return _save(segment)


def _locked_editable(actor, segment: SavedSegment):
    staff = access.actor_staff(actor, SEGMENT_ROLES)
    locked = SavedSegment.objects.select_for_update().filter(pk=segment.pk).first()
    if locked is None:
        raise ValidationError(_("This segment has been deleted."))
    if staff is None or not may_edit(staff, locked):
        raise PermissionDenied(_("Only the segment's owner or an administrator may change it."))
    return staff, locked


@transaction.atomic
def segment_update(*, actor, segment: SavedSegment, name: str, description: str = "", visibility: str) -> SavedSegment:
    """Rename, describe or share (or unshare) a segment: its owner, or an administrator."""
    staff, locked = _locked_editable(actor, segment)
    locked.name = name
    locked.description = (description or "").strip()
    locked.visibility = visibility
    locked.updated_at = timezone.now()
    locked.updated_by = staff
    _check_name(locked)
    return _save(locked)


@transaction.atomic
def segment_delete(*, actor, segment: SavedSegment) -> None:
    """Delete a segment: its owner, or an administrator. The customers are untouched; it is only a filter."""
    _staff, locked = _locked_editable(actor, segment)
    locked.delete()
