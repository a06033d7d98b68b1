"""Pool customers are not forgotten: their reminders go to the outlet's pool keeper (the named keeper, else the
outlet's head), follow the customer out of the pool and back into it, and move when the keeper changes."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, Holding, LargeTransaction
from organisation.access import SYSTEM
from organisation.models import Staff
from pool import signals as pool_signals
from pool.models import PoolKeeper
from relationships.models import Interaction
from reminders import services
from reminders.models import FollowUp
from tests.factories import CustomerFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 7)


def travel(day: date, hour: int = 6):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


def run(day: date, *kinds):
    with travel(day):
        return {r.kind: r.created for r in services.reminders_generate(kinds=kinds or None)}


@pytest.fixture
def outlet_head(org):
    return StaffFactory(username="west_outlet_head", name="网点主任壬", branch=org.west_outlet, role=Staff.Role.HEAD)


def name_keeper(outlet, staff):
    return PoolKeeper.objects.update_or_create(branch=outlet, defaults={"staff": staff, "named_at": timezone.now()})[0]


def pool_customer(outlet, *, birth: date | None = None, **kw) -> Customer:
    c = CustomerFactory(primary_rm=None, branch=outlet, id_type="", id_number="", **kw)
    if birth:
        customer_services.customer_update(actor=SYSTEM, customer=c, birth_date=birth)
    Customer.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=800))
    c.refresh_from_db()
    return c


def owners(customer, kind=None):
    rows = FollowUp.objects.filter(customer=customer)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("staff_id", flat=True))


def test_a_pool_customers_birthday_goes_to_the_outlets_head(org, outlet_head):
    c = pool_customer(org.west_outlet, birth=date(1980, DAY.month, DAY.day + 2))
    run(DAY, "birthday")
    assert owners(c, "birthday") == [outlet_head.pk]


def test_a_named_keeper_comes_before_the_head(org, outlet_head):
    keeper = StaffFactory(username="keeper", branch=org.west_outlet, role=Staff.Role.RM)
    name_keeper(org.west_outlet, keeper)
    c = pool_customer(org.west_outlet, birth=date(1980, DAY.month, DAY.day + 1))
    run(DAY, "birthday", "contact_policy")
    assert owners(c) == [keeper.pk, keeper.pk]  # the birthday and the regular contact
    # A keeper who left no longer keeps it: the head does.
    Staff.objects.filter(pk=keeper.pk).update(status=Staff.Status.LEFT, left_on=DAY - timedelta(days=1))
    c2 = pool_customer(org.west_outlet, birth=date(1981, DAY.month, DAY.day + 1))
    run(DAY, "birthday")
    assert owners(c2, "birthday") == [outlet_head.pk]


def test_contact_policy_maturity_and_movement_go_to_the_keeper(org, outlet_head):
    c = pool_customer(org.west_outlet)
    with travel(DAY):
        Holding.objects.create(
            customer=c,
            product=ProductFactory(),
            amount=Decimal("50000"),
            opened_on=DAY - timedelta(days=180),
            maturity_on=DAY + timedelta(days=3),
        )
        LargeTransaction.objects.create(
            customer=c,
            business_date=DAY - timedelta(days=1),
            amount=Decimal("-900000"),
            channel="counter",
            txn_time=timezone.now(),
        )
    run(DAY)
    assert set(FollowUp.objects.filter(customer=c).values_list("kind", "staff_id")) == {
        ("contact_policy", outlet_head.pk),
        ("maturity", outlet_head.pk),
        ("movement", outlet_head.pk),
    }


def test_a_pool_without_keeper_gets_no_reminder_and_no_error(org):
    c = pool_customer(org.west_outlet2, birth=date(1980, DAY.month, DAY.day))
    created = run(DAY)
    assert owners(c) == [] and all(n == 0 for n in created.values())


def test_the_rms_customers_still_go_to_their_rm(org, book, outlet_head):
    name_keeper(org.west_outlet, outlet_head)
    Customer.objects.filter(pk=book.west.pk).update(created_at=timezone.now() - timedelta(days=800))
    run(DAY, "contact_policy")
    assert owners(book.west) == [org.rm_west.pk]


def test_a_long_unreached_pool_customer_is_not_a_churn_warning_but_a_falling_one_is(org, outlet_head):
    quiet = pool_customer(org.west_outlet)
    falling = pool_customer(org.west_outlet, aum=Decimal("50000"))
    from customers.models import AssetSnapshot

    AssetSnapshot.objects.create(customer=falling, date=DAY - timedelta(days=60), aum=Decimal("100000"))
    AssetSnapshot.objects.create(customer=falling, date=DAY - timedelta(days=30), aum=Decimal("80000"))
    run(DAY, "churn")
    assert owners(quiet, "churn") == [] and owners(falling, "churn") == [outlet_head.pk]


def test_a_pool_customers_manual_follow_up_goes_to_whoever_asked_for_it(org, outlet_head):
    c = pool_customer(org.west_outlet)
    with travel(DAY):
        Interaction.objects.create(
            customer=c,
            staff=org.west_head,
            occurred_at=timezone.now(),
            next_follow_up_on=DAY + timedelta(days=2),
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
    run(DAY, "manual")
    assert owners(c, "manual") == [org.west_head.pk]


def claim(customer, rm, keeper_id):
    """What the pool's claim does to reminders: the customer gets an RM, and the pool says so."""
    Customer.objects.filter(pk=customer.pk).update(primary_rm=rm)
    return pool_signals.customers_left_pool.send(sender=None, moves={customer.pk: rm}, keepers={customer.pk: keeper_id})


