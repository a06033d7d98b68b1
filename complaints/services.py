"""Writes of the complaints app. Every change goes through here: each checks who may do it and whether the
state machine allows it (``complaints.rules``), changes the complaint, and appends to its timeline."""

import re
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site import text_limits
from customers import pii
from customers.masking import _mask, mask_mobile
from customers.selectors import customers_visible_to
from notifications.services import notification_send
from organisation import access
from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to, staff_visible_to

from . import permissions, rules
from .models import (
    Complaint,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintCause,
    ComplaintEvent,
    ComplaintExtension,
    ReferenceCounter,
    TextLimit,
)
from .selectors import complaints_visible_to

E = ComplaintEvent.Kind
FUTURE_TOLERANCE = rules.FUTURE_TOLERANCE

# Attachments: what a bank takes in with a complaint. The extension is checked and the content sniffed.
ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}

# What the decision notice tells the complainant (《银行业保险业消费投诉处理管理办法》 art. 22; docs/complaints.md): their further remedies.
REMEDIES = "如对处理结果不满意，可在收到本答复之日起30日内向上级机构书面申请核查，也可通过调解、仲裁、诉讼等途径解决。"


# ----------------------------------------------------------------------------------------------------------------
# Who may do what
# ----------------------------------------------------------------------------------------------------------------


def _require(ok: bool) -> None:
    if not ok:
        raise PermissionDenied(_("You may not do this on this complaint."))


def _allow(staff: Staff | None, complaint: Complaint, action: str, extension=None) -> None:
    """The permission of ``action`` (complaints.permissions.may, the page's question too). The subject of the
    complaint is told why (回避); anyone else gets the plain refusal."""
    if permissions.may(staff, complaint, action, extension):
        return
    if permissions.is_subject(staff, complaint):
        raise PermissionDenied(_("You are the staff member this complaint is about, so you take no action on it."))
    raise PermissionDenied(_("You may not do this on this complaint."))


def _allow_extension_decision(staff: Staff | None, complaint: Complaint, action: str, extension) -> None:
    """Approving or rejecting a second extension: a manager of the complaint who may not decide it is told who
    may (the Measures art. 20); anyone else is refused as for any action."""
    if not permissions.may(staff, complaint, action, extension) and permissions.can_manage(staff, complaint):
        raise ValidationError(
            _(
                "The second extension must be approved by a higher-level institution than %(branch)s or by head "
                "office, and not by the handler or whoever asked for it."
            )
            % {"branch": complaint.branch.name}
        )
    _allow(staff, complaint, action, extension)


def _text(errors: dict, field: str, value, limit: int, required=None) -> str:
    """The stripped text of a field; an error on it when it is required and empty, or longer than ``limit``
    characters (refused, never cut short)."""
    value = (value or "").strip()
    if required and not value:
        errors[field] = required
    elif len(value) > limit:
        errors[field] = text_limits.ERRORS["max_length"] % {"limit_value": limit, "show_value": len(value)}
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def recusal_error(complaint: Complaint, handler: Staff) -> str | None:
    """Why ``handler`` may not handle the complaint (回避), or None. The handler has no direct interest: never
    the staff member complained about — which rules out the customer's own RM when the RM is the subject."""
    if complaint.subject_staff_id and handler.pk == complaint.subject_staff_id:
        customer = complaint.customer
        if customer is not None and customer.primary_rm_id == handler.pk:
            return _("%(name)s is the customer's RM and the subject of this complaint, so cannot handle it.") % {
                "name": handler.name
            }
        return _("%(name)s is the subject of this complaint, so cannot handle it.") % {"name": handler.name}
    return None


# ----------------------------------------------------------------------------------------------------------------
# Timeline and notifications
# ----------------------------------------------------------------------------------------------------------------


def _event(complaint, kind, actor: Staff | None, *, text="", data=None, from_status="", to_status="", at=None):
    return ComplaintEvent.objects.create(
        complaint=complaint,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        from_status=from_status,
        to_status=to_status,
        text=str(text),
        data=data or {},
    )


def _transition(complaint: Complaint, action: str, actor: Staff, *, text="", data=None) -> None:
    to_status = rules.check(complaint, action)
    from_status = complaint.status
    complaint.status = to_status
    _event(complaint, E.TRANSITION, actor, text=text, data=data, from_status=from_status, to_status=to_status)


def _url(complaint: Complaint) -> str:
    return reverse("complaints:complaint-detail", args=[complaint.pk])


def _notify(recipients, text: str, url: str) -> int:
    return notification_send([r for r in recipients if r is not None and r.is_active_staff], text, url)


def _overseers() -> dict[str, list[Staff]]:
    """Active heads and officers by the path of their branch: a few hundred rows in one query."""
    by_path: dict[str, list[Staff]] = defaultdict(list)
    for staff in Staff.objects.active().filter(role__in=[Staff.Role.HEAD, Staff.Role.OFFICER]).select_related("branch"):
        by_path[staff.branch.path].append(staff)
    return by_path


