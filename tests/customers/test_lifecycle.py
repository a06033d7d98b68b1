"""The derived lifecycle (customers.lifecycle): each stage from the data at its boundaries, the precedence, stages
set by hand left alone, the history rows (and the dashboards' lost customers counted from them), idempotency, a
constant number of statements; the task, the beat entry, the form, the 360° page and the admin."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers import lifecycle, services, tasks
from customers.models import AssetSnapshot, Customer, Holding, LifecycleRules
from dashboards import figures
from dashboards.models import BranchDayFigures
from organisation.access import SYSTEM
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)  # the business date; the derivation runs the next night
RUN_AT = datetime(2026, 7, 1, 1, 40, tzinfo=timezone.get_current_timezone())
S = Customer.Lifecycle


@pytest.fixture(autouse=True)
def _on_the_business_date():
    """The data is made during the business date; each derivation runs the night after (``derive``)."""
    with time_machine.travel(datetime(2026, 6, 30, 12, 0, tzinfo=timezone.get_current_timezone())):
        yield


def derive(as_of: date = AS_OF, at: datetime = RUN_AT) -> dict:
    with time_machine.travel(at, tick=False):
        return lifecycle.lifecycle_derive(as_of=as_of)


def customer(org, *, aum="10000.00", lifecycle_stage=None) -> Customer:
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal(aum))
    if lifecycle_stage:  # the stage it had before (as typed by hand in the past, not pinned)
        Customer.objects.filter(pk=c.pk).update(lifecycle=lifecycle_stage)
    return c


def hold(c: Customer, *, days_ago: int, closed_days_ago: int | None = None) -> Holding:
    product = ProductFactory(code="WM-L", name="稳健理财", category="wealth", risk_level="R2")
    return Holding.objects.create(
        customer=c,
        product=product,
        amount=Decimal("50000"),
        opened_on=AS_OF - timedelta(days=days_ago),
        closed_on=None if closed_days_ago is None else AS_OF - timedelta(days=closed_days_ago),
    )


def snap(c: Customer, *, days_ago: int, aum: str) -> None:
    AssetSnapshot.objects.create(customer=c, date=AS_OF - timedelta(days=days_ago), aum=Decimal(aum))


def stage(c: Customer) -> str:
    c.refresh_from_db()
    return c.lifecycle


def established(org, *, aum: str, then: str | None) -> Customer:
    """A customer holding a product for over a year; ``then``: their snapshot of 90 days before the day."""
    c = customer(org, aum=aum)
    hold(c, days_ago=400)
    if then is not None:
        snap(c, days_ago=90, aum=then)
    return c


# -- each stage from the data ---------------------------------------------------------------------------------------


def test_closed_in_core_banking_is_lost(org):
    c = established(org, aum="80000.00", then="10000.00")  # growing, were it not closed
    Customer.objects.filter(pk=c.pk).update(closed_on=AS_OF)
    derive()
    assert stage(c) == S.LOST


def test_near_zero_for_the_whole_window_after_being_active_is_lost(org):
    quiet = customer(org, aum="100.00", lifecycle_stage=S.MATURE)
    hold(quiet, days_ago=400, closed_days_ago=100)
    snap(quiet, days_ago=120, aum="50000.00")
    snap(quiet, days_ago=89, aum="100.00")  # the window (D − 90, D]: at or below 100.00 on every snapshot
    snap(quiet, days_ago=0, aum="0.00")
    stirred = customer(org, aum="0.00", lifecycle_stage=S.MATURE)
    hold(stirred, days_ago=400)
    snap(stirred, days_ago=89, aum="100.01")  # one snapshot above the line inside the window
    derive()
    assert stage(quiet) == S.LOST
    assert stage(stirred) != S.LOST


def test_near_zero_is_not_lost_without_activity_before_the_window(org):
    """A first product opened inside the window with no money yet: new, not lost."""
    c = customer(org, aum="0.00")
    hold(c, days_ago=30)
    derive()
    assert stage(c) == S.NEW


def test_a_customer_who_had_money_but_never_a_product_and_is_gone_is_lost(org):
    c = customer(org, aum="0.00")
    snap(c, days_ago=200, aum="30000.00")
    derive()
    assert stage(c) == S.LOST  # lost before prospect


@pytest.mark.parametrize(("aum", "expected"), [("0.00", S.PROSPECT), ("100.00", S.PROSPECT), ("100.01", S.MATURE)])
def test_prospect_never_held_a_product_and_near_zero(org, aum, expected):
    c = customer(org, aum=aum)
    derive()
    assert stage(c) == expected


def test_a_closed_holding_still_counts_as_having_held_a_product(org):
    c = customer(org, aum="0.00")
    hold(c, days_ago=60, closed_days_ago=10)
    derive()
    assert stage(c) == S.NEW  # not a prospect: they held a product


@pytest.mark.parametrize(("days_ago", "expected"), [(0, S.NEW), (89, S.NEW), (90, S.MATURE)])
def test_new_within_new_days_of_the_first_holding(org, days_ago, expected):
    c = customer(org, aum="20000.00")
    hold(c, days_ago=days_ago)
    derive()
    assert stage(c) == expected


def test_new_counts_from_the_first_holding_not_the_latest(org):
    c = customer(org, aum="20000.00")
    hold(c, days_ago=300)
    hold(c, days_ago=5)
    derive()
    assert stage(c) == S.MATURE


@pytest.mark.parametrize(
    ("aum", "expected"),
    [
        ("7000.00", S.DECLINING),  # down exactly 30 %
        ("7000.01", S.MATURE),
        ("10999.99", S.MATURE),
        ("11000.00", S.GROWING),  # up exactly 10 %
        ("10000.00", S.MATURE),
    ],
)
def test_trend_against_the_snapshot_of_trend_days_ago(org, aum, expected):
    c = established(org, aum=aum, then="10000.00")
    derive()
    assert stage(c) == expected


def test_no_snapshot_on_the_trend_day_is_mature(org):
    c = established(org, aum="90000.00", then=None)
    snap(c, days_ago=91, aum="10000.00")  # the day before is not the trend day
    derive()
    assert stage(c) == S.MATURE


def test_thresholds_come_from_the_lifecycle_rules(org):
    LifecycleRules.objects.create(new_days=30, trend_days=30, growing_percent=50, declining_percent=10)
    was_new = customer(org, aum="20000.00")
    hold(was_new, days_ago=45)
    falling = customer(org, aum="8900.00")
    hold(falling, days_ago=400)
    snap(falling, days_ago=30, aum="10000.00")
    derive()
    assert (stage(was_new), stage(falling)) == (S.MATURE, S.DECLINING)


# -- precedence -----------------------------------------------------------------------------------------------------


def test_precedence_lost_prospect_new_declining_growing_mature(org):
    closed_new = customer(org, aum="50000.00")
    hold(closed_new, days_ago=10)
    Customer.objects.filter(pk=closed_new.pk).update(closed_on=AS_OF - timedelta(days=1))
    closed_prospect = customer(org, aum="0.00")
    Customer.objects.filter(pk=closed_prospect.pk).update(closed_on=AS_OF)
    new_and_falling = customer(org, aum="1000.00")
    hold(new_and_falling, days_ago=60)
    snap(new_and_falling, days_ago=90, aum="10000.00")
    derive()
    assert stage(closed_new) == S.LOST
    assert stage(closed_prospect) == S.LOST
    assert stage(new_and_falling) == S.NEW


def test_counts_per_new_stage(org):
    established(org, aum="5000.00", then="10000.00")  # declining
    established(org, aum="20000.00", then="10000.00")  # growing
    established(org, aum="20000.00", then="10000.00")  # growing
    customer(org, aum="0.00")  # prospect
    assert derive() == {"lost": 0, "prospect": 1, "new": 0, "declining": 1, "growing": 2, "mature": 0}


# -- set by hand ----------------------------------------------------------------------------------------------------


def test_a_stage_set_by_hand_is_left_alone_until_set_back(org):
    c = established(org, aum="20000.00", then="10000.00")  # growing by the data
    services.customer_update(actor=org.west_head.user, customer=c, lifecycle=S.DECLINING)
    c.refresh_from_db()
    assert (c.lifecycle, c.lifecycle_manual) == (S.DECLINING, True)
    assert derive()["growing"] == 0
    assert stage(c) == S.DECLINING
    services.customer_update(actor=org.west_head.user, customer=c, lifecycle="")  # "derived automatically"
    c.refresh_from_db()
    assert (c.lifecycle, c.lifecycle_manual) == (S.DECLINING, False)
    derive(at=RUN_AT + timedelta(days=1))
    assert stage(c) == S.GROWING


def test_editing_other_fields_keeps_the_flag_and_the_same_stage_does_not_pin(org):
    pinned = customer(org)
    services.customer_update(actor=org.west_head.user, customer=pinned, lifecycle=S.MATURE)
    services.customer_update(actor=org.west_head.user, customer=pinned, lifecycle=S.MATURE, notes="来电")
    pinned.refresh_from_db()
    assert pinned.lifecycle_manual is True
    derived = customer(org)
    services.customer_update(actor=org.west_head.user, customer=derived, lifecycle=derived.lifecycle, notes="来电")
    derived.refresh_from_db()
    assert derived.lifecycle_manual is False


def test_registering_with_a_chosen_stage_sets_it_by_hand(org):
    chosen = services.customer_create(actor=SYSTEM, kind="individual", name="甲", branch=org.west_outlet,
                                      lifecycle=S.NEW)  # fmt: skip
    derived = services.customer_create(actor=SYSTEM, kind="individual", name="乙", branch=org.west_outlet, lifecycle="")
    assert (chosen.lifecycle_manual, derived.lifecycle_manual) == (True, False)


# -- history and the dashboards -------------------------------------------------------------------------------------


def test_each_change_is_one_history_row_with_the_whole_customer(org):
    c = established(org, aum="5000.00", then="10000.00")
    before = c.history.count()
    derive()
    c.refresh_from_db()
    assert c.history.count() == before + 1
    row = c.history.latest()
    assert (row.history_type, row.history_user, row.history_change_reason) == ("~", None, "lifecycle: derived")
    assert row.history_date == RUN_AT
    for field in Customer.history.model.tracked_fields:
        assert getattr(row, field.attname) == getattr(c, field.attname), field.name
    assert (c.lifecycle, c.updated_at, c.updated_by) == (S.DECLINING, RUN_AT, None)


def test_the_360_page_shows_the_derived_change_by_the_system(org, login):
    c = established(org, aum="5000.00", then="10000.00")
    derive()
    body = login(org.west_head).get(reverse("customers:customer-detail", args=[c.pk])).content.decode()
    history = body[body.index('data-testid="change-history"') :]
    assert "衰退" in history.split("</li>")[0]


def test_a_derived_loss_is_counted_in_the_dashboards_lost_customers(org):
    gone = customer(org, aum="0.00", lifecycle_stage=S.MATURE)
    hold(gone, days_ago=400, closed_days_ago=200)
    snap(gone, days_ago=150, aum="40000.00")
    customer(org, aum="0.00")  # a prospect: not a loss
    derive()
    day = RUN_AT.date()  # counted on the day the change was written
    assert list(figures.lost_customers_on(day).values_list("id", flat=True)) == [gone.pk]
    with time_machine.travel(RUN_AT + timedelta(hours=1), tick=False):
        figures.figures_build(day=day)
    row = BranchDayFigures.objects.get(branch=org.west_outlet, day=day)
    assert row.lost_customers == 1


# -- idempotency and cost -------------------------------------------------------------------------------------------


def test_running_the_same_day_again_changes_nothing(org):
    established(org, aum="5000.00", then="10000.00")
    established(org, aum="20000.00", then="10000.00")
    customer(org, aum="0.00")
    assert sum(derive().values()) == 3
    rows = Customer.history.count()
    assert derive() == dict.fromkeys(["lost", "prospect", "new", "declining", "growing", "mature"], 0)
    assert derive(at=RUN_AT + timedelta(hours=2)) == dict.fromkeys(lifecycle.PRECEDENCE, 0)
    assert Customer.history.count() == rows


def _population(org, n: int) -> None:
    for i in range(n):
        c = established(org, aum=str(5000 + 4000 * (i % 4)), then="10000.00")
        if i % 3 == 0:
            hold(c, days_ago=10)


# rules, the history's highest id, per stage an INSERT … SELECT and an UPDATE; a savepoint around it in a test
QUERIES = 2 + 2 * len(lifecycle.PRECEDENCE) + 2


@pytest.mark.parametrize("n", [2, 12])
def test_statements_do_not_depend_on_the_number_of_customers(org, n, django_assert_num_queries):
    _population(org, n)
    with django_assert_num_queries(QUERIES):
        changed = derive()
    assert sum(changed.values()) == n


# -- the task and the schedule --------------------------------------------------------------------------------------


def test_the_task_derives_yesterday_by_default_or_the_given_day(org):
    c = customer(org, aum="20000.00")
    hold(c, days_ago=0)  # opened on AS_OF
    with time_machine.travel(RUN_AT, tick=False):
        assert tasks.derive_lifecycle.run("2026-06-29")["new"] == 0
    assert stage(c) == S.MATURE  # on the 29th: no product yet, but money in the bank
    with time_machine.travel(RUN_AT + timedelta(minutes=1), tick=False):
        assert tasks.derive_lifecycle.run()["new"] == 1  # yesterday: the 30th
    assert stage(c) == S.NEW


def test_the_nightly_entry_is_installed(db):
    entry = PeriodicTask.objects.get(name="customers: derive the lifecycle stages")
    assert entry.task == "customers.tasks.derive_lifecycle"
    assert (entry.crontab.hour, entry.crontab.minute) == ("1", "40")


# -- the form, the page and the admin -------------------------------------------------------------------------------


def test_the_form_offers_derived_and_the_page_says_set_by_hand(org, login):
    c = customer(org)
    client = login(org.west_head)
    edit = reverse("customers:customer-update", args=[c.pk])
    form = client.get(edit).content.decode()
    assert '<option value="" selected>自动推导</option>' in form
    data = {"kind": "individual", "name": c.name, "id_type": c.id_type, "lifecycle": S.GROWING}
    assert client.post(edit, data).status_code == 302
    c.refresh_from_db()
    assert (c.lifecycle, c.lifecycle_manual) == (S.GROWING, True)
    page = client.get(reverse("customers:customer-detail", args=[c.pk])).content.decode()
    assert "人工设定" in page[page.index('data-testid="lifecycle"') :][:400]
    assert 'value="growing" selected' in client.get(edit).content.decode()
    assert client.post(edit, data | {"lifecycle": ""}).status_code == 302
    c.refresh_from_db()
    assert (c.lifecycle, c.lifecycle_manual) == (S.GROWING, False)
    page = client.get(reverse("customers:customer-detail", args=[c.pk])).content.decode()
    assert "人工设定" not in page[page.index('data-testid="lifecycle"') :][:400]


def test_lifecycle_rules_in_admin_are_one_row_never_deleted(org, login):
    client = login(org.admin)
    add = reverse("admin:customers_lifecyclerules_add")
    data = {"new_days": 60, "trend_days": 90, "growing_percent": 10, "declining_percent": 30, "lost_aum": "100.00",
            "lost_days": 90}  # fmt: skip
    assert client.post(add, data).status_code == 302
    rules = LifecycleRules.objects.get()
    assert LifecycleRules.current().new_days == 60
    assert client.get(add).status_code == 403  # a second row: no
    change = reverse("admin:customers_lifecyclerules_change", args=[rules.pk])
    assert client.post(change, data | {"new_days": 45}).status_code == 302
    assert LifecycleRules.current().new_days == 45
    assert (
        client.post(reverse("admin:customers_lifecyclerules_delete", args=[rules.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert LifecycleRules.objects.count() == 1


def test_customer_admin_filters_by_set_by_hand(org, login):
    c = customer(org)
    pinned = customer(org)
    services.customer_update(actor=org.west_head.user, customer=pinned, lifecycle=S.LOST)
    body = login(org.admin).get(reverse("admin:customers_customer_changelist"), {"lifecycle_manual__exact": "1"})
    assert body.status_code == 200
    assert pinned.customer_no in body.content.decode() and c.customer_no not in body.content.decode()
