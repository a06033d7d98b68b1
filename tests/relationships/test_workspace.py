"""The RM workspace: My customers (the portfolio, longest without contact first) and its query count."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships import services
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db
URL = reverse("relationships:my-customers")


def test_portfolio_lists_own_and_secondary_customers_never_contacted_first(org, book, login):
    services.interaction_log(actor=org.rm_west.user, customer=book.west)
    services.assignment_add_secondary(actor=org.west_head.user, customer=book.west2, staff=org.rm_west, reason="协管")
    page = login(org.rm_west).get(URL).content
    body = region_text(page, "portfolio")
    assert body.index(book.corporate.name) < body.index(book.west.name)  # never contacted before contacted
    assert book.east.name not in body and book.west2.name not in body
    assert book.west2.name in region_text(page, "secondary-portfolio")


def test_overdue_against_the_tier_policy_is_flagged(org, book, login):
    services.interaction_log(
        actor=org.rm_west.user, customer=book.west, occurred_at=timezone.now() - timedelta(days=400)
    )
    body = region_text(login(org.rm_west).get(URL).content, "portfolio")
    assert "逾期" in body


def test_follow_ups_show_on_the_rms_list(org, book, login):
    services.interaction_log(
        actor=org.rm_west.user,
        customer=book.west,
        next_follow_up_on=timezone.localdate() + timedelta(days=2),
        next_action="送生日礼品",
    )
    assert "送生日礼品" in region_text(login(org.rm_west).get(URL).content, "my-follow-ups")


def test_query_count_does_not_grow_with_the_portfolio(org, login, django_assert_max_num_queries):
    client = login(org.rm_west)
    CustomerFactory(primary_rm=org.rm_west)
    with django_assert_max_num_queries(13) as few:  # 12, + the counts caption
        client.get(URL)
    for _ in range(25):
        c = CustomerFactory(primary_rm=org.rm_west)
        services.interaction_log(actor=org.rm_west.user, customer=c, next_follow_up_on=timezone.localdate())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).status_code == 200


def test_notifications_bell_and_mark_read(org, book, login):
    services.reassignment_request(actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r")
    client = login(org.west_head)
    assert "1" in region_text(client.get(reverse("home"), follow=True).content, "bell")
    client.post(reverse("notifications:notification-list"))
    assert region_text(client.get(reverse("home"), follow=True).content, "bell") == ""