def escalation_recipients(complaint: Complaint, overseers: dict[str, list[Staff]] | None = None) -> list[Staff]:
    """The head of the handler's branch (the nearest branch above with a head, when it has none) and the
    complaints officers over the complaint's branch; never the staff member complained about."""
    overseers = overseers if overseers is not None else _overseers()
    recipients: list[Staff] = []
    subject = complaint.subject_staff_id  # the staff member complained about is never asked to act (回避)
    home = complaint.handler.branch if complaint.handler_id else complaint.branch
    for path in reversed(home.ancestor_paths()):
        heads = [s for s in overseers.get(path, []) if s.role == Staff.Role.HEAD and s.pk != subject]
        if heads:
            recipients += heads
            break
    for path in complaint.branch.ancestor_paths():
        recipients += [s for s in overseers.get(path, []) if s.role == Staff.Role.OFFICER and s.pk != subject]
    return list({s.pk: s for s in recipients}.values())


# ----------------------------------------------------------------------------------------------------------------
# Intake
# ----------------------------------------------------------------------------------------------------------------


def _next_reference(day) -> str:
    """TS + yyyymmdd + a five-digit number of the day, from a row locked for the increment."""
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(day=day)
    ReferenceCounter.objects.filter(pk=day).update(last=F("last") + 1)
    counter.refresh_from_db()
    return f"TS{day:%Y%m%d}{counter.last:05d}"


CONTACT_RE = re.compile(r"^[0-9+\-() ]{7,20}$")


def _contact(value: str) -> tuple[str, str]:
    """A non-customer's phone number, encrypted, and its masked form."""
    value = (value or "").strip()
    if not value:
        return "", ""
    if not CONTACT_RE.fullmatch(value):
        raise ValidationError({"complainant_contact": _("Enter a phone number: digits, spaces and dashes only.")})
    digits = re.sub(r"\D", "", value)
    masked = mask_mobile(digits) if len(digits) == 11 else _mask(digits, 3, 2)
    return pii.encrypt(value), masked


@transaction.atomic
def complaint_register(
    *,
    actor,
    category: ComplaintCategory,
    channel: str,
    request: str,
    facts: str,
    customer=None,
    complainant_kind: str = Complaint.ComplainantKind.CUSTOMER,
    complainant_name: str = "",
    complainant_contact: str = "",
    authorisation: str = "",
    branch: Branch | None = None,
    product=None,
    subject_staff: Staff | None = None,
    received_at: datetime | None = None,
    cause: ComplaintCause | None = None,
    severity: str = Complaint.Severity.NORMAL,
    handler: Staff | None = None,
    attachments=(),
    duplicate_of: Complaint | None = None,
) -> Complaint:
    """登记: the Art. 13 record of a complaint received through any channel. The clock starts at receipt.

    ``duplicate_of``: the complaint is about the same matter as an earlier one of the same complainant (a
    resubmission registered on its own); it is linked to the first complaint of that matter, and the statistics
    count the matter once."""
    staff = access.actor_staff(actor)
    _require(permissions.can_register(staff))
    now = timezone.now()
    received_at = received_at or now
    errors = {}
    K = Complaint.ComplainantKind
    if customer is not None and not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not register a complaint for this customer."))
    if complainant_kind in (K.CUSTOMER, K.AGENT) and customer is None:
        errors["customer"] = _("Pick the customer (search by name, mobile or customer number).")
    if complainant_kind == K.NON_CUSTOMER and customer is not None:
        customer = None  # a non-customer complaint names no customer
    if complainant_kind == K.CUSTOMER and customer is not None:
        complainant_name = customer.name
    named = complainant_kind in (K.AGENT, K.NON_CUSTOMER)
    complainant_name = _text(
        errors, "complainant_name", complainant_name, TextLimit.NAME, named and _("Give the complainant's name.")
    )
    if named and not (complainant_contact or "").strip():
        errors["complainant_contact"] = _("Give a phone number to reach the complainant.")
    authorisation = _text(
        errors,
        "authorisation",
        authorisation,
        TextLimit.AUTHORISATION,
        complainant_kind == K.AGENT and _("An agent needs a power of attorney (授权委托书): record it."),
    )
    received_error = rules.received_error(received_at, now)
    if received_error:
        errors["received_at"] = received_error
    request = _text(errors, "request", request, TextLimit.REQUEST, _("Record what the complainant asks for."))
    facts = _text(errors, "facts", facts, TextLimit.FACTS, _("Record the main facts and grounds."))
    if handler is not None and subject_staff is not None and subject_staff.pk == staff.pk:
        errors["handler"] = _("You are the staff member this complaint is about: leave the handler to a colleague.")
    if duplicate_of is not None:
        same_customer = customer is not None and duplicate_of.customer_id == customer.pk
        if not same_customer or not complaints_visible_to(actor).filter(pk=duplicate_of.pk).exists():
            errors["duplicate_of"] = _("Choose one of this customer's complaints.")
        else:
            duplicate_of = duplicate_of.duplicate_of or duplicate_of  # the first complaint of the matter
    if branch is None:
        branch = (subject_staff.branch if subject_staff else None) or (customer.branch if customer else None)
    if branch is None:
        errors["branch"] = _("Choose the branch complained about.")
    elif not branches_visible_to(actor).filter(pk=branch.pk).exists():
        errors["branch"] = _("Choose a branch within your area.")
    if subject_staff is not None and not staff_visible_to(actor).filter(pk=subject_staff.pk).exists():
        errors["subject_staff"] = _("Choose a member of staff within your area.")
    if channel not in Complaint.Channel.values:
        errors["channel"] = _("Choose the channel.")
    try:
        contact_encrypted, contact_masked = _contact(complainant_contact if complainant_kind != K.CUSTOMER else "")
    except ValidationError as e:
        errors.update(e.message_dict)
        contact_encrypted = contact_masked = ""
    if errors:
        raise ValidationError(errors)
    complaint = Complaint.objects.create(
        reference=_next_reference(timezone.localdate(now)),
        customer=customer,
        complainant_kind=complainant_kind,
        complainant_name=complainant_name,
        complainant_contact_encrypted=contact_encrypted,
        complainant_contact_masked=contact_masked,
        authorisation=authorisation,
        branch=branch,
        product=product,
        subject_staff=subject_staff,
        channel=channel,
        received_at=received_at,
        category=category,
        cause=cause,
        severity=severity,
        request=request,
        facts=facts,
        duplicate_of=duplicate_of,
        registered_by=staff,
        clock_started_at=received_at,
        due_at=rules.due_at(received_at, 0),
    )
    _event(
        complaint,
        E.REGISTERED,
        staff,
        to_status=complaint.status,
        data={
            "channel": channel,
            "received_at": received_at.isoformat(),
            "severity": severity,
            **({"same_matter_as": duplicate_of.reference} if duplicate_of else {}),
        },
    )
    for upload in attachments:  # the documents that came with the complaint, whoever registers it
        _attachment_store(complaint, staff, upload)
    if handler is not None:
        complaint_assign(actor=actor, complaint=complaint, handler=handler)
    if severity == Complaint.Severity.MAJOR:
        # At once, right after the commit, without waiting for a worker; the beat sweep catches any miss.
        transaction.on_commit(lambda: escalate_major(complaint.pk))
    return complaint


