"""Which roles may open which pages. Views declare ``allowed_roles``; the navigation reads the same attribute,
so a page's audience is written in one place. Records inside a page are scoped by the selectors."""

from django.core.exceptions import PermissionDenied

from .models import Staff
from .selectors import staff_of

EVERY_ROLE = frozenset(Staff.Role.values)
HEADS_AND_ADMINS = frozenset({Staff.Role.HEAD, Staff.Role.ADMIN})


def role_allowed(user, allowed_roles: frozenset[str]) -> bool:
    staff = staff_of(user)
    return staff is not None and staff.is_active_staff and staff.role in allowed_roles


class RoleRequiredMixin:
    """Refuses (403) a signed-in member of staff whose role may not open this page."""

    allowed_roles: frozenset[str] = EVERY_ROLE

    def dispatch(self, request, *args, **kwargs):
        if not role_allowed(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
