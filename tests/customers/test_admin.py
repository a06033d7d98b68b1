"""Django admin for customers: masked columns, search by identifiers, a read-only access log."""

import pytest
from django.urls import reverse

from customers import services
from customers.models import AccessLog

pytestmark = pytest.mark.django_db


def test_admin_list_shows_masked_identifiers_only(org, book, login):
    body = login(org.admin).get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "138****8000" in body and "110***********002X" in body
    assert "13800138000" not in body and "11010519491231002X" not in body


@pytest.mark.parametrize("term", ["13800138000", "002X", "王西", "11010519491231002X"])
def test_admin_search_uses_the_same_search(org, book, login, term):
    body = login(org.admin).get(reverse("admin:customers_customer_changelist"), {"q": term}).content.decode()
    assert "王西甲" in body and "李西乙" not in body


def test_admin_change_page_masks_and_saves_through_the_service(org, book, login):
    client = login(org.admin)
    url = reverse("admin:customers_customer_change", args=[book.west.pk])
    page = client.get(url).content.decode()
    assert "110***********002X" in page and "11010519491231002X" not in page


def test_access_log_is_read_only_even_for_admins(org, book, login):
    services.customer_reveal(actor=org.rm_west.user, customer=book.west, field="mobile", reason="联系客户")
    log = AccessLog.objects.get()
    client = login(org.admin)
    assert client.get(reverse("admin:customers_accesslog_changelist")).status_code == 200
    assert client.get(reverse("admin:customers_accesslog_add")).status_code == 403
    change = client.post(reverse("admin:customers_accesslog_change", args=[log.pk]), {"reason": "改写"})
    assert change.status_code == 403  # no change permission (ReadOnlyAdmin): the admin refuses the POST
    log.refresh_from_db()
    assert log.reason == "联系客户"
    assert client.post(reverse("admin:customers_accesslog_delete", args=[log.pk]), {"post": "yes"}).status_code == 403
    assert AccessLog.objects.count() == 1


def test_admin_changelist_does_not_count_the_whole_table(org, book, login, django_assert_max_num_queries):
    client = login(org.admin)
    with django_assert_max_num_queries(14) as ctx:
        client.get(reverse("admin:customers_customer_changelist"), {"q": "王"})
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(*)" in q["sql"]]
    assert all("LIMIT" in sql for sql in counts), counts