# ----------------------------------------------------------------------------------------------------------------
# Handling
# ----------------------------------------------------------------------------------------------------------------


def _locked(complaint: Complaint) -> Complaint:
    """The complaint re-read under a row lock, so that two people acting at once do not both pass the checks."""
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("branch", "customer", "handler")
        .get(pk=complaint.pk)
    )


@transaction.atomic
def complaint_assign(*, actor, complaint: Complaint, handler: Staff, note: str = "") -> Complaint:
    """Give the complaint a handler. Recusal: never the staff member complained about."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "assign")
    rules.check(complaint, "assign")
    errors = {}
    note = _text(errors, "note", note, TextLimit.DECISION_NOTE)
    _raise(errors)
    if not handler.is_active_staff or handler.status != Staff.Status.ACTIVE:
        raise ValidationError({"handler": _("%(name)s is not active staff.") % {"name": handler.name}})
    if not staff_visible_to(actor).filter(pk=handler.pk).exists():
        raise ValidationError({"handler": _("Choose a handler within your area.")})
    error = recusal_error(complaint, handler)
    if error:
        raise ValidationError({"handler": error})
    previous = complaint.handler
    complaint.handler = handler
    complaint.save(update_fields=["handler", "updated_at"])
    _event(
        complaint,
        E.ASSIGNED,
        staff,
        text=note,
        data={"handler": handler.name, "previous": previous.name if previous else ""},
    )
    if handler.pk != staff.pk:
        _notify(
            [handler],
            _("Complaint %(ref)s is assigned to you: due %(due)s.")
            % {"ref": complaint.reference, "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d")},
            _url(complaint),
        )
    return complaint


@transaction.atomic
def complaint_accept(*, actor, complaint: Complaint, handler: Staff | None = None) -> Complaint:
    """受理."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "accept")
    _transition(complaint, "accept", staff)
    complaint.save(update_fields=["status", "updated_at"])
    if handler is not None:
        complaint = complaint_assign(actor=actor, complaint=complaint, handler=handler)
    return complaint


@transaction.atomic
def complaint_start(*, actor, complaint: Complaint) -> Complaint:
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "start")
    rules.require_ready(complaint, "start")
    _transition(complaint, "start", staff)
    complaint.save(update_fields=["status", "updated_at"])
    return complaint


def _check_told(complaint: Complaint, customer_told_at: datetime | None, customer_told_via: str) -> dict:
    """When and how the complainant was told: between the day the current period began and now."""
    errors = {}
    if customer_told_at is None:
        errors["customer_told_at"] = _("Record when the complainant was told.")
    elif customer_told_at > timezone.now() + FUTURE_TOLERANCE:
        errors["customer_told_at"] = _("This cannot be in the future.")
    elif timezone.localdate(customer_told_at) < timezone.localdate(complaint.clock_started_at):
        errors["customer_told_at"] = _("This cannot be before the complaint was received (%(date)s).") % {
            "date": timezone.localdate(complaint.clock_started_at).isoformat()
        }
    _text(
        errors,
        "customer_told_via",
        customer_told_via,
        TextLimit.VIA,
        _("Record how the complainant was told (phone, SMS, letter…)."),
    )
    return errors


