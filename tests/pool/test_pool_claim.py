"""Claims (认领): an RM takes customers of their own outlet's pool, within the daily limit per tier; one wins when
two RMs claim the same customer at once; a claimed customer is an ordinary primary customer (a handover takes it)."""

import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from customers.models import Customer
from pool import services, signals
from pool.models import PoolClaim, PoolKeeper, PoolRule
from relationships import services as rel_services
from relationships.models import Assignment
from tests.factories import StaffFactory

from .conftest import mass, pool_customer

pytestmark = pytest.mark.django_db

CLAIM = "/pool/claim/"


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone()))


def test_a_claim_opens_the_primary_assignment_and_records_the_claim(org, pool):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)
        return {}

    signals.customers_left_pool.connect(receiver)
    try:
        head = StaffFactory(branch=org.west_outlet, role="head")
        claims = services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])
    finally:
        signals.customers_left_pool.disconnect(receiver)
    pool.west_a.refresh_from_db()
    assert pool.west_a.primary_rm == org.rm_west
    assignment = Assignment.objects.get(customer=pool.west_a)
    assert (assignment.staff, assignment.role, assignment.reason) == (org.rm_west, "primary", "认领自客户池")
    assert assignment.ended_at is None
    [claim] = claims
    assert (claim.method, claim.staff, claim.branch, claim.segment, claim.assignment) == (
        PoolClaim.Method.CLAIM,
        org.rm_west,
        org.west_outlet,
        pool.west_a.segment,
        assignment,
    )
    assert claim.claimed_on == timezone.localdate()
    assert received[0]["moves"] == {pool.west_a.pk: org.rm_west}
    assert received[0]["keepers"] == {pool.west_a.pk: head.pk}
    # Now an ordinary primary customer: on the RM's list, off the pool page.
    assert Customer.objects.filter(primary_rm=org.rm_west, pk=pool.west_a.pk).exists()


def test_the_view_claims_a_selection_and_says_so(org, pool, login):
    client = login(org.rm_west)
    with translation.override("en"):
        response = client.post(CLAIM, {"customer": [pool.west_a.pk, pool.west_b.pk], "back": "segment=&sort=name"})
    assert response.status_code == 302 and response.url == "/pool/?sort=name"
    assert set(Customer.objects.filter(primary_rm=org.rm_west).values_list("pk", flat=True)) == {
        pool.west_a.pk,
        pool.west_b.pk,
    }
    page = client.get(response.url).content.decode()
    assert "池西甲" not in page


def test_the_default_limit_applies_without_a_rule(org):
    assert not PoolRule.objects.exists()
    limit = PoolRule.DEFAULTS["daily_claim_limit"]
    customers = [pool_customer(org.west_outlet, aum=str(1000 + i)) for i in range(limit + 1)]
    services.pool_claim(actor=org.rm_west.user, customer_ids=[c.pk for c in customers[:limit]])
    with pytest.raises(ValidationError):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[customers[-1].pk])


def test_over_the_limit_is_refused_whole_with_the_counts(org, pool, login):
    PoolRule.objects.create(segment=mass(), daily_claim_limit=2)
    services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])
    extra = pool_customer(org.west_outlet, name="池西丁")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_b.pk, extra.pk])
    text = " ".join(refused.value.messages)
    assert f"Today you have claimed 1 {mass().name} customers; the limit is 2 a day" in text
    assert "claim 1 more" in text
    # All or nothing: neither was claimed.
    assert Customer.objects.filter(pk__in=[pool.west_b.pk, extra.pk], primary_rm__isnull=True).count() == 2
    # Through the page: the refusal is a message.
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    response = client.post(CLAIM, {"customer": [pool.west_b.pk, extra.pk]}, follow=True)
    assert "Today you have claimed 1" in response.content.decode()
    # Another tier has its own limit: the wealth customer can still be claimed.
    services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_rich.pk, pool.west_b.pk])


def test_a_zero_limit_means_the_tier_cannot_be_claimed(org, pool):
    PoolRule.objects.create(segment=mass(), daily_claim_limit=0)
    with pytest.raises(ValidationError):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])


def test_the_limit_is_per_day(org, pool):
    PoolRule.objects.create(segment=mass(), daily_claim_limit=1)
    with at(date(2026, 11, 2)):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])
    with at(date(2026, 11, 2), 23), pytest.raises(ValidationError):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_b.pk])
    with at(date(2026, 11, 3), 0):  # midnight in Shanghai: a new day
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_b.pk])
    assert list(PoolClaim.objects.order_by("claimed_on").values_list("claimed_on", flat=True)) == [
        date(2026, 11, 2),
        date(2026, 11, 3),
    ]


