"""The navigation bar, by role. A link shows when its page's view admits the user's role
(``allowed_roles`` on the view), so the rule lives with the view and is not repeated here."""

from dataclasses import dataclass
from functools import cache

from django.urls import resolve, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    icon: str


NAV_ITEMS = (
    NavItem("relationships:dashboard-hq", _("HQ dashboard"), "globe2"),
    NavItem("relationships:dashboard", _("Dashboard"), "speedometer2"),
    NavItem("relationships:today", _("Today"), "sun"),
    NavItem("relationships:my-performance", _("My performance"), "graph-up-arrow"),
    NavItem("relationships:my-customers", _("My customers"), "person-lines-fill"),
    NavItem("relationships:my-visits", _("My visits"), "calendar-week"),
    NavItem("customers:customer-list", _("Customers"), "people"),
    NavItem("complaints:complaint-list", _("Complaints"), "exclamation-octagon"),
    NavItem("complaints:statistics", _("Complaint statistics"), "bar-chart"),
    NavItem("relationships:approvals", _("Approvals"), "check2-square"),
    NavItem("relationships:reassignment-list", _("Reassignments"), "arrow-left-right"),
    NavItem("relationships:handover-list", _("Handovers"), "box-arrow-right"),
    NavItem("relationships:branch-tree", _("Branches and staff"), "diagram-3"),
)


@cache
def _allowed_roles(url_name: str) -> frozenset[str]:
    from relationships.permissions import EVERY_ROLE

    view = resolve(reverse(url_name)).func
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, "allowed_roles", EVERY_ROLE)


def items_for(staff) -> list[NavItem]:
    if staff is None or not staff.is_active_staff:
        return []
    return [item for item in NAV_ITEMS if staff.role in _allowed_roles(item.url_name)]


def navigation(request) -> dict:
    """Context processor: the navigation items and the current member of staff."""
    from relationships.selectors import staff_of

    user = getattr(request, "user", None)
    staff = staff_of(user) if user is not None else None
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {
        "current_staff": staff,
        "nav_items": items_for(staff),
        "current_view_name": current,
        "unread_notifications": _unread(staff),
    }


def _unread(staff):
    """The bell's number, counted lazily: only pages that show the navigation pay for the query."""
    from django.utils.functional import SimpleLazyObject

    from relationships.selectors import unread_notifications

    if staff is None or not staff.is_active_staff:
        return 0
    return SimpleLazyObject(lambda: unread_notifications(staff))