@transaction.atomic
def extension_request(
    *, actor, complaint: Complaint, reason: str, customer_told_at: datetime | None, customer_told_via: str
) -> ComplaintExtension:
    """延期. The first (to 30 days) takes effect on the handler's reason; the second (a further 30) waits for the
    approval of a higher-level institution or head office (the Measures art. 20; permissions.can_approve_extension).
    Each needs a reason and the complainant told, and must be made before the deadline. There is no third."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "extend")
    pending = complaint.extensions.filter(round=complaint.reopen_count, status=ComplaintExtension.Status.PENDING)
    rules.require_ready(complaint, "extend", extension_pending=pending.exists())
    level = complaint.extension_level + 1
    if timezone.now() > complaint.due_at:
        raise ValidationError(_("The deadline has passed: an extension must be made before it."))
    errors = _check_told(complaint, customer_told_at, customer_told_via)
    reason = _text(errors, "reason", reason, TextLimit.REASON, _("Give the reason for the extension."))
    _raise(errors)
    extension = ComplaintExtension.objects.create(
        complaint=complaint,
        round=complaint.reopen_count,
        level=level,
        reason=reason,
        customer_told_at=customer_told_at,
        customer_told_via=customer_told_via.strip(),
        requested_by=staff,
    )
    _event(
        complaint,
        E.CONTACT,
        staff,
        text=_("Told of the extension"),
        data={"via": extension.customer_told_via, "at": customer_told_at.isoformat()},
    )
    if level == 1:
        _extension_apply(complaint, extension, staff)
    else:
        _event(complaint, E.EXTENSION_REQUESTED, staff, text=extension.reason, data={"level": level})
        _notify(
            extension_approvers(complaint, extension),
            _("Complaint %(ref)s: a second extension waits for your approval.") % {"ref": complaint.reference},
            _url(complaint),
        )
    return extension


def extension_approvers(complaint: Complaint, extension: ComplaintExtension) -> list[Staff]:
    """Who is asked to approve a second extension: the heads and officers of the higher-level institutions above
    the complaint's branch (never of the branch itself), or the administrators (head office) when no branch above
    has any; in either case none who may not approve it (the handler, the subject, the one who asked)."""
    above = [path for path in complaint.branch.ancestor_paths() if path != complaint.branch.path]
    candidates = (
        Staff.objects.active()
        .filter(role__in=[Staff.Role.HEAD, Staff.Role.OFFICER], branch__path__in=above)
        .select_related("branch")
    )
    approvers = [s for s in candidates if permissions.can_approve_extension(s, complaint, extension)]
    if not approvers:
        admins = Staff.objects.active().filter(role=Staff.Role.ADMIN).select_related("branch")
        approvers = [s for s in admins if permissions.can_approve_extension(s, complaint, extension)]
    return approvers


def _extension_apply(complaint: Complaint, extension: ComplaintExtension, approver: Staff) -> None:
    extension.status = ComplaintExtension.Status.APPROVED
    extension.decided_by = approver
    extension.decided_at = timezone.now()
    extension.save(update_fields=["status", "decided_by", "decided_at"])
    before = complaint.due_at
    complaint.extension_level = extension.level
    complaint.due_at = rules.due_at(complaint.clock_started_at, complaint.extension_level, complaint.paused_days)
    complaint.breach_escalated_at = None if complaint.due_at > timezone.now() else complaint.breach_escalated_at
    complaint.save(update_fields=["extension_level", "due_at", "breach_escalated_at", "updated_at"])
    _event(
        complaint,
        E.EXTENDED,
        approver,
        text=extension.reason,
        data={
            "level": extension.level,
            "days": rules.limit_days(extension.level),
            "before": before.isoformat(),
            "due_at": complaint.due_at.isoformat(),
        },
    )


@transaction.atomic
def extension_approve(*, actor, extension: ComplaintExtension, note: str = "") -> ComplaintExtension:
    staff = access.actor_staff(actor)
    complaint = _locked(extension.complaint)
    extension = ComplaintExtension.objects.select_for_update().get(pk=extension.pk)
    _allow_extension_decision(staff, complaint, "approve", extension)
    if extension.status != ComplaintExtension.Status.PENDING:
        raise ValidationError(_("This extension has already been decided."))
    rules.check(complaint, "extend")
    errors = {}
    extension.decision_note = _text(errors, "note", note, TextLimit.DECISION_NOTE)
    _raise(errors)
    _extension_apply(complaint, extension, staff)
    if complaint.handler_id and complaint.handler_id != staff.pk:
        _notify(
            [complaint.handler],
            _("Complaint %(ref)s: the second extension is approved.") % {"ref": complaint.reference},
            _url(complaint),
        )
    return extension


@transaction.atomic
def extension_reject(*, actor, extension: ComplaintExtension, note: str) -> ComplaintExtension:
    staff = access.actor_staff(actor)
    complaint = _locked(extension.complaint)
    extension = ComplaintExtension.objects.select_for_update().get(pk=extension.pk)
    _allow_extension_decision(staff, complaint, "reject", extension)
    if extension.status != ComplaintExtension.Status.PENDING:
        raise ValidationError(_("This extension has already been decided."))
    errors = {}
    note = _text(errors, "note", note, TextLimit.DECISION_NOTE, _("Say why the extension is rejected."))
    _raise(errors)
    extension.status = ComplaintExtension.Status.REJECTED
    extension.decided_by = staff
    extension.decided_at = timezone.now()
    extension.decision_note = note
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _event(complaint, E.EXTENSION_REJECTED, staff, text=extension.decision_note, data={"level": extension.level})
    if complaint.handler_id:
        _notify(
            [complaint.handler],
            _("Complaint %(ref)s: the second extension was rejected.") % {"ref": complaint.reference},
            _url(complaint),
        )
    return extension


@transaction.atomic
def clock_pause(*, actor, complaint: Complaint, reason: str, customer_told: bool) -> Complaint:
    """External appraisal, testing or valuation: the days it takes do not count (the complainant is told)."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "pause")
    rules.require_ready(complaint, "pause")
    errors = {}
    reason = _text(
        errors,
        "reason",
        reason,
        TextLimit.SHORT,
        _("Say what the complaint waits for (appraisal, testing, valuation…)."),
    )
    if not customer_told:
        errors["customer_told"] = _("The complainant must be told that the clock is paused.")
    _raise(errors)
    complaint.paused_since = timezone.now()
    complaint.save(update_fields=["paused_since", "updated_at"])
    _event(complaint, E.PAUSED, staff, text=reason)
    return complaint


