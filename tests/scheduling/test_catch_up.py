"""Missed runs of the daily jobs are caught up, once, from the run record in the database (scheduling/), under
time_machine: the broker down at a job's time loses nothing that is still worth doing that day."""

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
import time_machine
from celery import current_app
from celery.signals import worker_ready
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from kombu import Connection
from kombu.exceptions import OperationalError

from customers import services as customer_services
from organisation.access import SYSTEM
from relationships import services
from reminders import services as reminder_services
from reminders.models import DigestDelivery, FollowUp
from scheduling import runs
from scheduling.models import JobRun
from scheduling.services import catch_up, last_time_today
from scheduling.tasks import catch_up as catch_up_task
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 1)  # a Tuesday
DIGEST = "reminders: morning digest"
GENERATORS = [f"reminders: {kind}" for kind in ("manual", "contact_policy", "birthday", "holiday", "maturity", "movement", "churn")]  # fmt: skip


def at(hour: int, minute: int, day: date = DAY):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_current_timezone()), tick=False)  # fmt: skip


@pytest.fixture
def eager(settings):
    """Tasks run in this process when published (a worker's part), as the broker is not the point here."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    assert current_app.conf.task_always_eager


def only(*names: str) -> None:
    """Only these schedule entries enabled (as if an admin had switched the others off), to keep a test to them."""
    PeriodicTask.objects.exclude(name__in=names).update(enabled=False)


@contextmanager
def broker_down(settings):
    """The broker unreachable: nothing listens on its port, and tasks are published, not run in this process."""
    app = current_app
    original, eager = app.conf.broker_url, settings.CELERY_TASK_ALWAYS_EAGER
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        app.conf.broker_url = original
        app._pool = None
        app.amqp._producer_pool = None


def beat_sends(name: str, **options) -> bool:
    """What celery beat does at an entry's time: publish its task with its arguments. With the broker down beat
    logs a SchedulingError and moves on to the next minute (the entry is not sent again)."""
    entry = PeriodicTask.objects.get(name=name)
    try:
        current_app.tasks[entry.task].apply_async(
            args=json.loads(entry.args or "[]"), kwargs=json.loads(entry.kwargs or "{}"), **options
        )
    except OperationalError:
        return False
    return True


def due_today(org, book):
    """Both RMs of the book have a follow-up due today: each gets a digest."""
    for customer in (book.west, book.east):
        services.interaction_log(actor=customer.primary_rm.user, customer=customer, next_follow_up_on=timezone.localdate())  # fmt: skip


def digests() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def run_of(name: str, day: date = DAY) -> JobRun | None:
    entry = PeriodicTask.objects.get(name=name)
    key = runs.arguments_key(json.loads(entry.args or "[]"), json.loads(entry.kwargs or "{}"))
    return JobRun.objects.filter(task=entry.task, arguments=key, day=day).first()


# -- the digest --------------------------------------------------------------------------------------------------


def test_a_digest_missed_at_0800_is_sent_once_when_the_broker_is_back_at_0820(org, book, eager, settings):
    only(DIGEST)
    with at(7, 30):
        due_today(org, book)
    with at(8, 0), broker_down(settings):
        assert beat_sends(DIGEST) is False
    assert digests() == [] and not DigestDelivery.objects.exists()
    assert run_of(DIGEST) is None  # nothing ran, nothing was queued: the day's run is missing

    with at(8, 20):
        assert catch_up() == [DIGEST]
    assert digests() == sorted([org.rm_west.user.email, org.rm_east.user.email])
    run = run_of(DIGEST)
    assert run.status == JobRun.Status.SUCCEEDED and run.catch_ups == 1 and run.outcome == 2

    with at(8, 30):
        assert catch_up() == []  # the next pass finds the day's run done
    with at(9, 0):
        catch_up_task()  # also as the task the beat entry sends every ten minutes
    assert len(mail.outbox) == 2
    assert DigestDelivery.objects.filter(status="sent").count() == 2


def test_an_outage_over_the_whole_morning_is_caught_up_in_the_order_of_the_schedule(org, eager, settings):
    """Broker down from 05:30 to 08:20: housekeeping, the seven generators and the digest are caught up in one pass,
    the generators before the digest, so that the digest lists the birthday found by the 06:10 generator."""
    only("reminders: expire and wake follow-ups", *GENERATORS, DIGEST)
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    customer = CustomerFactory(primary_rm=org.rm_west, id_type="", id_number="")
    customer_services.customer_update(actor=SYSTEM, customer=customer, birth_date=date(1980, 12, 3))
    with broker_down(settings):
        for hour, minute, name in [(5, 45, "reminders: expire and wake follow-ups"), *((6, 5 * i, n) for i, n in enumerate(GENERATORS)), (8, 0, DIGEST)]:  # fmt: skip
            with at(hour, minute):
                assert beat_sends(name) is False
    assert not FollowUp.objects.filter(kind="birthday").exists()

    with at(8, 20):
        done = catch_up()
    assert done == ["reminders: expire and wake follow-ups", *GENERATORS, DIGEST]
    birthday = FollowUp.objects.get(customer=customer, kind="birthday")
    assert birthday.due_on == date(2026, 12, 3) and timezone.localtime(birthday.created_at).date() == DAY
    [message] = mail.outbox
    assert message.to == [org.rm_west.user.email] and "生日祝福" in message.body


def test_a_job_whose_run_is_recorded_is_not_run_again(org, book, eager):
    only(DIGEST)
    with at(7, 30):
        due_today(org, book)
    with at(8, 0):
        assert beat_sends(DIGEST) is True  # the broker is up: beat's run goes through (run here, eagerly)
    assert len(mail.outbox) == 2
    assert run_of(DIGEST).status == JobRun.Status.SUCCEEDED
    with at(8, 20):
        assert catch_up() == []
    assert len(mail.outbox) == 2 and run_of(DIGEST).catch_ups == 0


def test_a_job_not_yet_due_is_not_run(org, book, eager):
    only(DIGEST)
    with at(7, 30):
        due_today(org, book)
    with at(7, 59):
        assert catch_up() == []
    with at(8, 1):  # due, but beat's own run of 08:00 may still be on its way: left to it for two minutes
        assert catch_up() == []
    assert mail.outbox == [] and run_of(DIGEST) is None


def test_the_catch_up_follows_the_schedule_an_admin_edited(org, book, eager):
    only(DIGEST)
    entry = PeriodicTask.objects.get(name=DIGEST)
    entry.crontab, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="9", day_of_week="1-5", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai")  # fmt: skip
    entry.save()
    with at(7, 30):
        due_today(org, book)
    with at(9, 20):
        assert catch_up() == []  # moved to 09:30
    saturday = DAY + timedelta(days=4)
    with at(10, 0, saturday):
        assert catch_up() == []  # weekdays only
    with at(10, 0):
        assert catch_up() == [DIGEST]
    assert len(mail.outbox) == 2


def test_a_digest_is_not_caught_up_after_the_morning(org, book, eager):
    """A digest at noon is still worth it; after noon the RM has worked from Today for hours: not sent."""
    only(DIGEST)
    with at(7, 30):
        due_today(org, book)
    with at(12, 1):
        assert catch_up() == []
    assert mail.outbox == []
    with at(12, 0):
        assert catch_up() == [DIGEST]
    assert len(mail.outbox) == 2


# -- the reminders -----------------------------------------------------------------------------------------------


def test_reminders_missed_0600_to_0630_are_made_that_day_not_the_next(org, eager, settings):
    only(*GENERATORS)
    settings.REMINDER_BIRTHDAY_LEAD_DAYS = 3
    customer = CustomerFactory(primary_rm=org.rm_west, id_type="", id_number="")
    customer_services.customer_update(actor=SYSTEM, customer=customer, birth_date=date(1980, 12, 4))
    with broker_down(settings):
        for i, name in enumerate(GENERATORS):
            with at(6, 5 * i):
                assert beat_sends(name) is False
    assert not FollowUp.objects.filter(customer=customer).exists()

    with at(6, 40):
        assert catch_up() == GENERATORS
    made = {(f.kind, f.due_on, timezone.localtime(f.created_at).date()) for f in FollowUp.objects.filter(customer=customer)}  # fmt: skip
    assert ("birthday", date(2026, 12, 4), DAY) in made  # today, three days ahead, as the 06:10 run would have
    count = FollowUp.objects.count()

    with at(6, 50):
        assert catch_up() == []
    with at(6, 0, DAY + timedelta(days=1)):  # the next morning's runs go through: nothing made twice
        for name in GENERATORS:
            assert beat_sends(name) is True
    assert FollowUp.objects.filter(customer=customer, kind="birthday").count() == 1
    assert FollowUp.objects.count() >= count


# -- in flight, failed, twice at once ----------------------------------------------------------------------------


def test_a_run_in_flight_is_left_alone_until_the_broker_would_have_handed_it_on(org, book, settings):
    """Beat's message was published (the run is queued) but no worker has finished it: the catch-up waits for the
    broker's visibility timeout — a worker that took it and died would have had it redelivered by then."""
    only(DIGEST)
    with at(7, 30):
        due_today(org, book)
    with at(8, 0), Connection("memory://") as broker:
        assert beat_sends(DIGEST, connection=broker) is True  # published; no worker takes it
    assert run_of(DIGEST).status == JobRun.Status.QUEUED
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with at(8, 20):
        assert catch_up() == []
    lost = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.get_current_timezone()) + timedelta(
        seconds=django_settings.VISIBILITY_TIMEOUT, minutes=1
    )
    with at(lost.hour, lost.minute):
        assert catch_up() == [DIGEST]
    assert len(mail.outbox) == 2


