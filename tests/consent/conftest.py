from datetime import date

import pytest
from django.utils import translation

from consent.models import Channel, Source, State

# A fixed day: consent dates and windows are read against it (under time_machine).
TODAY = date(2026, 6, 15)  # a Monday


@pytest.fixture(autouse=True)
def _in_english(settings):
    """These tests read messages and pages in English (the msgids), whatever the catalogue holds."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def give(services, actor, customer, channel=Channel.SMS, on=TODAY, **extra):
    fields = {"state": State.GIVEN, "effective_on": on, "source": Source.COUNTER, "reason": "柜面签署营销同意书"}
    return services.consent_record(actor=actor, customer=customer, channel=channel, **{**fields, **extra})


def withdraw(services, actor, customer, channel=Channel.SMS, on=TODAY, **extra):
    fields = {"state": State.WITHDRAWN, "effective_on": on, "source": Source.RECORDING, "reference": "REC-0001",
              "reason": "客户来电要求不再发送营销短信"}  # fmt: skip
    return services.consent_record(actor=actor, customer=customer, channel=channel, **{**fields, **extra})
