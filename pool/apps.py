from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "pool"
    verbose_name = _("Customer pool")

    def ready(self) -> None:
        from . import panels  # noqa: F401 - registers the pool's panels on the pages below