def test_claimed_the_next_day_the_keepers_reminders_go_to_the_rm_and_none_is_made_twice(org, outlet_head):
    c = pool_customer(org.west_outlet, birth=date(1980, DAY.month, DAY.day + 2))
    run(DAY, "birthday", "contact_policy")
    assert owners(c) == [outlet_head.pk, outlet_head.pk]
    with travel(DAY + timedelta(days=1), 10):
        claim(c, org.rm_west, outlet_head.pk)
    assert owners(c) == [org.rm_west.pk, org.rm_west.pk]
    created = run(DAY + timedelta(days=1), "birthday", "contact_policy")
    assert created == {"birthday": 0, "contact_policy": 0}
    assert FollowUp.objects.filter(customer=c).count() == 2


def test_a_claim_leaves_the_keepers_other_follow_ups_alone(org, book, outlet_head):
    a, b = pool_customer(org.west_outlet), pool_customer(org.west_outlet)
    run(DAY, "contact_policy")
    claim(a, org.rm_west, outlet_head.pk)
    assert owners(a) == [org.rm_west.pk] and owners(b) == [outlet_head.pk]


def release(customer, rm, keeper_id):
    Customer.objects.filter(pk=customer.pk).update(primary_rm=None)
    return pool_signals.customers_entered_pool.send(
        sender=None, previous={customer.pk: rm.pk}, keepers={customer.pk: keeper_id}
    )


def test_released_into_the_pool_the_rms_open_follow_ups_go_to_the_keeper(org, book, outlet_head):
    Customer.objects.filter(pk=book.west.pk).update(created_at=timezone.now() - timedelta(days=800))
    run(DAY, "contact_policy")
    done = FollowUp.objects.create(
        customer=book.west, staff=org.rm_west, kind="manual", due_on=DAY, title="t", dedupe_key="x", status="done"
    )
    # The reminders' answer among the receivers' (the opportunities answer the same signal).
    [result] = [
        r
        for receiver, r in release(book.west, org.rm_west, outlet_head.pk)
        if receiver.__module__ == "reminders.receivers"
    ]
    assert result == {"follow_ups": 1, "follow_ups_closed": 0}
    assert owners(book.west, "contact_policy") == [outlet_head.pk]
    done.refresh_from_db()
    assert done.staff_id == org.rm_west.pk  # history stays with who did it
    assert run(DAY + timedelta(days=1), "contact_policy") == {"contact_policy": 0}


def test_released_into_a_pool_without_keeper_the_follow_ups_are_closed_with_the_reason(org, book):
    Customer.objects.filter(pk=book.west2.pk).update(created_at=timezone.now() - timedelta(days=800))
    run(DAY, "contact_policy")
    release(book.west2, org.rm_west2, None)
    f = FollowUp.objects.get(customer=book.west2)
    assert (f.status, f.staff_id) == ("skipped", org.rm_west2.pk) and f.skip_reason and f.completed_at