def test_a_failed_run_is_caught_up_and_a_job_that_always_fails_is_given_up(org, book, eager, settings, monkeypatch):
    only(DIGEST)
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    calls = []

    def broken(day):
        calls.append(day)
        raise RuntimeError("database gone")

    monkeypatch.setattr(reminder_services, "digest_recipients", broken)
    with at(8, 0):
        beat_sends(DIGEST)
    run = run_of(DIGEST)
    assert run.status == JobRun.Status.FAILED and run.outcome == {"error": "RuntimeError"} and run.succeeded_at is None
    for minute in (10, 20, 30, 40, 50):
        with at(8, minute):
            catch_up()
    assert len(calls) == 1 + runs.MAX_CATCH_UPS  # beat's run, then three catch-ups, then no more that day
    assert run_of(DIGEST).catch_ups == runs.MAX_CATCH_UPS


def test_two_passes_at_once_take_a_run_once(org):
    with at(8, 20):
        run = JobRun.objects.create(task="reminders.tasks.digest_dispatch", day=DAY, status=JobRun.Status.QUEUED)
        now = timezone.now()
        assert runs.claim(run, now) is True
        assert runs.claim(run, now) is False  # the other pass finds it running


def test_a_run_with_other_arguments_is_not_the_days_run(org, book, eager):
    """``digest_dispatch`` sent by hand for another day is another job: the day's 08:00 run is still missing."""
    from reminders import tasks

    only(DIGEST)
    with at(8, 20):
        tasks.digest_dispatch("2026-11-30")
        assert catch_up() == [DIGEST]


