"""Setting and distributing targets: who may, the sums, and the bad input (nothing half-written)."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dashboards.figures import figures_build
from targets import services
from targets.models import Metric, Target
from tests.targets.conftest import AS_OF, set_target

pytestmark = pytest.mark.django_db


def test_a_head_sets_a_target_for_their_subtree_only(org, march):
    t = set_target(march, Metric.AUM_GROWTH, "500000", holder=org.west_outlet, actor=org.west_head.user)
    assert t.set_by == org.west_head and t.value == Decimal("500000.00")
    with pytest.raises(PermissionDenied):
        set_target(march, Metric.AUM_GROWTH, "1", holder=org.east_outlet, actor=org.west_head.user)
    with pytest.raises(PermissionDenied):
        set_target(march, Metric.AUM_GROWTH, "1", holder=org.rm_east, actor=org.west_head.user)
    for who in (org.rm_west, org.west_officer):
        with pytest.raises(PermissionDenied):
            set_target(march, Metric.AUM_GROWTH, "1", holder=org.west_outlet, actor=who.user)
    set_target(march, Metric.AUM_GROWTH, "1", holder=org.east_outlet, actor=org.admin.user)


def test_setting_again_changes_the_one_target(org, march):
    set_target(march, Metric.COVERAGE, "80", holder=org.west)
    set_target(march, Metric.COVERAGE, "85", holder=org.west)
    assert Target.objects.get().value == 85
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(period=march, metric=Metric.COVERAGE, branch=org.west, value=1)


@pytest.mark.parametrize(
    "metric, value, category, message",
    [
        (Metric.AUM_GROWTH, "-1", "", "cannot be negative"),
        (Metric.NEW_EFFECTIVE, "2.5", "", "whole number"),
        (Metric.COVERAGE, "120", "", "at most 100"),
        (Metric.NEW_HOLDINGS, "3", "", "product kind"),
    ],
)
def test_bad_values_are_refused_with_a_message(org, march, metric, value, category, message):
    with pytest.raises(ValidationError) as error:
        set_target(march, metric, value, holder=org.west, category=category)
    assert message in str(error.value)
    assert not Target.objects.exists()


def test_a_closed_period_is_read_only(org, now):
    february = services.period_of(kind="month", day=date(2026, 2, 10))
    with pytest.raises(ValidationError, match="is over"):
        set_target(february, Metric.AUM_GROWTH, "1", holder=org.west)
    with time_machine.travel(date(2026, 2, 10), tick=False):
        t = set_target(february, Metric.AUM_GROWTH, "9", holder=org.top)
    with pytest.raises(ValidationError, match="is over"):
        services.target_distribute(actor=org.admin.user, target=t, method="even")


def test_even_distribution_adds_up_exactly(org, march):
    t = set_target(march, Metric.AUM_GROWTH, "100000.00", holder=org.top, actor=org.top_head.user)
    result = services.target_distribute(actor=org.top_head.user, target=t, method="even")
    parts = {c.holder: c.value for c in result.children}
    assert parts == {org.west: Decimal("50000.00"), org.east: Decimal("50000.00")}
    outlet = set_target(march, Metric.NEW_EFFECTIVE, "7", holder=org.west)
    services.target_distribute(actor=org.west_head.user, target=outlet, method="even")
    assert sorted(Target.objects.filter(parent=outlet).values_list("value", flat=True)) == [3, 4]


def test_an_outlets_target_goes_to_its_rms(org, march):
    t = set_target(march, Metric.AUM_GROWTH, "1000", holder=org.west_outlet)
    services.target_distribute(actor=org.west_head.user, target=t, method="even")
    child = Target.objects.get(parent=t)
    assert child.staff == org.rm_west and child.value == 1000


def test_portfolio_distribution_follows_the_figures(org, data, march):
    figures_build(day=AS_OF)
    t = set_target(march, Metric.AUM_GROWTH, "100", holder=org.top)
    services.target_distribute(actor=org.admin.user, target=t, method="portfolio")
    west = Target.objects.get(parent=t, branch=org.west).value
    east = Target.objects.get(parent=t, branch=org.east).value
    assert west + east == 100 and west > east  # west holds nearly all the AUM


def test_by_hand_must_add_up_and_nothing_is_written_otherwise(org, march):
    t = set_target(march, Metric.NEW_EFFECTIVE, "10", holder=org.top)
    values = {f"b{org.west.pk}": Decimal(6), f"b{org.east.pk}": Decimal(3)}
    with pytest.raises(ValidationError, match="add up to 9.00, not to the target of 10.00"):
        services.target_distribute(actor=org.admin.user, target=t, method="hand", values=values)
    assert Target.objects.count() == 1
    with pytest.raises(ValidationError):
        services.target_distribute(
            actor=org.admin.user, target=t, method="hand", values={**values, f"b{org.east.pk}": Decimal(-4)}
        )
    with pytest.raises(ValidationError, match="directly below"):
        services.target_distribute(
            actor=org.admin.user, target=t, method="hand", values={**values, f"b{org.west_outlet.pk}": Decimal(1)}
        )
    values[f"b{org.east.pk}"] = Decimal(4)
    services.target_distribute(actor=org.admin.user, target=t, method="hand", values=values)
    assert Target.objects.filter(parent=t).count() == 2


def test_rates_give_each_child_its_own_value_with_no_sum(org, march):
    t = set_target(march, Metric.COVERAGE, "90", holder=org.top)
    values = {f"b{org.west.pk}": Decimal(95), f"b{org.east.pk}": Decimal(70)}
    services.target_distribute(actor=org.admin.user, target=t, method="hand", values=values)
    assert dict(Target.objects.filter(parent=t).values_list("branch", "value")) == {org.west.pk: 95, org.east.pk: 70}
    services.target_distribute(actor=org.admin.user, target=t, method="even")
    assert set(Target.objects.filter(parent=t).values_list("value", flat=True)) == {90}


def test_a_distributed_target_is_changed_through_its_parent(org, march):
    t = set_target(march, Metric.AUM_GROWTH, "10", holder=org.top)
    services.target_distribute(actor=org.admin.user, target=t, method="even")
    with pytest.raises(ValidationError, match="distribute that one again"):
        set_target(march, Metric.AUM_GROWTH, "99", holder=org.west)


def test_a_head_cannot_distribute_a_target_above_them(org, march):
    t = set_target(march, Metric.AUM_GROWTH, "10", holder=org.top)
    with pytest.raises(PermissionDenied):
        services.target_distribute(actor=org.west_head.user, target=t, method="even")
    assert not Target.objects.filter(parent=t).exists()


def test_split_hands_the_remainder_to_the_largest_remainders():
    parts = services.split(Decimal("100.00"), [Decimal(1)] * 3, whole=False)
    assert parts == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")] and sum(parts) == 100
    assert services.split(Decimal(10), [Decimal(0), Decimal(0)], whole=True) == [5, 5]
    assert services.split(Decimal(10), [Decimal(3), Decimal(1)], whole=True) == [8, 2]


def test_the_demo_sets_targets_down_to_the_rms_and_is_idempotent(org, data, march):
    from demo.targets import seed_targets
    from targets.models import Attainment

    figures_build(day=AS_OF)
    first = seed_targets(seed=1)
    assert seed_targets(seed=1) == first == Target.objects.count()
    assert Target.objects.filter(staff=org.rm_west, period=march).count() == 5
    assert Attainment.objects.count() == Target.objects.count()
