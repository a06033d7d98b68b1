from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorktasksConfig(AppConfig):
    name = "worktasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from . import panels  # noqa: F401 - registers the Today panel
