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


LOGGERS = frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN})
REQUESTERS = frozenset({Staff.Role.RM, Staff.Role.HEAD, Staff.Role.ADMIN})


def customer_actions(user, customer) -> dict:
    """What the user may do on a customer's 360° page (the services check the same rules again)."""
    from .services.portfolio import may_approve

    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return {}
    own = customer.primary_rm_id == staff.pk
    return {
        "can_log": staff.role in LOGGERS,
        # A rating is recorded after a callback by someone other than the RM rated.
        "can_rate": not own and customer.primary_rm_id is not None,
        "can_request_move": (staff.role == Staff.Role.RM and own) or staff.role in (Staff.Role.HEAD, Staff.Role.ADMIN),
        "can_add_secondary": may_approve(staff, customer.branch),
    }
