"""The Celery application of the worker-kill test (tests/reminders/test_worker_kill.py), started as
``celery -A tests.reminders.digest_worker worker``: the project's own application, with every digest slowed down
between claiming its delivery row and sending it, so that the test can kill the worker half-way through a run.

In each pool process, ``reminders.services.digest_send`` reads the RM's Today list through a wrapper that writes
the RM's id and the time to the file ``DIGEST_CLAIMS`` (the digests that were claimed, and when), then sleeps
``DIGEST_DELAY`` seconds, inside the transaction that holds the delivery row."""

import os
import time

from celery.signals import worker_process_init

from crm_site.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _slow_digests(**kwargs):
    from reminders import services

    delay = float(os.environ["DIGEST_DELAY"])
    claims = os.environ["DIGEST_CLAIMS"]
    today_for = services.today_for

    def claimed_then_slow(staff, *args, **kw):
        today = today_for(staff, *args, **kw)
        with open(claims, "a") as out:
            out.write(f"{staff.pk} {time.time()}\n")
        time.sleep(delay)
        return today

    services.today_for = claimed_then_slow
