"""The regulatory clock: 15, 30 and 60 calendar days from receipt, the day of receipt not counted, ending at
24:00 of the last day; extensions, pauses, and the deadline states, under time_machine."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import rules, services
from complaints.models import ComplaintExtension

from .conftest import at, travel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.mark.parametrize(
    ("received", "level", "last_day"),
    [
        (at(2026, 3, 1, 9), 0, date(2026, 3, 16)),
        (at(2026, 3, 1, 23, 50), 0, date(2026, 3, 16)),  # late in the day: the same last day
        (at(2026, 3, 1, 0, 5), 1, date(2026, 3, 31)),
        (at(2026, 3, 1, 9), 2, date(2026, 4, 30)),
        (at(2026, 12, 25, 9), 0, date(2027, 1, 9)),  # across the year
        (at(2028, 2, 20, 9), 0, date(2028, 3, 6)),  # across a leap February
    ],
)
def test_due_is_the_end_of_the_last_calendar_day(received, level, last_day):
    due = rules.due_at(received, level)
    assert timezone.localtime(due).date() == last_day
    assert timezone.localtime(due).strftime("%H:%M:%S") == "23:59:59"


def test_holidays_do_not_move_the_deadline():
    """1 October (National Day week) counts like any other day: the conservative reading."""
    assert rules.due_date(at(2026, 9, 20), 0) == date(2026, 10, 5)


def test_a_registered_complaint_is_due_in_15_days(register):
    with travel(at(2026, 11, 2, 15)):
        c = register(received_at=at(2026, 11, 1, 16))
    assert timezone.localtime(c.due_at).date() == date(2026, 11, 16)
    assert c.extension_level == 0


def test_first_extension_to_30_days_needs_reason_and_customer_told(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        with pytest.raises(ValidationError) as e:
            services.extension_request(
                actor=org.west_officer.user, complaint=c, reason="", customer_told_at=None, customer_told_via=""
            )
        assert set(e.value.message_dict) == {"reason", "customer_told_at", "customer_told_via"}
    with travel(at(2026, 11, 10, 10)):
        ext = services.extension_request(
            actor=org.west_officer.user,
            complaint=c,
            reason="需调取监控录像",
            customer_told_at=at(2026, 11, 10, 9),
            customer_told_via="电话",
        )
    c.refresh_from_db()
    assert ext.status == ComplaintExtension.Status.APPROVED
    assert c.extension_level == 1
    assert timezone.localtime(c.due_at).date() == date(2026, 12, 1)
    assert list(c.events.filter(kind="extended").values_list("data__level", flat=True)) == [1]
    assert c.events.filter(kind="contact").exists()


def test_second_extension_waits_for_approval_by_someone_other_than_the_handler(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        told = {"customer_told_at": at(2026, 11, 1, 9, 30), "customer_told_via": "短信"}
        services.extension_request(actor=org.west_officer.user, complaint=c, reason="复杂", **told)
        second = services.extension_request(actor=org.west_officer.user, complaint=c, reason="需司法鉴定", **told)
        assert second.status == ComplaintExtension.Status.PENDING
        c.refresh_from_db()
        assert c.extension_level == 1  # not yet
        # The handler cannot approve their own extension.
        with pytest.raises(ValidationError):
            services.extension_approve(actor=org.west_officer.user, extension=second)
        # Another request while one is pending is refused.
        with pytest.raises(ValidationError):
            services.extension_request(actor=org.west_officer.user, complaint=c, reason="again", **told)
        services.extension_approve(actor=org.west_head.user, extension=second, note="同意")
    c.refresh_from_db()
    assert c.extension_level == 2
    assert timezone.localtime(c.due_at).date() == date(2026, 12, 31)
    # The second extension notified the head who may approve it.
    assert org.west_head.notifications.filter(text__contains=c.reference).exists()


def test_a_third_extension_is_refused(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        told = {"customer_told_at": at(2026, 11, 1, 9, 30), "customer_told_via": "电话"}
        services.extension_request(actor=org.west_officer.user, complaint=c, reason="a", **told)
        ext = services.extension_request(actor=org.west_officer.user, complaint=c, reason="b", **told)
        services.extension_approve(actor=org.top_head.user, extension=ext)
        with pytest.raises(ValidationError, match="60"):
            services.extension_request(actor=org.west_officer.user, complaint=c, reason="c", **told)
    c.refresh_from_db()
    assert c.extension_level == 2


def test_an_extension_after_the_deadline_is_refused(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 11, 17, 0, 1)):
        with pytest.raises(ValidationError, match="deadline has passed"):
            services.extension_request(
                actor=org.west_officer.user,
                complaint=c,
                reason="late",
                customer_told_at=at(2026, 11, 16, 9),
                customer_told_via="电话",
            )


def test_a_rejected_second_extension_leaves_30_days(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        told = {"customer_told_at": at(2026, 11, 1, 9, 30), "customer_told_via": "电话"}
        services.extension_request(actor=org.west_officer.user, complaint=c, reason="a", **told)
        ext = services.extension_request(actor=org.west_officer.user, complaint=c, reason="b", **told)
        with pytest.raises(ValidationError):
            services.extension_reject(actor=org.west_head.user, extension=ext, note="")
        services.extension_reject(actor=org.west_head.user, extension=ext, note="理由不足")
    c.refresh_from_db()
    assert c.extension_level == 1
    assert timezone.localtime(c.due_at).date() == date(2026, 12, 1)


def test_pause_adds_the_days_in_appraisal(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
    with travel(at(2026, 11, 5, 10)):
        with pytest.raises(ValidationError):
            services.clock_pause(actor=org.west_officer.user, complaint=c, reason="鉴定", customer_told=False)
        services.clock_pause(actor=org.west_officer.user, complaint=c, reason="笔迹鉴定", customer_told=True)
        c.refresh_from_db()
        assert c.deadline_state == rules.Deadline.PAUSED
    with travel(at(2026, 11, 20, 10)):  # past the original deadline, but the clock stood still
        c.refresh_from_db()
        assert c.deadline_state == rules.Deadline.PAUSED
        assert services.escalate_due() == {"overdue": 0, "major": 0}
        services.clock_resume(actor=org.west_officer.user, complaint=c)
    c.refresh_from_db()
    assert c.paused_days == 15
    assert timezone.localtime(c.due_at).date() == date(2026, 12, 1)
    assert c.events.filter(kind="resumed", data__days=15).exists()


def test_deadline_states(register):
    with travel(at(2026, 11, 1, 10)):
        c = register(received_at=at(2026, 11, 1, 9))
        assert c.deadline_state == rules.Deadline.ON_TRACK
        assert c.days_left == 15
    with travel(at(2026, 11, 13, 10)):
        assert c.deadline_state == rules.Deadline.DUE_SOON
    with travel(at(2026, 11, 16, 23, 0)):
        assert c.deadline_state == rules.Deadline.DUE_SOON
        assert c.days_left == 0
    with travel(at(2026, 11, 17, 0, 1)):
        assert c.deadline_state == rules.Deadline.BREACHED
        assert c.days_overdue == 1


def test_deadline_filters_agree_with_the_badges(org, register):
    from complaints.models import Complaint

    with travel(at(2026, 11, 1, 10)):
        register(received_at=at(2026, 10, 5, 9))  # due 20 Oct: overdue
        register(received_at=at(2026, 10, 20, 9))  # due 4 Nov: due soon
        register(received_at=at(2026, 11, 1, 9))  # on track
        now = timezone.now()
        for complaint in Complaint.objects.all():
            state = rules.deadline_state(complaint, now)
            assert Complaint.objects.filter(rules.deadline_condition(state, now), pk=complaint.pk).exists()
        states = sorted(rules.deadline_state(c, now) for c in Complaint.objects.all())
    assert states == ["breached", "due_soon", "on_track"]


def test_reference_numbers_count_per_day(register):
    with travel(at(2026, 11, 22, 10)):
        a, b = register(), register()
    with travel(at(2026, 11, 23, 10)):
        c = register()
    assert (a.reference, b.reference, c.reference) == ("TS2026112200001", "TS2026112200002", "TS2026112300001")


def test_received_in_the_future_is_refused(register):
    with pytest.raises(ValidationError) as e:
        register(received_at=timezone.now() + timedelta(days=1))
    assert "received_at" in e.value.message_dict
