"""Who may do what on a complaint: one predicate per capability, built on ``organisation.access``. The detail
page's buttons and the services ask the same predicates, through ``may`` (the services also check the state
machine in ``complaints.rules``).

Every capability goes through ``may_act``: active staff who are not the staff member complained about. The
subject of a complaint takes no action on it in any role (回避, the Measures' recusal rule): not as its handler,
not as the officer or head over its branch, not as an administrator. They may still read it where their scope
reaches it (a head sees the complaints about their branch); reading is not handling.
"""

from organisation import access
from organisation.models import Staff

from .models import Complaint, ComplaintExtension

R = Staff.Role


def can_register(staff: Staff | None) -> bool:
    """Intake: complaints officers, branch heads and administrators."""
    return staff is not None and staff.is_active_staff and staff.role in access.COMPLAINT_MANAGERS


def is_subject(staff: Staff | None, complaint: Complaint) -> bool:
    """``staff`` is the staff member the complaint is about."""
    return staff is not None and complaint.subject_staff_id is not None and staff.pk == complaint.subject_staff_id


def may_act(staff: Staff | None, complaint: Complaint) -> bool:
    """The gate of every capability below: active staff who are not the subject of the complaint."""
    return staff is not None and staff.is_active_staff and not is_subject(staff, complaint)


def can_manage(staff: Staff | None, complaint: Complaint) -> bool:
    """Officers and heads over the complaint's branch, and administrators: intake, assignment, callback, closing,
    review, withdrawal, a repeat contact."""
    return may_act(staff, complaint) and access.can_manage_in(staff, complaint.branch)


def can_handle(staff: Staff | None, complaint: Complaint) -> bool:
    """The handler, and whoever may manage it: the work of handling (start, extend, pause, decide, notes)."""
    if not may_act(staff, complaint):
        return False
    return complaint.handler_id == staff.pk or access.can_manage_in(staff, complaint.branch)


def can_attach(staff: Staff | None, complaint: Complaint) -> bool:
    """Whoever handles it, and whoever registered it (the documents that came with the complaint)."""
    return can_handle(staff, complaint) or (may_act(staff, complaint) and complaint.registered_by_id == staff.pk)


def is_higher_level(staff: Staff | None, complaint: Complaint) -> bool:
    """A higher-level institution than the complaint's branch (上级机构), or head office: a head or officer of a
    branch strictly above it, or an administrator (HQ). Never a head or officer of the branch itself."""
    if staff is None or not staff.is_active_staff:
        return False
    if staff.role == R.ADMIN:
        return True
    branch = complaint.branch
    return staff.role in (R.HEAD, R.OFFICER) and branch.pk != staff.branch_id and branch.is_within(staff.branch)


def can_approve_extension(
    staff: Staff | None, complaint: Complaint, extension: ComplaintExtension | None = None
) -> bool:
    """The second extension (the Measures art. 20: "经其上级机构或者总行、总公司高级管理人员审批"): a head or
    officer of a higher-level institution than the complaint's branch, or an administrator (HQ) — never its
    handler, the staff member complained about, nor whoever asked for the extension."""
    if not may_act(staff, complaint) or not is_higher_level(staff, complaint):
        return False
    if staff.pk == complaint.handler_id:
        return False
    return extension is None or extension.requested_by_id != staff.pk


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
    "attach": can_attach,
    "repeat": can_manage,
}
ACTIONS = tuple(CAPABILITY)


def may(staff: Staff | None, complaint: Complaint, action: str, extension: ComplaintExtension | None = None) -> bool:
    """Whether ``staff`` may take ``action`` on the complaint (the state aside): the one question the page and the
    services ask."""
    if action in ("approve", "reject"):
        return can_approve_extension(staff, complaint, extension)
    return CAPABILITY[action](staff, complaint)
