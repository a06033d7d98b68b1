"""The demo's consents: most customers with SMS and phone consent, some withdrawn by a recorded call, a few
do-not-disturb windows; the current rows in step with their history; a handful of statements whatever the number
of customers; and a second run writes nothing."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import ConsentEvent, ConsentRecord, DndWindow
from demo.consent import seed_consent, spring_festival_after
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def test_the_demo_consents_are_set_based_consistent_and_written_once(org, book):
    for _ in range(60):
        CustomerFactory(primary_rm=org.rm_west)
    with CaptureQueriesContext(connection) as first:
        written = seed_consent(today=TODAY)
    assert len(first) < 60  # a few statements per channel, not one per customer
    customers = 64
    sms = ConsentRecord.objects.filter(channel="sms")
    assert 0.6 * customers < sms.count() < customers and written["consents"] > sms.count()
    assert written["withdrawn"] == ConsentRecord.objects.filter(state="withdrawn").count()
    for record in ConsentRecord.objects.all():
        events = list(record.customer.consent_events.filter(kind="consent", channel=record.channel).order_by("pk"))
        assert events[-1].state == record.state and events[-1].effective_on == record.effective_on
        assert [e.state for e in events] == (["given"] if record.state == "given" else ["given", "withdrawn"])
        assert events[0].effective_on <= record.effective_on <= TODAY
    assert DndWindow.objects.count() == written["windows"]
    assert ConsentEvent.objects.filter(kind="dnd_added").count() == written["windows"]
    rows = ConsentRecord.objects.count(), ConsentEvent.objects.count(), DndWindow.objects.count()
    assert seed_consent(today=TODAY) == {"consents": 0, "withdrawn": 0, "windows": 0}
    assert (ConsentRecord.objects.count(), ConsentEvent.objects.count(), DndWindow.objects.count()) == rows


def test_the_spring_festival_window_is_the_next_festival():
    assert spring_festival_after(date(2026, 6, 15)) == date(2027, 2, 6)
    assert spring_festival_after(date(2026, 2, 20)) == date(2026, 2, 17)  # still within the week after
