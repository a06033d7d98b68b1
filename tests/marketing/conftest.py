"""Helpers of the segments tests: a handful of customers over the test organisation (tests/conftest.py) that a
tier-and-lifecycle filter splits, and segments saved through the service."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from customers.models import Customer, Segment
from marketing import services
from marketing.models import SavedSegment
from marketing.segments import read_filter
from organisation.models import Staff
from tests.factories import CustomerFactory, StaffFactory

WEALTH = Decimal("800000")
MASS = Decimal("10000")


def wealth() -> Segment:
    return Segment.objects.get(code="wealth")


def save(owner: Staff, params: dict, *, name="财富客户 衰退期", visibility="private", **kw) -> SavedSegment:
    """A segment of ``owner``'s, saved through the service as the save page saves it (params as the list's GET
    parameters, with their words as the owner's list reads them)."""
    kw.setdefault("criteria", read_filter(params, owner).rows())
    return services.segment_create(actor=owner.user, name=name, params=params, visibility=visibility, **kw)


def wealth_declining() -> dict:
    return {"segment": [str(wealth().pk)], "lifecycle": ["declining"]}


@dataclass
class Crowd:
    west_hit: Customer  # rm_west: wealth, declining
    west_other_tier: Customer  # rm_west: mass, declining
    west_other_stage: Customer  # rm_west: wealth, mature
    west2_hit: Customer  # rm_west2: wealth, declining
    east_hit: Customer  # rm_east: wealth, declining


@pytest.fixture
def crowd(org) -> Crowd:
    def customer(rm, name, aum, lifecycle):
        return CustomerFactory(primary_rm=rm, name=name, aum=aum, lifecycle=lifecycle)

    return Crowd(
        west_hit=customer(org.rm_west, "甲财富衰退", WEALTH, "declining"),
        west_other_tier=customer(org.rm_west, "乙大众衰退", MASS, "declining"),
        west_other_stage=customer(org.rm_west, "丙财富成熟", WEALTH, "mature"),
        west2_hit=customer(org.rm_west2, "丁财富衰退", WEALTH, "declining"),
        east_hit=customer(org.rm_east, "戊财富衰退", WEALTH, "declining"),
    )


NAMES = ("甲财富衰退", "乙大众衰退", "丙财富成熟", "丁财富衰退", "戊财富衰退")


def names_in(html: str) -> set[str]:
    return {n for n in NAMES if n in html}


@pytest.fixture
def rm_west_b(org) -> Staff:
    """A second RM of 西一网点 (rm_west's outlet)."""
    return StaffFactory(username="rm_west_b", name="客户经理壬", branch=org.west_outlet, role=Staff.Role.RM)


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield
