from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from complaints import services
from complaints.models import ComplaintCategory, ComplaintCause

TZ = timezone.get_current_timezone()


def at(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


def category(code="01"):
    return ComplaintCategory.objects.get(code=code)


def cause(code="01"):
    return ComplaintCause.objects.get(code=code)


@pytest.fixture
def english():
    """Service messages compared in English (pages are tested in Chinese, their first language)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def register(org, book):
    """``register(**overrides)``: a complaint of book.west about 西一网点, registered by the west officer."""

    def _register(actor=None, **kw):
        kw.setdefault("customer", book.west)
        kw.setdefault("category", category())
        kw.setdefault("channel", "counter")
        kw.setdefault("request", "退还手续费")
        kw.setdefault("facts", "柜员未告知收费标准")
        return services.complaint_register(actor=(actor or org.west_officer).user, **kw)

    return _register


@pytest.fixture
def in_progress(org, register):
    """``in_progress(**overrides)``: registered, accepted with the west officer as handler, and started."""

    def _make(**kw):
        c = register(**kw)
        c = services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.west_officer)
        return services.complaint_start(actor=org.west_officer.user, complaint=c)

    return _make
