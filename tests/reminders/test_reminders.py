"""The reminder generators at their boundaries, under time_machine; idempotency; expiry."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from lunardate import LunarDate

from customers import services as customer_services
from customers.models import Customer, Holding, Segment
from organisation.access import SYSTEM
from relationships import services
from reminders import services as reminder_services
from reminders.models import FollowUp
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def travel(day: date):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 6, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


def born(org, birth: date, *, lunar=False, **kw):
    c = CustomerFactory(primary_rm=org.rm_west, id_type="", id_number="", **kw)
    customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=birth, lunar_birthday=lunar)
    c.refresh_from_db()
    return c


def kinds(customer, kind):
    return list(FollowUp.objects.filter(customer=customer, kind=kind).values_list("due_on", flat=True))


def run(day, *which):
    with travel(day):
        return {r.kind: r.created for r in reminder_services.reminders_generate(kinds=which or None)}


# -- birthdays ---------------------------------------------------------------------------------------------------


def test_solar_birthday_is_reminded_lead_days_before(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    c = born(org, date(1980, 12, 10))
    run(date(2026, 12, 6), "birthday")
    assert kinds(c, "birthday") == []  # 4 days before: not yet
    run(date(2026, 12, 7), "birthday")
    assert kinds(c, "birthday") == [date(2026, 12, 10)]
    assert FollowUp.objects.get(customer=c).title == f"生日祝福：{c.name}"


def test_29_february_is_celebrated_on_28_february_in_common_years(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 0
    c = born(org, date(1988, 2, 29))
    run(date(2027, 2, 28), "birthday")
    assert kinds(c, "birthday") == [date(2027, 2, 28)]
    run(date(2028, 2, 28), "birthday")  # a leap year: not on the 28th …
    assert kinds(c, "birthday") == [date(2027, 2, 28)]
    run(date(2028, 2, 29), "birthday")  # … but on the 29th
    assert kinds(c, "birthday") == [date(2027, 2, 28), date(2028, 2, 29)]


def test_lunar_birthday_falls_on_this_years_lunar_date(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 0
    birth = LunarDate(1985, 8, 15).to_solar_date()  # born on a Mid-Autumn day
    c = born(org, birth, lunar=True)
    mid_autumn_2026 = date(2026, 9, 25)  # the holidays package's Mid-Autumn Festival: an independent source
    run(birth.replace(year=2026), "birthday")
    assert kinds(c, "birthday") == []  # not on the solar anniversary
    run(mid_autumn_2026, "birthday")
    assert kinds(c, "birthday") == [mid_autumn_2026]
    assert "农历生日" in FollowUp.objects.get(customer=c).title


def test_lunar_day_30_is_celebrated_on_the_29th_of_a_short_month(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 0
    from reminders.greetings import lunar_birthdays_on

    short = next(  # a lunar month with 29 days in 2026, and someone born on day 30 of that month
        m for m in range(1, 13) if not _has_day_30(2026, m)
    )
    birth = next(LunarDate(y, short, 30).to_solar_date() for y in range(1970, 2000) if _has_day_30(y, short))
    c = born(org, birth, lunar=True)
    day29 = LunarDate(2026, short, 29).to_solar_date()
    assert short * 100 + 30 in lunar_birthdays_on(day29)
    run(day29, "birthday")
    assert kinds(c, "birthday") == [day29]


def _has_day_30(year, month):
    from reminders.greetings import lunar_month_has_30

    return lunar_month_has_30(LunarDate(year, month, 29).to_solar_date())


# -- holidays ----------------------------------------------------------------------------------------------------


def test_spring_festival_from_the_library_for_the_chosen_tiers(org, settings):
    settings.REMINDER_HOLIDAY_LEAD_DAYS = 5
    wealthy = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    mass = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("1000"))
    assert (
        Segment.objects.get(code="wealth").holiday_greetings and not Segment.objects.get(code="mass").holiday_greetings
    )
    run(date(2027, 1, 31), "holiday")
    assert kinds(wealthy, "holiday") == []  # Spring Festival 2027 is on 6 February: 6 days ahead
    run(date(2027, 2, 1), "holiday")
    assert kinds(wealthy, "holiday") == [date(2027, 2, 6)]
    assert FollowUp.objects.get(customer=wealthy).title.startswith("春节问候")
    assert kinds(mass, "holiday") == []


def test_traditional_festivals_come_from_the_lunar_calendar(org, settings):
    settings.REMINDER_HOLIDAY_LEAD_DAYS = 0
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("8000000"))
    lantern = LunarDate(2027, 1, 15).to_solar_date()
    run(lantern, "holiday")
    assert FollowUp.objects.get(customer=c, due_on=lantern).title.startswith("元宵节问候")
    qixi = LunarDate(2027, 7, 7).to_solar_date()
    run(qixi, "holiday")
    assert kinds(c, "holiday") == [lantern]  # Qixi is off unless HOLIDAY_GREETINGS_INCLUDE_QIXI
    settings.HOLIDAY_GREETINGS_INCLUDE_QIXI = True
    run(qixi, "holiday")
    assert qixi in kinds(c, "holiday")


# -- contact policy ----------------------------------------------------------------------------------------------


def test_contact_policy_boundary_day(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))  # wealth: every 90 days
    contacted = timezone.make_aware(datetime(2026, 8, 1, 15, 0))
    services.interaction_log(actor=org.rm_west.user, customer=c, occurred_at=contacted)
    run(date(2026, 10, 30), "contact_policy")  # 90 days after: still within the policy
    assert kinds(c, "contact_policy") == []
    run(date(2026, 10, 31), "contact_policy")  # 91 days after
    assert kinds(c, "contact_policy") == [date(2026, 10, 31)]
    run(date(2026, 11, 5), "contact_policy")  # same cycle: nothing new
    assert len(kinds(c, "contact_policy")) == 1


def test_contacting_the_customer_closes_the_policy_follow_up_and_starts_a_new_cycle(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    Customer.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=400))
    run(timezone.localdate(), "contact_policy")
    follow_up = FollowUp.objects.get(customer=c, kind="contact_policy")
    services.interaction_log(actor=org.rm_west.user, customer=c, channel="phone")
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.interaction is not None
    run(timezone.localdate(), "contact_policy")
    assert FollowUp.objects.filter(customer=c, kind="contact_policy").count() == 1


# -- maturities and movements ------------------------------------------------------------------------------------


def test_maturity_within_the_lead_days(org, settings):
    settings.REMINDER_MATURITY_LEAD_DAYS = 7
    c = CustomerFactory(primary_rm=org.rm_west)
    product = ProductFactory(code="WM-T", name="稳健理财", category="wealth", risk_level="R2")
    today = date(2026, 11, 23)
    near = Holding.objects.create(
        customer=c,
        product=product,
        amount=Decimal("50000"),
        opened_on=today - timedelta(days=170),
        maturity_on=today + timedelta(days=7),
    )
    far = Holding.objects.create(
        customer=c, product=product, amount=Decimal("50000"), opened_on=today, maturity_on=today + timedelta(days=8)
    )
    run(today, "maturity")
    follow_up = FollowUp.objects.get(customer=c, kind="maturity")
    assert follow_up.source_ref == f"holding:{near.pk}" and follow_up.due_on == near.maturity_on
    assert "稳健理财" in follow_up.title and Decimal(str(follow_up.detail["amount"])) == Decimal("50000")
    assert not FollowUp.objects.filter(source_ref=f"holding:{far.pk}").exists()


@pytest.mark.parametrize(
    ("change", "expected"), [("300000.00", 1), ("-300000.00", 1), ("299999.99", 0), ("-299999.99", 0)]
)
def test_large_movement_at_exactly_the_threshold(org, change, expected):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))  # wealth: threshold 300,000
    day = date(2026, 11, 22)
    customer_services.asset_snapshot_record(customer=c, on=day - timedelta(days=1), aum=Decimal("2000000"))
    customer_services.asset_snapshot_record(customer=c, on=day, aum=Decimal("2000000") + Decimal(change))
    Customer.objects.filter(pk=c.pk).update(segment=Segment.objects.get(code="wealth"))
    run(date(2026, 11, 23), "movement")
    rows = FollowUp.objects.filter(customer=c, kind="movement")
    assert rows.count() == expected
    if expected:
        assert rows.get().due_on == day and Decimal(str(rows.get().detail["change"])) == Decimal(change)


def test_churn_risk_carries_its_reasons(org, settings):
    settings.CHURN_NO_CONTACT_DAYS = 180
    quiet = CustomerFactory(primary_rm=org.rm_west)
    Customer.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - timedelta(days=400), lifecycle="mature")
    falling = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("100"))
    services.interaction_log(actor=org.rm_west.user, customer=falling)
    today = timezone.localdate()
    for days, aum in ((60, "1000000"), (30, "900000"), (0, "700000")):
        customer_services.asset_snapshot_record(customer=falling, on=today - timedelta(days=days), aum=Decimal(aum))
    run(today, "churn")
    q = FollowUp.objects.get(customer=quiet, kind="churn")
    f = FollowUp.objects.get(customer=falling, kind="churn")
    facts = {"no_contact_days": 180}
    assert q.detail == {
        "no_contact": True,
        "falling_aum": False,
        "open_complaint": False,
        "drop_percent": None,
        **facts,
    }
    assert f.detail == {"no_contact": False, "falling_aum": True, "open_complaint": False, "drop_percent": 30, **facts}


# -- guarantees ----------------------------------------------------------------------------------------------------


def test_running_every_generator_twice_creates_nothing_twice(org, settings):
    settings.REMINDER_HOLIDAY_LEAD_DAYS = 10
    for i in range(5):
        c = born(org, date(1970 + i, 2, 3 + i), aum=Decimal(10 ** (i + 3)))
        customer_services.asset_snapshot_record(customer=c, on=date(2027, 1, 30), aum=Decimal(1))
        customer_services.asset_snapshot_record(customer=c, on=date(2027, 1, 31), aum=Decimal(10 ** (i + 4)))
    first = run(date(2027, 2, 1))
    assert sum(first.values()) > 0
    count = FollowUp.objects.count()
    second = run(date(2027, 2, 1))
    assert sum(second.values()) == 0 and FollowUp.objects.count() == count
    assert FollowUp.objects.values("dedupe_key").distinct().count() == count


def test_a_missed_day_is_caught_up(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    c = born(org, date(1980, 3, 10))
    run(date(2026, 3, 9), "birthday")  # beat did not run on 7 and 8 March
    assert kinds(c, "birthday") == [date(2026, 3, 10)]


def test_housekeeping_expires_greetings_after_the_day_and_wakes_snoozed(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 1
    c = born(org, date(1980, 5, 5))
    run(date(2026, 5, 4), "birthday")
    manual = services.interaction_log(
        actor=org.rm_west.user, customer=c, next_follow_up_on=timezone.localdate() + timedelta(days=1)
    )
    follow_up = FollowUp.objects.get(source_ref=f"interaction:{manual.pk}")
    with travel(timezone.localdate()):
        reminder_services.follow_up_snooze(
            actor=org.rm_west.user, follow_up=follow_up, until=timezone.localdate() + timedelta(days=2)
        )
    with travel(date(2026, 5, 5)):
        reminder_services.follow_ups_housekeeping()
    assert FollowUp.objects.get(customer=c, kind="birthday").status == "open"  # on the day it is still open
    with travel(date(2026, 5, 6)):
        reminder_services.follow_ups_housekeeping()
    assert FollowUp.objects.get(customer=c, kind="birthday").status == "expired"
    with travel(timezone.localdate() + timedelta(days=2)):
        reminder_services.follow_ups_housekeeping()
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_no_duplicates(org):
    for _ in range(30):
        c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
        Customer.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=400))
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait()
            reminder_services.reminders_generate(kinds=["contact_policy", "churn"])
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert FollowUp.objects.filter(kind="contact_policy").count() == 30
    assert FollowUp.objects.filter(kind="churn").count() == 30
