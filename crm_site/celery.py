"""The Celery application.

Tasks are autodiscovered from each app's ``tasks.py``. They are thin wrappers that take ids and call a service;
fire them with ``task.delay_on_commit(...)`` so that a task never runs before its rows are committed, and so that
a broker outage never turns into an error in the user's request (it is logged, and the periodic sweeps in the
database catch up).
"""

import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

logger = logging.getLogger("crm_site.celery")


class CrmTask(DjangoTask):
    """Base task: publishing after commit, never raising into the caller when the broker is unreachable."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(lambda: self.safe_delay(*args, **kwargs))

    def safe_delay(self, *args, **kwargs) -> bool:
        """Publish now; on a broker outage, log and return False instead of raising."""
        try:
            self.apply_async(args=args, kwargs=kwargs)
        except OperationalError:
            logger.warning("broker unreachable: %s not enqueued; the periodic sweep will catch up", self.name)
            return False
        return True


app = Celery("crm_site", task_cls=CrmTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
