"""Every URL that answers an htmx fragment is also a page: opened directly (a bookmark, a new tab, a link
followed without JavaScript) it shows the fragment inside the full layout; over htmx only the fragment."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships import services as relationships
from tests.feed.test_pages import make_load

pytestmark = pytest.mark.django_db

NAV = 'data-testid="main-nav"'


def fragment_urls(org, book):
    """(name, who opens it, URL, text the fragment shows) for each GET that htmx asks for a fragment."""
    now = timezone.now()
    for i in range(15):  # more than one page of the timeline (10)
        relationships.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(hours=i), notes=f"第{i}次"
        )
    load = make_load(org.admin)
    return [
        ("timeline page 2", org.rm_west,
         reverse("relationships:customer-timeline", args=[book.west.pk]) + "?page=2", "第14次"),
        ("quick log", org.rm_west,
         reverse("relationships:interaction-create", args=[book.west.pk]), 'name="occurred_at"'),
        ("load progress", org.admin,
         reverse("feed:load-progress", args=[load.pk]), 'data-testid="report"'),
    ]  # fmt: skip


def test_a_fragment_opened_directly_is_a_full_page_and_over_htmx_only_the_fragment(org, book, login):
    for name, who, url, shown in fragment_urls(org, book):
        client = login(who)
        page = client.get(url)
        body = page.content.decode()
        assert page.status_code == 200, name
        assert "<html" in body and NAV in body and shown in body, name
        fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert "<html" not in fragment and NAV not in fragment and shown in fragment, name


def test_the_timeline_page_opened_directly_goes_on_to_earlier_contacts_and_back_to_the_customer(org, book, login):
    now = timezone.now()
    for i in range(25):
        relationships.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(hours=i), notes=f"第{i}次"
        )
    timeline = reverse("relationships:customer-timeline", args=[book.west.pk])
    body = login(org.rm_west).get(timeline, {"page": 2}).content.decode()
    assert "第10次" in body and "第19次" in body and "第9次" not in body and "第20次" not in body
    assert f'href="{timeline}?page=3"' in body
    assert f'href="{reverse("customers:customer-detail", args=[book.west.pk])}"' in body


def test_the_timeline_page_costs_one_query_more_than_its_fragment_and_no_more_as_it_grows(
    org, book, login, django_assert_max_num_queries
):
    client = login(org.rm_west)
    timeline = reverse("relationships:customer-timeline", args=[book.west.pk])
    now = timezone.now()
    for i in range(25):
        relationships.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(hours=i), notes=f"第{i}次"
        )
    with django_assert_max_num_queries(11) as fragment:
        client.get(timeline, {"page": 2}, headers={"HX-Request": "true"})
    with django_assert_max_num_queries(len(fragment.captured_queries) + 1):  # + the navigation's unread count
        client.get(timeline, {"page": 2})
    for i in range(25, 45):
        relationships.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(hours=i), notes=f"第{i}次"
        )
    with django_assert_max_num_queries(len(fragment.captured_queries) + 1):
        client.get(timeline, {"page": 4})
