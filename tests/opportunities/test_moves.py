"""Open opportunities go with the customer — a reassignment, a leaver's handover, into and out of the pool, a new
pool keeper — while closed ones stay with who won or lost them and a secondary RM's own stay theirs."""

from datetime import date

import pytest
from django.utils import timezone

from customers.models import Customer
from opportunities.models import Opportunity, OpportunityEvent
from opportunities.services import opportunity_stage_set
from organisation.models import Staff
from pool import services as pool_services
from relationships import services as rel_services
from tests.factories import CustomerFactory, StaffFactory

from .conftest import open_one

pytestmark = pytest.mark.django_db
Stage = Opportunity.Stage


def owners(*opportunities) -> list[int]:
    return [Opportunity.objects.get(pk=o.pk).owner_id for o in opportunities]


def test_a_reassignment_moves_the_open_ones_and_the_branch(org, book):
    open_ = open_one(org.rm_west.user, book.west)
    won = open_one(org.rm_west.user, book.west)
    opportunity_stage_set(actor=org.rm_west.user, opportunity=won, stage=Stage.WON)
    # rm_east looks after the customer as a secondary RM and has their own opportunity.
    rel_services.assignment_add_secondary(actor=org.top_head.user, customer=book.west, staff=org.rm_east, reason="协管")
    theirs = open_one(org.rm_east.user, book.west)
    request = rel_services.reassignment_request(
        actor=org.top_head.user, customers=[book.west], to_staff=org.rm_west2, reason="调整"
    )
    rel_services.reassignment_approve(actor=org.west_head.user, request=request)
    assert owners(open_, won, theirs) == [org.rm_west2.pk, org.rm_west.pk, org.rm_east.pk]
    # Every opportunity of the customer follows their home branch (rm_west2's outlet).
    assert set(Opportunity.objects.filter(customer=book.west).values_list("branch_id", flat=True)) == {
        org.west_outlet2.pk
    }
    event = OpportunityEvent.objects.get(kind="owner")
    assert (event.opportunity_id, event.from_owner, event.to_owner, event.actor, event.why_label) == (
        open_.pk, org.rm_west, org.rm_west2, org.west_head, "The customer moved to another RM"
    )  # fmt: skip


def test_a_leavers_handover_leaves_nothing_open_with_them(org, book):
    mine = open_one(org.rm_west.user, book.west)
    corporate = open_one(org.rm_west.user, book.corporate)
    lost = open_one(org.rm_west.user, book.west)
    opportunity_stage_set(actor=org.rm_west.user, opportunity=lost, stage=Stage.LOST, lost_reason="price")
    # As a secondary RM of rm_east's customer, the leaver opened one there: it goes to that customer's RM.
    rel_services.assignment_add_secondary(actor=org.top_head.user, customer=book.east, staff=org.rm_west, reason="协管")
    secondary = open_one(org.rm_west.user, book.east)
    third = StaffFactory(branch=org.west_outlet, role=Staff.Role.RM)
    rel_services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west, last_day=date(2026, 3, 31))
    handover = rel_services.handover_start(
        actor=org.west_head.user, leaver=org.rm_west, targets=[org.rm_west2, third], method="even"
    )
    rel_services.handover_submit(actor=org.west_head.user, handover=handover)
    rel_services.handover_approve(actor=org.top_head.user, handover=handover)
    receivers = dict(handover.items.values_list("customer_id", "to_staff_id"))
    assert owners(mine, corporate, secondary) == [receivers[book.west.pk], receivers[book.corporate.pk], org.rm_east.pk]
    assert owners(lost) == [org.rm_west.pk]
    assert not Opportunity.objects.filter(owner=org.rm_west, stage__in=Opportunity.OPEN_STAGES).exists()


def test_into_the_pool_to_its_keeper_and_out_to_the_rm_who_claims(org):
    keeper = StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD, name="网点长")
    customer = CustomerFactory(primary_rm=org.rm_west)
    o = open_one(org.rm_west.user, customer)
    request = pool_services.release_propose(actor=org.west_head.user, customer=customer, note="长期未联系")
    pool_services.release_approve(actor=org.top_head.user, request=request)
    assert owners(o) == [keeper.pk]
    # The head names another keeper: the pool's open opportunities go to them.
    named = StaffFactory(branch=org.west_outlet, role=Staff.Role.RM)
    pool_services.pool_keeper_set(actor=keeper.user, branch=org.west_outlet, staff=named)
    assert owners(o) == [named.pk]
    # An RM of the outlet claims the customer.
    claimer = StaffFactory(branch=org.west_outlet, role=Staff.Role.RM)
    pool_services.pool_claim(actor=claimer.user, customer_ids=[customer.pk], now=timezone.now())
    assert owners(o) == [claimer.pk]
    whys = list(OpportunityEvent.objects.filter(kind="owner").order_by("pk").values_list("data", flat=True))
    assert whys == [{"why": "pool_in"}, {"why": "keeper"}, {"why": "pool_out"}]


def test_a_pool_without_keeper_keeps_them_where_they_are(org):
    customer = CustomerFactory(primary_rm=org.rm_west2)  # 西二网点 has no head: its pool has no keeper
    o = open_one(org.rm_west2.user, customer)
    request = pool_services.release_propose(actor=org.west_head.user, customer=customer, note="长期未联系")
    pool_services.release_approve(actor=org.top_head.user, request=request)
    assert Customer.objects.get(pk=customer.pk).primary_rm is None
    assert owners(o) == [org.rm_west2.pk] and not OpportunityEvent.objects.filter(kind="owner").exists()
