"""Attainment is computed by the figures build from the dashboards' daily rows; here it is reconciled against a
direct computation from the raw rows (customers and their snapshots, holdings, contacts, complaints)."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.utils import timezone

from complaints.models import Complaint
from customers.models import AssetSnapshot, Customer, Holding
from dashboards.figures import figures_build, figures_rebuild
from organisation.models import Branch
from targets.actuals import ratio
from targets.models import Attainment, Metric
from tests.dashboards.test_figures import expected
from tests.targets.conftest import AS_OF, BASELINE, set_target

pytestmark = pytest.mark.django_db
START = date(2026, 3, 1)
CENT = Decimal("0.01")


def aum_on(customer, day):
    snap = AssetSnapshot.objects.filter(customer=customer, date=day).first()
    return snap.aum if snap else customer.aum


def customers_of(holder):
    qs = Customer.objects.exclude(lifecycle=Customer.Lifecycle.LOST)
    if isinstance(holder, Branch):
        return [c for c in qs.select_related("branch") if c.branch.path.startswith(holder.path)]
    return list(qs.filter(primary_rm=holder))


def direct(metric, holder, category=""):
    """The period's figure computed from the raw rows, by a loop (the oracle)."""
    people = customers_of(holder)
    if metric == Metric.AUM_GROWTH:
        return sum((aum_on(c, AS_OF) - aum_on(c, BASELINE) for c in people), Decimal(0))
    if metric == Metric.NEW_EFFECTIVE:
        threshold = Decimal(50000)
        return Decimal(
            sum(aum_on(c, AS_OF) >= threshold for c in people) - sum(aum_on(c, BASELINE) >= threshold for c in people)
        )
    if metric == Metric.NEW_HOLDINGS:
        ids = {c.pk for c in people}
        return Decimal(
            sum(
                1
                for h in Holding.objects.select_related("product")
                if h.customer_id in ids and START <= h.opened_on <= AS_OF and h.product.category == category
            )
        )
    if metric == Metric.COMPLAINT_RATE:
        if isinstance(holder, Branch):
            received = [c for c in Complaint.objects.select_related("branch") if c.branch.path.startswith(holder.path)]
        else:
            received = list(Complaint.objects.filter(subject_staff=holder))
        n = sum(1 for c in received if START <= timezone.localdate(c.received_at) <= AS_OF)
        return (Decimal(1000 * n) / len(people)).quantize(CENT, ROUND_HALF_UP) if people else Decimal(0)
    if metric == Metric.COVERAGE:
        branches, rms = expected(AS_OF)  # the dashboards' own loop over the raw rows
        if isinstance(holder, Branch):
            rows = [r for pk, r in branches.items() if Branch.objects.get(pk=pk).path.startswith(holder.path)]
        else:
            rows = [rms[holder.pk]]
        policy = sum(r["policy_customers"] for r in rows)
        overdue = sum(r["overdue_customers"] for r in rows)
        return (Decimal(100 * (policy - overdue)) / policy).quantize(CENT, ROUND_HALF_UP) if policy else Decimal(0)
    raise ValueError(metric)


CASES = [
    (Metric.AUM_GROWTH, "", "100000"),
    (Metric.NEW_EFFECTIVE, "", "2"),
    (Metric.NEW_HOLDINGS, "wealth", "4"),
    (Metric.NEW_HOLDINGS, "fund", "1"),
    (Metric.COVERAGE, "", "80"),
    (Metric.COMPLAINT_RATE, "", "100"),
]


def test_attainment_reconciles_with_the_raw_rows(org, data, march):
    holders = [org.top, org.west, org.east, org.west_outlet, org.rm_west, org.rm_west2, org.rm_east]
    targets = [
        set_target(march, metric, value, holder=h, category=category)
        for metric, category, value in CASES
        for h in holders
    ]
    figures_rebuild(since=BASELINE, until=AS_OF)  # the build's figures_built computes the attainment
    rows = {a.target_id: a for a in Attainment.objects.all()}
    assert len(rows) == len(targets)
    checked = 0
    for t in targets:
        a = rows[t.pk]
        want = direct(t.metric, t.holder, t.product_category)
        assert a.as_of == AS_OF
        assert a.actual == want.quantize(CENT), (t.metric, t.product_category, t.holder)
        assert a.ratio == ratio(t.metric, t.value, a.actual)
        checked += 1 if want != 0 else 0
    assert checked >= len(targets) // 2  # most cases are not zero, so the comparison is not vacuous


