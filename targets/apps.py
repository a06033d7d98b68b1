from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "targets"
    verbose_name = _("Targets")

    def ready(self) -> None:
        from . import panels, receivers  # noqa: F401 - the dashboards' panels; subscribes to figures_built
