"""The consent pages and the 360° panel: who opens what (role × URL), recording a change and a window through the
forms (bad input a form error with nothing written, a customer out of scope a 404), the history, and the query
counts (independent of the number of channels, windows and events)."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from consent import services
from consent.models import WORKING_DAYS, Channel, ConsentEvent, ConsentRecord, DndWindow
from idempotency.models import SubmissionKey
from tests.html import region_text

from .conftest import TODAY, give, withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


@pytest.fixture
def window(org, book):
    return services.dnd_window_add(
        actor=org.rm_west.user, customer=book.west, channel=Channel.PHONE, weekdays=WORKING_DAYS,
        start_time=time(9), end_time=time(18), reason="上班时间勿打电话",
    )  # fmt: skip


def urls(customer, window):
    return {
        "edit": reverse("consent:consent-edit", args=[customer.pk]),
        "history": reverse("consent:consent-history", args=[customer.pk]),
        "dnd": reverse("consent:dnd-create", args=[customer.pk]),
        "remove": reverse("consent:dnd-remove", args=[customer.pk, window.pk]),
    }


# Who opens the pages of 王西甲 (rm_west's customer at 西一网点, 西支行): the statuses of the GETs of the consent
# page, the history and the new-window form, and of an empty POST to remove a window (redirected with a message
# where the user may, nothing removed).
MATRIX = {
    "rm_west": (200, 200, 200, 302),
    "west_head": (200, 200, 200, 302),
    "top_head": (200, 200, 200, 302),
    "admin": (200, 200, 200, 302),
    "rm_west2": (404, 404, 404, 404),  # another RM's customer
    "east_head": (404, 404, 404, 404),  # a head of another branch
    "west_officer": (403, 200, 403, 403),  # reads the history (complaints about marketing), changes nothing
}


def test_role_matrix(org, book, window, client, django_user_model):
    pages = urls(book.west, window)
    for who, expected in MATRIX.items():
        client.force_login(getattr(org, who).user)
        got = tuple(client.get(pages[p]).status_code for p in ("edit", "history", "dnd")) + (
            client.post(pages["remove"], {}).status_code,
        )
        assert got == expected, who
    client.force_login(django_user_model.objects.create_user("nobody_here"))
    assert {client.get(pages[p]).status_code for p in ("edit", "history", "dnd")} == {403}
    client.logout()
    for p in ("edit", "history", "dnd"):
        assert client.get(pages[p])["Location"].startswith(reverse("login"))
    assert client.get(pages["remove"]).status_code in (302, 405)
    assert DndWindow.objects.count() == 1


def form(**fields):
    return {"channel": "sms", "state": "withdrawn", "effective_on": "2026-06-15", "source": "recording",
            "reference": "REC-20260615-01", "reason": "客户来电要求不再发送营销短信", **fields}  # fmt: skip


def test_recording_a_withdrawal_through_the_page(org, book, login):
    give(services, org.rm_west.user, book.west, on=TODAY - timedelta(days=90))
    client = login(org.rm_west)
    url = reverse("consent:consent-edit", args=[book.west.pk])
    response = client.post(url, form(), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Consent recorded: SMS (短信), Withdrawn (撤回)." in response.content.decode()
    assert region_text(response.content, "consent-sms").startswith("SMS (短信) Withdrawn since 2026-06-15")
    assert ConsentRecord.objects.get().state == "withdrawn"
    again = client.post(url, form(), follow=True)  # posted twice: the second changes nothing
    assert "Already recorded" in again.content.decode() and ConsentEvent.objects.count() == 2


def test_bad_input_is_a_form_error_and_writes_nothing(org, book, login):
    client = login(org.rm_west)
    url = reverse("consent:consent-edit", args=[book.west.pk])
    for fields, message in (
        ({"reason": ""}, "This field is required."),
        ({"effective_on": "2026-06-16"}, "cannot be in the future"),
        ({"reference": ""}, "Give the recording&#x27;s number"),
        ({"effective_on": "2026-02-30"}, "Enter a valid date."),
        ({"channel": "fax"}, "Select a valid choice."),
    ):
        response = client.post(url, form(**fields))
        assert response.status_code == 400 and message in response.content.decode(), fields
    assert not ConsentRecord.objects.exists() and not ConsentEvent.objects.exists()


def test_a_customer_the_rm_no_longer_has_is_a_404_and_nothing_is_written(org, book, login):
    client = login(org.rm_west2)
    url = reverse("consent:consent-edit", args=[book.west.pk])
    assert client.post(url, form()).status_code == 404
    dnd = reverse("consent:dnd-create", args=[book.west.pk])
    assert (
        client.post(dnd, {"weekdays": ["1"], "start_time": "09:00", "end_time": "10:00", "reason": "x"}).status_code
        == 404
    )
    assert not ConsentRecord.objects.exists() and not DndWindow.objects.exists()


def test_adding_and_removing_a_window_through_the_pages(org, book, login):
    client = login(org.rm_west)
    url = reverse("consent:dnd-create", args=[book.west.pk])
    good = {"channel": "phone", "weekdays": ["1", "2", "4", "8", "16"], "start_time": "09:00", "end_time": "18:00",
            "reason": "客户要求工作日上班时间勿打电话", "submission_key": "6f1c1d2e-8a7b-4c3d-9e0f-112233445566"}  # fmt: skip
    bad = client.post(url, {**good, "start_time": "18:00", "end_time": "09:00", "submission_key": ""})
    assert bad.status_code == 400 and "For a window over midnight, add two windows" in bad.content.decode()
    for _ in range(2):  # a double submit adds one window
        assert client.post(url, good)["Location"] == reverse("consent:consent-edit", args=[book.west.pk])
    window = DndWindow.objects.get()
    assert (window.weekdays, window.start_time, window.channel) == (WORKING_DAYS, time(9), "phone")
    assert SubmissionKey.objects.count() == 1
    remove = reverse("consent:dnd-remove", args=[book.west.pk, window.pk])
    refused = client.post(remove, {"reason": ""}, follow=True)
    assert "Give the reason for removing the window" in refused.content.decode() and DndWindow.objects.exists()
    done = client.post(remove, {"reason": "客户来电取消勿扰"}, follow=True)
    assert "Do-not-disturb window removed: Monday to Friday · 09:00–18:00." in done.content.decode()
    assert not DndWindow.objects.exists()
    assert client.post(remove, {"reason": "再删一次"}).status_code == 404


def test_the_360_panel_shows_every_channel_and_the_windows(org, book, window, login):
    give(services, org.rm_west.user, book.west, on=date(2026, 3, 1))
    withdraw(services, org.rm_west.user, book.west, channel=Channel.PHONE)
    with time_machine.travel(date(2026, 6, 1), tick=False):  # a window over by now: not shown
        services.dnd_window_add(actor=org.rm_west.user, customer=book.west, start_date=date(2026, 6, 1),
                                end_date=date(2026, 6, 10), reason="已过期")  # fmt: skip
    page = login(org.rm_west).get(reverse("customers:customer-detail", args=[book.west.pk])).content
    assert region_text(page, "consent-sms") == "SMS (短信) Given 2026-03-01 · Counter form (柜面签署)"
    assert region_text(page, "consent-phone").startswith("Phone (电话) Withdrawn 2026-06-15")
    assert region_text(page, "consent-wechat") == "WeChat (微信) Not given"
    assert (
        region_text(page, "dnd-windows")
        == "Do not disturb Phone (电话): Monday to Friday · 09:00–18:00 上班时间勿打电话"
    )
    assert 'data-testid="consent-edit-link"' in page.decode() and 'data-testid="consent-history-link"' in page.decode()
    officer = login(org.west_officer).get(reverse("customers:customer-detail", args=[book.west.pk])).content.decode()
    assert 'data-testid="consent-edit-link"' not in officer and 'data-testid="consent-history-link"' in officer


def test_the_history_says_who_did_what_and_why(org, book, window, login):
    give(services, org.rm_west.user, book.west, on=date(2026, 3, 1), reference="F-0301")
    withdraw(services, org.west_head.user, book.west)
    page = login(org.west_officer).get(reverse("consent:consent-history", args=[book.west.pk])).content
    text = region_text(page, "consent-event")
    withdrawal = text.index("SMS (短信): Given → Withdrawn")
    giving = text.index("SMS (短信): Not given → Given")
    added = text.index("Do-not-disturb window added: Phone (电话) · Monday to Friday · 09:00–18:00")
    assert withdrawal < giving < added  # newest first
    assert (
        "西行长丙 Effective on 2026-06-15 · Phone recording (电话录音) · REC-0001 客户来电要求不再发送营销短信" in text
    )
    assert "客户经理己 Effective on 2026-03-01 · Counter form (柜面签署) · F-0301 柜面签署营销同意书" in text


# The pages' queries: session, user, staff (middleware); the RM's secondary customers and kept pools, the customer
# (customer_get_visible); then the consent page's records and windows (the history: its page of events); the bell's
# count; the session's save (3).
EDIT_QUERIES = 11
HISTORY_QUERIES = 10
DND_FORM_QUERIES = 9


def test_query_counts_do_not_grow(org, book, login, django_assert_num_queries):
    client = login(org.rm_west)
    edit = reverse("consent:consent-edit", args=[book.west.pk])
    history = reverse("consent:consent-history", args=[book.west.pk])
    dnd = reverse("consent:dnd-create", args=[book.west.pk])
    client.get(edit)  # warm the session

    def counted():
        for url, pin in ((edit, EDIT_QUERIES), (history, HISTORY_QUERIES), (dnd, DND_FORM_QUERIES)):
            with django_assert_num_queries(pin):
                assert client.get(url).status_code == 200

    counted()
    for n, channel in enumerate(Channel.values):
        give(services, org.rm_west.user, book.west, channel=channel, on=TODAY - timedelta(days=10 + n))
        withdraw(services, org.rm_west.user, book.west, channel=channel, reference=f"REC-{n}")
        services.dnd_window_add(actor=org.rm_west.user, customer=book.west, channel=channel,
                                start_time=time(8 + n), end_time=time(9 + n), reason="勿扰")  # fmt: skip
    counted()
