"""The customer list: search, filters, sorting, paging, and a query count that does not grow."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer-list")


def names(response) -> str:
    return region_text(response.content, "customer-table")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("王西", "王西甲"),  # name prefix
        ("002X", "王西甲"),  # last 4 of the ID number
        ("002x", "王西甲"),
        ("13800138000", "王西甲"),  # mobile (keyed hash)
        ("138-0013-8000", "王西甲"),
        ("11010519491231002X", "王西甲"),  # the full ID number (keyed hash)
    ],
)
def test_search(org, book, login, term, expected):
    body = names(login(org.west_head).post(URL, {"q": term}, follow=True))
    assert expected in body and "李西乙" not in body


def test_search_by_customer_number(org, book, login):
    body = names(login(org.west_head).post(URL, {"q": book.west2.customer_no}, follow=True))
    assert "李西乙" in body and "王西甲" not in body


def test_search_never_reaches_outside_the_scope(org, book, login):
    body = names(login(org.east_head).post(URL, {"q": "13800138000"}, follow=True))
    assert "王西甲" not in body


def test_filters(org, book, login):
    CustomerFactory(primary_rm=org.rm_west, name="钱富豪", aum=Decimal("7000000"), risk_level="C4")
    client = login(org.west_head)
    assert "钱富豪" in names(client.get(URL, {"segment": Customer.objects.get(name="钱富豪").segment_id}))
    body = names(client.get(URL, {"aum_min": "1000000"}))
    assert "钱富豪" in body and "王西甲" not in body
    body = names(client.get(URL, {"risk_level": "C4"}))
    assert "钱富豪" in body and "王西甲" not in body
    body = names(client.get(URL, {"rm": org.rm_west2.pk}))
    assert "李西乙" in body and "王西甲" not in body
    body = names(client.get(URL, {"branch": org.west.pk, "kind": "corporate"}))
    assert "杭州测试科技有限公司" in body and "王西甲" not in body
    body = names(client.get(URL, {"lifecycle": "lost"}))
    assert "王西甲" not in body


def test_sort_by_aum_and_name(org, login):
    for name, aum in (("甲", "300"), ("乙", "100"), ("丙", "200")):
        CustomerFactory(primary_rm=org.rm_west, name=name, aum=Decimal(aum))
    client = login(org.rm_west)
    body = names(client.get(URL, {"sort": "-aum"}))
    assert body.index("甲") < body.index("丙") < body.index("乙")
    body = names(client.get(URL, {"sort": "aum"}))
    assert body.index("乙") < body.index("丙") < body.index("甲")


@pytest.mark.parametrize(
    "params",
    [
        {"aum_min": "abc"},
        {"aum_min": "10", "aum_max": "5"},
        {"segment": "999"},
        {"rm": "x"},
        {"page": "-3"},
        {"sort": "drop"},
    ],
)
def test_bad_filters_are_errors_on_the_form_not_500(org, book, login, params):
    response = login(org.west_head).get(URL, params)
    assert response.status_code == 200


def test_masked_mobile_in_the_list(org, book, login):
    body = login(org.rm_west).get(URL).content.decode()
    assert "138****8000" in body and "13800138000" not in body


def test_query_count_is_constant_whatever_the_page_size(org, login, django_assert_max_num_queries):
    client = login(org.west_head)
    CustomerFactory(primary_rm=org.rm_west)
    with django_assert_max_num_queries(13) as few:
        client.get(URL)
    for _ in range(30):
        CustomerFactory(primary_rm=org.rm_west2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, {"sort": "name"})
    assert len(region_text(response.content, "customer-table")) > 0


def test_count_is_capped_on_huge_lists(org, login, settings):
    settings.LIST_COUNT_CAP = 3
    for _ in range(5):
        CustomerFactory(primary_rm=org.rm_west)
    body = login(org.rm_west).get(URL).content.decode()
    assert "超过 3 位客户" in region_text(body, "result-count")
