from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduled jobs")

    def ready(self):
        from . import receivers  # noqa: F401 - subscribes to Celery's publish and worker-ready signals
