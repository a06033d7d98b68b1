"""The scheduling app's answers to Celery's signals: a daily job's message published is its run queued; a worker
that starts runs a catch-up pass (the broker or the workers may have been down at a job's time)."""

import logging

from celery.signals import after_task_publish, worker_ready
from django.conf import settings

from . import runs, tasks

logger = logging.getLogger("scheduling")


@after_task_publish.connect(dispatch_uid="scheduling.published")
def on_task_published(sender=None, body=None, **kwargs):
    if not sender or not runs.is_daily_job(sender):
        return
    if isinstance(body, list | tuple) and len(body) >= 2:  # message protocol 2: (args, kwargs, embed)
        args, kw = body[0], body[1]
    elif isinstance(body, dict):  # protocol 1
        args, kw = body.get("args"), body.get("kwargs")
    else:
        return
    runs.published(sender, args, kw)


@worker_ready.connect(dispatch_uid="scheduling.worker_ready")
def on_worker_ready(**kwargs):
    if settings.CATCH_UP_ON_WORKER_START:
        tasks.catch_up.safe_delay()
