"""The exclusion rules the campaigns call: who has consent on a channel on a day, who is inside a do-not-disturb
window at a moment, who is left out of a campaign — a table of cases over five customers, each one query, and
the Python rule of a window (``DndWindow.covers``) agreeing with the SQL one at every moment of the table."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from consent import services
from consent.models import WEEKEND, WORKING_DAYS, Channel, ConsentEvent, DndWindow
from consent.selectors import (
    consent_given_q,
    consent_missing_q,
    customers_without_consent,
    dnd_active_q,
    dnd_all_day_q,
    marketing_allowed_q,
    marketing_excluded_q,
)
from customers.models import Customer
from tests.factories import CustomerFactory

from .conftest import TODAY, give, withdraw

pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


MON, SAT, SUN = TODAY, date(2026, 6, 20), date(2026, 6, 21)  # 2026-06-15 is a Monday


@pytest.fixture
def five(org, book):
    """A: SMS and phone given, no calls Mon–Fri 09:00–18:00. B: SMS given, nothing at all 06-20…06-28.
    C: SMS withdrawn. D: nothing recorded. E: SMS given, no SMS at weekends 12:00–14:00 in June and July."""
    e = CustomerFactory(primary_rm=org.rm_west, name="钱东戊")
    a, b, c, d = book.west, book.west2, book.east, book.corporate
    actor = org.admin.user
    with time_machine.travel(TODAY, tick=False):
        give(services, actor, a, on=TODAY - timedelta(days=40))
        give(services, actor, a, channel=Channel.PHONE)
        give(services, actor, b, on=TODAY - timedelta(days=3))
        give(services, actor, c, on=TODAY - timedelta(days=60))
        withdraw(services, actor, c, on=TODAY - timedelta(days=5))
        give(services, actor, e, on=TODAY - timedelta(days=10))
        add = services.dnd_window_add
        add(actor=actor, customer=a, channel=Channel.PHONE, weekdays=WORKING_DAYS, start_time=time(9),
            end_time=time(18), reason="上班时间勿打电话")  # fmt: skip
        add(actor=actor, customer=b, start_date=SAT, end_date=date(2026, 6, 28), reason="出国旅行")
        add(actor=actor, customer=e, channel=Channel.SMS, weekdays=WEEKEND, start_time=time(12), end_time=time(14),
            start_date=date(2026, 6, 1), end_date=date(2026, 7, 31), reason="周末午休勿扰")  # fmt: skip
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


CONSENT = [
    (Channel.SMS, TODAY, "ABE"),
    (Channel.PHONE, TODAY, "A"),
    # B and E gave it later; C gave it 60 days ago but has withdrawn since: the current state decides (campaigns
    # ask about today or later).
    (Channel.SMS, TODAY - timedelta(days=20), "A"),
    (Channel.WECHAT, TODAY, ""),
]
DND = [
    (at(MON, 10), Channel.PHONE, "A"),
    (at(MON, 10), Channel.SMS, ""),
    (at(MON, 9, 0), Channel.PHONE, "A"),  # from the start minute
    (at(MON, 18, 0, 59), Channel.PHONE, "A"),  # to the end minute, included
    (at(MON, 18, 1), Channel.PHONE, ""),
    (at(MON, 8, 59, 59), Channel.PHONE, ""),
    (at(SAT, 10), Channel.PHONE, "B"),  # not a working day for A; B's dates begin
    (at(SUN, 13), Channel.SMS, "BE"),
    (at(SUN, 13), Channel.PHONE, "B"),
    (at(SUN, 13), None, "BE"),  # any channel
    (at(SUN, 14, 1), Channel.SMS, "B"),
    (at(date(2026, 8, 1), 13), Channel.SMS, ""),  # both date ranges are over
]
ALL_DAY = [
    (SUN, Channel.SMS, "B"),
    (MON, Channel.PHONE, ""),  # A's window is a time of day: the rest of the day is open
    (date(2026, 6, 29), None, ""),
]
EXCLUDED = [
    (Channel.SMS, at(MON, 10), "CD"),
    (Channel.SMS, at(SUN, 13), "BCDE"),
    (Channel.PHONE, at(MON, 10), "ABCDE"),
    (Channel.PHONE, at(MON, 19), "BCDE"),
]


def test_the_exclusion_rules_over_a_table_of_cases(five, django_assert_num_queries):
    pks = {c.pk: name for name, c in five.items()}
    customers = Customer.objects.filter(pk__in=list(pks))

    def who(condition) -> str:
        with django_assert_num_queries(1):
            return "".join(sorted(pks[pk] for pk in customers.filter(condition).values_list("pk", flat=True)))

    with time_machine.travel(TODAY, tick=False):
        for channel, on, expected in CONSENT:
            assert who(consent_given_q(channel, on)) == expected, (channel, on)
            assert who(consent_missing_q(channel, on)) == "".join(sorted(set("ABCDE") - set(expected)))
        assert who(consent_given_q(Channel.SMS)) == "ABE"  # today by default
        without = customers.filter(pk__in=customers_without_consent(customers, "sms")).values_list("pk", flat=True)
        assert {pks[pk] for pk in without} == {"C", "D"}
    windows = list(DndWindow.objects.select_related("customer"))
    for moment, channel, expected in DND:
        assert who(dnd_active_q(moment, channel)) == expected, (moment, channel)
        covering = {pks[w.customer_id] for w in windows if w.channel in ("", channel or w.channel) and w.covers(moment)}
        assert "".join(sorted(covering)) == expected, ("DndWindow.covers", moment, channel)
    for day, channel, expected in ALL_DAY:
        assert who(dnd_all_day_q(day, channel)) == expected, (day, channel)
    for channel, moment, expected in EXCLUDED:
        assert who(marketing_excluded_q(channel, moment)) == expected, (channel, moment)
        allowed = "".join(sorted(set("ABCDE") - set(expected)))
        assert who(marketing_allowed_q(channel, moment)) == allowed == who(~marketing_excluded_q(channel, moment))


def test_a_table_pointing_at_customers_names_its_column(five):
    """The rules on another table's rows (a campaign's target list): ``customer_ref`` is its customer column."""
    with time_machine.travel(TODAY, tick=False):
        rows = ConsentEvent.objects.filter(kind="consent").filter(consent_given_q("sms", customer_ref="customer_id"))
        assert {r.customer_id for r in rows} == {five["A"].pk, five["B"].pk, five["E"].pk}
