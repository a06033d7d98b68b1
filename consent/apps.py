from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Marketing consent")

    def ready(self) -> None:
        from . import panels  # noqa: F401 - registers the 360° page's consent panel
