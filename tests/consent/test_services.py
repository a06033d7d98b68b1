"""Recording consent and do-not-disturb windows: the current row and its history written together, the withdrawal
signal on a withdrawal only, who may change what, and bad input refused with nothing written."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from consent import services
from consent.models import WORKING_DAYS, Channel, ConsentEvent, ConsentRecord, DndWindow, Source, State
from consent.signals import consent_withdrawn
from organisation.access import SYSTEM

from .conftest import TODAY, give, withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


@pytest.fixture
def sent():
    """The consent_withdrawn signals sent, as (customer_ids, channel, actor)."""
    calls = []

    def receiver(sender, customer_ids, channel, actor, **kwargs):
        calls.append((customer_ids, channel, actor))
        return {"cancelled": 0}

    consent_withdrawn.connect(receiver)
    yield calls
    consent_withdrawn.disconnect(receiver)


def test_give_then_withdraw_keeps_one_current_row_and_the_whole_history(org, book, sent):
    give(services, org.rm_west.user, book.west, on=TODAY - timedelta(days=30), reference="F-20260516")
    assert sent == []  # giving sends nothing
    record = withdraw(services, org.rm_west.user, book.west)
    assert ConsentRecord.objects.get() == record
    assert (record.state, record.effective_on, record.source, record.reference) == (
        State.WITHDRAWN, TODAY, Source.RECORDING, "REC-0001",
    )  # fmt: skip
    assert record.updated_by == org.rm_west
    history = list(ConsentEvent.objects.order_by("pk").values_list("state_before", "state", "actor", "via", "reason"))
    assert history == [
        ("", State.GIVEN, org.rm_west.pk, "page", "柜面签署营销同意书"),
        (State.GIVEN, State.WITHDRAWN, org.rm_west.pk, "page", "客户来电要求不再发送营销短信"),
    ]
    assert sent == [([book.west.pk], Channel.SMS, org.rm_west)]


def test_a_refusal_without_an_earlier_consent_is_a_withdrawal_too(org, book, sent):
    withdraw(services, org.west_head.user, book.west, channel=Channel.PHONE)
    assert sent == [([book.west.pk], Channel.PHONE, org.west_head)]
    withdraw(services, org.west_head.user, book.west, channel=Channel.PHONE, reference="REC-0002")
    assert len(sent) == 1  # already withdrawn: a new reference is recorded, nothing is withdrawn again
    assert ConsentEvent.objects.count() == 2


def test_recording_the_same_again_changes_nothing(org, book, sent):
    first = give(services, org.rm_west.user, book.west)
    again = give(services, org.rm_west.user, book.west)
    assert again.pk == first.pk and again.unchanged and not first.unchanged
    assert ConsentEvent.objects.count() == 1


def test_a_renewal_with_new_evidence_is_a_change(org, book):
    give(services, org.rm_west.user, book.west, on=TODAY - timedelta(days=400))
    give(services, org.rm_west.user, book.west, source=Source.ONLINE, reference="APP-77")
    assert ConsentRecord.objects.get().source == Source.ONLINE
    assert ConsentEvent.objects.filter(state_before=State.GIVEN, state=State.GIVEN).count() == 1


def test_the_system_actor_records_without_a_member_of_staff(book):
    record = give(services, SYSTEM, book.west, channel=Channel.EMAIL)
    assert record.updated_by is None
    assert ConsentEvent.objects.get().via == "system"


def test_who_may_record(org, book):
    """The customer's RM, a head over them, an administrator; not an RM or head elsewhere, not an officer."""
    for staff in (org.rm_west, org.west_head, org.top_head, org.admin):
        give(services, staff.user, book.west, channel=Channel.WECHAT, reference=staff.employee_no)
    for staff in (org.rm_west2, org.east_head, org.rm_east, org.west_officer):
        with pytest.raises(PermissionDenied):
            give(services, staff.user, book.west, channel=Channel.VISIT)
    assert not ConsentRecord.objects.filter(channel=Channel.VISIT).exists()
    assert ConsentEvent.objects.count() == 4


BAD_CHANGES = [
    ({"reason": " "}, "reason", "Give the reason"),
    ({"reason": "x" * 201}, "reason", "At most 200 characters"),
    ({"effective_on": TODAY + timedelta(days=1)}, "effective_on", "cannot be in the future"),
    ({"effective_on": None}, "effective_on", "Give the date"),
    ({"reference": ""}, "reference", "recording's number"),
    ({"channel": "fax"}, "channel", "Choose a channel"),
    ({"state": "maybe"}, "state", "Choose given or withdrawn"),
    ({"source": "rumour"}, "source", "Choose how"),
]


