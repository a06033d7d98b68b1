"""Who may do what with saved segments. The pages ask these to show their buttons; the services ask them again."""

from organisation import access
from organisation.models import Staff

from .models import SavedSegment

# Who saves and opens segments: the staff who work with customers' portfolios (a complaints officer reaches customers
# through complaints, not through marketing lists).
SEGMENT_ROLES = access.PORTFOLIO_ROLES


def may_save(user) -> bool:
    return access.has_role(user, SEGMENT_ROLES)


def may_edit(user, segment: SavedSegment) -> bool:
    """Rename, describe, share or delete: the owner, or an administrator. A head may not change an RM's segment."""
    staff = access.active_staff(user)
    if staff is None or staff.role not in SEGMENT_ROLES:
        return False
    return staff.pk == segment.owner_id or staff.role == Staff.Role.ADMIN