def test_the_figures_behind_the_reconciliation_are_what_the_data_set_says(org, built, march):
    west = set_target(march, Metric.AUM_GROWTH, "50000", holder=org.west_outlet)
    rm = set_target(march, Metric.NEW_EFFECTIVE, "2", holder=org.rm_west)
    holdings = set_target(march, Metric.NEW_HOLDINGS, "2", holder=org.west, category="fund")
    rate = set_target(march, Metric.COMPLAINT_RATE, "250", holder=org.rm_west)
    # 西一网点: +50,000 (grower) − 90,000 (shrinker) + 50,000 (the pool customer) = +10,000 of 50,000
    assert west.attainment.actual == Decimal("10000.00") and west.attainment.ratio == Decimal("0.2")
    # rm_west: one became effective, one stopped being: net 0
    assert rm.attainment.actual == 0 and rm.attainment.ratio == 0
    # 西支行: the grower's fund and the pool customer's fund
    assert holdings.attainment.actual == 2 and holdings.attainment.percent == 100.0
    # rm_west: 1 complaint over 2 customers = 500 per 1,000 against 250: lower is better, 2 − 2 = 0 %
    assert rate.attainment.actual == 500 and rate.attainment.ratio == 0


def test_ratio_rules():
    assert ratio(Metric.AUM_GROWTH, Decimal(100), Decimal(50)) == Decimal("0.5")
    assert ratio(Metric.AUM_GROWTH, Decimal(100), Decimal(-50)) == Decimal("-0.5")
    assert ratio(Metric.AUM_GROWTH, Decimal(0), Decimal(0)) == 1
    assert ratio(Metric.COMPLAINT_RATE, Decimal(2), Decimal(1)) == Decimal("1.5")
    assert ratio(Metric.COMPLAINT_RATE, Decimal(2), Decimal(2)) == 1
    assert ratio(Metric.COMPLAINT_RATE, Decimal(2), Decimal(5)) == 0
    assert ratio(Metric.COMPLAINT_RATE, Decimal(0), Decimal(0)) == 1
    assert ratio(Metric.COMPLAINT_RATE, Decimal(0), Decimal(1)) == 0
    assert ratio(Metric.NEW_EFFECTIVE, Decimal("0.01"), Decimal(10**9)) == 9999


def test_the_nightly_build_updates_the_attainment_as_of_the_new_day(org, built, march):
    target = set_target(march, Metric.AUM_GROWTH, "100000", holder=org.west)
    assert target.attainment.as_of == AS_OF
    Customer.objects.filter(pk=built["steady"].pk).update(aum=Decimal("300000.00"))
    with time_machine.travel(NOW_NEXT, tick=False):
        figures_build(day=AS_OF + timedelta(days=1))
    target.attainment.refresh_from_db()
    assert target.attainment.as_of == AS_OF + timedelta(days=1)
    assert target.attainment.actual == direct_on_next_day(org)


NOW_NEXT = AS_OF + timedelta(days=2)


def direct_on_next_day(org):
    # 20 March has no snapshots: every customer's current AUM counts
    people = customers_of(org.west)
    return sum((c.aum - aum_on(c, BASELINE) for c in people), Decimal(0))


def test_a_build_outside_every_period_with_targets_writes_nothing(org, built, march):
    set_target(march, Metric.AUM_GROWTH, "1", holder=org.west)
    before = Attainment.objects.get().built_at
    with time_machine.travel(date(2026, 5, 2), tick=False):
        figures_build(day=date(2026, 5, 1))
    assert Attainment.objects.get().built_at == before


def test_the_attainment_build_runs_a_fixed_number_of_queries(org, built, march, django_assert_num_queries):
    from targets.services import attainment_build

    for h in (org.top, org.west, org.east, org.rm_west):
        set_target(march, Metric.AUM_GROWTH, "1000", holder=h)
    with django_assert_num_queries(11):
        attainment_build(days=[AS_OF])
    for h in (org.west_outlet, org.west_outlet2, org.east_outlet, org.rm_west2, org.rm_east):
        set_target(march, Metric.NEW_HOLDINGS, "1", holder=h, category="wealth")
    with django_assert_num_queries(11):
        attainment_build(days=[AS_OF])
