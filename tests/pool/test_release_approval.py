"""Release needs a branch head's approval: who may decide, what approval does (the assignment ends, the customer
is back in their outlet's pool, the keeper is told through the signal, the RM is notified), the refusals, bulk
approval, rejection, and two heads approving at once."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from customers.models import Customer
from notifications.models import Notification
from pool import services, signals
from pool.models import PoolKeeper, ReleaseRequest
from relationships import services as rel_services
from relationships.models import Assignment
from tests.factories import CustomerFactory

from .conftest import PRIVATE, START, moment, open_complaint, run_job, travel

pytestmark = pytest.mark.django_db

S = ReleaseRequest.Status
DAY = START + timedelta(days=61)


def _proposed(org, n=1, rms=None):
    with travel(START):
        customers = [CustomerFactory(primary_rm=rm, aum=PRIVATE) for rm in rms or [org.rm_west] * n]
    run_job(DAY)
    return [ReleaseRequest.objects.get(customer=c, status=S.PROPOSED) for c in customers]


@pytest.fixture
def entered():
    seen = []

    def receiver(sender, previous, keepers, **kwargs):
        seen.append((previous, keepers))
        return {"follow_ups": 0}

    signals.customers_entered_pool.connect(receiver, weak=False)
    yield seen
    signals.customers_entered_pool.disconnect(receiver)


def test_a_head_above_approves_and_the_customer_is_back_in_the_pool(org, entered):
    (proposal,) = _proposed(org)
    with travel(DAY, 10):
        PoolKeeper.objects.create(branch=org.west_outlet, staff=org.rm_west2, named_at=moment(DAY, 10))
        services.release_approve(actor=org.west_head.user, request=proposal, note="同意")
    proposal.refresh_from_db()
    customer = Customer.objects.get(pk=proposal.customer_id)
    assert (proposal.status, proposal.decided_by, proposal.decision_note) == (S.APPROVED, org.west_head, "同意")
    assert customer.primary_rm is None and customer.branch == org.west_outlet  # the home outlet's pool
    ended = Assignment.objects.get(pk=proposal.assignment_id)
    assert ended.ended_at == moment(DAY, 10) and ended.end_reason.startswith(
        "释放回客户池"
    )  # the reason is written in the language of the day (zh-hans)
    assert customer.history.first().history_change_reason.startswith("释放回客户池")
    assert entered == [({customer.pk: org.rm_west.pk}, {customer.pk: org.rm_west2.pk})]
    assert Notification.objects.filter(recipient=org.rm_west, text__contains=customer.name).exists()


@pytest.mark.parametrize(
    "who, error",
    [
        ("rm_west", PermissionDenied),  # an RM cannot approve, least of all their own customer's release
        ("west_officer", PermissionDenied),
        ("east_head", PermissionDenied),  # not above the customer
    ],
)
def test_who_may_not_approve(org, who, error):
    (proposal,) = _proposed(org)
    with pytest.raises(error):
        services.release_approve(actor=getattr(org, who).user, request=proposal)
    proposal.refresh_from_db()
    assert proposal.status == S.PROPOSED and proposal.customer.primary_rm == org.rm_west


def test_a_hand_proposal_is_decided_by_another_head_or_an_admin(org, english):
    with travel(START):
        customer = CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)
    with travel(START + timedelta(days=5)):
        proposal = services.release_propose(actor=org.west_head.user, customer=customer, note="客户已长期不在本地")
        with pytest.raises(PermissionDenied, match="your own proposal"):
            services.release_approve(actor=org.west_head.user, request=proposal)
        services.release_approve(actor=org.top_head.user, request=proposal)
    proposal.refresh_from_db()
    assert proposal.reason == ReleaseRequest.Reason.BY_HAND and proposal.status == S.APPROVED
    assert Notification.objects.filter(recipient=org.rm_west, text__contains="客户已长期不在本地").exists()


def test_hand_proposal_refusals(org, english):
    with travel(START):
        customer = CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE)
        in_pool = CustomerFactory(primary_rm=None, branch=org.west_outlet)
    with pytest.raises(ValidationError, match="why"):
        services.release_propose(actor=org.west_head.user, customer=customer, note=" ")
    with pytest.raises(PermissionDenied):
        services.release_propose(actor=org.east_head.user, customer=customer, note="x")
    with pytest.raises(PermissionDenied):
        services.release_propose(actor=org.rm_west.user, customer=customer, note="x")
    with pytest.raises(ValidationError, match="already in the pool"):
        services.release_propose(actor=org.west_head.user, customer=in_pool, note="x")
    services.release_propose(actor=org.west_head.user, customer=customer, note="x")
    with pytest.raises(ValidationError, match="already awaiting"):
        services.release_propose(actor=org.top_head.user, customer=customer, note="x")
    assert ReleaseRequest.objects.count() == 1


def test_an_open_complaint_keeps_the_rm(org, english):
    (proposal,) = _proposed(org)
    open_complaint(org, proposal.customer)
    with pytest.raises(ValidationError, match="open complaint"):
        services.release_approve(actor=org.west_head.user, request=proposal)
    proposal.refresh_from_db()
    assert proposal.status == S.PROPOSED and proposal.customer.primary_rm == org.rm_west
    with pytest.raises(ValidationError, match="open complaint"):
        services.release_propose(actor=org.west_head.user, customer=proposal.customer, note="x")


def test_a_customer_who_moved_meanwhile_is_not_released_and_the_proposal_is_withdrawn(org):
    (proposal,) = _proposed(org)
    request = rel_services.reassignment_request(
        actor=org.west_head.user, customers=[proposal.customer], to_staff=org.rm_west2, reason="r"
    )
    rel_services.reassignment_approve(actor=org.top_head.user, request=request)
    done = services.release_approve(actor=org.west_head.user, request=proposal)
    assert done.status == S.WITHDRAWN
    assert Customer.objects.get(pk=proposal.customer_id).primary_rm == org.rm_west2


def test_bulk_approval_decides_each_row_and_reports(org):
    ready, complained, moved, east = _proposed(org, rms=[org.rm_west, org.rm_west, org.rm_west, org.rm_east])
    open_complaint(org, complained.customer)
    request = rel_services.reassignment_request(
        actor=org.west_head.user, customers=[moved.customer], to_staff=org.rm_west2, reason="r"
    )
    rel_services.reassignment_approve(actor=org.top_head.user, request=request)
    counts = services.release_approve_many(
        actor=org.top_head.user, ids=[ready.pk, complained.pk, moved.pk, east.pk], note=""
    )
    assert counts == {"released": 2, "withdrawn": 1, "complaints": 1, "skipped": 0}
    assert {r.status for r in ReleaseRequest.objects.filter(pk__in=[ready.pk, east.pk])} == {S.APPROVED}
    assert ReleaseRequest.objects.get(pk=complained.pk).status == S.PROPOSED
    again = services.release_approve_many(actor=org.admin.user, ids=[ready.pk], note="")
    assert again["skipped"] == 1 and again["released"] == 0


def test_reject_needs_a_note_and_tells_the_rm(org, english):
    (proposal,) = _proposed(org)
    with pytest.raises(ValidationError):
        services.release_reject(actor=org.west_head.user, request=proposal, note="")
    services.release_reject(actor=org.west_head.user, request=proposal, note="下月有大额到期")
    proposal.refresh_from_db()
    assert proposal.status == S.REJECTED and proposal.customer.primary_rm == org.rm_west
    assert Notification.objects.filter(recipient=org.rm_west, text__contains="下月有大额到期").exists()
    with pytest.raises(ValidationError, match="already been decided"):
        services.release_reject(actor=org.top_head.user, request=proposal, note="x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_heads_approving_at_once_one_wins(org):
    (proposal,) = _proposed(org)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(head):
        try:
            barrier.wait()
            services.release_approve(actor=head.user, request=proposal)
            outcomes.append("approved")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(h,)) for h in (org.west_head, org.top_head)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("approved") == 1
    assert Assignment.objects.filter(customer=proposal.customer, ended_at__isnull=False).count() == 1
    assert Notification.objects.filter(recipient=org.rm_west, url__contains="status=approved").count() == 1