def test_bad_input_is_refused_with_its_message_and_nothing_is_written(org, book, sent):
    for change, field, message in BAD_CHANGES:
        with pytest.raises(ValidationError) as refused:
            withdraw(services, org.rm_west.user, book.west, **change)
        assert message in " ".join(refused.value.message_dict[field]), change
    assert not ConsentRecord.objects.exists() and not ConsentEvent.objects.exists() and sent == []


def test_a_change_cannot_go_back_behind_the_state_in_force(org, book):
    withdraw(services, org.rm_west.user, book.west, on=TODAY - timedelta(days=2))
    for on in (TODAY - timedelta(days=3), TODAY - timedelta(days=2)):  # earlier, and a consent on the withdrawal's day
        with pytest.raises(ValidationError, match="already Withdrawn"):
            give(services, org.rm_west.user, book.west, on=on)
    give(services, org.rm_west.user, book.west, on=TODAY - timedelta(days=1))
    assert ConsentRecord.objects.get().state == State.GIVEN
    assert ConsentEvent.objects.count() == 2


def window(actor, customer, **fields):
    return services.dnd_window_add(actor=actor, customer=customer, reason="客户要求", **fields)


def test_windows_are_added_and_removed_with_their_history(org, book):
    calls = window(org.rm_west.user, book.west, channel=Channel.PHONE, weekdays=WORKING_DAYS,
                   start_time=time(9), end_time=time(18))  # fmt: skip
    spring = window(org.rm_west.user, book.west, start_date=date(2027, 2, 1), end_date=date(2027, 2, 20))
    assert calls.describe() == "Monday to Friday · 09:00–18:00"
    assert spring.describe() == "2027-02-01 – 2027-02-20 · every day · all day"
    services.dnd_window_remove(actor=org.west_head.user, window=calls, reason="客户来电取消")
    assert list(DndWindow.objects.all()) == [spring]
    removed = ConsentEvent.objects.get(kind=ConsentEvent.Kind.DND_REMOVED)
    assert (removed.actor, removed.reason, removed.channel) == (org.west_head, "客户来电取消", Channel.PHONE)
    assert removed.window_text == "Monday to Friday · 09:00–18:00"
    assert ConsentEvent.objects.filter(kind=ConsentEvent.Kind.DND_ADDED).count() == 2
    with pytest.raises(ValidationError, match="already been removed"):
        services.dnd_window_remove(actor=org.rm_west.user, window=calls, reason="再次删除")


BAD_WINDOWS = [
    ({"start_date": date(2026, 7, 2), "end_date": date(2026, 7, 1)}, "end_date", "end date is before"),
    ({"start_date": date(2026, 7, 2)}, "end_date", "both dates"),
    ({"start_time": time(18), "end_time": time(9)}, "end_time", "over midnight, add two windows"),
    ({"start_time": time(9)}, "end_time", "both times"),
    ({}, "weekdays", "record a withdrawal"),
    ({"start_date": date(2026, 6, 1), "end_date": date(2026, 6, 14)}, "end_date", "already over"),
    ({"weekdays": 0, "start_time": time(9), "end_time": time(10)}, "weekdays", "greater than or equal to 1"),
    ({"channel": "fax", "start_time": time(9), "end_time": time(10)}, "channel", "not a valid choice"),
    ({"reason": "", "start_time": time(9), "end_time": time(10)}, "reason", "Give the reason"),
]


def test_a_bad_window_is_refused_with_its_message(org, book):
    for fields, field, message in BAD_WINDOWS:
        with pytest.raises(ValidationError) as refused:
            services.dnd_window_add(actor=org.rm_west.user, customer=book.west, **{"reason": "客户要求", **fields})
        assert message in " ".join(refused.value.message_dict[field]), fields
    assert not DndWindow.objects.exists() and not ConsentEvent.objects.exists()


def test_the_same_window_twice_and_windows_of_customers_out_of_scope_are_refused(org, book):
    hours = {"start_time": time(12), "end_time": time(13, 30)}
    mine = window(org.rm_west.user, book.west, **hours)
    with pytest.raises(ValidationError, match="already has this window"):
        window(org.rm_west.user, book.west, **hours)
    for outsider in (org.rm_east, org.west_officer):
        with pytest.raises(PermissionDenied):
            window(outsider.user, book.west, channel=Channel.SMS, **hours)
        with pytest.raises(PermissionDenied):
            services.dnd_window_remove(actor=outsider.user, window=mine, reason="删除")
    assert DndWindow.objects.count() == 1 and ConsentEvent.objects.count() == 1
