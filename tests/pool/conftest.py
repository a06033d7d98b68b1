from dataclasses import dataclass
from decimal import Decimal

import pytest

from customers.models import Customer, Segment
from tests.factories import CustomerFactory


def pool_customer(branch, *, aum="10000", name=None, **kw) -> Customer:
    """A customer of ``branch`` without an RM: in the branch's pool."""
    extra = {"name": name} if name else {}
    return CustomerFactory(primary_rm=None, branch=branch, aum=Decimal(aum), **extra, **kw)


@dataclass
class Pool:
    west_a: Customer  # 西一网点, mass
    west_b: Customer  # 西一网点, mass
    west_rich: Customer  # 西一网点, wealth
    west2: Customer  # 西二网点
    east: Customer  # 东一网点
    closed: Customer  # 西一网点, closed: not in the pool


@pytest.fixture
def pool(org) -> Pool:
    closed = pool_customer(org.west_outlet, name="关西户")
    Customer.objects.filter(pk=closed.pk).update(closed_on="2026-01-01")
    return Pool(
        west_a=pool_customer(org.west_outlet, name="池西甲", mobile="13900139000"),
        west_b=pool_customer(org.west_outlet, name="池西乙"),
        west_rich=pool_customer(org.west_outlet, name="池西富", aum="800000"),
        west2=pool_customer(org.west_outlet2, name="池西二"),
        east=pool_customer(org.east_outlet, name="池东丙"),
        closed=closed,
    )


def mass() -> Segment:
    return Segment.objects.for_aum(Decimal("10000"))
