"""Portfolio assignments: exactly one current primary RM, kept in step with Customer.primary_rm; secondary RMs."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from customers import services as customer_services
from customers.selectors import customers_visible_to
from relationships import services
from relationships.models import Assignment
from tests.html import region_text

pytestmark = pytest.mark.django_db


def test_registering_a_customer_opens_the_primary_assignment(org, book):
    current = Assignment.objects.current().primary().get(customer=book.west)
    assert current.staff == org.rm_west == book.west.primary_rm


def test_the_database_refuses_a_second_current_primary(org, book):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(customer=book.west, staff=org.rm_west2, role="primary", started_at=timezone.now())
    # Ended ones are history and may be many.
    Assignment.objects.filter(customer=book.west).update(ended_at=timezone.now())
    Assignment.objects.create(customer=book.west, staff=org.rm_west2, role="primary", started_at=timezone.now())


def test_editing_a_customer_cannot_move_them(org, book):
    with pytest.raises(ValidationError):
        customer_services.customer_update(actor=org.west_head.user, customer=book.west, primary_rm=org.rm_west2)


def test_secondary_rm_sees_the_customer_and_loses_it_when_ended(org, book):
    assert not customers_visible_to(org.rm_west2.user).filter(pk=book.west.pk).exists()
    assignment = services.assignment_add_secondary(
        actor=org.west_head.user, customer=book.west, staff=org.rm_west2, reason="协助维护"
    )
    assert customers_visible_to(org.rm_west2.user).filter(pk=book.west.pk).exists()
    assert org.rm_west2.notifications.filter(text__contains=book.west.name).exists()
    services.assignment_end_secondary(actor=org.west_head.user, assignment=assignment, reason="结束")
    assert not customers_visible_to(org.rm_west2.user).filter(pk=book.west.pk).exists()


def test_only_a_head_above_the_customer_adds_a_secondary_rm(org, book):
    with pytest.raises(PermissionDenied):
        services.assignment_add_secondary(actor=org.east_head.user, customer=book.west, staff=org.rm_west2, reason="x")
    with pytest.raises(PermissionDenied):
        services.assignment_add_secondary(actor=org.rm_west.user, customer=book.west, staff=org.rm_west2, reason="x")
    with pytest.raises(ValidationError):
        services.assignment_add_secondary(actor=org.west_head.user, customer=book.west, staff=org.rm_west, reason="x")


def test_the_360_page_shows_the_rm_history(org, book, login):
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="客户搬家"
    )
    services.reassignment_approve(actor=org.west_head.user, request=request)
    body = region_text(
        login(org.west_head).get(reverse("customers:customer-detail", args=[book.west.pk])).content,
        "assignment-history",
    )
    assert org.rm_west.name in body and org.rm_west2.name in body and org.west_head.name in body
