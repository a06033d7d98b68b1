"""Who may do what on a complaint: one predicate per capability, built on ``organisation.access``. The detail
page's buttons and the services ask the same predicates (the services also check the state machine in
``complaints.rules``)."""

from organisation import access
from organisation.models import Staff

from .models import Complaint


def can_register(staff: Staff | None) -> bool:
    """Intake: complaints officers, branch heads and administrators."""
    return staff is not None and staff.is_active_staff and staff.role in access.COMPLAINT_MANAGERS


def can_manage(staff: Staff | None, complaint: Complaint) -> bool:
    """Officers and heads over the complaint's branch, and administrators: intake, assignment, approvals,
    callback, closing, review, withdrawal."""
    return staff is not None and access.can_manage_in(staff, complaint.branch)


def can_handle(staff: Staff | None, complaint: Complaint) -> bool:
    """The handler, and whoever may manage it: the work of handling (start, extend, pause, decide, notes)."""
    if staff is None or not staff.is_active_staff:
        return False
    return complaint.handler_id == staff.pk or can_manage(staff, complaint)


def can_approve_extension(staff: Staff | None, complaint: Complaint) -> bool:
    """The second extension: a head or officer over the complaint (or HQ) who is neither its handler nor the
    staff member complained about."""
    return can_manage(staff, complaint) and staff.pk != complaint.handler_id and staff.pk != complaint.subject_staff_id


# The capability each action of the detail page needs.
CAPABILITY = {
    "accept": can_manage,
    "assign": can_manage,
    "start": can_handle,
    "extend": can_handle,
    "approve": can_approve_extension,
    "reject": can_approve_extension,
    "pause": can_handle,
    "resume": can_handle,
    "decide": can_handle,
    "callback": can_manage,
    "close": can_manage,
    "reopen": can_manage,
    "withdraw": can_manage,
    "note": can_handle,
    "contact": can_handle,
    "attach": can_handle,
}


def may(staff: Staff | None, complaint: Complaint, action: str) -> bool:
    return CAPABILITY[action](staff, complaint)
