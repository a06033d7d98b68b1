from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationshipsConfig(AppConfig):
    name = "relationships"
    verbose_name = _("Relationships")

    def ready(self) -> None:
        from . import panels, receivers  # noqa: F401 - the 360° page panels; subscribes to customers' signals
