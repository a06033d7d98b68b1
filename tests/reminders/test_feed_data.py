"""The reminders read what the core-banking extracts load: closed customers and closed holdings get no reminder
(and the 360° page lists open holdings only), and a large single transaction alerts the RM once."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, Holding, LargeTransaction
from customers.selectors import customer_360
from organisation.access import SYSTEM
from reminders import services as reminder_services
from reminders.models import FollowUp
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def travel(day: date):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 6, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


def run(*kinds, today=TODAY) -> dict:
    with travel(today):
        return {r.kind: r.created for r in reminder_services.reminders_generate(today=today, kinds=kinds or None)}


def close(customer, on=TODAY - timedelta(days=1)):
    Customer.objects.filter(pk=customer.pk).update(closed_on=on)


def holding(customer, *, matures_in=3, closed_on=None):
    product = ProductFactory(code="WM-F", name="稳健理财", category="wealth", risk_level="R2")
    return Holding.objects.create(
        customer=customer,
        product=product,
        amount=Decimal("50000"),
        opened_on=TODAY - timedelta(days=170),
        maturity_on=TODAY + timedelta(days=matures_in),
        closed_on=closed_on,
    )


def txn(customer, amount, *, day=TODAY - timedelta(days=1), channel="柜面"):
    at = datetime(day.year, day.month, day.day, 10, 30, tzinfo=timezone.get_current_timezone())
    return LargeTransaction.objects.create(
        customer=customer, business_date=day, txn_time=at, amount=Decimal(amount), channel=channel, memo="购房款"
    )


# -- closed customers ----------------------------------------------------------------------------------------------


def test_a_closed_customer_gets_no_reminder_of_any_kind(org, settings):
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    settings.REMINDER_HOLIDAY_LEAD_DAYS = 10
    day = date(2027, 2, 1)  # Spring Festival 2027 (6 February) within the holiday lead days
    open_, closed = (
        CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"), id_type="", id_number="") for _ in range(2)
    )
    for c in (open_, closed):
        customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=date(1980, 2, 3))
        Customer.objects.filter(pk=c.pk).update(
            created_at=timezone.now() - timedelta(days=800), lifecycle=Customer.Lifecycle.MATURE
        )
        Holding.objects.create(
            customer=c,
            product=ProductFactory(code="WM-C", category="wealth"),
            amount=Decimal("50000"),
            opened_on=day - timedelta(days=100),
            maturity_on=day + timedelta(days=2),
        )
        customer_services.asset_snapshot_record(customer=c, on=day - timedelta(days=2), aum=Decimal("800000"))
        customer_services.asset_snapshot_record(customer=c, on=day - timedelta(days=1), aum=Decimal("1500000"))
        txn(c, "-500000", day=day - timedelta(days=1))
    close(closed, on=day - timedelta(days=10))

    run(today=day)

    kinds = set(FollowUp.objects.filter(customer=open_).values_list("kind", flat=True))
    assert {"contact_policy", "birthday", "holiday", "maturity", "movement", "churn"} <= kinds  # the rules apply …
    assert not FollowUp.objects.filter(customer=closed).exists()  # … but not to a closed customer


def test_closing_a_customer_keeps_their_open_follow_ups_and_adds_none(org):
    c = CustomerFactory(primary_rm=org.rm_west)
    holding(c, matures_in=2)
    run("maturity")
    close(c)
    holding(c, matures_in=4)
    assert run("maturity") == {"maturity": 0}
    assert FollowUp.objects.filter(customer=c).count() == 1


# -- closed holdings ---------------------------------------------------------------------------------------------


def test_a_closed_holding_gives_no_maturity_reminder(org):
    c = CustomerFactory(primary_rm=org.rm_west)
    kept = holding(c)
    gone = holding(c, closed_on=TODAY - timedelta(days=1))
    assert run("maturity") == {"maturity": 1}
    assert FollowUp.objects.get(kind="maturity").source_ref == f"holding:{kept.pk}"
    assert not FollowUp.objects.filter(source_ref=f"holding:{gone.pk}").exists()


# -- large transactions ------------------------------------------------------------------------------------------


def test_a_large_transaction_alerts_the_rm_once(org):
    c = CustomerFactory(primary_rm=org.rm_west, name="王大额", aum=Decimal("800000"))  # wealth: 300,000
    out = txn(c, "-300000.00", channel="网银")
    into = txn(c, "1250000.50", day=TODAY - timedelta(days=2))
    assert run("movement") == {"movement": 2}

    follow_up = FollowUp.objects.get(dedupe_key=f"txn:{out.pk}")
    assert follow_up.kind == "movement" and follow_up.staff == org.rm_west and follow_up.status == "open"
    assert follow_up.due_on == out.business_date and follow_up.source_ref == f"txn:{out.pk}"
    assert follow_up.title.startswith("大额交易：王大额 转出 300000") and follow_up.title.endswith(" 元")
    assert Decimal(str(follow_up.detail["amount"])) == Decimal("-300000.00")
    assert follow_up.detail["channel"] == "网银" and follow_up.detail["time"]
    assert FollowUp.objects.get(dedupe_key=f"txn:{into.pk}").title.startswith("大额交易：王大额 转入 1250000.5")

    assert run("movement") == {"movement": 0}  # a second run, or the next morning's, adds nothing
    assert run("movement", today=TODAY + timedelta(days=1)) == {"movement": 0}
    assert FollowUp.objects.filter(customer=c).count() == 2


@pytest.mark.parametrize("amount", ["299999.99", "-299999.99"])
def test_a_transaction_below_the_tier_threshold_gives_nothing(org, amount):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))  # wealth: 300,000
    txn(c, amount)
    assert run("movement") == {"movement": 0}
    assert not FollowUp.objects.filter(customer=c).exists()


def test_the_threshold_is_the_customers_tier(org):
    mass = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("10000"))  # mass: 20,000
    private = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("8000000"))  # private: 1,000,000
    txn(mass, "25000")
    txn(private, "-900000")
    run("movement")
    assert FollowUp.objects.filter(customer=mass, kind="movement").count() == 1
    assert not FollowUp.objects.filter(customer=private).exists()


def test_only_transactions_of_the_lookback_days(org, settings):
    settings.REMINDER_MOVEMENT_LOOKBACK_DAYS = 3
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    recent = txn(c, "400000", day=TODAY - timedelta(days=2))
    txn(c, "400000", day=TODAY - timedelta(days=3))  # outside: older than the lookback
    assert run("movement") == {"movement": 1}
    assert FollowUp.objects.get(customer=c).source_ref == f"txn:{recent.pk}"


def test_the_day_over_day_aum_rule_still_holds_beside_transactions(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    day = TODAY - timedelta(days=1)
    customer_services.asset_snapshot_record(customer=c, on=day - timedelta(days=1), aum=Decimal("2000000"))
    customer_services.asset_snapshot_record(customer=c, on=day, aum=Decimal("1600000"))
    t = txn(c, "-400000", day=day)
    assert run("movement") == {"movement": 2}
    assert set(FollowUp.objects.filter(customer=c).values_list("dedupe_key", flat=True)) == {
        f"movement:{c.pk}:{day.isoformat()}",
        f"txn:{t.pk}",
    }


# -- set-based: the statements do not grow with the data -------------------------------------------------------------


def test_query_counts_are_pinned(org, django_assert_num_queries):
    for i in range(6):
        c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
        holding(c, matures_in=i)
        txn(c, "-500000")
        txn(c, "700000", day=TODAY - timedelta(days=2))
    customers = Customer.objects.all()
    assert connection.features.supports_json_field  # SQLite asks once per connection: not counted below
    with django_assert_num_queries(1):  # one INSERT … SELECT
        assert reminder_services.generate_maturity(TODAY) == 6
    with django_assert_num_queries(2):  # the snapshot days (none here), then one INSERT … SELECT of transactions
        assert reminder_services.generate_movement(TODAY) == 12
    with django_assert_num_queries(2):  # the same within a scope, again: nothing new
        assert reminder_services.generate_movement(TODAY, scope=customers) == 0


# -- the 360° page ---------------------------------------------------------------------------------------------------


def test_the_360_page_lists_open_holdings_only(org):
    c = CustomerFactory(primary_rm=org.rm_west)
    kept = holding(c)
    holding(c, closed_on=TODAY - timedelta(days=1))
    assert [h.pk for h in customer_360(org.rm_west.user, c.pk).holdings] == [kept.pk]
