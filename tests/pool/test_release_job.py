"""The nightly recycle job (pool.tasks.release_candidates) over several contact periods, under time_machine:
"missed the policy N periods in a row", "no contact within X days of the claim", withdrawal, idempotency, and its
query count, the same whatever the number of customers."""

from datetime import timedelta

import pytest

from customers.models import Customer
from notifications.models import Notification
from pool import services as pool_services
from pool import tasks
from pool.models import PoolRule, ReleaseRequest
from relationships import services
from tests.factories import CustomerFactory

from .conftest import MASS, PRIVATE, START, claim, contact, open_complaint, run_job, travel, west_pool_customer

pytestmark = pytest.mark.django_db

R = ReleaseRequest.Reason


@pytest.fixture
def private(org):
    """A private-banking customer (30-day policy; default rule: 2 periods) of rm_west since START, 06:00."""
    with travel(START):
        return CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)


def proposals(customer, status=ReleaseRequest.Status.PROPOSED):
    return list(ReleaseRequest.objects.filter(customer=customer, status=status))


def test_one_missed_period_is_not_enough_n_periods_are(org, private):
    assert private.segment.code == "private" and private.segment.contact_policy_days == 30
    run_job(START + timedelta(days=31))  # one period missed
    assert proposals(private) == []
    # 60 days on, the RM has held them since 06:00 of the day 60 days before the start of today: not yet 60 days.
    run_job(START + timedelta(days=60))
    assert proposals(private) == []
    run_job(START + timedelta(days=61))
    (proposal,) = proposals(private)
    assert (proposal.reason, proposal.rm, proposal.last_contact_at) == (R.MISSED_POLICY, org.rm_west, None)
    assert proposal.period_days == 30 and proposal.periods_missed == 2 and proposal.by_system
    assert proposal.assignment.customer_id == private.pk and proposal.assignment.ended_at is None
    private.refresh_from_db()
    assert private.primary_rm == org.rm_west  # only proposed: nothing moves before a head approves


def test_a_contact_starts_the_count_again(org, private):
    contact(org.rm_west, private, START + timedelta(days=40))
    run_job(START + timedelta(days=61))
    assert proposals(private) == []  # the last 60 days hold a contact
    run_job(START + timedelta(days=100))
    assert proposals(private) == []
    run_job(START + timedelta(days=101))  # 60 full days since the day of the contact
    (proposal,) = proposals(private)
    assert proposal.last_contact_at.date() == START + timedelta(days=40) and proposal.periods_missed == 2


def test_not_reached_and_other_staffs_contacts_do_not_count(org, private):
    contact(org.rm_west, private, START + timedelta(days=50), outcome="no_answer")
    contact(org.west_head, private, START + timedelta(days=55))
    run_job(START + timedelta(days=61))
    assert len(proposals(private)) == 1


def test_the_rules_are_per_tier_and_zero_turns_one_off(org, private):
    PoolRule.objects.create(segment=private.segment, missed_periods=3, claim_contact_days=15)
    run_job(START + timedelta(days=61))
    assert proposals(private) == []
    run_job(START + timedelta(days=91))
    assert len(proposals(private)) == 1
    PoolRule.objects.filter(segment=private.segment).update(missed_periods=0)
    run_job(START + timedelta(days=92))  # the rule no longer proposes them: the job's own proposal is withdrawn
    assert proposals(private) == [] and len(proposals(private, ReleaseRequest.Status.WITHDRAWN)) == 1


def test_contact_made_withdraws_the_proposal(org, private):
    run_job(START + timedelta(days=61))
    assert len(proposals(private)) == 1
    contact(org.rm_west, private, START + timedelta(days=62))
    result = run_job(START + timedelta(days=63))
    assert result["withdrawn"] == 1 and proposals(private) == []
    (withdrawn,) = proposals(private, ReleaseRequest.Status.WITHDRAWN)
    assert withdrawn.decided_by is None


def test_re_running_the_same_day_adds_nothing_and_tells_the_rm_once(org, private):
    day = START + timedelta(days=61)
    first = run_job(day)
    second = run_job(day)
    assert (first["proposed"], second["proposed"], second["withdrawn"]) == (1, 0, 0)
    assert ReleaseRequest.objects.count() == 1
    assert Notification.objects.filter(recipient=org.rm_west, url__contains="/pool/releases/").count() == 1
    run_job(day + timedelta(days=1))  # the next night: still one open proposal, no new notification
    assert ReleaseRequest.objects.count() == 1
    assert Notification.objects.filter(recipient=org.rm_west, url__contains="/pool/releases/").count() == 1