@transaction.atomic
def clock_resume(*, actor, complaint: Complaint) -> Complaint:
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "resume")
    rules.require_ready(complaint, "resume")
    days = rules.paused_days_between(complaint.paused_since, timezone.now())
    complaint.paused_days += days
    complaint.paused_since = None
    complaint.due_at = rules.due_at(complaint.clock_started_at, complaint.extension_level, complaint.paused_days)
    complaint.save(update_fields=["paused_days", "paused_since", "due_at", "updated_at"])
    _event(complaint, E.RESUMED, staff, data={"days": days, "due_at": complaint.due_at.isoformat()})
    return complaint


@transaction.atomic
def complaint_decide(
    *,
    actor,
    complaint: Complaint,
    decision: str,
    customer_told_via: str,
    remedies_told: bool,
    cause: ComplaintCause | None = None,
) -> Complaint:
    """已答复: the decision, sent to the complainant with their further remedies. Stops the clock."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "decide")
    rules.require_ready(complaint, "decide")
    errors = {}
    decision = _text(errors, "decision", decision, TextLimit.DECISION, _("Write the decision told to the complainant."))
    customer_told_via = _text(
        errors,
        "customer_told_via",
        customer_told_via,
        TextLimit.VIA,
        _("Record how the decision was sent (phone, SMS, letter…)."),
    )
    if not remedies_told:
        errors["remedies_told"] = _("The decision must tell the complainant their further remedies.")
    _raise(errors)
    now = timezone.now()
    complaint.decision = decision
    complaint.decided_at = now
    if complaint.first_decided_at is None:
        complaint.first_decided_at = now
        complaint.decided_on_time = now <= complaint.due_at
    if cause is not None:
        complaint.cause = cause
    _transition(
        complaint,
        "decide",
        staff,
        text=complaint.decision,
        data={"via": customer_told_via, "on_time": now <= complaint.due_at, "remedies": REMEDIES},
    )
    complaint.save(
        update_fields=["decision", "decided_at", "first_decided_at", "decided_on_time", "cause", "status", "updated_at"]
    )
    return complaint


@transaction.atomic
def callback_record(*, actor, complaint: Complaint, satisfaction: int, comment: str = "") -> Complaint:
    """回访: the officer asks the complainant how satisfied they are with the handling (1–5)."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "callback")
    rules.check(complaint, "callback")
    errors = {}
    if satisfaction not in range(1, 6):
        errors["satisfaction"] = _("Give a score from 1 to 5.")
    comment = _text(errors, "comment", comment, TextLimit.SHORT)
    _raise(errors)
    complaint.satisfaction = satisfaction
    complaint.satisfaction_comment = comment
    complaint.callback_at = timezone.now()
    complaint.save(update_fields=["satisfaction", "satisfaction_comment", "callback_at", "updated_at"])
    _event(complaint, E.CALLBACK, staff, text=complaint.satisfaction_comment, data={"satisfaction": satisfaction})
    return complaint


