"""The 360° page: masking, reveal with a logged reason, suitability, history, and its query count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from customers import services
from customers.models import AccessLog, Holding
from tests.factories import CustomerFactory, ProductFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db


def url(customer):
    return reverse("customers:customer-detail", args=[customer.pk])


def hold(customer, risk, category="wealth", maturity_in=None, amount="10000"):
    today = timezone.localdate()
    return Holding.objects.create(
        customer=customer,
        product=ProductFactory(code=f"T-{risk}-{category}", risk_level=risk, category=category),
        amount=Decimal(amount),
        account_no_masked="622202******1234",
        opened_on=today - timedelta(days=30),
        maturity_on=today + timedelta(days=maturity_in) if maturity_in is not None else None,
    )


def test_identifiers_are_masked_on_the_page(org, book, login):
    body = login(org.rm_west).get(url(book.west)).content.decode()
    assert "110***********002X" in body and "138****8000" in body
    assert "11010519491231002X" not in body and "13800138000" not in body


def test_reveal_over_htmx_shows_the_value_and_logs_it(org, book, login):
    client = login(org.rm_west)
    response = client.post(
        reverse("customers:customer-reveal", args=[book.west.pk]),
        {"field": "mobile", "reason": "contact"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert region_text(response.content, "revealed-mobile") == "13800138000"
    assert "<html" not in response.content.decode()  # a fragment, not a page
    log = AccessLog.objects.get()
    assert (log.field, log.customer, log.user) == ("mobile", book.west, org.rm_west.user)
    assert "联系客户" in log.reason


def test_reveal_without_htmx_renders_the_page_with_the_value(org, book, login):
    response = login(org.west_head).post(
        reverse("customers:customer-reveal", args=[book.west.pk]),
        {"field": "id_number", "reason": "other", "detail": "核实开户资料"},
    )
    assert response.status_code == 200
    assert region_text(response.content, "revealed-id_number") == "11010519491231002X"
    assert AccessLog.objects.get().reason.endswith("核实开户资料")


def test_reveal_needs_a_reason(org, book, login):
    response = login(org.rm_west).post(
        reverse("customers:customer-reveal", args=[book.west.pk]),
        {"field": "mobile", "reason": "other", "detail": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "请说明原因" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_officer_may_reveal_a_mobile_but_not_an_id_number(org, book, login):
    client = login(org.west_officer)
    page = client.get(url(book.west)).content.decode()
    assert 'name="field" value="mobile"' in page and 'name="field" value="id_number"' not in page
    response = client.post(
        reverse("customers:customer-reveal", args=[book.west.pk]), {"field": "id_number", "reason": "complaint"}
    )
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_suitability_flags_a_product_above_the_tolerance(org, login):
    customer = CustomerFactory(primary_rm=org.rm_west, risk_level="C2", risk_assessed_on=timezone.localdate())
    hold(customer, "R2")
    hold(customer, "R4")
    hold(customer, "R1", category="loan")
    page = login(org.rm_west).get(url(customer))
    assert region_text(page.content, "unsuitable-count") == "1 项适当性问题"
    flags = region_text(page.content, "holdings")
    assert "产品 R4 高于客户 C2" in flags


def test_suitability_flags_an_expired_assessment(org, login):
    customer = CustomerFactory(
        primary_rm=org.rm_west, risk_level="C5", risk_assessed_on=timezone.localdate() - timedelta(days=400)
    )
    hold(customer, "R3")
    page = login(org.rm_west).get(url(customer))
    assert "评估已过期" in region_text(page.content, "risk")
    assert "无有效风险评估" in region_text(page.content, "holdings")


def test_maturities_and_trend(org, login):
    customer = CustomerFactory(primary_rm=org.rm_west)
    hold(customer, "R1", category="time_deposit", maturity_in=10)
    services.asset_snapshot_record(
        customer=customer, on=timezone.localdate() - timedelta(days=1), aum=Decimal("123456.00")
    )
    body = login(org.rm_west).get(url(customer)).content.decode()
    assert "10 天后" in body
    assert "aum-trend-data" in body and "123456.0" in body


def test_change_history_shows_who_and_what(org, book, login):
    services.customer_update(actor=org.west_head.user, customer=book.west, occupation="律师")
    history = region_text(login(org.rm_west).get(url(book.west)).content, "change-history")
    assert org.west_head.name in history and "律师" in history and "登记了客户" in history


def test_query_count_does_not_grow_with_holdings_and_history(org, login, django_assert_max_num_queries):
    customer = CustomerFactory(primary_rm=org.rm_west, risk_level="C3")
    client = login(org.rm_west)
    hold(customer, "R1")
    with django_assert_max_num_queries(24) as few:  # + the opportunities card and the consent panel (records, windows)
        client.get(url(customer))
    for i in range(10):
        complaint_services.complaint_register(
            actor=org.west_officer.user, customer=customer, category=ComplaintCategory.objects.get(code="01"),
            channel="counter", request="r", facts="f", handler=org.rm_west if i % 2 else None,
        )  # fmt: skip
        hold(customer, f"R{1 + i % 5}", maturity_in=i)
        services.customer_update(actor=org.rm_west.user, customer=customer, occupation=f"职业{i}")
        services.asset_snapshot_record(
            customer=customer, on=timezone.localdate() - timedelta(days=i), aum=Decimal(1000 + i)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(customer)).status_code == 200
