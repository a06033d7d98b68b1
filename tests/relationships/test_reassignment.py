"""Reassignment with approval: nobody moves customers alone (一手揽权)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from relationships import services
from relationships.models import Assignment, ReassignmentRequest
from reminders.models import FollowUp
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db


def request_move(org, customers, actor=None, to=None):
    return services.reassignment_request(
        actor=(actor or org.rm_west).user, customers=customers, to_staff=to or org.rm_west2, reason="客户工作地点变更"
    )


def test_request_and_approval_move_the_customers_with_everything_open(org, book):
    follow_up = services.interaction_log(
        actor=org.rm_west.user,
        customer=book.west,
        next_follow_up_on=timezone.localdate(book.west.created_at),
        next_action="回访",
    )
    open_item = FollowUp.objects.get(source_ref=f"interaction:{follow_up.pk}")
    request = request_move(org, [book.west, book.corporate])
    assert request.status == "pending" and request.scope_branch == org.west
    assert Customer.objects.get(pk=book.west.pk).primary_rm == org.rm_west  # nothing moves before approval

    services.reassignment_approve(actor=org.west_head.user, request=request, note="同意")
    for customer in (book.west, book.corporate):
        customer.refresh_from_db()
        assert customer.primary_rm == org.rm_west2 and customer.branch == org.west_outlet2
        current = Assignment.objects.current().primary().get(customer=customer)
        assert current.staff == org.rm_west2 and current.approved_by == org.west_head and current.request == request
        ended = Assignment.objects.filter(customer=customer, staff=org.rm_west).get()
        assert ended.ended_at is not None
    open_item.refresh_from_db()
    assert open_item.staff == org.rm_west2
    assert org.rm_west.notifications.filter(text__contains="2").exists()
    assert org.rm_west2.notifications.filter(text__contains="2").exists()
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", org.west_head)


def test_the_requester_cannot_approve_their_own_request(org, book):
    request = request_move(org, [book.west2], actor=org.west_head, to=org.rm_west)
    with pytest.raises(PermissionDenied):
        services.reassignment_approve(actor=org.west_head.user, request=request)
    services.reassignment_approve(actor=org.top_head.user, request=request)  # a head above decides instead
    book.west2.refresh_from_db()
    assert book.west2.primary_rm == org.rm_west


def test_only_a_head_above_every_customer_can_decide(org, book):
    request = request_move(org, [book.west])
    for outsider in (org.east_head, org.rm_west2, org.west_officer):
        with pytest.raises(PermissionDenied):
            services.reassignment_approve(actor=outsider.user, request=request)
    across = request_move(org, [book.east], actor=org.rm_east, to=org.rm_west)
    assert across.scope_branch == org.top  # east customer to a west RM: only the 分行 head decides
    with pytest.raises(PermissionDenied):
        services.reassignment_approve(actor=org.west_head.user, request=across)
    services.reassignment_approve(actor=org.top_head.user, request=across)


def test_rejection_needs_a_reason_and_moves_nothing(org, book):
    request = request_move(org, [book.west])
    with pytest.raises(ValidationError):
        services.reassignment_reject(actor=org.west_head.user, request=request, note="")
    services.reassignment_reject(actor=org.west_head.user, request=request, note="客户未同意")
    book.west.refresh_from_db()
    assert book.west.primary_rm == org.rm_west
    assert org.rm_west.notifications.filter(text__contains="客户未同意").exists()
    with pytest.raises(ValidationError):
        services.reassignment_approve(actor=org.west_head.user, request=request)


def test_an_rm_may_only_request_their_own_customers(org, book):
    with pytest.raises(PermissionDenied):
        request_move(org, [book.west2], actor=org.rm_west, to=org.rm_east)


def test_a_customer_in_a_pending_request_cannot_be_requested_twice(org, book):
    request_move(org, [book.west])
    with pytest.raises(ValidationError):
        request_move(org, [book.west], actor=org.west_head, to=org.rm_east)


def test_a_stale_request_is_refused(org, book):
    first = request_move(org, [book.west])
    services.reassignment_cancel(actor=org.rm_west.user, request=first)
    second = request_move(org, [book.west])
    services.reassignment_approve(actor=org.west_head.user, request=second)
    stale = ReassignmentRequest.objects.create(
        requested_by=org.west_head, to_staff=org.rm_west, scope_branch=org.west, reason="旧申请"
    )
    stale.items.create(customer=book.west, from_staff=org.rm_west)  # but the customer is now rm_west2's
    with pytest.raises(ValidationError):
        services.reassignment_approve(actor=org.top_head.user, request=stale)


def test_pages_list_and_decide(org, book, login):
    client = login(org.rm_west)
    response = client.post(
        reverse("relationships:reassignment-create"),
        {"customer": [book.west.pk, book.corporate.pk], "to_staff": org.rm_west2.pk, "reason": "客户搬家"},
    )
    request = ReassignmentRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "relationships:reassignment-detail", args=[request.pk]
    )
    head = login(org.west_head)
    pending = head.get(reverse("relationships:approvals"))
    assert f"#{request.pk}" in region_text(pending.content, "pending-reassignments")
    page = head.get(reverse("relationships:reassignment-detail", args=[request.pk]))
    assert "同意" in region_text(page.content, "decide")
    head.post(reverse("relationships:reassignment-detail", args=[request.pk]), {"action": "approve"})
    approved = head.get(reverse("relationships:reassignment-list"), {"status": "approved"})
    assert f"#{request.pk}" in region_text(approved.content, "reassignments")
    assert f"#{request.pk}" not in region_text(
        head.get(reverse("relationships:reassignment-list")).content, "reassignments"
    )


def test_the_requester_sees_no_decision_buttons(org, book, login):
    request = request_move(org, [book.west])
    body = login(org.rm_west).get(reverse("relationships:reassignment-detail", args=[request.pk])).content.decode()
    assert 'data-testid="decide"' not in body
    response = login(org.rm_west).post(
        reverse("relationships:reassignment-detail", args=[request.pk]), {"action": "approve"}
    )
    assert response.status_code == 403
    book.west.refresh_from_db()
    assert book.west.primary_rm == org.rm_west


def test_a_bad_target_is_a_form_error(org, book, login):
    response = login(org.rm_west).post(
        reverse("relationships:reassignment-create"),
        {"customer": [book.west.pk], "to_staff": org.rm_east.pk, "reason": "x"},
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()


def test_many_customers_move_in_a_constant_number_of_queries(org, django_assert_max_num_queries):
    customers = [CustomerFactory(primary_rm=org.rm_west) for _ in range(3)]
    request = request_move(org, customers)
    with django_assert_max_num_queries(40) as few:
        services.reassignment_approve(actor=org.west_head.user, request=request)
    customers = [CustomerFactory(primary_rm=org.rm_west) for _ in range(30)]
    request = request_move(org, customers)
    with django_assert_max_num_queries(len(few.captured_queries)):
        services.reassignment_approve(actor=org.west_head.user, request=request)
