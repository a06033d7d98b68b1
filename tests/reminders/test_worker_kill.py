"""A real Celery worker on Redis, killed with SIGKILL half-way through the morning digests, then started again:
every RM still gets exactly one digest (one delivery row, one notification, one e-mail), those whose digest the
killed worker had claimed and not finished included. The worker runs tests/reminders/digest_worker.py: the
project's application with each digest slowed down inside its transaction, so that the kill lands mid-digest."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from crm_site import settings as project_settings
from notifications.models import Notification
from organisation.models import Staff
from relationships import services
from reminders import services as reminder_services
from reminders import tasks
from reminders.models import DigestDelivery
from tests.factories import CustomerFactory, StaffFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
RMS = 24
# A digest takes 0.4 s here: hard limits of 3 s instead of 360 and 600, so a visibility timeout of 9 s.
SCALED_LIMITS = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "2",
    "CELERY_TASK_TIME_LIMIT": "3",
    "LONG_TASK_SOFT_TIME_LIMIT": "2",
    "LONG_TASK_TIME_LIMIT": "3",
}
VISIBILITY_TIMEOUT = project_settings.visibility_timeout_for(
    int(SCALED_LIMITS["CELERY_TASK_TIME_LIMIT"]), int(SCALED_LIMITS["LONG_TASK_TIME_LIMIT"])
)


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(env, log: Path, claims: Path) -> subprocess.Popen:
    env = {**env, "DIGEST_CLAIMS": str(claims)}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.reminders.digest_worker", "worker", "--concurrency=2",
             "--loglevel=INFO", "-Q", env["CELERY_TASK_DEFAULT_QUEUE"],
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_for(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


def sent_to() -> set[int]:
    """The RMs of the test whose digest is sent."""
    rms = Staff.objects.filter(user__username__startswith="digest_rm")
    return set(DigestDelivery.objects.filter(status="sent", staff__in=rms).values_list("staff_id", flat=True))


def sent() -> int:
    return len(sent_to())


def claimed(claims: Path) -> dict[int, float]:
    """The RMs whose digest a worker claimed, and when (digest_worker.py writes one line per claim)."""
    lines = claims.read_text().splitlines() if claims.exists() else []
    return {int(staff_id): float(at) for staff_id, at in (line.split() for line in lines)}


def claimed_lately(claims: Path) -> set[int]:
    """Digests claimed in the last 0.2 s and not sent: each has at least 0.2 s of its 0.4 s still to go."""
    now, done = time.time(), sent_to()
    return {staff_id for staff_id, at in claimed(claims).items() if now - at < 0.2 and staff_id not in done}


def test_worker_killed_mid_run_every_rm_gets_exactly_one_digest(org, tmp_path, fresh_broker_connections):
    branch = org.west_outlet
    for i in range(RMS):
        rm = StaffFactory(username=f"digest_rm{i}", branch=branch, role=Staff.Role.RM)
        customer = CustomerFactory(primary_rm=rm)
        services.interaction_log(actor=rm.user, customer=customer, next_follow_up_on=timezone.localdate())
    queue = f"test-digest-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    # The production relationship, scaled down: time limits of seconds instead of minutes, and the visibility
    # timeout the settings derive from them (crm_site.settings.visibility_timeout_for), not one of the test's own.
    env = {key: value for key, value in os.environ.items() if key != "CELERY_VISIBILITY_TIMEOUT"}
    env = {
        **env,
        **SCALED_LIMITS,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CATCH_UP_ON_WORKER_START": "0",  # only the test's digests on the test's queue
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",  # a dead worker's task comes back as soon as a worker looks for it
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "DIGEST_DELAY": "0.4",  # each digest takes a while, so that the kill lands half-way (digest_worker.py)
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    day = timezone.localdate().isoformat()

    worker = start_worker(env, tmp_path / "worker1.log", tmp_path / "claims1")
    try:
        recipients = reminder_services.digest_recipients(timezone.localdate())
        assert len(recipients) == RMS  # the RMs of the fixture have nothing due
        for staff_id in recipients:  # the test's own queue, so that nothing else interferes
            tasks.send_digest.apply_async(args=[staff_id, day], queue=queue)
        # A few digests sent, and one just claimed: the kill lands in the middle of it.
        assert wait_for(lambda: sent() >= 4 and claimed_lately(tmp_path / "claims1"), 60), (
            "the worker did not start sending: " + (tmp_path / "worker1.log").read_text()[-3000:]
        )
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its children die mid-run, tasks unacknowledged
        worker.wait(10)
        sent_by_first = sent_to()
        assert len(sent_by_first) < RMS, "the worker finished before it could be killed"
        cut_short = set(claimed(tmp_path / "claims1")) - sent_by_first  # claimed by the killed worker, not sent
        assert cut_short, (
            f"the kill did not land in the middle of a digest: claimed {claimed(tmp_path / 'claims1')}, "
            f"sent {sorted(sent_by_first)}: " + (tmp_path / "worker1.log").read_text()[-3000:]
        )
        assert DigestDelivery.objects.filter(staff_id__in=cut_short, status="pending").count() == len(cut_short)
        worker = start_worker(env, tmp_path / "worker2.log", tmp_path / "claims2")
        assert wait_for(lambda: sent() == RMS, 120 + VISIBILITY_TIMEOUT), (
            f"only {sent()} of {RMS} digests after the restart: " + (tmp_path / "worker2.log").read_text()[-3000:]
        )
        time.sleep(VISIBILITY_TIMEOUT / 2)  # a redelivered duplicate, if any, would run now
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    assert cut_short <= set(claimed(tmp_path / "claims2"))  # redelivered to the new worker, and sent by it
    # … once the visibility timeout had passed since the killed worker took it, and soon after (the new worker looks
    # every second): the broker ran on the timeout the settings derive from the time limits.
    first, second = claimed(tmp_path / "claims1"), claimed(tmp_path / "claims2")
    for staff_id in cut_short:
        waited = second[staff_id] - first[staff_id]
        assert VISIBILITY_TIMEOUT - 1 <= waited <= VISIBILITY_TIMEOUT + 10, (staff_id, waited, VISIBILITY_TIMEOUT)
    rms = Staff.objects.filter(user__username__startswith="digest_rm")
    assert DigestDelivery.objects.filter(staff__in=rms, status="sent").count() == RMS
    for rm in rms:
        assert Notification.objects.filter(recipient=rm, text__startswith="今日工作").count() == 1
    recipients = [
        line.split(":", 1)[1].strip()
        for path in mail_dir.iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("To:")
    ]
    assert sorted(recipients) == sorted(rm.user.email for rm in rms)  # one e-mail each, none twice
