"""The state machine, recusal, withdrawal, review, escalation, attachments and the hooks other apps use."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import rules, services
from complaints.models import Complaint, ComplaintEvent
from notifications.models import Notification

from .conftest import at, cause, travel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
S = Complaint.Status


def decided(org, in_progress, **kw):
    c = in_progress(**kw)
    return services.complaint_decide(
        actor=org.west_officer.user,
        complaint=c,
        decision="退还手续费50元",
        customer_told_via="电话",
        remedies_told=True,
    )


# ----------------------------------------------------------------------------------------------------------------
# Every transition, allowed and refused
# ----------------------------------------------------------------------------------------------------------------


def test_the_whole_regulated_life(org, register):
    officer = org.west_officer.user
    c = register()
    assert c.status == S.REGISTERED
    c = services.complaint_accept(actor=officer, complaint=c, handler=org.west_head)
    assert (c.status, c.handler) == (S.ACCEPTED, org.west_head)
    c = services.complaint_start(actor=org.west_head.user, complaint=c)
    assert c.status == S.IN_PROGRESS
    c = services.complaint_decide(
        actor=org.west_head.user,
        complaint=c,
        decision="退还",
        customer_told_via="电话",
        remedies_told=True,
        cause=cause("06"),
    )
    assert c.status == S.DECIDED and c.decided_on_time is True
    c = services.callback_record(actor=officer, complaint=c, satisfaction=4, comment="满意")
    c = services.complaint_close(actor=officer, complaint=c, cause=None, corrective_action="柜面公示收费标准")
    assert c.status == S.CLOSED and c.cause.code == "06" and c.closed_at
    transitions = list(c.events.filter(kind="transition").values_list("from_status", "to_status"))
    assert transitions == [
        ("registered", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "decided"),
        ("decided", "closed"),
    ]
    assert all(e.actor_id for e in c.events.all())  # every change has an actor


TABLE = {
    # action: the states it may start from
    "accept": {S.REGISTERED},
    "start": {S.ACCEPTED, S.REOPENED},
    "decide": {S.IN_PROGRESS},
    "close": {S.DECIDED},
    "withdraw": {S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED},
    "reopen": {S.DECIDED, S.CLOSED},
}


@pytest.mark.parametrize("action", list(TABLE))
@pytest.mark.parametrize("status", S.values)
def test_transition_table(action, status):
    c = Complaint(status=status)
    if status in TABLE[action]:
        assert rules.check(c, action) == rules.TRANSITIONS[action][1]
    else:
        with pytest.raises(ValidationError) as e:
            rules.check(c, action)
        assert e.value.code == "invalid_transition"


def test_refused_transitions_say_why_and_change_nothing(org, register, in_progress):
    c = register()
    with pytest.raises(ValidationError, match="cannot be decided"):
        services.complaint_decide(
            actor=org.west_officer.user, complaint=c, decision="x", customer_told_via="电话", remedies_told=True
        )
    with pytest.raises(ValidationError, match="cannot be closed"):
        services.complaint_close(actor=org.west_officer.user, complaint=c, cause=cause(), corrective_action="x")
    c.refresh_from_db()
    assert c.status == S.REGISTERED
    assert c.events.count() == 1
    # Starting needs a handler.
    c = services.complaint_accept(actor=org.west_officer.user, complaint=c)
    with pytest.raises(ValidationError, match="handler"):
        services.complaint_start(actor=org.west_officer.user, complaint=c)


def test_decision_needs_text_channel_and_remedies(org, in_progress):
    c = in_progress()
    with pytest.raises(ValidationError) as e:
        services.complaint_decide(
            actor=org.west_officer.user, complaint=c, decision=" ", customer_told_via="", remedies_told=False
        )
    assert set(e.value.message_dict) == {"decision", "customer_told_via", "remedies_told"}


def test_closing_needs_cause_and_corrective_action(org, in_progress):
    c = decided(org, in_progress)
    with pytest.raises(ValidationError) as e:
        services.complaint_close(actor=org.west_officer.user, complaint=c, cause=None, corrective_action="")
    assert set(e.value.message_dict) == {"cause", "corrective_action"}


def test_who_may_act(org, register):
    c = register()
    # Outside the branch's subtree, and RMs who do not handle it, may not manage it.
    for outsider in (org.east_head, org.rm_west):
        with pytest.raises(PermissionDenied):
            services.complaint_accept(actor=outsider.user, complaint=c)
    # An RM registers nothing.
    with pytest.raises(PermissionDenied):
        services.complaint_register(
            actor=org.rm_west.user, customer=c.customer, category=c.category, channel="counter", request="r", facts="f"
        )


def test_an_rm_handler_handles_but_does_not_manage(org, book, register):
    c = register()
    c = services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.rm_west2)
    c = services.complaint_start(actor=org.rm_west2.user, complaint=c)
    services.note_add(actor=org.rm_west2.user, complaint=c, text="已联系客户")
    with pytest.raises(PermissionDenied):
        services.complaint_withdraw(actor=org.rm_west2.user, complaint=c)
    assert org.rm_west2.notifications.filter(text__contains=c.reference).exists()


# ----------------------------------------------------------------------------------------------------------------
# Recusal
# ----------------------------------------------------------------------------------------------------------------


def test_the_subject_cannot_handle(org, register):
    c = register(subject_staff=org.west_head)
    with pytest.raises(ValidationError) as e:
        services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.west_head)
    assert "subject of this complaint" in e.value.message_dict["handler"][0]
    c.refresh_from_db()
    assert c.handler is None


def test_the_customers_rm_cannot_handle_when_the_rm_is_the_subject(org, book, register):
    c = register(subject_staff=org.rm_west)  # book.west's RM
    with pytest.raises(ValidationError) as e:
        services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.rm_west)
    assert "customer's RM" in e.value.message_dict["handler"][0]
    # Someone else may.
    c = services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.rm_west2)
    assert c.handler == org.rm_west2


def test_the_database_refuses_a_subject_handler_too(org, register):
    from django.db import IntegrityError, transaction

    c = register(subject_staff=org.rm_west)
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=c.pk).update(handler=org.rm_west)


def test_a_handler_outside_the_area_is_refused(org, register):
    c = register()
    with pytest.raises(ValidationError):
        services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.rm_east)


# ----------------------------------------------------------------------------------------------------------------
# Withdrawal and review
# ----------------------------------------------------------------------------------------------------------------


def test_withdrawal_ends_processing_on_the_day_it_is_received(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 11, 5, 16)):
        c = services.complaint_withdraw(
            actor=org.west_officer.user, complaint=c, note="客户来电撤回", received_at=at(2026, 11, 5, 9)
        )
    assert c.status == S.WITHDRAWN
    assert c.withdrawn_at == at(2026, 11, 5, 9)
    assert c.deadline_state == rules.Deadline.STOPPED
    with travel(at(2026, 12, 1, 10)):  # never escalated afterwards
        assert services.escalate_due() == {"overdue": 0, "major": 0}
    for action in ("decide", "start", "withdraw", "extend"):
        assert not rules.allowed(c, action)


def test_reopen_after_review_starts_a_new_clock(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = decided(org, in_progress, received_at=at(2026, 11, 1, 9))
        c = services.callback_record(actor=org.west_officer.user, complaint=c, satisfaction=1, comment="不满意")
    with travel(at(2026, 11, 10, 10)):
        c = services.complaint_reopen(actor=org.west_officer.user, complaint=c, reason="客户申请核查")
    assert c.status == S.REOPENED
    assert c.reopen_count == 1
    assert timezone.localtime(c.due_at).date().isoformat() == "2026-11-25"
    assert c.decided_on_time is True  # the first decision's timeliness is kept
    assert c.events.filter(kind="reopened").count() == 1
    with travel(at(2026, 11, 11, 10)):
        c = services.complaint_start(actor=org.west_officer.user, complaint=c)
        # Extensions count again in the new round.
        ext = services.extension_request(
            actor=org.west_officer.user,
            complaint=c,
            reason="复核",
            customer_told_at=at(2026, 11, 11, 9),
            customer_told_via="电话",
        )
    assert ext.level == 1 and ext.round == 1


def test_review_must_be_asked_within_30_days(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = decided(org, in_progress, received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 12, 5, 10)), pytest.raises(ValidationError, match="within 30 days"):
        services.complaint_reopen(actor=org.west_officer.user, complaint=c, reason="late")


# ----------------------------------------------------------------------------------------------------------------
# Escalation
# ----------------------------------------------------------------------------------------------------------------


def test_breached_complaints_are_escalated_once(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        c = services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.rm_west2)
        assert services.escalate_due() == {"overdue": 0, "major": 0}
    with travel(at(2026, 11, 17, 0, 15)):
        assert services.escalate_due() == {"overdue": 1, "major": 0}
        assert services.escalate_due() == {"overdue": 0, "major": 0}  # the double run
    c.refresh_from_db()
    assert c.breach_escalated_at == at(2026, 11, 17, 0, 15)
    assert c.events.filter(kind="escalated").count() == 1
    # The handler's branch head (西二网点 has none: the 西支行 head) and the officers over 西一网点.
    escalated = Notification.objects.filter(text__contains=c.reference, text__icontains="deadline")
    assert sorted(escalated.values_list("recipient__user__username", flat=True)) == sorted(
        ["west_head", "west_officer", "rm_west2"]
    )


def test_the_celery_task_is_idempotent(org, in_progress):
    from complaints import tasks

    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 11, 20, 8)):
        first = tasks.escalate_complaints.apply().get()
        second = tasks.escalate_complaints.apply().get()
    assert (first, second) == ({"overdue": 1, "major": 0}, {"overdue": 0, "major": 0})
    assert ComplaintEvent.objects.filter(complaint=c, kind="escalated").count() == 1


def test_major_complaints_escalate_at_once(org, register, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        c = register(severity=Complaint.Severity.MAJOR)
    c.refresh_from_db()
    assert c.major_escalated_at is not None
    assert c.escalated
    assert services.escalate_due() == {"overdue": 0, "major": 0}
    assert c.events.filter(kind="escalated", data__reason="major").count() == 1
    assert org.west_officer.notifications.filter(text__contains=c.reference).exists()


def test_an_extension_in_time_keeps_a_complaint_from_breaching(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        services.extension_request(
            actor=org.west_officer.user,
            complaint=c,
            reason="复杂",
            customer_told_at=at(2026, 11, 1, 9, 30),
            customer_told_via="电话",
        )
    with travel(at(2026, 11, 20, 10)):
        assert services.escalate_due()["overdue"] == 0


def test_a_late_decision_is_recorded_as_late(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 11, 18, 10)):
        c = services.complaint_decide(
            actor=org.west_officer.user, complaint=c, decision="x", customer_told_via="电话", remedies_told=True
        )
    assert c.decided_on_time is False


# ----------------------------------------------------------------------------------------------------------------
# Attachments
# ----------------------------------------------------------------------------------------------------------------


def pdf(name="letter.pdf", size=100):
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"0" * size, content_type="application/pdf")


def test_attachment_is_stored_under_a_random_name(org, register, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = register(attachments=[pdf("客户来信.pdf")])
    a = c.attachments.get()
    assert a.original_name == "客户来信.pdf"
    assert "客户来信" not in a.file.name and a.file.name.endswith(".pdf")
    assert a.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("run.exe", b"MZ\x90\x00"), "not accepted"),
        (SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf"), "does not look like"),
        (SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 2048), "too large"),
    ],
)
def test_attachment_limits(org, register, settings, tmp_path, upload, message):
    settings.MEDIA_ROOT = tmp_path
    settings.COMPLAINT_ATTACHMENT_MAX_BYTES = 1024
    c = register()
    with pytest.raises(ValidationError, match=message):
        services.attachment_add(actor=org.west_officer.user, complaint=c, upload=upload)
    assert c.attachments.count() == 0
    assert not any(tmp_path.rglob("*.*"))


def test_events_are_append_only(register):
    c = register()
    event = c.events.get()
    event.text = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        ComplaintEvent.objects.filter(pk=event.pk).update(text="x")
    with pytest.raises(TypeError):
        ComplaintEvent.objects.all().delete()


# ----------------------------------------------------------------------------------------------------------------
# Intake
# ----------------------------------------------------------------------------------------------------------------


def test_agent_and_non_customer_intake(org, register):
    with pytest.raises(ValidationError) as e:
        register(complainant_kind="agent", complainant_name="", complainant_contact="")
    assert set(e.value.message_dict) == {"complainant_name", "complainant_contact", "authorisation"}
    c = register(
        complainant_kind="agent",
        complainant_name="王代理",
        complainant_contact="13912345678",
        authorisation="2026-11-01 公证委托书",
    )
    assert c.complainant_contact_masked == "139****5678"
    assert "13912345678" not in c.complainant_contact_encrypted
    stranger = register(
        customer=None,
        complainant_kind="non_customer",
        complainant_name="路人",
        complainant_contact="0571-88886666",
        branch=org.west_outlet,
    )
    assert stranger.customer is None and stranger.branch == org.west_outlet


def test_intake_outside_the_area_is_refused(org, book, register):
    with pytest.raises(PermissionDenied):
        register(customer=book.east)


# ----------------------------------------------------------------------------------------------------------------
# Hooks: customer moves and the churn reminder
# ----------------------------------------------------------------------------------------------------------------


def test_moving_a_customer_moves_the_complaints_their_rm_handled(org, book, register):
    from relationships import services as rel

    c = register(customer=book.west)
    c = services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.rm_west)
    request = rel.reassignment_request(actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r")
    rel.reassignment_approve(actor=org.west_head.user, request=request)
    c.refresh_from_db()
    assert c.handler == org.rm_west2
    assert c.events.filter(kind="assigned", data__transferred=True).exists()


def test_a_move_never_makes_the_subject_the_handler(org, book, register):
    from relationships import services as rel

    c = register(customer=book.west, subject_staff=org.rm_west2)
    c = services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.rm_west)
    request = rel.reassignment_request(actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r")
    rel.reassignment_approve(actor=org.west_head.user, request=request)
    c.refresh_from_db()
    assert c.handler is None
    assert org.west_officer.notifications.filter(text__contains="needs a new handler").exists()


def test_open_complaints_feed_the_churn_reminder(org, book, register):
    from complaints.selectors import customers_with_open_complaints

    c = register(customer=book.west)
    assert list(customers_with_open_complaints().values_list("customer_id", flat=True)) == [book.west.pk]
    services.complaint_withdraw(actor=org.west_officer.user, complaint=c)
    assert not customers_with_open_complaints().exists()


def test_pending_extensions_end_with_a_withdrawal(org, in_progress):
    c = in_progress()
    told = {"customer_told_at": timezone.now() - timedelta(minutes=5), "customer_told_via": "电话"}
    services.extension_request(actor=org.west_officer.user, complaint=c, reason="a", **told)
    services.extension_request(actor=org.west_officer.user, complaint=c, reason="b", **told)
    services.complaint_withdraw(actor=org.west_officer.user, complaint=c)
    assert not c.extensions.filter(status="pending").exists()
