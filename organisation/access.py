"""The one access policy. Every ``*_visible_to(user)`` of every app starts from ``scope_of`` and filters with
``subtree_q``; the named role sets and the organisation-wide capability predicates live here too, so that a
page's buttons and the service behind them ask the same question.

The policy (docs/architecture.md, "Roles and visibility"):

- no active staff record: nothing;
- administrator (HQ): everything;
- branch head and complaints officer: their branch and every branch below it;
- relationship manager: their own records (their customers, their requests, their plans).

Some kinds of record narrow the subtree to fewer roles (only branch heads see every reassignment request of
their subtree; an officer sees none but their own): they pass ``subtree_roles``. A record outside the scope is a
404 for its single-object getter, never a 403, so that nobody learns it exists.
"""

from dataclasses import dataclass
from enum import Enum

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from .models import Branch, Staff

R = Staff.Role

# Named role sets: a page's audience and a service's permission are written with these and nothing else.
EVERY_ROLE = frozenset(R.values)
ADMINS = frozenset({R.ADMIN})
RMS = frozenset({R.RM})
HEADS_AND_ADMINS = frozenset({R.HEAD, R.ADMIN})
# Staff who work with customers' portfolios: log contacts, request moves, edit and export customers, see Today and
# results. (Complaints officers handle complaints; they reach customers through them.)
PORTFOLIO_ROLES = frozenset({R.RM, R.HEAD, R.ADMIN})
# Staff who run complaints: register, accept, assign, decide, print the statistics.
COMPLAINT_MANAGERS = frozenset({R.HEAD, R.OFFICER, R.ADMIN})
# Who sees their whole subtree by default.
SUBTREE_ROLES = frozenset({R.HEAD, R.OFFICER})
HEADS = frozenset({R.HEAD})


class Reach(Enum):
    NONE = "none"
    ALL = "all"
    SUBTREE = "subtree"
    OWN = "own"


@dataclass(frozen=True)
class Scope:
    """What one member of staff may see: nothing, everything, the subtree under ``path``, or their own records
    (``staff``). ``staff`` is set for every reach but NONE."""

    reach: Reach
    staff: Staff | None = None
    path: str = ""

    @property
    def is_none(self) -> bool:
        return self.reach is Reach.NONE

    @property
    def is_all(self) -> bool:
        return self.reach is Reach.ALL

    @property
    def is_subtree(self) -> bool:
        return self.reach is Reach.SUBTREE

    @property
    def is_own(self) -> bool:
        return self.reach is Reach.OWN


NOBODY = Scope(Reach.NONE)


def staff_of(user) -> Staff | None:
    """The user's Staff record (cached on the user by ActiveStaffMiddleware), or None. A Staff passes through."""
    if isinstance(user, Staff):
        return user
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def active_staff(user) -> Staff | None:
    """The user's Staff record if they may use the CRM (active, or leaving until the handover), else None."""
    staff = staff_of(user)
    return staff if staff is not None and staff.is_active_staff else None


def scope_of(user, *, subtree_roles: frozenset[str] = SUBTREE_ROLES) -> Scope:
    """The scope of a user (or a Staff). ``subtree_roles`` are the roles that see their subtree for this kind of
    record; the other roles (but the administrator) see their own."""
    staff = active_staff(user)
    if staff is None:
        return NOBODY
    if staff.sees_everything:
        return Scope(Reach.ALL, staff)
    if staff.role in subtree_roles:
        return Scope(Reach.SUBTREE, staff, staff.branch.path)
    if staff.role in EVERY_ROLE:
        return Scope(Reach.OWN, staff)
    return NOBODY


def subtree_q(scope: Scope, field_path: str = "") -> Q:
    """The filter "the branch at ``field_path`` lies in the scope's subtree" (``field_path`` leads to a Branch:
    "branch", "staff__branch", ""; empty for the Branch table itself). Everything for ALL, nothing for NONE and
    OWN: an OWN scope is written by each kind of record as its own condition."""
    if scope.is_all:
        return Q()
    if not scope.is_subtree:
        return Q(pk__in=[])
    return _below(scope.path, field_path)


def within_q(branch: Branch, field_path: str = "") -> Q:
    """The filter "the branch at ``field_path`` is ``branch`` or lies below it" (a branch chosen in a filter, the
    peers of an RM): the same prefix scan on the materialised path as the scopes."""
    return _below(branch.path, field_path)


def _below(path: str, field_path: str) -> Q:
    # One indexed prefix scan on Branch.path (its unique index serves LIKE 'prefix%').
    prefix = f"{field_path}__" if field_path else ""
    return Q(**{f"{prefix}path__startswith": path})


def subtree_branch_ids(scope: Scope) -> list[int] | None:
    """The ids of the branches of a SUBTREE scope, or None when that is every branch of the bank. One query over
    the (small) branch table. Filtering a large table by this list (rather than by a join on the path) lets
    PostgreSQL estimate the share of rows from its statistics, and a head of the top branch gets no filter at all
    (docs/performance.md)."""
    rows = list(Branch.objects.values_list("pk", "path"))
    ids = [pk for pk, path in rows if path.startswith(scope.path)]
    return None if len(ids) == len(rows) else ids


def within(staff: Staff, branch: Branch) -> bool:
    """Whether ``branch`` lies in the subtree of ``staff``'s own branch."""
    return branch.is_within(staff.branch)


def can_approve(approver: Staff, branch: Branch) -> bool:
    """A branch head whose subtree holds ``branch``, or an administrator: who approves reassignments, handovers,
    visit plans and secondary RMs there."""
    if not approver.is_active_staff:
        return False
    if approver.role == R.ADMIN:
        return True
    return approver.role == R.HEAD and within(approver, branch)


def can_manage_in(staff: Staff, branch: Branch) -> bool:
    """A complaints manager (head, officer) whose subtree holds ``branch``, or an administrator."""
    if not staff.is_active_staff:
        return False
    if staff.role == R.ADMIN:
        return True
    return staff.role in (R.HEAD, R.OFFICER) and within(staff, branch)


def has_role(user, roles: frozenset[str]) -> bool:
    """An active member of staff whose role is one of ``roles``."""
    staff = active_staff(user)
    return staff is not None and staff.role in roles


class SystemActor:
    """The actor of writes that no member of staff makes: the nightly jobs, the core-banking feed, the demo data.
    Services take it where staff would be named (``actor=SYSTEM``) and record no user for it."""

    is_system = True
    name = "system"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def actor_staff(actor, roles: frozenset[str] = EVERY_ROLE) -> Staff | None:
    """The member of staff behind a write: the Staff of ``actor`` (a user or a Staff) if it is active and its
    role is one of ``roles``; None for the SYSTEM actor. Anything else is refused (PermissionDenied): no service
    runs for an anonymous or missing actor."""
    if actor is SYSTEM:
        return None
    staff = active_staff(actor)
    if staff is None:
        raise PermissionDenied(_("Only active staff can do this."))
    if staff.role not in roles:
        raise PermissionDenied(_("Your role may not do this."))
    return staff


def history_user(actor):
    """The user to record in a model's history for ``actor`` (None for the SYSTEM actor)."""
    if actor is SYSTEM or actor is None:
        return None
    return actor.user if isinstance(actor, Staff) else actor
