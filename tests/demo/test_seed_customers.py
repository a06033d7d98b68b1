"""seed_demo --customers: valid identifiers, a spread over tiers and RMs, deterministic and idempotent."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from customers import validators
from customers.models import AssetSnapshot, Customer, Holding
from demo import customers as demo

pytestmark = [pytest.mark.django_db, pytest.mark.full]  # the demo's content: make test-full


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
    call_command("seed_demo", customers=300, seed=11)  # idempotent
    assert Customer.objects.count() == 300 and AssetSnapshot.objects.count() == 300 * 90


def test_the_same_seed_gives_the_same_customers():
    """Customer i comes from its own random stream: two runs of a batch give the same rows (the encrypted
    columns differ, since each encryption draws a fresh IV, but they decrypt to the same numbers)."""
    from demo.organisation import seed_organisation

    seed_organisation(password="x", seed=11)
    ref = demo.reference_data()
    ids = dict.fromkeys(["holding", "assignment", "interaction", "follow_up", "rating"], 1)
    first = demo._batch(0, 40, 1, dict(ids), 11, ref)["payloads"]
    second = demo._batch(0, 40, 1, dict(ids), 11, ref)["payloads"]
    encrypted = {demo.CUSTOMER_COLUMNS.index(c) for c in ("id_number_enc", "mobile_enc")}

    def rows(payload):  # SQLite payloads hold tuples, PostgreSQL ones COPY text
        return payload.rows or [tuple(line.split("\t")) for line in payload.text.splitlines()]

    def plain(payload):
        return [tuple(v for i, v in enumerate(row) if i not in encrypted) for row in rows(payload)]

    assert plain(first["customers"]) == plain(second["customers"]) and len(rows(first["customers"])) == 40
    for name in ("holdings", "interactions", "assignments"):
        assert rows(first[name]) == rows(second[name]) and first[name].count > 0


def test_todays_snapshot_is_the_current_aum():
    call_command("seed_demo", customers=50)
    for c in Customer.objects.all()[:20]:
        latest = c.snapshots.order_by("-date").first()
        assert latest.aum == c.aum and latest.date == c.aum_as_of