# -- when a worker starts ----------------------------------------------------------------------------------------


def test_a_worker_that_starts_runs_a_catch_up_pass(settings, monkeypatch):
    sent = []
    monkeypatch.setattr(catch_up_task, "safe_delay", lambda *args: sent.append(args))
    settings.CATCH_UP_ON_WORKER_START = True
    worker_ready.send(sender=None)
    assert sent == [()]
    settings.CATCH_UP_ON_WORKER_START = False
    worker_ready.send(sender=None)
    assert sent == [()]


def test_the_catch_up_runs_every_ten_minutes_and_every_daily_job_is_recorded():
    entry = PeriodicTask.objects.get(task="scheduling.tasks.catch_up")
    assert entry.enabled and entry.crontab.minute == "*/10" and entry.crontab.hour == "*"
    current_app.loader.import_default_modules()
    daily = {e.task for e in PeriodicTask.objects.filter(crontab__minute__regex=r"^\d+$", crontab__hour__regex=r"^\d+$")}  # fmt: skip
    assert daily and all(isinstance(current_app.tasks[name], runs.DailyJob) for name in daily), daily
    assert not isinstance(current_app.tasks["complaints.tasks.escalate_complaints"], runs.DailyJob)


def test_the_last_time_of_a_schedule_today():
    schedule = CrontabSchedule(minute="0,30", hour="6,8", timezone="Asia/Shanghai").schedule
    tz = timezone.get_current_timezone()
    assert last_time_today(schedule, datetime(2026, 12, 1, 5, 59, tzinfo=tz)) is None
    assert last_time_today(schedule, datetime(2026, 12, 1, 8, 29, tzinfo=tz)) == datetime(2026, 12, 1, 8, 0, tzinfo=tz)
    assert last_time_today(schedule, datetime(2026, 12, 1, 23, 0, tzinfo=tz)) == datetime(2026, 12, 1, 8, 30, tzinfo=tz)
