"""One format per kind of figure (crm_site/templatetags/numbers.py): amounts on customer pages in 元 with two
decimals and thousands separators, amounts on dashboards in 万元 with the unit in the header, percentages with one
decimal; and the customer pages that show them."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_site.templatetags.numbers import pct, wan, yuan
from customers.models import Customer, Holding
from tests.factories import ProductFactory
from tests.html import region_text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "¥0.00"),
        (Decimal("0.00"), "¥0.00"),
        (Decimal("-0.004"), "¥0.00"),  # never "-¥0.00"
        (Decimal("1234567.89"), "¥1,234,567.89"),
        (Decimal("1234567.885"), "¥1,234,567.89"),  # half up, as statements round
        (Decimal("-1234.5"), "-¥1,234.50"),
        (Decimal("999999999999999.99"), "¥999,999,999,999,999.99"),  # the largest amount a column holds
        (12.5, "¥12.50"),
        ("3000", "¥3,000.00"),
        (None, "—"),
        ("", "—"),
        ("not a number", "—"),
    ],
)
def test_yuan(value, shown):
    assert yuan(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0.0"),
        (Decimal("123456789"), "12,345.7"),
        (Decimal("123450000"), "12,345.0"),
        (Decimal("-50000"), "-5.0"),
        (Decimal("-400"), "0.0"),  # -0.04 万 rounds to zero, without a sign
        (Decimal("999999999999999.99"), "100,000,000,000.0"),  # 99,999,999,999.999999 万, half up
        (None, "—"),
    ],
)
def test_wan(value, shown):
    assert wan(value) == shown


def test_wan_with_other_decimals():
    assert wan(Decimal("123456789"), 2) == "12,345.68"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0.0%"),
        (Decimal("87.46"), "87.5%"),
        (Decimal("33.333333"), "33.3%"),
        (100, "100.0%"),
        (Decimal("-2.35"), "-2.4%"),
        (Decimal("-0.04"), "0.0%"),
        (12345.6, "12,345.6%"),
        (None, "—"),
    ],
)
def test_pct(value, shown):
    assert pct(value) == shown


def test_booleans_are_not_figures():
    assert yuan(True) == "—" and pct(False) == "—"


@pytest.mark.django_db
def test_the_360_page_shows_amounts_in_yuan_and_labels_each_holding_cell(org, book, login):
    Customer.objects.filter(pk=book.west.pk).update(aum=Decimal("1234567.89"))
    product = ProductFactory(name="稳健理财")
    Holding.objects.create(customer=book.west, product=product, amount=Decimal("-1500.5"), opened_on=date(2026, 1, 5))
    page = login(org.rm_west).get(reverse("customers:customer-detail", args=[book.west.pk])).content.decode()
    assert region_text(page, "customer-aum") == "¥1,234,567.89"
    holdings = region_text(page, "holdings")
    assert "-¥1,500.50" in holdings
    for label in ("产品", "账号", "金额", "到期日", "适当性"):
        assert f'data-label="{label}"' in page


@pytest.mark.django_db
def test_the_customer_list_shows_amounts_in_yuan_with_a_label_on_each_cell(org, book, login):
    Customer.objects.filter(pk=book.west.pk).update(aum=Decimal("6000000"))
    page = login(org.rm_west).get(reverse("customers:customer-list")).content.decode()
    assert "¥6,000,000.00" in region_text(page, "customer-table")
    assert 'data-label="金融资产（元）"' in page
