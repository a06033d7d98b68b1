"""seed_demo --customers: valid identifiers, a spread over tiers and RMs, deterministic and idempotent."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from customers import validators
from customers.models import AssetSnapshot, Customer, Holding

pytestmark = pytest.mark.django_db


def test_seeded_customers_are_realistic_valid_and_deterministic(capsys):
    call_command("seed_demo", customers=300, seed=11)
    assert Customer.objects.count() == 300
    for c in Customer.objects.all():
        if c.is_individual:
            parsed = validators.parse_resident_id(c.reveal("id_number"))
            assert (parsed.birth_date, parsed.gender) == (c.birth_date, c.gender)
        else:
            validators.validate_credit_code(c.credit_code)
        validators.validate_mobile(c.reveal("mobile"))
        assert c.segment is not None and c.segment.contains(c.aum)
    assert Customer.objects.values("primary_rm").distinct().count() >= 10
    assert Customer.objects.filter(kind="corporate").exists()
    assert Holding.objects.exclude(maturity_on=None).exists()
    per_customer = AssetSnapshot.objects.values("customer").annotate(n=Count("id")).values_list("n", flat=True)
    assert set(per_customer) == {90}
    first = list(Customer.objects.order_by("customer_no").values_list("customer_no", "name", "aum")[:50])

    call_command("seed_demo", customers=300, seed=11)  # idempotent
    assert Customer.objects.count() == 300 and AssetSnapshot.objects.count() == 300 * 90

    Customer.objects.all().delete()
    call_command("seed_demo", customers=300, seed=11)  # deterministic
    assert list(Customer.objects.order_by("customer_no").values_list("customer_no", "name", "aum")[:50]) == first


def test_todays_snapshot_is_the_current_aum():
    call_command("seed_demo", customers=50)
    for c in Customer.objects.all()[:20]:
        latest = c.snapshots.order_by("-date").first()
        assert latest.aum == c.aum and latest.date == c.aum_as_of
