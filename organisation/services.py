"""Writes for the organisation: branches and staff. Every write takes the acting user and runs in a transaction."""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from idempotency.services import submission_keys_purge

from . import access
from .models import PATH_STEP, Branch, SignInRecord, Staff

User = get_user_model()


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}/"


@transaction.atomic
def branch_create(*, actor, code: str, name: str, level: str, parent: Branch | None = None) -> Branch:
    access.actor_staff(actor, access.ADMINS)
    branch = Branch(code=code, name=name, level=level, parent=parent, path=f"~{code}")
    branch.full_clean()
    branch._history_user = access.history_user(actor)
    branch.save()
    # The path is made of primary keys, so it is written once the row exists.
    branch.path = (parent.path if parent else "") + _segment(branch.pk)
    branch.depth = (parent.depth + 1) if parent else 1
    Branch.objects.filter(pk=branch.pk).update(path=branch.path, depth=branch.depth)
    return branch


@transaction.atomic
def branch_update(
    *, actor, branch: Branch, name: str, level: str, parent: Branch | None, is_active: bool = True
) -> Branch:
    access.actor_staff(actor, access.ADMINS)
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    old_path, old_depth = branch.path, branch.depth
    branch.name, branch.level, branch.parent, branch.is_active = name, level, parent, is_active
    branch.full_clean()
    branch._history_user = access.history_user(actor)
    branch.save()
    new_path = (parent.path if parent else "") + _segment(branch.pk)
    if new_path != old_path:
        # Move the whole subtree in one statement: replace the path prefix and shift the depth.
        Branch.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + ((parent.depth + 1 if parent else 1) - old_depth),
        )
        branch.refresh_from_db()
    return branch


def _sync_user_flags(user, *, role: str, active: bool) -> None:
    """HQ administrators work in Django admin; nobody else does. A leaver cannot sign in."""
    user.is_staff = role == Staff.Role.ADMIN and active
    user.is_superuser = role == Staff.Role.ADMIN and active
    user.is_active = active


@transaction.atomic
def staff_create(
    *,
    actor,
    username: str,
    password: str | None,
    employee_no: str,
    name: str,
    branch: Branch,
    role: str,
    email: str = "",
    joined_on=None,
) -> Staff:
    access.actor_staff(actor, access.ADMINS)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This user name is already taken.")})
    user = User(username=username, email=email, first_name=name[:150])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _sync_user_flags(user, role=role, active=True)
    user.full_clean(exclude=["password"])
    staff = Staff(employee_no=employee_no, name=name, branch=branch, role=role, joined_on=joined_on)
    staff.full_clean(exclude=["user"])
    user.save()
    staff.user = user
    staff._history_user = access.history_user(actor)
    staff.save()
    return staff


@transaction.atomic
def staff_update(
    *, actor, staff: Staff, name: str, branch: Branch, role: str, email: str | None = None, employee_no=None
) -> Staff:
    access.actor_staff(actor, access.ADMINS)
    staff = Staff.objects.select_for_update().select_related("user").get(pk=staff.pk)
    staff.name, staff.branch, staff.role = name, branch, role
    if employee_no:
        staff.employee_no = employee_no
    staff.full_clean()
    staff._history_user = access.history_user(actor)
    staff.save()
    user = staff.user
    if email is not None:
        user.email = email
    _sync_user_flags(user, role=role, active=staff.is_active_staff)
    user.save()
    return staff


@transaction.atomic
def staff_mark_left(*, actor, staff: Staff, left_on=None) -> Staff:
    """Record that a member of staff has left: their account can no longer sign in or use any page. An
    administrator, or a branch head above them (the approver of their handover)."""
    decider = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    if decider is not None and not access.can_approve(decider, staff.branch):
        raise PermissionDenied(_("Only a branch head above the member of staff can record that they left."))
    staff = Staff.objects.select_for_update().select_related("user").get(pk=staff.pk)
    staff.status = Staff.Status.LEFT
    staff.left_on = left_on or timezone.localdate()
    staff.full_clean()
    staff._history_user = access.history_user(actor)
    staff.save()
    _sync_user_flags(staff.user, role=staff.role, active=False)
    staff.user.save()
    return staff


SIGN_IN_RECORD_RETENTION = timedelta(days=180)


@transaction.atomic
def sign_in_records_purge() -> dict:
    """Delete expired sessions, sign-in attempt records and sign-in log lines older than the retention period
    (180 days), and the submission keys of create forms older than theirs (a week)."""
    now = timezone.now()
    cutoff = now - SIGN_IN_RECORD_RETENTION
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    attempts, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()
    logs, _ = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
    keys = submission_keys_purge(now)
    sign_ins, _ = SignInRecord.objects.filter(at__lt=cutoff).delete()
    return {
        "sessions": sessions,
        "attempts": attempts,
        "failure_logs": failures,
        "access_logs": logs,
        "submission_keys": keys,
        "sign_in_log": sign_ins,
    }


def sign_in_record(
    event: str, *, username: str, ip_address: str | None, user_agent: str, outcome: str, user=None
) -> SignInRecord:
    """One line of the sign-in log: the username as typed (bounded), the user it names if any, never a password.
    No actor: the sign-in flow itself writes it (organisation.receivers)."""
    username = (username or "")[:150]
    if user is None and username:
        user = User.objects.filter(username=username).first()
    return SignInRecord.objects.create(
        at=timezone.now(),
        event=event,
        username=username,
        user=user,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:255],
        outcome=outcome[:200],
    )
