"""The navigation bar, by role. A link shows when its page's view admits the user's role
(``allowed_roles`` on the view), so the rule lives with the view and is not repeated here.

The bar holds each role's most frequent page as a link of its own (``direct_for``: an RM's Today, a head's
Dashboard, an administrator's HQ dashboard, a complaints officer's Complaints), then the menus of NAV_GROUPS in
their order. A menu that would hold a single page for a role is shown as that page's link instead: no menu of
one. The user's own links (password, language, sign out) are in the user menu of the layout, not here."""

from dataclasses import dataclass
from functools import cache

from django.urls import resolve, reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from notifications.selectors import unread_notifications
from organisation.access import EVERY_ROLE
from organisation.models import Staff
from organisation.selectors import staff_of

R = Staff.Role


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    icon: str
    group: str  # the menu that holds the page (NAV_GROUPS)
    direct_for: frozenset[str] = frozenset()  # roles for whom it is a link in the bar itself, out of its menu
    staff_only: bool = False  # the Django admin: shown to users with is_staff, whatever their role

    is_menu = False


@dataclass(frozen=True)
class NavMenu:
    key: str
    label: str | Promise
    icon: str
    items: tuple[NavItem, ...]

    is_menu = True


# The menus, in the bar's order: (key, label, icon).
NAV_GROUPS = (
    ("customers", _("Customers"), "people"),
    ("work", _("Work"), "briefcase"),
    ("reports", _("Reports"), "bar-chart-line"),
    ("manage", _("Manage"), "sliders"),
)


NAV_ITEMS = (
    NavItem("relationships:my-customers", _("My customers"), "person-lines-fill", "customers"),
    NavItem("customers:customer-list", _("Customer list"), "people", "customers"),
    NavItem("pool:pool-list", _("Customer pool"), "inboxes", "customers"),
    NavItem("marketing:segment-list", pgettext_lazy("marketing", "Segments"), "collection", "customers"),
    NavItem("reminders:today", _("Today"), "sun", "work", direct_for=frozenset({R.RM})),
    NavItem("relationships:my-visits", _("My visits"), "calendar-week", "work"),
    NavItem("worktasks:task-list", _("Tasks"), "list-check", "work"),
    NavItem("opportunities:my-pipeline", _("My opportunities"), "graph-up", "work"),
    NavItem("opportunities:pipeline", _("Opportunities"), "graph-up", "work"),
    NavItem("complaints:complaint-list", _("Complaints"), "exclamation-octagon", "work", frozenset({R.OFFICER})),
    NavItem("relationships:approvals", _("Approvals"), "check2-square", "work"),
    NavItem("pool:release-list", _("Customer releases"), "box-arrow-in-down", "work"),
    NavItem("relationships:reassignment-list", _("Reassignments"), "arrow-left-right", "work"),
    NavItem("relationships:handover-list", _("Handovers"), "box-arrow-right", "work"),
    NavItem("dashboards:dashboard-hq", _("HQ dashboard"), "globe2", "reports", direct_for=frozenset({R.ADMIN})),
    NavItem("dashboards:dashboard", _("Dashboard"), "speedometer2", "reports", direct_for=frozenset({R.HEAD})),
    NavItem("dashboards:my-performance", _("My performance"), "graph-up-arrow", "reports"),
    NavItem("complaints:statistics", _("Complaint statistics"), "bar-chart", "reports"),
    NavItem("targets:target-list", _("Targets"), "bullseye", "reports"),
    NavItem("organisation:branch-tree", _("Branches and staff"), "diagram-3", "manage"),
    NavItem("feed:load-list", _("Data loads"), "cloud-arrow-up", "manage"),
    NavItem("admin:index", _("Administration"), "gear", "manage", staff_only=True),
)


@cache
def _allowed_roles(url_name: str) -> frozenset[str]:
    view = resolve(reverse(url_name)).func
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, "allowed_roles", EVERY_ROLE)


def _offered(role: str, is_staff: bool) -> list[NavItem]:
    return [item for item in NAV_ITEMS if role in _allowed_roles(item.url_name) and (is_staff or not item.staff_only)]


def items_for(staff, *, is_staff: bool = False) -> list[NavItem]:
    """The pages the bar offers ``staff``, in NAV_ITEMS order; the Django admin only if ``is_staff``."""
    if staff is None or not staff.is_active_staff:
        return []
    return _offered(staff.role, is_staff)


@cache
def _bar(role: str, is_staff: bool) -> tuple[NavItem | NavMenu, ...]:
    items = _offered(role, is_staff)
    direct = [item for item in items if role in item.direct_for]
    entries: list[NavItem | NavMenu] = list(direct)
    for key, label, icon in NAV_GROUPS:
        members = tuple(item for item in items if item.group == key and role not in item.direct_for)
        if len(members) == 1:
            entries.append(members[0])
        elif members:
            entries.append(NavMenu(key, label, icon, members))
    return tuple(entries)


def bar_for(staff, *, is_staff: bool = False) -> tuple[NavItem | NavMenu, ...]:
    """The bar's top-level entries for ``staff``: their direct links, then a link or a menu per group."""
    if staff is None or not staff.is_active_staff:
        return ()
    return _bar(staff.role, is_staff)


def navigation(request) -> dict:
    """Context processor: the navigation bar and the current member of staff."""

    user = getattr(request, "user", None)
    staff = staff_of(user) if user is not None else None
    is_staff = bool(getattr(user, "is_staff", False))
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    bar = bar_for(staff, is_staff=is_staff)
    return {
        "current_staff": staff,
        "nav_items": [item for item in items_for(staff) if not item.staff_only],
        "nav_bar": bar,
        "nav_active_menu": next(
            (entry.key for entry in bar if entry.is_menu and any(i.url_name == current for i in entry.items)), ""
        ),
        "current_view_name": current,
        "unread_notifications": _unread(staff),
    }


def _unread(staff):
    """The bell's number, counted lazily: only pages that show the navigation pay for the query."""

    if staff is None or not staff.is_active_staff:
        return 0
    return SimpleLazyObject(lambda: unread_notifications(staff))
