"""Opportunities' services: who opens one and who owns it, the bad input each refuses (nothing written), the stage
rules, the edit, and who may change an opportunity (a role × action matrix)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from customers.models import Customer
from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent
from organisation.access import SYSTEM
from organisation.models import Staff
from relationships import services as rel_services
from tests.factories import CustomerFactory, ProductFactory, StaffFactory

from .conftest import TODAY, open_one, travel

pytestmark = pytest.mark.django_db
Stage = Opportunity.Stage


# --- opening one --------------------------------------------------------------------------------------------------


def test_who_owns_a_new_opportunity(org, book, product):
    # An RM opens it for their customer: theirs, with its event.
    mine = open_one(org.rm_west.user, book.west, product=product, note="到期资金续作")
    assert (mine.owner, mine.branch, mine.product_category, mine.stage) == (
        org.rm_west,
        book.west.branch,
        "wealth",
        Stage.LEAD,
    )
    event = OpportunityEvent.objects.get(opportunity=mine)
    assert (event.kind, event.actor, event.to_owner, event.to_stage) == ("created", org.rm_west, org.rm_west, "lead")
    # A head opens it for an RM's customer: the RM's.
    assert open_one(org.west_head.user, book.west2).owner == org.rm_west2
    # A pool customer: the outlet's keeper (its head), whoever opens it.
    outlet_head = StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD)
    pooled = CustomerFactory(primary_rm=None, branch=org.west_outlet)
    assert open_one(org.west_head.user, pooled).owner == outlet_head
    # A campaign's job (SYSTEM) for an RM's customer: the RM's; the same reference again returns the first one.
    first = open_one(SYSTEM, book.east, source="campaign", source_ref=41)
    again = open_one(SYSTEM, book.east, source="campaign", source_ref=41, amount="1")
    assert first.owner == org.rm_east and again.pk == first.pk and first.created_by is None
    assert Opportunity.objects.count() == 4


def test_from_a_contact(org, book):
    interaction = rel_services.interaction_log(actor=org.rm_west.user, customer=book.west, outcome="interested")
    o = open_one(org.rm_west.user, book.west, interaction=interaction, stage=Stage.INTEREST)
    assert (o.source, o.interaction, o.stage) == ("interaction", interaction, "interest")
    with pytest.raises(ValidationError, match="another customer"):
        open_one(org.rm_west.user, book.corporate, interaction=interaction)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"amount": "0"}, "more than zero"),
        ({"amount": "-5000"}, "more than zero"),
        ({"amount": None}, "more than zero"),
        ({"expected_on": TODAY - timedelta(days=1)}, "in the past"),
        ({"expected_on": TODAY + timedelta(days=731)}, "two years"),
        ({"product_category": ""}, "at least its kind"),
        ({"product_category": "loan", "with_product": True}, "not of the kind"),
        ({"stage": Stage.WON}, "starts as a lead"),
        ({"source": "interaction"}, "the contact"),
        ({"source": "campaign"}, "campaign's record"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(org, book, product, kw, message):
    kw = dict(kw)
    if kw.pop("with_product", False):
        kw["product"] = product
    with pytest.raises(ValidationError) as e:
        open_one(org.rm_west.user, book.west, **kw)
    assert message in str(e.value)
    assert not Opportunity.objects.exists() and not OpportunityEvent.objects.exists()


def test_a_closed_customer_gets_none(org, book):
    Customer.objects.filter(pk=book.west.pk).update(closed_on=TODAY)
    with pytest.raises(ValidationError, match="closed"):
        open_one(org.rm_west.user, book.west)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("rm_west", True),  # their customer
        ("rm_west2", False),  # another RM's customer
        ("west_head", True),
        ("east_head", False),  # a head of another subtree
        ("top_head", True),
        ("admin", True),
        ("west_officer", False),  # not a portfolio role
    ],
)
def test_who_may_open_one_for_a_customer(org, book, who, allowed):
    actor = getattr(org, who).user
    if allowed:
        assert open_one(actor, book.west).customer == book.west
    else:
        with pytest.raises(PermissionDenied):
            open_one(actor, book.west)
        assert not Opportunity.objects.exists()


def test_nobody_without_an_active_staff_record(org, book, django_user_model):
    with pytest.raises(PermissionDenied):
        open_one(django_user_model.objects.create_user("nobody_here"), book.west)
    with pytest.raises(PermissionDenied):
        open_one(None, book.west)


# --- stages -------------------------------------------------------------------------------------------------------


def test_forward_to_won_then_only_an_admin_reopens(org, book):
    o = open_one(org.rm_west.user, book.west)
    rm = org.rm_west.user
    services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.INTEREST)
    services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.PROPOSAL)
    services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.LEAD)  # back between open stages: fine
    with pytest.raises(ValidationError, match="already at this stage"):
        services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.LEAD)
    with pytest.raises(ValidationError, match="future"):
        services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.WON, won_on=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError, match="before the opportunity was created"):
        services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.WON, won_on=TODAY - timedelta(days=1))
    won = services.opportunity_stage_set(actor=rm, opportunity=o, stage=Stage.WON)
    assert (won.won_on, won.match_status) == (TODAY, "pending")
    for who in (org.rm_west, org.west_head):
        with pytest.raises(ValidationError, match="only an administrator"):
            services.opportunity_stage_set(actor=who.user, opportunity=o, stage=Stage.PROPOSAL)
    reopened = services.opportunity_stage_set(actor=org.admin.user, opportunity=o, stage=Stage.PROPOSAL)
    assert (reopened.won_on, reopened.match_status) == (None, "")
    stages = list(OpportunityEvent.objects.filter(opportunity=o, kind="stage").values_list("from_stage", "to_stage"))
    assert stages == [("lead", "interest"), ("interest", "proposal"), ("proposal", "lead"), ("lead", "won"),
                      ("won", "proposal")]  # fmt: skip


def test_lost_needs_a_reason_and_may_be_reopened(org, book):
    o = open_one(org.rm_west.user, book.west)
    with pytest.raises(ValidationError, match="why the opportunity was lost"):
        services.opportunity_stage_set(actor=org.rm_west.user, opportunity=o, stage=Stage.LOST)
    with pytest.raises(ValidationError, match="Say why"):
        services.opportunity_stage_set(actor=org.rm_west.user, opportunity=o, stage=Stage.LOST, lost_reason="other")
    o.refresh_from_db()
    assert o.stage == Stage.LEAD and not OpportunityEvent.objects.filter(kind="stage").exists()
    lost = services.opportunity_stage_set(
        actor=org.rm_west.user, opportunity=o, stage=Stage.LOST, lost_reason="competitor", lost_note="他行利率高"
    )
    assert (lost.stage, lost.lost_reason) == ("lost", "competitor")
    event = OpportunityEvent.objects.get(kind="stage")
    assert (event.lost_reason_label, event.text) == ("Went to another bank (选择他行)", "他行利率高")
    again = services.opportunity_stage_set(actor=org.rm_west.user, opportunity=o, stage=Stage.INTEREST)
    assert (again.stage, again.lost_reason, again.lost_note) == ("interest", "", "")


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("rm_west", True),  # the owner
        ("secondary", False),  # sees the customer (协管), does not own it
        ("rm_west2", False),
        ("west_head", True),
        ("east_head", False),
        ("top_head", True),
        ("admin", True),
        ("west_officer", False),
    ],
)
def test_who_may_change_an_opportunity(org, book, who, allowed):
    o = open_one(org.rm_west.user, book.west)
    if who == "secondary":
        rel_services.assignment_add_secondary(
            actor=org.west_head.user, customer=book.west, staff=org.rm_west2, reason="协管"
        )
        actor = org.rm_west2.user
    else:
        actor = getattr(org, who).user
    if allowed:
        services.opportunity_stage_set(actor=actor, opportunity=o, stage=Stage.INTEREST)
        services.opportunity_update(actor=actor, opportunity=o, amount="800000", expected_on=o.expected_on)
    else:
        with pytest.raises(PermissionDenied):
            services.opportunity_stage_set(actor=actor, opportunity=o, stage=Stage.INTEREST)
        with pytest.raises(PermissionDenied):
            services.opportunity_update(actor=actor, opportunity=o, amount="800000", expected_on=o.expected_on)
    o.refresh_from_db()
    assert (o.stage, o.amount) == (("interest", Decimal("800000")) if allowed else ("lead", Decimal("500000")))


def test_an_rm_whose_customer_moved_can_no_longer_change_it(org, book):
    o = open_one(org.rm_west.user, book.west)
    services.opportunity_stage_set(actor=org.rm_west.user, opportunity=o, stage=Stage.WON)  # stays theirs when moved
    request = rel_services.reassignment_request(
        actor=org.west_head.user, customers=[book.west], to_staff=org.rm_west2, reason="调整"
    )
    rel_services.reassignment_approve(actor=org.top_head.user, request=request)
    o.refresh_from_db()
    assert o.owner == org.rm_west  # won by them
    with pytest.raises(PermissionDenied, match="no longer yours"):
        services.opportunity_update(actor=org.rm_west.user, opportunity=o, amount="1", expected_on=o.expected_on)
    o.refresh_from_db()
    assert o.amount == Decimal("500000")


# --- edit ---------------------------------------------------------------------------------------------------------


def test_edit_the_amount_and_date(org, book):
    o = open_one(org.rm_west.user, book.west)
    with pytest.raises(ValidationError, match="more than zero"):
        services.opportunity_update(actor=org.rm_west.user, opportunity=o, amount="0", expected_on=o.expected_on)
    with pytest.raises(ValidationError, match="in the past"):
        services.opportunity_update(
            actor=org.rm_west.user, opportunity=o, amount=o.amount, expected_on=TODAY - timedelta(days=1)
        )
    # Weeks later its date has passed: the amount may still be corrected while the date stays as it is.
    with travel(TODAY + timedelta(days=40)):
        services.opportunity_update(actor=org.rm_west.user, opportunity=o, amount="650000", expected_on=o.expected_on)
    o.refresh_from_db()
    assert o.amount == Decimal("650000")
    edit = OpportunityEvent.objects.get(kind="edited")
    assert edit.data == {"amount": ["500000.00", "650000"]}
    services.opportunity_stage_set(actor=org.rm_west.user, opportunity=o, stage=Stage.LOST, lost_reason="price")
    with pytest.raises(ValidationError, match="Only an open opportunity"):
        services.opportunity_update(actor=org.rm_west.user, opportunity=o, amount="1", expected_on=o.expected_on)


def test_a_product_of_another_kind_is_refused(org, book):
    loan = ProductFactory(code="LN-T", category="loan")
    with pytest.raises(ValidationError, match="not of the kind"):
        open_one(org.rm_west.user, book.west, product=loan, product_category="wealth")
    assert open_one(org.rm_west.user, book.west, product=loan).product_category == "loan"
    assert timezone.localdate() == TODAY