def test_a_new_keeper_takes_the_pools_open_follow_ups(org, book, outlet_head, django_capture_on_commit_callbacks):
    pooled = pool_customer(org.west_outlet)
    run(DAY, "contact_policy")
    keeper = StaffFactory(username="keeper2", branch=org.west_outlet, role=Staff.Role.RM)
    name_keeper(org.west_outlet, keeper)
    with django_capture_on_commit_callbacks() as callbacks:
        pool_signals.pool_keeper_changed.send(
            sender=None, branch_id=org.west_outlet.pk, old=outlet_head.pk, new=keeper.pk
        )
    assert owners(pooled) == [keeper.pk]
    assert len(callbacks) == 1  # the pool's reminders regenerated for the new keeper after the commit
    # Back to nobody (the keeper left, no head): closed with the reason.
    pool_signals.pool_keeper_changed.send(sender=None, branch_id=org.west_outlet.pk, old=keeper.pk, new=None)
    assert FollowUp.objects.get(customer=pooled).status == "skipped"


def test_a_pool_that_gets_its_first_keeper_is_reminded_at_once(org):
    c = pool_customer(org.west_outlet2, birth=date(1980, DAY.month, DAY.day + 1))
    run(DAY)
    head = StaffFactory(username="w2head", branch=org.west_outlet2, role=Staff.Role.HEAD)
    from reminders import tasks

    with travel(DAY, 9):
        tasks.refresh_pool_reminders(org.west_outlet2.pk)
    assert set(FollowUp.objects.filter(customer=c).values_list("kind", "staff_id")) == {
        ("birthday", head.pk),
        ("contact_policy", head.pk),
    }


def test_the_generators_query_count_does_not_grow_with_the_pool(org, outlet_head):
    def count():
        with travel(DAY), CaptureQueriesContext(connection) as ctx:
            services.reminders_generate(kinds=["birthday", "contact_policy", "maturity", "movement", "churn"])
        FollowUp.objects.all().delete()
        return len(ctx.captured_queries)

    pool_customer(org.west_outlet, birth=date(1980, DAY.month, DAY.day))
    few = count()
    for i in range(6):
        pool_customer(org.west_outlet, birth=date(1970 + i, DAY.month, DAY.day))
        pool_customer(org.west_outlet2)
    assert count() == few


def test_a_head_keeping_a_pool_sees_and_completes_their_follow_ups_on_today(org, login, outlet_head):
    c = pool_customer(org.west_outlet, birth=date(1980, DAY.month, DAY.day))
    run(DAY, "birthday")
    f = FollowUp.objects.get(customer=c)
    with travel(DAY, 9):
        client = login(outlet_head)
        page = client.get(reverse("reminders:today")).content.decode()
        assert 'data-testid="group-birthday"' in page and 'data-testid="per-rm"' in page
        assert services.digest_recipients(DAY) == [outlet_head.pk]
        response = client.post(
            reverse("reminders:follow-up-action", args=[f.pk, "done"]), {"channel": "phone", "outcome": "reached"}
        )
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.status == "done" and f.interaction.staff_id == outlet_head.pk


def test_a_head_without_follow_ups_sees_only_the_counts_per_rm(org, login, django_assert_max_num_queries):
    client = login(org.west_head)
    with django_assert_max_num_queries(10):  # the counts per RM, their own (none: no item query), the tasks section
        page = client.get(reverse("reminders:today")).content.decode()
    assert 'data-testid="per-rm"' in page and 'data-testid="today-empty"' not in page


def test_an_rm_named_keeper_takes_the_follow_ups_opens_the_customer_and_logs_the_contact(org, outlet_head, login):
    """Through the pool's own service: naming an RM sends the change, the pool's open follow-ups move to the RM,
    and the RM may open the pool customer's 360° page and log a contact (they keep the pool, so they see it);
    giving the pool back to the head takes both away again."""
    from pool import services as pool_services
    from relationships import services as relationship_services

    pooled = pool_customer(org.west_outlet)
    run(DAY, "contact_policy")
    assert owners(pooled) == [outlet_head.pk]
    rm = login(org.rm_west)
    assert rm.get(reverse("customers:customer-detail", args=[pooled.pk])).status_code == 404
    pool_services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=org.rm_west)
    assert owners(pooled) == [org.rm_west.pk]
    assert rm.get(reverse("customers:customer-detail", args=[pooled.pk])).status_code == 200
    with travel(DAY, 10):
        relationship_services.interaction_log(
            actor=org.rm_west.user, customer=pooled, channel="phone", notes="池客户回访"
        )
    assert FollowUp.objects.get(customer=pooled).status == "done"
    pool_services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=None)
    assert rm.get(reverse("customers:customer-detail", args=[pooled.pk])).status_code == 404
