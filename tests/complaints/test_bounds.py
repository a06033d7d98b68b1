"""Bounded input: every text of a complaint has a maximum (a clear field error, nothing written, never cut short),
every date a user types is one that can be, and the review window is counted in whole days as the clock counts."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, ComplaintExtension, TextLimit

from .conftest import at, category, cause, travel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
L = TextLimit


def decide(org, c):
    return services.complaint_decide(
        actor=org.west_officer.user, complaint=c, decision="退还", customer_told_via="电话", remedies_told=True
    )


# ----------------------------------------------------------------------------------------------------------------
# The review window: whole days
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def decided_on_1_november(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        return decide(org, in_progress(received_at=at(2026, 11, 1, 9)))


def test_a_review_asked_late_on_the_30th_day_is_in_time(org, decided_on_1_november):
    with travel(at(2026, 12, 1, 23, 59)):
        c = services.complaint_reopen(actor=org.west_officer.user, complaint=decided_on_1_november, reason="核查")
    assert c.status == Complaint.Status.REOPENED


def test_a_review_asked_early_on_the_31st_day_is_refused(org, decided_on_1_november):
    with travel(at(2026, 12, 2, 0, 1)), pytest.raises(ValidationError, match="the last day was 2026-12-01"):
        services.complaint_reopen(actor=org.west_officer.user, complaint=decided_on_1_november, reason="核查")


def test_the_day_the_review_request_was_received_counts(org, decided_on_1_november):
    with travel(at(2026, 12, 3, 9)):
        c = services.complaint_reopen(
            actor=org.west_officer.user,
            complaint=decided_on_1_november,
            reason="核查",
            requested_at=at(2026, 12, 1, 23, 59),
        )
    assert c.clock_started_at == at(2026, 12, 1, 23, 59)


def test_a_review_cannot_be_asked_before_the_decision(org, decided_on_1_november):
    with travel(at(2026, 11, 5, 9)), pytest.raises(ValidationError) as e:
        services.complaint_reopen(
            actor=org.west_officer.user, complaint=decided_on_1_november, reason="核查", requested_at=at(1990, 1, 1)
        )
    assert "requested_at" in e.value.message_dict


# ----------------------------------------------------------------------------------------------------------------
# Dates that cannot be
# ----------------------------------------------------------------------------------------------------------------


def test_a_complaint_received_in_1990_is_refused(register):
    with pytest.raises(ValidationError) as e:
        register(received_at=at(1990, 3, 1))
    assert "30 days ago" in e.value.message_dict["received_at"][0]
    assert not Complaint.objects.exists()


def test_late_registration_is_bounded_in_whole_days(register, settings):
    assert settings.COMPLAINT_RECEIVED_MAX_AGE_DAYS == 30
    with travel(at(2026, 12, 1, 0, 5)):
        c = register(received_at=at(2026, 11, 1, 0, 0))  # 30 days before today: a late letter, registered overdue
        assert c.deadline_state == "breached"
        with pytest.raises(ValidationError):
            register(received_at=at(2026, 10, 31, 23, 59))  # 31 days before
    settings.COMPLAINT_RECEIVED_MAX_AGE_DAYS = 60
    with travel(at(2026, 12, 1, 0, 5)):
        register(received_at=at(2026, 10, 31, 23, 59))


def test_a_date_of_receipt_from_another_century_is_a_form_error(org, book, login):
    data = {
        "customer": book.west.pk,
        "complainant_kind": "customer",
        "channel": "letter",
        "received_at": "1990-01-01T09:00",
        "category": category().pk,
        "severity": "normal",
        "request": "退费",
        "facts": "多收手续费",
    }
    response = login(org.west_officer).post(reverse("complaints:complaint-create"), data)
    assert response.status_code == 200 and "30" in response.content.decode()
    assert not Complaint.objects.exists()
    data["received_at"] = "2999-01-01T09:00"
    assert login(org.west_officer).post(reverse("complaints:complaint-create"), data).status_code == 200
    assert not Complaint.objects.exists()


def test_the_complainant_cannot_be_told_of_an_extension_before_the_complaint(org, in_progress):
    with travel(at(2026, 11, 5, 10)):
        c = in_progress(received_at=at(2026, 11, 5, 9))
        with pytest.raises(ValidationError) as e:
            services.extension_request(
                actor=org.west_officer.user,
                complaint=c,
                reason="复杂",
                customer_told_at=at(1990, 11, 4, 9),
                customer_told_via="电话",
            )
    assert "customer_told_at" in e.value.message_dict
    assert not ComplaintExtension.objects.exists()


def test_a_withdrawal_cannot_come_before_the_complaint(org, register):
    with travel(at(2026, 11, 5, 10)):
        c = register(received_at=at(2026, 11, 5, 9))
        with pytest.raises(ValidationError) as e:
            services.complaint_withdraw(actor=org.west_officer.user, complaint=c, received_at=at(1990, 1, 1))
    assert "received_at" in e.value.message_dict
    c.refresh_from_db()
    assert c.status == Complaint.Status.REGISTERED


# ----------------------------------------------------------------------------------------------------------------
# Text limits
# ----------------------------------------------------------------------------------------------------------------


def too_long(limit: int) -> str:
    return "长" * (limit + 1)


def _state(org, register, in_progress, state):
    if state == "registered":
        return register()
    c = in_progress()
    if state == "decided":
        c = decide(org, c)
    if state == "pending":
        told = {"customer_told_at": timezone.now(), "customer_told_via": "电话"}
        services.extension_request(actor=org.west_officer.user, complaint=c, reason="a", **told)
        services.extension_request(actor=org.west_officer.user, complaint=c, reason="b", **told)
    return Complaint.objects.get(pk=c.pk)


# (name, the state, the call, the field, the limit): each call is made with a text of limit + 1 characters.
CASES = [
    ("request", None, lambda o, c, t: _register(o, request=t), "request", L.REQUEST),
    ("facts", None, lambda o, c, t: _register(o, facts=t), "facts", L.FACTS),
    ("name", None, lambda o, c, t: _register(o, complainant_kind="non_customer", complainant_name=t, branch=o.west_outlet), "complainant_name", L.NAME),
    ("authorisation", None, lambda o, c, t: _register(o, complainant_kind="agent", complainant_name="代", authorisation=t), "authorisation", L.AUTHORISATION),
    ("assign note", "registered", lambda o, c, t: services.complaint_assign(actor=o.west_officer.user, complaint=c, handler=o.rm_west2, note=t), "note", L.DECISION_NOTE),
    ("extension reason", "in_progress", lambda o, c, t: services.extension_request(actor=o.west_officer.user, complaint=c, reason=t, customer_told_at=timezone.now(), customer_told_via="电话"), "reason", L.REASON),
    ("told via", "in_progress", lambda o, c, t: services.extension_request(actor=o.west_officer.user, complaint=c, reason="r", customer_told_at=timezone.now(), customer_told_via=t), "customer_told_via", L.VIA),
    ("approval note", "pending", lambda o, c, t: services.extension_approve(actor=o.top_head.user, extension=c.extensions.get(status="pending"), note=t), "note", L.DECISION_NOTE),
    ("rejection note", "pending", lambda o, c, t: services.extension_reject(actor=o.top_head.user, extension=c.extensions.get(status="pending"), note=t), "note", L.DECISION_NOTE),
    ("pause reason", "in_progress", lambda o, c, t: services.clock_pause(actor=o.west_officer.user, complaint=c, reason=t, customer_told=True), "reason", L.SHORT),
    ("decision", "in_progress", lambda o, c, t: services.complaint_decide(actor=o.west_officer.user, complaint=c, decision=t, customer_told_via="电话", remedies_told=True), "decision", L.DECISION),
    ("decision via", "in_progress", lambda o, c, t: services.complaint_decide(actor=o.west_officer.user, complaint=c, decision="d", customer_told_via=t, remedies_told=True), "customer_told_via", L.VIA),
    ("callback comment", "decided", lambda o, c, t: services.callback_record(actor=o.west_officer.user, complaint=c, satisfaction=3, comment=t), "comment", L.SHORT),
    ("corrective action", "decided", lambda o, c, t: services.complaint_close(actor=o.west_officer.user, complaint=c, cause=cause(), corrective_action=t), "corrective_action", L.CORRECTIVE_ACTION),
    ("review reason", "decided", lambda o, c, t: services.complaint_reopen(actor=o.west_officer.user, complaint=c, reason=t), "reason", L.REASON),
    ("withdrawal note", "registered", lambda o, c, t: services.complaint_withdraw(actor=o.west_officer.user, complaint=c, note=t), "note", L.SHORT),
    ("note", "registered", lambda o, c, t: services.note_add(actor=o.west_officer.user, complaint=c, text=t), "text", L.NOTE),
    ("contact", "registered", lambda o, c, t: services.contact_record(actor=o.west_officer.user, complaint=c, via="电话", text=t), "text", L.NOTE),
    ("contact via", "registered", lambda o, c, t: services.contact_record(actor=o.west_officer.user, complaint=c, via=t, text="x"), "via", L.VIA),
    ("repeat contact", "registered", lambda o, c, t: services.repeat_contact_record(actor=o.west_officer.user, complaint=c, channel="hotline", text=t, new_facts=True), "text", L.NOTE),
]  # fmt: skip


def _register(o, **kw):
    kw.setdefault("customer", o.book.west)
    kw.setdefault("complainant_contact", "13900000000")
    return services.complaint_register(
        actor=o.west_officer.user, category=category(), channel="counter", request=kw.pop("request", "r"),
        facts=kw.pop("facts", "f"), **kw,
    )  # fmt: skip


def snapshot():
    from complaints.models import ComplaintEvent

    rows = [
        (c.status, c.handler_id, c.decision, c.corrective_action, c.satisfaction_comment, c.extension_level)
        for c in Complaint.objects.order_by("pk")
    ]
    return rows, ComplaintEvent.objects.count(), ComplaintExtension.objects.filter(status="pending").count()


@pytest.mark.parametrize(("name", "state", "call", "field", "limit"), CASES, ids=[c[0] for c in CASES])
def test_every_text_has_a_maximum(org, book, register, in_progress, name, state, call, field, limit):
    o = SimpleNamespace(**vars(org), book=book)
    c = _state(org, register, in_progress, state) if state else None
    before = snapshot()
    with pytest.raises(ValidationError) as e:
        call(o, c, too_long(limit))
    assert field in e.value.message_dict, e.value.message_dict
    message = e.value.message_dict[field][0]
    assert str(limit) in message and str(limit + 1) in message  # the bound and the length typed
    assert snapshot() == before  # nothing written, nothing cut short
    call(o, c, "长" * limit)  # the limit itself is accepted


def test_a_long_text_is_a_form_error_in_chinese(org, book, login, in_progress):
    data = {
        "customer": book.west.pk,
        "complainant_kind": "customer",
        "channel": "counter",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "category": category().pk,
        "severity": "normal",
        "request": "退费",
        "facts": too_long(L.FACTS),
    }
    client = login(org.west_officer)
    response = client.post(reverse("complaints:complaint-create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and "4000" in response.content.decode()
    assert not Complaint.objects.exists()
    c = in_progress()
    url = reverse("complaints:complaint-detail", args=[c.pk])
    response = client.post(
        url,
        {"action": "decide", "decision": too_long(L.DECISION), "customer_told_via": "电话", "remedies_told": "on"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200 and 'open data-panel="decide"' in response.content.decode()
    assert "4000" in response.content.decode()
    c.refresh_from_db()
    assert c.status == Complaint.Status.IN_PROGRESS and not c.decision


def test_admin_forms_follow_the_model_limits():
    for model, name, limit in (
        (Complaint, "decision", L.DECISION),
        (Complaint, "corrective_action", L.CORRECTIVE_ACTION),
        (Complaint, "request", L.REQUEST),
        (Complaint, "facts", L.FACTS),
        (ComplaintExtension, "reason", L.REASON),
    ):
        assert model._meta.get_field(name).max_length == limit
