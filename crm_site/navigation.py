"""The navigation bar, by role. A link shows when its page's view admits the user's role
(``allowed_roles`` on the view), so the rule lives with the view and is not repeated here."""

from dataclasses import dataclass
from functools import cache

from django.urls import resolve, reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from notifications.selectors import unread_notifications
from organisation.access import EVERY_ROLE
from organisation.selectors import staff_of


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    icon: str
    group: str = ""  # shown in the bar when empty, else under the group's menu


# The menus that keep the bar on one line at 1280 px: (key, label, icon).
NAV_GROUPS = (
    ("portfolio", _("Portfolios"), "briefcase"),
    ("manage", _("Manage"), "sliders"),
)


NAV_ITEMS = (
    NavItem("dashboards:dashboard-hq", _("HQ dashboard"), "globe2"),
    NavItem("dashboards:dashboard", _("Dashboard"), "speedometer2"),
    NavItem("reminders:today", _("Today"), "sun"),
    NavItem("dashboards:my-performance", _("My performance"), "graph-up-arrow"),
    NavItem("relationships:my-customers", _("My customers"), "person-lines-fill"),
    NavItem("relationships:my-visits", _("My visits"), "calendar-week"),
    NavItem("customers:customer-list", _("Customers"), "people"),
    NavItem("complaints:complaint-list", _("Complaints"), "exclamation-octagon"),
    NavItem("complaints:statistics", _("Complaint statistics"), "bar-chart"),
    NavItem("relationships:approvals", _("Approvals"), "check2-square", "portfolio"),
    NavItem("relationships:reassignment-list", _("Reassignments"), "arrow-left-right", "portfolio"),
    NavItem("relationships:handover-list", _("Handovers"), "box-arrow-right", "portfolio"),
    NavItem("organisation:branch-tree", _("Branches and staff"), "diagram-3", "manage"),
    NavItem("feed:load-list", _("Data loads"), "cloud-arrow-up", "manage"),
)


@cache
def _allowed_roles(url_name: str) -> frozenset[str]:

    view = resolve(reverse(url_name)).func
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, "allowed_roles", EVERY_ROLE)


def items_for(staff) -> list[NavItem]:
    if staff is None or not staff.is_active_staff:
        return []
    return [item for item in NAV_ITEMS if staff.role in _allowed_roles(item.url_name)]


def navigation(request) -> dict:
    """Context processor: the navigation items and the current member of staff."""

    user = getattr(request, "user", None)
    staff = staff_of(user) if user is not None else None
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    items = items_for(staff)
    return {
        "current_staff": staff,
        "nav_items": items,
        "nav_bar": [item for item in items if not item.group],
        "nav_menus": [
            {
                "key": key,
                "label": label,
                "icon": icon,
                "items": members,
                "active": any(i.url_name == current for i in members),
            }
            for key, label, icon in NAV_GROUPS
            if (members := [item for item in items if item.group == key]) or key == "manage"
        ],
        "current_view_name": current,
        "unread_notifications": _unread(staff),
    }


def _unread(staff):
    """The bell's number, counted lazily: only pages that show the navigation pay for the query."""

    if staff is None or not staff.is_active_staff:
        return 0
    return SimpleLazyObject(lambda: unread_notifications(staff))
