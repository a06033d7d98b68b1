"""The Celery application.

Tasks are autodiscovered from each app's ``tasks.py``. They are thin wrappers that take ids and call a service;
fire them with ``task.delay_on_commit(...)`` so that a task never runs before its rows are committed, and so that
a broker outage never turns into an error in the user's request (it is logged, and the periodic sweeps in the
database catch up).

Publishing from a request must not wait on a hung broker either. ``safe_delay`` publishes over connections of its
own whose socket timeouts are short (``BROKER_PUBLISH_TRANSPORT_OPTIONS`` in settings.py; the worker's long-lived
connections keep the broker's ordinary options), and after a failure the process does not try to publish again
for ``BROKER_PUBLISH_BREAKER_SECONDS``: those tasks are skipped at once, logged, and left to the sweeps. An outage
is logged once when it starts and once when it ends.
"""

import logging
import os
import threading
import time

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError
from kombu.pools import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

logger = logging.getLogger("crm_site.celery")


class _PublishBreaker:
    """Whether this process should try the broker now (shared by its threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.down_since: float | None = None

    def closed(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, exc: BaseException) -> bool:
        """Open the breaker; True for the first failure of an outage."""
        with self.lock:
            self.skip_until = time.monotonic() + getattr(settings, "BROKER_PUBLISH_BREAKER_SECONDS", 5)
            first = self.down_since is None
            if first:
                self.down_since = time.time()
        return first

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            logger.warning("broker reachable again after %.1f s", time.time() - since)

    def reset(self) -> None:
        with self.lock:
            self.skip_until, self.down_since = 0.0, None


publishing = _PublishBreaker()


class CrmTask(DjangoTask):
    """Base task: publishing after commit, never raising into the caller, nor waiting long, when the broker is
    unreachable."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(lambda: self.safe_delay(*args, **kwargs))

    def safe_delay(self, *args, **kwargs) -> bool:
        """Publish now; on a broker outage, log and return False instead of raising."""
        if not publishing.closed():
            logger.info("broker unreachable: %s not enqueued; the periodic sweep will catch up", self.name)
            return False
        try:
            options = getattr(settings, "BROKER_PUBLISH_TRANSPORT_OPTIONS", {})
            pool = connections[self.app.connection_for_write(transport_options=options)]
            with pool.acquire(block=True, timeout=1) as connection:
                self.apply_async(args=args, kwargs=kwargs, connection=connection)
        except (OperationalError, *_connection_errors()) as exc:
            if publishing.failed(exc):
                logger.warning(
                    "broker unreachable (%s: %s): %s not enqueued; the periodic sweep will catch up",
                    type(exc).__name__,
                    exc,
                    self.name,
                )
            else:
                logger.info("broker unreachable: %s not enqueued; the periodic sweep will catch up", self.name)
            return False
        publishing.succeeded()
        return True


def _connection_errors() -> tuple[type[BaseException], ...]:
    """What a broker connection raises when the broker is gone (redis-py's errors on Redis), and a socket error or
    a full pool."""
    from kombu.exceptions import LimitExceeded

    return (*app.connection_for_write().connection_errors, OSError, LimitExceeded)


app = Celery("crm_site", task_cls=CrmTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
