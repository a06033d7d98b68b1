"""Helpers of the pool tests: pool customers, days under time_machine, a pool customer claimed by an RM, the release job."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from customers.models import Customer, Segment
from pool import services as pool_services
from pool.models import PoolClaim
from relationships import services
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


START = date(2026, 1, 5)
PRIVATE = Decimal("8000000")  # the private-banking tier: contact every 30 days
MASS = Decimal("10000")  # the mass tier: every 365 days


def moment(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone())


def travel(day: date, hour: int = 6):
    return time_machine.travel(moment(day, hour), tick=False)


def run_job(day: date) -> dict:
    with travel(day, 5):
        return pool_services.release_candidates_propose()


def contact(rm, customer, day: date, outcome: str = "reached"):
    with travel(day, 10):
        return services.interaction_log(actor=rm.user, customer=customer, outcome=outcome)


def west_pool_customer(org, outlet=None, aum=MASS, **kw) -> Customer:
    return CustomerFactory(primary_rm=None, branch=outlet or org.west_outlet, aum=aum, **kw)


def claim(customer: Customer, rm, day: date) -> PoolClaim:
    """What a claim out of the pool leaves behind: the RM's primary assignment, the customer's RM, the claim."""
    with travel(day, 9):
        now = timezone.now()
        assignment = services.assignment_open_primary(customer=customer, staff=rm, reason="claim", now=now)
        Customer.objects.filter(pk=customer.pk).update(primary_rm=rm)
        return PoolClaim.objects.create(
            customer=customer,
            staff=rm,
            branch=customer.branch,
            segment=customer.segment,
            method=PoolClaim.Method.CLAIM,
            actor=rm,
            assignment=assignment,
            claimed_at=now,
            claimed_on=day,
        )


def open_complaint(org, customer):
    return complaint_services.complaint_register(
        actor=org.west_officer.user,
        customer=customer,
        category=ComplaintCategory.objects.get(code="01"),
        channel="counter",
        request="退还手续费",
        facts="柜员未告知收费标准",
    )


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield
