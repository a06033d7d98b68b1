"""The visit plan's customer picker: the RM's portfolio the longest without contact first (never contacted first
of all), each option with its tier and last contact date, a filter box (static/js/list-filter.js), and a number
of queries that does not grow with the portfolio."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from relationships import selectors
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.get_fixed_timezone(480))


def contacted(customer, days_ago):
    Customer.objects.filter(pk=customer.pk).update(last_contacted_at=NOW - timedelta(days=days_ago))


@pytest.fixture
def portfolio(org, book):
    recent, old = (
        CustomerFactory(primary_rm=org.rm_west, name="近期联系"),
        CustomerFactory(primary_rm=org.rm_west, name="久未联系"),
    )
    contacted(recent, 3)
    contacted(old, 200)
    contacted(book.corporate, 30)
    return {"recent": recent, "old": old, "never": book.west}


def test_the_longest_without_contact_first_with_tier_and_date(org, book, portfolio):
    choices = list(selectors.visit_plan_customer_choices(org.rm_west.user))
    assert [c.pk for c in choices] == [
        portfolio["never"].pk,
        portfolio["old"].pk,
        book.corporate.pk,
        portfolio["recent"].pk,
    ]
    assert book.west2 not in choices and book.east not in choices  # another RM's customers
    tier = choices[0].segment.name if choices[0].segment_id else "—"
    with translation.override("en"):  # the zh-hans catalogue has them as "从未联系" and "上次联系 2026-05-04"
        assert selectors.visit_plan_customer_label(choices[0]) == (
            f"王西甲 · {book.west.customer_no} · {tier} · never contacted"
        )
        assert selectors.visit_plan_customer_label(choices[1]).endswith(" · last contact 2026-05-04")


def test_the_page_lists_them_in_that_order_with_a_filter_box(org, book, portfolio, login):
    with time_machine.travel(NOW, tick=False):
        page = login(org.rm_west).get(reverse("relationships:visit-plan-create")).content.decode()
    names = [page.index(f"{n} · ") for n in ("王西甲", "久未联系", "杭州测试科技有限公司", "近期联系")]  # the options
    assert names == sorted(names)
    for customer in (book.west, portfolio["old"]):
        assert selectors.visit_plan_customer_label(Customer.objects.get(pk=customer.pk)) in page
    assert 'data-filter-list="#visit-customers"' in page and "js/list-filter.js" in page


def test_the_picker_query_count_does_not_grow_with_the_portfolio(org, book, login, django_assert_max_num_queries):
    client = login(org.rm_west)
    url = reverse("relationships:visit-plan-create")
    with django_assert_max_num_queries(9) as few:  # session, user, staff, scope, the choices, the key, …
        assert client.get(url).status_code == 200
    for i in range(25):
        contacted(CustomerFactory(primary_rm=org.rm_west), i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('name="customers"') == 27