@transaction.atomic
def complaint_close(*, actor, complaint: Complaint, cause: ComplaintCause | None, corrective_action: str) -> Complaint:
    """办结, with the root cause and the corrective action (溯源整改)."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "close")
    rules.check(complaint, "close")
    cause = cause or complaint.cause
    errors = {}
    if cause is None:
        errors["cause"] = _("Record the root cause.")
    corrective_action = _text(
        errors,
        "corrective_action",
        corrective_action,
        TextLimit.CORRECTIVE_ACTION,
        _("Record the corrective action taken."),
    )
    _raise(errors)
    complaint.cause = cause
    complaint.corrective_action = corrective_action
    complaint.closed_at = timezone.now()
    _transition(complaint, "close", staff, text=complaint.corrective_action, data={"cause": cause.code})
    complaint.save(update_fields=["cause", "corrective_action", "closed_at", "status", "updated_at"])
    return complaint


@transaction.atomic
def complaint_reopen(*, actor, complaint: Complaint, reason: str, requested_at: datetime | None = None) -> Complaint:
    """重新处理: the complainant asks for a review of the decision, by the 30th calendar day after the decision
    day (whole days, as the clock counts: ``rules.review_last_day``). A new clock starts from the day the request
    is received; the first decision's timeliness stays in the statistics."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "reopen")
    rules.check(complaint, "reopen")
    now = timezone.now()
    requested_at = requested_at or now
    errors = {}
    reason = _text(errors, "reason", reason, TextLimit.REASON, _("Record what the complainant disputes."))
    if requested_at > now + FUTURE_TOLERANCE:
        errors["requested_at"] = _("This cannot be in the future.")
    elif requested_at < complaint.decided_at:
        errors["requested_at"] = _("A review cannot be asked for before the decision (%(date)s).") % {
            "date": timezone.localtime(complaint.decided_at).strftime("%Y-%m-%d %H:%M")
        }
    _raise(errors)
    last_day = rules.review_last_day(complaint.decided_at)
    if timezone.localdate(requested_at) > last_day:
        raise ValidationError(
            _("A review must be asked for within %(days)s days of the decision (%(date)s): the last day was %(last)s.")
            % {
                "days": settings.COMPLAINT_REVIEW_WINDOW_DAYS,
                "date": timezone.localtime(complaint.decided_at).strftime("%Y-%m-%d"),
                "last": last_day.isoformat(),
            }
        )
    complaint.reopen_count += 1
    complaint.clock_started_at = requested_at
    complaint.extension_level = 0
    complaint.paused_days = 0
    complaint.paused_since = None
    complaint.due_at = rules.due_at(requested_at, 0)
    complaint.breach_escalated_at = None
    complaint.closed_at = None
    _transition(complaint, "reopen", staff, text=reason, data={"due_at": complaint.due_at.isoformat()})
    complaint.save()
    _event(complaint, E.REOPENED, staff, text=reason, data={"round": complaint.reopen_count})
    if complaint.handler_id and complaint.handler_id != staff.pk:
        _notify(
            [complaint.handler],
            _("Complaint %(ref)s is reopened for review.") % {"ref": complaint.reference},
            _url(complaint),
        )
    return complaint


