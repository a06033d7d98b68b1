"""Excel export: masked values only, the filters applied, and an access-log entry per export."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import AccessLog

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer-export")


def rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_export_is_masked_filtered_and_logged(org, book, login):
    client = login(org.west_head)
    listed = client.post(reverse("customers:customer-list"), {"q": "13800138000"})  # the search form
    token = listed["Location"].split("s=")[1]
    response = client.get(URL, {"s": token})  # the page's export link carries the token
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    table = rows(response)
    assert table[0][0] == "客户号" and len(table) == 2
    flat = " ".join(str(v) for v in table[1])
    assert "王西甲" in flat and "138****8000" in flat and "110***********002X" in flat
    assert "13800138000" not in flat and "11010519491231002X" not in flat
    log = AccessLog.objects.get()
    assert log.action == "export" and log.row_count == 1 and log.user == org.west_head.user
    assert "13800138000" not in str(log.detail)  # the search term is masked in the log too
    assert log.detail["filters"]["q"] == "138****8000"


def test_an_export_over_the_limit_is_refused_with_a_message(org, book, login, settings):
    settings.EXPORT_MAX_ROWS = 2
    client = login(org.admin)
    response = client.get(URL, follow=True)
    assert "请缩小筛选范围" in response.content.decode()
    assert not AccessLog.objects.exists()
