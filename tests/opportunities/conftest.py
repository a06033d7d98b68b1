"""Helpers of the opportunity tests: a frozen day, a product, and an opportunity opened through the service."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from opportunities import services
from tests.factories import ProductFactory

TODAY = date(2026, 3, 10)


def moment(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone())


def travel(day: date, hour: int = 9):
    return time_machine.travel(moment(day, hour), tick=False)


@pytest.fixture(autouse=True)
def _frozen_and_in_english(settings):
    """These tests read messages in English (the msgids), on a fixed day."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"), travel(TODAY):
        yield


@pytest.fixture
def product(db):
    return ProductFactory(code="WM-TEST", name="稳健理财一年", category="wealth", risk_level="R2")


def open_one(actor, customer, *, product=None, **kw):
    kw.setdefault("amount", Decimal("500000"))
    kw.setdefault("expected_on", TODAY + timedelta(days=20))
    if product is None:
        kw.setdefault("product_category", "wealth")
    return services.opportunity_create(actor=actor, customer=customer, product=product, **kw)
