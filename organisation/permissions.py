"""Which roles may open which pages. Views declare ``allowed_roles`` (one of the role sets of
``organisation.access``); the navigation reads the same attribute, so a page's audience is written in one place.
Records inside a page are scoped by the selectors, and every write is checked again by its service."""

from django.core.exceptions import PermissionDenied

from .access import EVERY_ROLE, has_role


def role_allowed(user, allowed_roles: frozenset[str]) -> bool:
    return has_role(user, allowed_roles)


class RoleRequiredMixin:
    """Refuses (403) a signed-in member of staff whose role may not open this page."""

    allowed_roles: frozenset[str] = EVERY_ROLE

    def dispatch(self, request, *args, **kwargs):
        if not role_allowed(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
