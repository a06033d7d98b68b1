"""customers_recompute_tiers: set-based, exact at the boundaries, with history, idempotent."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from customers import services
from customers.models import Customer, Segment, SegmentChange
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CASES = [
    ("0.00", "mass"),
    ("49999.99", "mass"),
    ("50000.00", "potential"),
    ("499999.99", "potential"),
    ("500000.00", "wealth"),
    ("5999999.99", "wealth"),
    ("6000000.00", "private"),
    ("98000000.00", "private"),
]


def test_tiers_follow_aum_exactly_at_the_boundaries(org, django_assert_max_num_queries):
    customers = [CustomerFactory(primary_rm=org.rm_west, aum=Decimal("1")) for _ in CASES]
    for customer, (aum, _code) in zip(customers, CASES, strict=True):
        Customer.objects.filter(pk=customer.pk).update(aum=Decimal(aum))  # as a nightly AUM load would
    segments = Segment.objects.count()
    with django_assert_max_num_queries(4 * segments + 6):  # a few statements, whatever the number of customers
        changed = services.customers_recompute_tiers()
    for customer, (aum, code) in zip(customers, CASES, strict=True):
        customer.refresh_from_db()
        assert customer.segment.code == code, aum
        assert Segment.objects.get(code=code).contains(Decimal(aum))  # the Python rule agrees with the SQL one
    assert changed == {"mass": 0, "potential": 2, "wealth": 2, "private": 2, "none": 0}  # the two 大众 stay


def test_each_change_is_recorded_once(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("100"))
    Customer.objects.filter(pk=c.pk).update(aum=Decimal("6000000.00"))
    services.customers_recompute_tiers()
    change = SegmentChange.objects.get(customer=c)
    assert (change.from_segment.code, change.to_segment.code, change.aum) == ("mass", "private", Decimal("6000000.00"))
    assert services.customers_recompute_tiers() == dict.fromkeys(["mass", "potential", "wealth", "private", "none"], 0)
    assert SegmentChange.objects.filter(customer=c).count() == 1


def test_changed_thresholds_take_effect_at_the_next_run(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("5500000.00"))
    assert c.segment.code == "wealth"
    Segment.objects.filter(code="wealth").update(aum_max=Decimal("5000000.00"))
    Segment.objects.filter(code="private").update(aum_min=Decimal("5000000.00"))
    services.customers_recompute_tiers()
    c.refresh_from_db()
    assert c.segment.code == "private"


def test_a_customer_in_no_tier_range_loses_the_tier(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("10"))
    Customer.objects.filter(pk=c.pk).update(aum=Decimal("-5.00"))  # an overdrawn position
    services.customers_recompute_tiers()
    c.refresh_from_db()
    assert c.segment is None
    assert SegmentChange.objects.get(customer=c).to_segment is None


def test_overlapping_tiers_are_refused_in_admin_validation(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Segment(
            code="x", name="重叠", aum_min=Decimal("40000"), aum_max=Decimal("60000"), contact_policy_days=30,
            large_movement_threshold=Decimal("1"),
        ).full_clean()  # fmt: skip


def test_command_and_task_run_the_recompute(org, capsys):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("100"))
    Customer.objects.filter(pk=c.pk).update(aum=Decimal("700000"))
    call_command("recompute_tiers")
    assert "tier changes" in capsys.readouterr().out
    c.refresh_from_db()
    assert c.segment.code == "wealth"
    from customers.tasks import recompute_tiers

    Customer.objects.filter(pk=c.pk).update(aum=Decimal("10"))
    recompute_tiers.apply()
    c.refresh_from_db()
    assert c.segment.code == "mass"
