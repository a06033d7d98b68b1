"""The morning digest: at most once per RM and day, masked names, and pages that enqueue survive a broker outage."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from relationships import services
from reminders import services as reminder_services
from reminders.models import DigestDelivery

pytestmark = pytest.mark.django_db


def test_a_digest_is_sent_once_and_names_are_masked(org, book):
    services.interaction_log(
        actor=org.rm_west.user, customer=book.west, next_follow_up_on=timezone.localdate(), next_action="回访"
    )
    day = timezone.localdate()
    assert reminder_services.digest_recipients(day) == [org.rm_west.pk]
    assert reminder_services.digest_send(staff_id=org.rm_west.pk, day=day) == "sent"
    assert reminder_services.digest_send(staff_id=org.rm_west.pk, day=day) == "skipped"  # a retried task
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [org.rm_west.user.email] and "1" in message.subject
    assert "王*" in message.body and "王西甲" not in message.body
    assert DigestDelivery.objects.get().status == "sent"
    assert Notification.objects.filter(recipient=org.rm_west, text=message.subject).count() == 1


def test_nothing_to_send_is_recorded_as_empty(org):
    assert reminder_services.digest_send(staff_id=org.rm_west2.pk, day=timezone.localdate()) == "empty"
    assert not mail.outbox


def test_dispatch_fans_out_one_task_per_rm(org, book, monkeypatch):
    from reminders import tasks

    sent = []
    monkeypatch.setattr(tasks.send_digest, "safe_delay", lambda *args: sent.append(args))
    for customer in (book.west, book.east):
        services.interaction_log(
            actor=customer.primary_rm.user, customer=customer, next_follow_up_on=timezone.localdate()
        )
    assert tasks.digest_dispatch(timezone.localdate().isoformat()) == 2
    assert sorted(s[0] for s in sent) == sorted([org.rm_west.pk, org.rm_east.pk])


def test_a_page_that_enqueues_works_with_the_broker_down(org, book, login, django_capture_on_commit_callbacks, caplog):
    """Approving a reassignment enqueues a refresh of the moved customers' reminders. With the broker unreachable
    the approval still succeeds; the failure is logged and the nightly run catches up."""
    from crm_site.celery import app

    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r"
    )
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there
    app._pool = None
    app.amqp._producer_pool = None  # the producers hold the old connection pool
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = login(org.west_head).post(
                reverse("relationships:reassignment-detail", args=[request.pk]), {"action": "approve"}
            )
    finally:
        app.conf.broker_url = original
        app._pool = None
        app.amqp._producer_pool = None
    assert response.status_code == 302
    book.west.refresh_from_db()
    assert book.west.primary_rm == org.rm_west2
    assert "broker unreachable" in caplog.text


def test_send_digest_command(org, book, capsys):
    from django.core.management import call_command

    services.interaction_log(
        actor=org.rm_west.user, customer=book.west, next_follow_up_on=timezone.localdate() + timedelta(days=1)
    )
    call_command("send_digest")
    call_command("send_digest")
    assert len(mail.outbox) == 1
