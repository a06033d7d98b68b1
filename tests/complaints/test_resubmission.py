"""A complainant who comes back about the same matter (the Measures art. 21): the intake page shows the customer's
open complaints and attaches the new contact to one of them; new facts restart its period, a plain repeat does
not; a second complaint marked as the same matter is linked, and the statistics count the matter once."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.models import Complaint, ComplaintEvent

from .conftest import at, category, cause, travel

pytestmark = pytest.mark.django_db

E = ComplaintEvent.Kind


def intake_page(login, staff, customer) -> str:
    return login(staff).get(reverse("complaints:complaint-create") + f"?customer={customer.pk}").content.decode()


def test_intake_shows_the_customers_open_complaints_in_scope(org, book, login, register):
    open_one = register()
    closed_one = register()
    services.complaint_withdraw(actor=org.west_officer.user, complaint=closed_one)
    elsewhere = services.complaint_register(
        actor=org.admin.user, customer=book.west, branch=org.east_outlet, category=category(), channel="counter",
        request="r", facts="f",
    )  # fmt: skip
    other_customer = register(customer=book.west2)
    page = intake_page(login, org.west_officer, book.west)
    assert f'data-open-complaint="{open_one.reference}"' in page
    assert f'data-attach-to="{open_one.reference}"' in page
    for hidden in (closed_one, elsewhere, other_customer):
        assert f'data-open-complaint="{hidden.reference}"' not in page
    assert f'data-open-complaint="{elsewhere.reference}"' in intake_page(login, org.admin, book.west)


def test_the_subject_is_not_offered_to_attach(org, book, login, register):
    c = register(subject_staff=org.west_head)
    page = intake_page(login, org.west_head, book.west)
    assert f'data-open-complaint="{c.reference}"' in page and f'data-attach-to="{c.reference}"' not in page


def test_a_repeat_contact_without_new_facts_keeps_the_clock(org, book, login, register):
    with travel(at(2026, 11, 1, 10)):
        c = register(received_at=at(2026, 11, 1, 9))
    due = c.due_at
    with travel(at(2026, 11, 10, 10)):
        response = login(org.west_officer).post(
            reverse("complaints:complaint-detail", args=[c.pk]),
            {"action": "repeat", "channel": "hotline", "received_at": "2026-11-10T09:30", "text": "催促处理"},
        )
    assert response.status_code == 302
    assert Complaint.objects.count() == 1
    c.refresh_from_db()
    assert c.due_at == due and c.clock_started_at == at(2026, 11, 1, 9)
    event = c.events.get(kind=E.REPEAT)
    assert event.text == "催促处理" and event.data["new_facts"] is False and event.data["channel"] == "hotline"


def test_new_facts_restart_the_period_from_the_day_received(org, book, login, register):
    with travel(at(2026, 11, 1, 10)):
        c = register(received_at=at(2026, 11, 1, 9))
        c = services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.rm_west2)
    assert timezone.localdate(c.due_at) == date(2026, 11, 16)
    with travel(at(2026, 11, 10, 10)):
        response = login(org.west_officer).post(
            reverse("complaints:complaint-detail", args=[c.pk]),
            {
                "action": "repeat",
                "channel": "letter",
                "received_at": "2026-11-09T15:00",
                "text": "补充：另有一笔重复扣费",
                "new_facts": "on",
            },
        )
    assert response.status_code == 302
    c.refresh_from_db()
    assert timezone.localdate(c.due_at) == date(2026, 11, 24)  # 15 days from 9 November, the day not counted
    assert c.clock_started_at == at(2026, 11, 9, 15)
    assert c.events.get(kind=E.REPEAT).data["new_facts"] is True
    assert org.rm_west2.notifications.filter(text__contains=c.reference).filter(text__contains="2026-11-24").exists()
    assert Complaint.objects.count() == 1


def test_new_facts_keep_the_approved_extension_and_clear_an_overdue_mark(org, in_progress):
    with travel(at(2026, 11, 1, 10)):
        c = in_progress(received_at=at(2026, 11, 1, 9))
        services.extension_request(
            actor=org.west_officer.user, complaint=c, reason="复杂", customer_told_at=at(2026, 11, 1, 10),
            customer_told_via="电话",
        )  # fmt: skip
    with travel(at(2026, 12, 2, 10)):
        services.escalate_due()
        c.refresh_from_db()
        assert c.breach_escalated_at is not None
        services.repeat_contact_record(
            actor=org.west_officer.user, complaint=c, channel="counter", text="新的证据", new_facts=True
        )
    c.refresh_from_db()
    assert timezone.localdate(c.due_at) == date(2027, 1, 1)  # 30 days (one extension) from 2 December
    assert c.breach_escalated_at is None


def test_a_repeat_contact_is_a_form_error_when_incomplete_or_impossible(org, register, login):
    with travel(at(2026, 11, 10, 10)):
        c = register(received_at=at(2026, 11, 5, 9))
        client = login(org.west_officer)
        url = reverse("complaints:complaint-detail", args=[c.pk])
        for data in (
            {"channel": "hotline", "received_at": "2026-11-10T09:00", "text": ""},
            {"channel": "hotline", "received_at": "1990-01-01T09:00", "text": "x"},
            {"channel": "hotline", "received_at": "2026-11-04T09:00", "text": "x"},  # before the complaint
            {"channel": "hotline", "received_at": "2026-11-12T09:00", "text": "x"},  # the future
            {"channel": "hotline", "received_at": "2026-11-10T09:00", "text": "长" * 2001},
        ):
            response = client.post(url, {"action": "repeat", **data})
            assert response.status_code == 200 and 'open data-panel="repeat"' in response.content.decode(), data
            assert "invalid-feedback" in response.content.decode()
    assert not c.events.filter(kind=E.REPEAT).exists()


def test_no_repeat_contact_on_a_closed_complaint(org, register):
    c = register()
    services.complaint_withdraw(actor=org.west_officer.user, complaint=c)
    with pytest.raises(ValidationError):
        services.repeat_contact_record(
            actor=org.west_officer.user, complaint=c, channel="counter", text="x", new_facts=True
        )


# ----------------------------------------------------------------------------------------------------------------
# A second complaint about the same matter
# ----------------------------------------------------------------------------------------------------------------


def intake(book, **kw):
    data = {
        "customer": book.west.pk,
        "complainant_kind": "customer",
        "channel": "counter",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "category": category().pk,
        "severity": "normal",
        "request": "退费",
        "facts": "多收手续费",
    }
    data.update(kw)
    return data


def test_a_second_complaint_marked_as_the_same_matter_is_linked(org, book, login, register):
    first = register()
    services.complaint_withdraw(actor=org.west_officer.user, complaint=first)
    client = login(org.west_officer)
    response = client.post(reverse("complaints:complaint-create"), intake(book, duplicate_of=first.pk))
    assert response.status_code == 302
    second = Complaint.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    page = client.get(reverse("complaints:complaint-detail", args=[second.pk])).content.decode()
    assert 'data-testid="same-matter"' in page and first.reference in page
    # A third about it links to the first of the matter, not to the second.
    third = register(duplicate_of=second)
    assert third.duplicate_of == first


def test_same_matter_only_among_the_customers_visible_complaints(org, book, login, register):
    other = register(customer=book.west2)
    unseen = services.complaint_register(
        actor=org.admin.user, customer=book.west, branch=org.east_outlet, category=category(), channel="counter",
        request="r", facts="f",
    )  # fmt: skip
    client = login(org.west_officer)
    for target in (other, unseen):
        response = client.post(reverse("complaints:complaint-create"), intake(book, duplicate_of=target.pk))
        assert response.status_code == 200
    assert Complaint.objects.count() == 2
    with pytest.raises(ValidationError) as e:
        register(duplicate_of=other)
    assert "duplicate_of" in e.value.message_dict


def test_statistics_count_the_matter_once(org, book, register):
    with travel(at(2026, 11, 3, 10)):
        first = register(received_at=at(2026, 11, 1, 9))
        register(received_at=at(2026, 11, 2, 9), duplicate_of=first)  # the same matter again
        register(received_at=at(2026, 11, 3, 9))  # another matter
        stats = selectors.monthly_statistics(org.west_officer.user, date(2026, 11, 1))
    assert stats.total.received == 2
    assert sum(r.received for r in stats.by_category) == sum(r.received for r in stats.by_branch) == 2


def test_repeated_causes_count_the_matter_once(org, book, register):
    with travel(at(2026, 11, 3, 10)):
        first = register(received_at=at(2026, 11, 1, 9), cause=cause("06"))
        register(received_at=at(2026, 11, 2, 9), cause=cause("06"), duplicate_of=first)
        causes = selectors.repeated_causes(org.west_officer.user, date(2026, 11, 1), date(2026, 11, 30))
    assert [(c.cause.code, c.count) for c in causes] == [("06", 1)]


def test_the_dashboards_count_the_matter_once(org, book, register):
    from dashboards import figures
    from dashboards.models import BranchDayFigures

    with travel(at(2026, 11, 2, 10)):
        first = register(received_at=at(2026, 11, 1, 9))
        register(received_at=at(2026, 11, 1, 11), duplicate_of=first)
        register(received_at=at(2026, 11, 1, 12))
        figures.figures_build(day=date(2026, 11, 1))
    row = BranchDayFigures.objects.get(branch=book.west.branch, day=date(2026, 11, 1))
    assert row.complaints_received == 2
