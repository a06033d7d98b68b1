"""Which roles may reveal which masked identifier (the reveal itself is always logged with a reason)."""

from organisation.models import Staff
from organisation.selectors import staff_of

from .models import AccessLog

REVEAL_ROLES = {
    # An RM phones their customers; heads and officers may need to call back; HQ administers the data.
    AccessLog.Field.MOBILE: frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.OFFICER, Staff.Role.ADMIN}),
    # The full ID number is for identity checks in a customer's business: not for complaint handling.
    AccessLog.Field.ID_NUMBER: frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN}),
}


def can_reveal(user, field: str) -> bool:
    staff = staff_of(user)
    return staff is not None and staff.is_active_staff and staff.role in REVEAL_ROLES.get(field, frozenset())


def revealable_fields(user) -> set[str]:
    return {field for field in REVEAL_ROLES if can_reveal(user, field)}
