"""Assignment by the head (分配): singly or in bulk, evenly, by tier or by hand, with the handover's one
distribution rule; only to active RMs of the customers' outlet; each RM told; nothing half-written."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Customer
from notifications.models import Notification
from pool import services
from pool.models import PoolClaim
from relationships import services as rel_services
from relationships.models import Assignment
from tests.factories import StaffFactory

from .conftest import pool_customer

pytestmark = pytest.mark.django_db

ASSIGN = "/pool/assign/"


@pytest.fixture
def second_rm(org):
    return StaffFactory(username="rm_west_b", branch=org.west_outlet, role="rm", employee_no="E9")


def rm_of(*customers):
    return [Customer.objects.get(pk=c.pk).primary_rm_id for c in customers]


def test_split_customers_is_the_handover_rule():
    rows = [(1, "a"), (2, "a"), (3, "b"), (4, "a"), (5, "b")]
    assert rel_services.split_customers(rows, [10, 20], "even") == {1: 10, 2: 20, 3: 10, 4: 20, 5: 10}
    assert rel_services.split_customers(rows, [10, 20], "by_tier") == {1: 10, 2: 20, 3: 10, 4: 10, 5: 20}
    assert rel_services.split_customers(rows, [10, 20], "manual", kept={2: 10}) == {
        1: 10,
        2: 10,
        3: 20,
        4: 10,
        5: 20,
    }


def test_even_split_by_aum_over_two_rms(org, second_rm):
    customers = [pool_customer(org.west_outlet, aum=str(a)) for a in (50000, 40000, 30000, 20000)]
    claims = services.pool_assign(
        actor=org.west_head.user, customer_ids=[c.pk for c in customers], rms=[org.rm_west, second_rm]
    )
    # Largest first, dealt in turn (employee numbers order the RMs).
    first, second = sorted([org.rm_west, second_rm], key=lambda s: s.employee_no)
    assert rm_of(*customers) == [first.pk, second.pk, first.pk, second.pk]
    assert {c.method for c in claims} == {PoolClaim.Method.ASSIGN}
    assert {c.actor_id for c in claims} == {org.west_head.pk}
    reasons = set(Assignment.objects.filter(customer__in=customers).values_list("reason", "approved_by"))
    assert reasons == {("由网点负责人从客户池分配", org.west_head.pk)}


def test_by_tier_evenly_within_each_tier(org, second_rm):
    rich = [pool_customer(org.west_outlet, aum="900000"), pool_customer(org.west_outlet, aum="800000")]
    plain = [pool_customer(org.west_outlet, aum="10000"), pool_customer(org.west_outlet, aum="9000")]
    services.pool_assign(
        actor=org.west_head.user,
        customer_ids=[c.pk for c in rich + plain],
        rms=[org.rm_west, second_rm],
        method="by_tier",
    )
    assert len(set(rm_of(*rich))) == 2 and len(set(rm_of(*plain))) == 2


def test_by_hand_to_one_rm(org, pool):
    services.pool_assign(
        actor=org.admin.user, customer_ids=[pool.west_a.pk, pool.west_b.pk], rms=[org.rm_west], method="manual"
    )
    assert rm_of(pool.west_a, pool.west_b) == [org.rm_west.pk, org.rm_west.pk]
    with pytest.raises(ValidationError):
        services.pool_assign(
            actor=org.admin.user, customer_ids=[pool.west_rich.pk], rms=[org.rm_west, org.rm_west2], method="manual"
        )


def test_each_rm_is_told(org, pool, second_rm):
    services.pool_assign(
        actor=org.west_head.user,
        customer_ids=[pool.west_a.pk, pool.west_b.pk, pool.west_rich.pk],
        rms=[org.rm_west, second_rm],
    )
    assert Notification.objects.filter(recipient=org.rm_west).count() == 1
    assert Notification.objects.filter(recipient=second_rm).count() == 1
    assert "西一网点" in Notification.objects.get(recipient=org.rm_west).text


@pytest.mark.parametrize("who", ["rm_east", "east_head"])
def test_refused_wholly_for_an_rm_of_another_outlet_or_a_head_elsewhere(org, pool, who):
    if who == "rm_east":
        call = dict(actor=org.west_head.user, rms=[org.rm_east])
        error = ValidationError
    else:
        call = dict(actor=org.east_head.user, rms=[org.rm_west])
        error = PermissionDenied
    with pytest.raises(error):
        services.pool_assign(customer_ids=[pool.west_a.pk, pool.west_b.pk], **call)
    assert rm_of(pool.west_a, pool.west_b) == [None, None]
    assert not PoolClaim.objects.exists()


def test_a_leaving_rm_or_a_non_rm_is_refused(org, pool, second_rm):
    rel_services.staff_mark_leaving(actor=org.west_head.user, staff=second_rm, last_day=date(2026, 12, 31))
    head = StaffFactory(branch=org.west_outlet, role="head")
    for rms in ([second_rm], [head], [org.rm_west, second_rm]):
        with pytest.raises(ValidationError):
            services.pool_assign(actor=org.west_head.user, customer_ids=[pool.west_a.pk], rms=rms)
    assert not PoolClaim.objects.exists()


def test_one_outlet_at_a_time(org, pool):
    with pytest.raises(ValidationError):
        services.pool_assign(actor=org.west_head.user, customer_ids=[pool.west_a.pk, pool.west2.pk], rms=[org.rm_west])


def test_rms_are_refused_assignment(org, pool):
    with pytest.raises(PermissionDenied):
        services.pool_assign(actor=org.rm_west.user, customer_ids=[pool.west_a.pk], rms=[org.rm_west])


def test_a_customer_with_an_rm_is_not_assigned(org, pool, book):
    with pytest.raises(PermissionDenied):  # book.west is no pool customer and never was in this pool
        services.pool_assign(actor=org.west_head.user, customer_ids=[pool.west_a.pk, 10**9], rms=[org.rm_west])
    services.pool_claim(actor=org.rm_west.user, customer_ids=[pool.west_a.pk])
    with pytest.raises(ValidationError):
        services.pool_assign(actor=org.west_head.user, customer_ids=[pool.west_a.pk], rms=[org.rm_west])


def test_the_page_assigns_and_reports(org, pool, login, second_rm):
    client = login(org.west_head)
    client.cookies["django_language"] = "en"
    response = client.post(
        ASSIGN,
        {"customer": [pool.west_a.pk, pool.west_b.pk], "rms": [org.rm_west.pk, second_rm.pk], "method": "even"},
        follow=True,
    )
    assert "2 customers assigned" in response.content.decode()
    assert set(rm_of(pool.west_a, pool.west_b)) == {org.rm_west.pk, second_rm.pk}


def test_the_page_refuses_bad_input_with_a_message(org, pool, login):
    client = login(org.west_head)
    client.cookies["django_language"] = "en"
    page = client.post(ASSIGN, {"customer": [pool.west_a.pk], "method": "even"}, follow=True).content.decode()
    assert "Choose at least one RM." in page
    page = client.post(ASSIGN, {"rms": [org.rm_west.pk], "method": "even"}, follow=True).content.decode()
    assert "Choose at least one customer." in page
    page = client.post(
        ASSIGN, {"customer": [pool.west_a.pk], "rms": [org.rm_east.pk], "method": "even"}, follow=True
    ).content.decode()
    assert "Assign only to active RMs of" in page
    assert (
        login(org.east_head)
        .post(ASSIGN, {"one": pool.west_a.pk, "rms": [org.rm_east.pk], "method": "even"})
        .status_code
        == 404
    )
    assert not PoolClaim.objects.exists()


def test_a_bulk_of_hundreds_is_a_few_statements(org, second_rm, django_assert_max_num_queries):
    ids = [pool_customer(org.west_outlet, aum=str(Decimal(1000 + i))).pk for i in range(5)]
    with django_assert_max_num_queries(30) as few:
        services.pool_assign(actor=org.west_head.user, customer_ids=ids, rms=[org.rm_west, second_rm])
    more = [pool_customer(org.west_outlet, aum=str(Decimal(5000 + i))).pk for i in range(60)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        services.pool_assign(actor=org.west_head.user, customer_ids=more, rms=[org.rm_west, second_rm])