def test_the_task_runs_the_job(org, private):
    result = tasks.release_candidates.run(day=(START + timedelta(days=61)).isoformat())
    assert result["proposed"] == 1 and result["missed_policy"] == 1


def test_not_contacted_within_x_days_of_the_claim(org):
    customer = west_pool_customer(org, aum=MASS)
    claimed_on = START + timedelta(days=3)
    claim(customer, org.rm_west, claimed_on)
    run_job(claimed_on + timedelta(days=15))  # default X = 15: 15 days after the claim is still in time
    assert proposals(customer) == []
    run_job(claimed_on + timedelta(days=16))
    (proposal,) = proposals(customer)
    assert proposal.reason == R.NO_FIRST_CONTACT and proposal.days_since_claim == 16
    assert proposal.claimed_on == claimed_on and proposal.rm == org.rm_west


def test_a_contact_after_the_claim_keeps_the_customer(org):
    customer = west_pool_customer(org, aum=MASS)
    claim(customer, org.rm_west, START)
    contact(org.rm_west, customer, START + timedelta(days=10))
    run_job(START + timedelta(days=30))
    assert proposals(customer) == []


def test_a_contact_after_the_proposal_withdraws_the_claim_proposal(org):
    customer = west_pool_customer(org, aum=MASS)
    claim(customer, org.rm_west, START)
    run_job(START + timedelta(days=16))
    assert len(proposals(customer)) == 1
    contact(org.rm_west, customer, START + timedelta(days=17))
    run_job(START + timedelta(days=18))
    assert proposals(customer) == []


def test_open_complaint_closed_customer_and_pending_move_are_not_proposed(org, private):
    with travel(START):
        closed = CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)
        moving = CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)
    Customer.objects.filter(pk=closed.pk).update(closed_on=START)
    with travel(START + timedelta(days=50)):
        open_complaint(org, private)
        services.reassignment_request(actor=org.rm_west.user, customers=[moving], to_staff=org.rm_west2, reason="r")
    run_job(START + timedelta(days=61))
    assert ReleaseRequest.objects.count() == 0


def test_a_customer_who_moved_has_their_proposal_withdrawn(org, private):
    run_job(START + timedelta(days=61))
    with travel(START + timedelta(days=62)):
        request = services.reassignment_request(
            actor=org.west_head.user, customers=[private], to_staff=org.rm_west2, reason="r"
        )
        services.reassignment_approve(actor=org.top_head.user, request=request)
    result = run_job(START + timedelta(days=63))
    assert result["withdrawn"] == 1 and proposals(private) == []


def test_a_rejection_stands_until_the_rm_contacts_the_customer(org, private):
    run_job(START + timedelta(days=61))
    (proposal,) = proposals(private)
    with travel(START + timedelta(days=62), 9):
        pool_services.release_reject(actor=org.west_head.user, request=proposal, note="大客户，保留")
    run_job(START + timedelta(days=63))
    run_job(START + timedelta(days=200))
    assert proposals(private) == []
    contact(org.rm_west, private, START + timedelta(days=201))
    run_job(START + timedelta(days=262))  # 60 days without contact again after the contact
    assert len(proposals(private)) == 1


def _make_candidates(org, n):
    with travel(START):
        for _ in range(n):
            CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)
            CustomerFactory(primary_rm=org.rm_east, aum=PRIVATE)
    for _ in range(n):
        claim(west_pool_customer(org, aum=MASS), org.rm_west2, START + timedelta(days=40))


@pytest.mark.parametrize("n", [1, 6])
def test_the_job_runs_the_same_statements_whatever_the_number_of_customers(org, n, django_assert_num_queries):
    _make_candidates(org, n)
    # the transaction's savepoint and its release 2; the tiers' rules 1; withdraw the moved 1 and those no longer
    # candidates 1; one INSERT … SELECT per reason and tier (4 tiers, 2 reasons) 8; one notification per RM, in one
    # INSERT … SELECT 1
    with travel(START + timedelta(days=61), 5), django_assert_num_queries(14):
        result = pool_services.release_candidates_propose()
    assert result["proposed"] == 3 * n and result["no_first_contact"] == n and result["notified"] == 3
