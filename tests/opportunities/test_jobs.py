"""The two daily jobs: the morning reminder of stale opportunities (one per owner and day, never twice) and the
reconciliation of won opportunities with the holdings the feed loads (matched, unmatched after N days)."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from customers.models import Holding
from notifications.models import Notification
from opportunities import services, tasks
from opportunities.models import Opportunity, OpportunityEvent, OpportunityRules, StaleNotice
from opportunities.services import opportunity_stage_set
from tests.factories import CustomerFactory, ProductFactory

from .conftest import TODAY, open_one, travel

pytestmark = pytest.mark.django_db
Stage = Opportunity.Stage


# --- stale reminders ---------------------------------------------------------------------------------------------


def test_each_owner_is_told_once_a_day_with_the_count(org, book, django_assert_num_queries):
    rm = org.rm_west.user
    fresh = open_one(rm, book.west, expected_on=TODAY + timedelta(days=40))
    due_soon = open_one(rm, book.west, expected_on=TODAY + timedelta(days=3))
    quiet = open_one(rm, book.corporate, expected_on=TODAY + timedelta(days=60))
    other = open_one(org.rm_west2.user, book.west2, expected_on=TODAY + timedelta(days=2))
    won = open_one(rm, book.west, expected_on=TODAY + timedelta(days=2))
    opportunity_stage_set(actor=rm, opportunity=won, stage=Stage.WON)
    day = TODAY + timedelta(days=10)
    with travel(day):
        opportunity_stage_set(actor=rm, opportunity=fresh, stage=Stage.INTEREST)  # moved: not stale
    # Ten days on, two are past their expected date (due_soon, other); 31 days on, quiet has not moved for 30.
    with travel(day, 7):
        result = services.opportunity_stale_reminders()
    assert result == {"owners": 2, "opportunities": 2}
    texts = dict(Notification.objects.values_list("recipient_id", "text"))
    assert re.findall(r"\d+", texts[org.rm_west.pk]) == ["1", "30"]  # the count, the days (in Chinese, as sent)
    assert Notification.objects.get(recipient=org.rm_west).url == "/opportunities/?flag=stale"
    # A second run the same day (a retry): nothing more, in a handful of statements.
    with travel(day, 8), django_assert_num_queries(5):
        assert services.opportunity_stale_reminders() == {"owners": 0, "opportunities": 0}
    assert Notification.objects.count() == 2
    later = TODAY + timedelta(days=31)
    with travel(later, 7):
        assert tasks.stale_reminders.run() == {"owners": 2, "opportunities": 3}  # + quiet, not moved for 30 days
    assert StaleNotice.objects.get(owner=org.rm_west, day=later).opportunities == 2
    assert Notification.objects.filter(recipient=org.rm_west).count() == 2
    assert due_soon.pk and quiet.pk and other.pk


def test_an_admin_setting_changes_when_one_is_stale(org, book):
    open_one(org.rm_west.user, book.west, expected_on=TODAY + timedelta(days=60))
    OpportunityRules.objects.create(stale_days=7)
    with travel(TODAY + timedelta(days=6)):
        assert services.opportunity_stale_reminders()["owners"] == 0
    with travel(TODAY + timedelta(days=7)):
        assert services.opportunity_stale_reminders()["owners"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_tell_once(org, book):
    open_one(org.rm_west.user, book.west, expected_on=TODAY + timedelta(days=1))
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            with travel(TODAY + timedelta(days=5)):
                results.append(services.opportunity_stale_reminders()["owners"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1] and Notification.objects.count() == 1


# --- reconciliation -----------------------------------------------------------------------------------------------


def hold(customer, product, opened_on, amount="500000"):
    return Holding.objects.create(customer=customer, product=product, amount=Decimal(amount), opened_on=opened_on)


def win(o, day):
    with travel(day):
        return opportunity_stage_set(actor=o.owner.user, opportunity=o, stage=Stage.WON)


def test_won_ones_are_matched_to_the_holding_that_shows_the_sale(org, book, product):
    other_product = ProductFactory(code="WM-OTHER", category="wealth")
    by_product = open_one(org.rm_west.user, book.west, product=product)
    by_kind = open_one(org.rm_west.user, book.corporate, product_category="wealth")
    twice = open_one(org.rm_west.user, book.west, product=product)  # a second sale of the same product
    early = open_one(org.rm_east.user, book.east, product=product)
    for o in (by_product, by_kind, twice, early):
        win(o, TODAY + timedelta(days=5))
    hold(book.west, product, TODAY - timedelta(days=3))  # opened before the opportunity: not this sale
    hold(book.west, other_product, TODAY + timedelta(days=4))  # another product
    sale = hold(book.west, product, TODAY + timedelta(days=6))
    kind_sale = hold(book.corporate, other_product, TODAY + timedelta(days=5))
    hold(book.east, product, TODAY + timedelta(days=40))  # outside the 30-day window of the won date
    with travel(TODAY + timedelta(days=7)):
        result = tasks.reconcile_won.run()
    assert result == {"matched": 2, "unmatched": 0, "branches_repaired": 0}
    state = {o.pk: (o.match_status, o.matched_holding_id) for o in Opportunity.objects.all()}
    assert state[by_product.pk] == ("matched", sale.pk) and state[by_kind.pk] == ("matched", kind_sale.pk)
    assert state[twice.pk] == ("pending", None) and state[early.pk] == ("pending", None)
    assert OpportunityEvent.objects.filter(kind="matched").count() == 2
    # Run again: nothing changes. The second sale's holding arrives later and matches it.
    with travel(TODAY + timedelta(days=8)):
        assert services.opportunities_reconcile()["matched"] == 0
        second = hold(book.west, product, TODAY + timedelta(days=8))
        assert services.opportunities_reconcile()["matched"] == 1
    assert Opportunity.objects.get(pk=twice.pk).matched_holding == second


def test_no_holding_after_n_days_is_flagged_unmatched(org, book, product):
    o = open_one(org.rm_west.user, book.west, product=product)
    win(o, TODAY)
    rules = OpportunityRules.current()
    with travel(TODAY + timedelta(days=rules.unmatched_after_days)):
        assert services.opportunities_reconcile()["unmatched"] == 0  # the last day of the grace
    with travel(TODAY + timedelta(days=rules.unmatched_after_days + 1)):
        assert services.opportunities_reconcile()["unmatched"] == 1
        assert services.opportunities_reconcile()["unmatched"] == 0
    o.refresh_from_db()
    assert o.match_status == "unmatched" and OpportunityEvent.objects.filter(kind="unmatched").count() == 1


def test_a_branch_out_of_step_is_put_back(org, book):
    o = open_one(org.rm_west.user, book.west)
    Opportunity.objects.filter(pk=o.pk).update(branch=org.east_outlet)
    assert services.opportunities_reconcile()["branches_repaired"] == 1
    assert Opportunity.objects.get(pk=o.pk).branch_id == book.west.branch_id


@pytest.mark.postgres
def test_a_thousand_won_ones_in_a_few_statements(org, product, django_assert_max_num_queries):
    customers = [CustomerFactory(primary_rm=org.rm_west) for _ in range(3)]
    rows = [open_one(org.rm_west.user, c, product=product) for c in customers]
    for o in rows:
        win(o, TODAY)
    # Clone them to a thousand waiting ones (a bulk copy, as a busy month would leave).
    template = Opportunity.objects.get(pk=rows[0].pk)
    clones = []
    for i in range(1000):
        template.pk = None
        template.customer_id = customers[i % 3].pk
        clones.append(
            Opportunity(**{f.attname: getattr(template, f.attname) for f in Opportunity._meta.concrete_fields})
        )
    Opportunity.objects.bulk_create(clones)
    for c in customers:
        hold(c, product, TODAY)
    with travel(TODAY + timedelta(days=1)), django_assert_max_num_queries(12):
        result = services.opportunities_reconcile()
    assert result["matched"] == 3