@transaction.atomic
def complaint_withdraw(*, actor, complaint: Complaint, note: str = "", received_at: datetime | None = None):
    """撤回: processing ends on the day the withdrawal is received (管理办法 art. 15)."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "withdraw")
    rules.check(complaint, "withdraw")
    now = timezone.now()
    received_at = received_at or now
    errors = {}
    note = _text(errors, "note", note, TextLimit.SHORT)
    if received_at > now + FUTURE_TOLERANCE:
        errors["received_at"] = _("This cannot be in the future.")
    elif received_at < complaint.received_at:
        errors["received_at"] = _("A withdrawal cannot come before the complaint.")
    _raise(errors)
    complaint.withdrawn_at = received_at
    complaint.paused_since = None
    _transition(complaint, "withdraw", staff, text=note, data={"received_at": received_at.isoformat()})
    complaint.save(update_fields=["withdrawn_at", "paused_since", "status", "updated_at"])
    complaint.extensions.filter(status=ComplaintExtension.Status.PENDING).update(
        status=ComplaintExtension.Status.REJECTED, decided_at=now, decision_note=_("Complaint withdrawn")
    )
    return complaint


def note_add(*, actor, complaint: Complaint, text: str) -> ComplaintEvent:
    staff = access.actor_staff(actor)
    _allow(staff, complaint, "note")
    rules.check(complaint, "note")
    errors = {}
    text = _text(errors, "text", text, TextLimit.NOTE, _("Write the note."))
    _raise(errors)
    return _event(complaint, E.NOTE, staff, text=text)


def contact_record(*, actor, complaint: Complaint, via: str, text: str) -> ComplaintEvent:
    """A conversation with the complainant (a call, a meeting, a letter sent)."""
    staff = access.actor_staff(actor)
    _allow(staff, complaint, "contact")
    rules.check(complaint, "contact")
    errors = {}
    via = _text(errors, "via", via, TextLimit.VIA, _("Say how the complainant was contacted."))
    text = _text(errors, "text", text, TextLimit.NOTE, _("Write what was said."))
    _raise(errors)
    return _event(complaint, E.CONTACT, staff, text=text, data={"via": via})


@transaction.atomic
def repeat_contact_record(
    *, actor, complaint: Complaint, channel: str, text: str, new_facts: bool, received_at: datetime | None = None
) -> ComplaintEvent:
    """The complainant comes back about the same matter while the complaint is open (a resubmission): recorded on
    that complaint rather than as a second one. With new facts or reasons the period restarts from the day they
    are received (the Measures art. 21: "如投诉人提出新的事实和理由，处理期限自收到新的投诉材料之日起重新计算"),
    with the extensions already approved; without, it is a repeat contact and the clock does not change."""
    staff = access.actor_staff(actor)
    complaint = _locked(complaint)
    _allow(staff, complaint, "repeat")
    rules.check(complaint, "repeat")
    now = timezone.now()
    received_at = received_at or now
    errors = {}
    text = _text(errors, "text", text, TextLimit.NOTE, _("Record what the complainant says now."))
    if channel not in Complaint.Channel.values:
        errors["channel"] = _("Choose the channel.")
    received_error = rules.received_error(received_at, now)
    if received_error:
        errors["received_at"] = received_error
    elif timezone.localdate(received_at) < timezone.localdate(complaint.clock_started_at):
        errors["received_at"] = _("This cannot be before the complaint's current period began (%(date)s).") % {
            "date": timezone.localdate(complaint.clock_started_at).isoformat()
        }
    _raise(errors)
    data = {"channel": channel, "received_at": received_at.isoformat(), "new_facts": bool(new_facts)}
    if new_facts:
        data["before"] = complaint.due_at.isoformat()
        complaint.clock_started_at = max(received_at, complaint.clock_started_at)
        complaint.paused_days = 0
        if complaint.paused_since is not None and complaint.paused_since < received_at:
            complaint.paused_since = received_at  # a pause under way counts in the new period from its start
        complaint.due_at = rules.due_at(complaint.clock_started_at, complaint.extension_level)
        if complaint.due_at > now:
            complaint.breach_escalated_at = None
        complaint.save(
            update_fields=[
                "clock_started_at",
                "paused_days",
                "paused_since",
                "due_at",
                "breach_escalated_at",
                "updated_at",
            ]
        )
        data["due_at"] = complaint.due_at.isoformat()
    event = _event(complaint, E.REPEAT, staff, text=text, data=data)
    if complaint.handler_id and complaint.handler_id != staff.pk:
        message = (
            _("Complaint %(ref)s: the complainant came back with new facts; the period restarts, due %(due)s.")
            if new_facts
            else _("Complaint %(ref)s: the complainant came back about it.")
        )
        _notify(
            [complaint.handler],
            message % {"ref": complaint.reference, "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d")},
            _url(complaint),
        )
    return event


def attachment_check(upload) -> tuple[str, str]:
    """The upload's extension and content type, or a clear error: size and type are limited, and the content
    must match the extension (a renamed .exe is refused)."""
    from pathlib import PurePath

    name = PurePath(upload.name or "").name
    suffix = PurePath(name).suffix.lower()
    limit = settings.COMPLAINT_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is too large (%(size)s MB): the limit is %(limit)s MB.")
            % {"name": name, "size": f"{upload.size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            code="too_large",
        )
    kind = ATTACHMENT_TYPES.get(suffix)
    allowed = ", ".join(sorted(ATTACHMENT_TYPES))
    if kind is None:
        raise ValidationError(
            _("%(name)s: this type of file is not accepted. Accepted: %(allowed)s.")
            % {"name": name, "allowed": allowed},
            code="bad_type",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in kind[1]):
        raise ValidationError(
            _("%(name)s does not look like a %(type)s file.") % {"name": name, "type": suffix}, code="bad_content"
        )
    return name, kind[0]


@transaction.atomic
def attachment_add(*, actor, complaint: Complaint, upload) -> ComplaintAttachment:
    staff = access.actor_staff(actor)
    _allow(staff, complaint, "attach")
    rules.check(complaint, "attach")
    return _attachment_store(complaint, staff, upload)


def _attachment_store(complaint: Complaint, staff: Staff, upload) -> ComplaintAttachment:
    if complaint.attachments.count() >= settings.COMPLAINT_ATTACHMENTS_MAX:
        raise ValidationError(
            _("A complaint holds at most %(n)s attachments.") % {"n": settings.COMPLAINT_ATTACHMENTS_MAX}
        )
    name, content_type = attachment_check(upload)
    attachment = ComplaintAttachment(
        complaint=complaint, original_name=name[:200], content_type=content_type, size=upload.size, uploaded_by=staff
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    _event(complaint, E.ATTACHMENT, staff, text=attachment.original_name, data={"size": upload.size})
    return attachment


# ----------------------------------------------------------------------------------------------------------------
# Escalation (the Celery beat task calls these; each complaint is escalated once per reason)
# ----------------------------------------------------------------------------------------------------------------


def _escalate(queryset, field: str, reason: str, now: datetime) -> list[int]:
    """Mark, in one transaction, the complaints of ``queryset`` not yet escalated for ``reason``; append an
    event and notify for exactly those. Rows locked by a concurrent run are skipped (it escalates them), and
    the conditional UPDATE makes a second run find nothing: a double run escalates each complaint once."""
    with transaction.atomic():
        ids = list(
            queryset.filter(**{f"{field}__isnull": True})
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if not ids:
            return []
        Complaint.objects.filter(pk__in=ids, **{f"{field}__isnull": True}).update(**{field: now})
        complaints = list(Complaint.objects.filter(pk__in=ids).select_related("branch", "handler__branch"))
        ComplaintEvent.objects.bulk_create(
            ComplaintEvent(complaint=c, kind=E.ESCALATED, at=now, data={"reason": reason}) for c in complaints
        )
        overseers = _overseers()
        texts = {
            "major": _("Major complaint %(ref)s: escalated at once."),
            "overdue": _("Complaint %(ref)s is past its deadline and has been escalated."),
        }
        for c in complaints:
            recipients = escalation_recipients(c, overseers)
            if c.handler_id:
                recipients.append(c.handler)
            _notify(recipients, texts[reason] % {"ref": c.reference}, _url(c))
    return ids


def escalate_due(now: datetime | None = None) -> dict:
    """Escalate every open complaint past its deadline (clock not paused), and every open major complaint."""
    now = now or timezone.now()
    open_ = Complaint.objects.filter(status__in=Complaint.OPEN_STATES)
    overdue = _escalate(open_.filter(paused_since__isnull=True, due_at__lt=now), "breach_escalated_at", "overdue", now)
    major = _escalate(open_.filter(severity=Complaint.Severity.MAJOR), "major_escalated_at", "major", now)
    return {"overdue": len(overdue), "major": len(major)}


def escalate_major(complaint_id: int) -> bool:
    """A major complaint is escalated as soon as it is registered."""
    qs = Complaint.objects.filter(pk=complaint_id, severity=Complaint.Severity.MAJOR, status__in=Complaint.OPEN_STATES)
    return bool(_escalate(qs, "major_escalated_at", "major", timezone.now()))


# ----------------------------------------------------------------------------------------------------------------
# Hooks for the relationships app
# ----------------------------------------------------------------------------------------------------------------


def complaints_transfer_handler(*, moves: dict, previous: dict, actor_staff: Staff) -> int:
    """When customers move to another RM (reassignment or handover), the open complaints their previous RM was
    handling go to the new RM — unless the new RM is the subject (回避): those lose their handler and the
    officers are told to assign one."""
    moved = 0
    by_previous_and_target = defaultdict(list)
    for customer_id, target in moves.items():
        if previous.get(customer_id):
            by_previous_and_target[(previous[customer_id], target)].append(customer_id)
    now = timezone.now()
    for (old_id, target), customer_ids in by_previous_and_target.items():
        complaints = list(
            Complaint.objects.filter(customer_id__in=customer_ids, handler_id=old_id, status__in=Complaint.OPEN_STATES)
            .select_related("branch", "customer")
            .select_for_update(of=("self",))
        )
        for complaint in complaints:
            recused = complaint.subject_staff_id == target.pk
            complaint.handler = None if recused else target
            complaint.save(update_fields=["handler", "updated_at"])
            _event(
                complaint,
                E.ASSIGNED,
                actor_staff,
                at=now,
                text=_("The customer moved to another RM."),
                data={"handler": "" if recused else target.name, "transferred": True},
            )
            if recused:
                _notify(
                    escalation_recipients(complaint),
                    _("Complaint %(ref)s needs a new handler.") % {"ref": complaint.reference},
                    _url(complaint),
                )
            else:
                _notify(
                    [target],
                    _("Complaint %(ref)s of your new customer is now yours.") % {"ref": complaint.reference},
                    _url(complaint),
                )
            moved += 1
    return moved


# ----------------------------------------------------------------------------------------------------------------
# Reference data
# ----------------------------------------------------------------------------------------------------------------

# JR/T 0169-2018 style defaults, as the issue and the regulator's customary statistics name them; editable in
# admin. "Other" is 99.
DEFAULT_CATEGORIES = (
    ("01", "借记卡", "Debit card"),
    ("02", "信用卡", "Credit card"),
    ("03", "个人贷款", "Personal loan"),
    ("04", "人民币储蓄", "RMB savings"),
    ("05", "理财", "Wealth products"),
    ("06", "代理业务", "Agency sales"),
    ("07", "支付结算", "Payment and settlement"),
    ("08", "对公业务", "Corporate banking"),
    ("99", "其他", "Other"),
)
DEFAULT_CAUSES = (
    ("01", "服务态度及服务质量", "Service attitude and quality"),
    ("02", "管理制度、业务规则与流程", "Process and rules"),
    ("03", "营销方式和手段", "Sales practices"),
    ("04", "信息披露", "Information disclosure"),
    ("05", "自主选择权", "Freedom of choice"),
    ("06", "定价收费", "Pricing and fees"),
    ("07", "合同条款", "Contract terms"),
    ("08", "债务催收方式和手段", "Debt collection"),
    ("09", "资金损失", "Loss of funds"),
    ("10", "消费者信息安全", "Information security"),
    ("99", "其他", "Other"),
)


def classifications_install_defaults(Category=ComplaintCategory, Cause=ComplaintCause) -> int:  # noqa: N803
    """Create the missing default categories and causes (found by code; an admin's edits are kept)."""
    created = 0
    for model, rows in ((Category, DEFAULT_CATEGORIES), (Cause, DEFAULT_CAUSES)):
        for order, (code, name, name_en) in enumerate(rows):
            _obj, made = model.objects.get_or_create(
                code=code, defaults={"name": name, "name_en": name_en, "sort_order": order * 10}
            )
            created += made
    return created
