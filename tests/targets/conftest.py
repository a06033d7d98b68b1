"""A small data set around March 2026 for the targets: customers with AUM snapshots at the start and the end, holdings
opened in the month and before it, complaints and contacts; the figures built from the day before March to 19 March."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from customers.models import AssetSnapshot, Customer, Holding
from dashboards.figures import figures_rebuild
from organisation.access import SYSTEM
from organisation.models import Branch
from relationships import services as relationship_services
from targets import services
from tests.dashboards.helpers import complaint
from tests.factories import CustomerFactory, ProductFactory

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=SH)
BASELINE = date(2026, 2, 28)
AS_OF = date(2026, 3, 19)
LONG_AGO = datetime(2025, 1, 1, 10, tzinfo=SH)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def march(org, now):
    return services.period_of(kind="month", day=NOW.date())


@pytest.fixture
def data(org, now):
    """Customers of every outlet; what changes in March is described line by line."""
    return data_build(org)


def data_build(org) -> dict:
    """The data set (``data``), for data built once for several tests (``shared_data``, tests/conftest.py)."""

    def customer(rm, aum, **kw):
        c = CustomerFactory(primary_rm=rm, aum=Decimal(aum), **kw)
        Customer.objects.filter(pk=c.pk).update(created_at=LONG_AGO)
        c.refresh_from_db()
        return c

    people = {
        # grows from 40,000 to 90,000: becomes an effective customer
        "grower": customer(org.rm_west, "90000.00"),
        # shrinks from 120,000 to 30,000: stops being one
        "shrinker": customer(org.rm_west, "30000.00"),
        "steady": customer(org.rm_west2, "200000.00"),
        "east": customer(org.rm_east, "10000.00"),
        "pool": customer(None, "70000.00", branch=org.west_outlet),  # no RM: counts for the branch only
    }
    snapshots = [
        (people["grower"], BASELINE, "40000.00"),
        (people["grower"], AS_OF, "90000.00"),
        (people["shrinker"], BASELINE, "120000.00"),
        (people["shrinker"], AS_OF, "30000.00"),
        (people["steady"], BASELINE, "150000.00"),
        (people["east"], BASELINE, "8000.00"),
        (people["pool"], BASELINE, "20000.00"),
    ]
    for c, day, aum in snapshots:
        AssetSnapshot.objects.create(customer=c, date=day, aum=Decimal(aum))
    wealth, fund = ProductFactory(category="wealth"), ProductFactory(category="fund")
    for c, product, opened in (
        (people["grower"], wealth, date(2026, 3, 3)),
        (people["grower"], fund, date(2026, 3, 10)),
        (people["steady"], wealth, date(2026, 3, 19)),
        (people["steady"], wealth, date(2026, 2, 27)),  # before March
        (people["east"], wealth, date(2026, 3, 20)),  # after the last day built
        (people["pool"], fund, date(2026, 3, 5)),
    ):
        Holding.objects.create(customer=c, product=product, amount=Decimal("1000.00"), opened_on=opened)
    complaint(org, org.west_outlet, received=at(date(2026, 3, 4)), due=at(date(2026, 3, 19)), subject=org.rm_west)
    complaint(org, org.east_outlet, received=at(date(2026, 3, 11)), due=at(date(2026, 3, 26)), subject=org.rm_east)
    complaint(org, org.east_outlet, received=at(date(2026, 2, 20)), due=at(date(2026, 3, 7)))  # February
    for staff, c, when in (
        (org.rm_west, people["grower"], at(date(2026, 3, 2))),
        (org.rm_west2, people["steady"], at(date(2025, 6, 1))),  # long ago: not covered
    ):
        with time_machine.travel(when, tick=False):
            relationship_services.interaction_log(actor=staff.user, customer=c, occurred_at=when, channel="visit")
    return people


@pytest.fixture
def built(data):
    figures_rebuild(since=BASELINE, until=AS_OF)
    return data


def set_target(period, metric, value, *, holder, category="", actor=SYSTEM):
    kw = {"branch": holder} if isinstance(holder, Branch) else {"staff": holder}
    return services.target_set(
        actor=actor, period=period, metric=metric, value=Decimal(value), product_category=category, **kw
    )


@pytest.fixture(autouse=True)
def _in_english(settings):
    """These tests read messages and pages in English (the msgids), whatever the catalogue holds."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