def test_assignments_do_not_count_against_the_limit(org, pool):
    PoolRule.objects.create(segment=mass(), daily_claim_limit=1)
    services.pool_assign(actor=org.west_head.user, customer_ids=[pool.west_a.pk], rms=[org.rm_west], method="manual")
    services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_b.pk])


def test_another_outlets_customer_is_refused(org, pool, login):
    with pytest.raises(PermissionDenied):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west2.pk])
    # Through the page, a customer outside the RM's pools is a 404, and nothing is claimed.
    assert login(org.rm_west).post(CLAIM, {"one": pool.east.pk}).status_code == 404
    assert login(org.rm_west).post(CLAIM, {"customer": [pool.west_a.pk, pool.east.pk]}).status_code == 404
    assert not PoolClaim.objects.exists()


def test_a_closed_customer_is_not_in_the_pool(org, pool):
    with pytest.raises(PermissionDenied):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.closed.pk])


def test_a_customer_claimed_a_moment_ago_gets_a_clear_message(org, pool, login):
    other = StaffFactory(branch=org.west_outlet, role="rm")
    services.pool_claim(actor=other.user, customer_ids=[pool.west_a.pk])
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    response = client.post(CLAIM, {"one": pool.west_a.pk}, follow=True)
    assert "was given an RM a moment ago" in response.content.decode()
    assert PoolClaim.objects.count() == 1


def test_an_empty_selection_is_a_message(org, pool, login):
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    response = client.post(CLAIM, {}, follow=True)
    assert "Choose at least one customer." in response.content.decode()
    response = client.post(CLAIM, {"customer": ["x1"]}, follow=True)
    assert "The selection is not valid" in response.content.decode()
    assert not PoolClaim.objects.exists()


def test_only_rms_claim(org, pool):
    for who in (org.west_head, org.admin, org.west_officer):
        with pytest.raises(PermissionDenied):
            services.pool_claim(actor=who.user, customer_ids=[pool.west_a.pk])


def test_a_leaving_rm_cannot_claim(org, pool):
    rel_services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west, last_day=date(2026, 12, 31))
    with pytest.raises(PermissionDenied):
        services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])


def test_a_leavers_claimed_customers_go_with_the_handover(org, pool):
    services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk, pool.west_b.pk])
    taker = StaffFactory(branch=org.west_outlet, role="rm")
    rel_services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west, last_day=date(2026, 12, 31))
    handover = rel_services.handover_start(actor=org.west_head.user, leaver=org.rm_west, targets=[taker], method="even")
    assert set(handover.items.values_list("customer_id", flat=True)) >= {pool.west_a.pk, pool.west_b.pk}
    rel_services.handover_submit(actor=org.west_head.user, handover=handover)
    rel_services.handover_approve(actor=org.top_head.user, handover=handover)
    assert set(
        Customer.objects.filter(pk__in=[pool.west_a.pk, pool.west_b.pk]).values_list("primary_rm", flat=True)
    ) == {taker.pk}


def _race(*calls):
    """Run the calls at once, each on its own database connection; return their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rms_claiming_the_same_customer_at_once_one_wins(org):
    customer = pool_customer(org.west_outlet)
    other = StaffFactory(branch=org.west_outlet, role="rm")
    results = _race(
        lambda: services.pool_claim(actor=org.rm_west.user, customer_ids=[customer.pk]),
        lambda: services.pool_claim(actor=other.user, customer_ids=[customer.pk]),
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ValidationError), results
    assert PoolClaim.objects.filter(customer=customer).count() == 1
    assert Assignment.objects.filter(customer=customer).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_rms_concurrent_claims_keep_to_the_limit(org):
    PoolRule.objects.create(segment=mass(), daily_claim_limit=1)
    a, b = pool_customer(org.west_outlet), pool_customer(org.west_outlet)
    results = _race(
        lambda: services.pool_claim(actor=org.rm_west.user, customer_ids=[a.pk]),
        lambda: services.pool_claim(actor=org.rm_west.user, customer_ids=[b.pk]),
    )
    assert sum(isinstance(r, ValidationError) for r in results) == 1, results
    assert PoolClaim.objects.filter(staff=org.rm_west).count() == 1


def test_keeper_of_a_named_keeper_is_sent(org, pool):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["keepers"])
        return {}

    PoolKeeper.objects.create(branch=org.west_outlet, staff=org.rm_west, named_at=timezone.now() - timedelta(days=1))
    other = StaffFactory(branch=org.west_outlet, role="rm")
    signals.customers_left_pool.connect(receiver)
    try:
        services.pool_claim(actor=other.user, customer_ids=[pool.west_a.pk])
    finally:
        signals.customers_left_pool.disconnect(receiver)
    assert received == [{pool.west_a.pk: org.rm_west.pk}]
