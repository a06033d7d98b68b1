from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = _("Reminders and Today")

    def ready(self) -> None:
        from . import panels, receivers  # noqa: F401 - the 360° page panel; subscribes to relationships' and the pool's signals
