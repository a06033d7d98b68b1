"""App configurations of third-party apps that the project adjusts."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes, whose own app name ("Axes") is not translatable: the admin shows it as the sign-in lockouts."""

    default = False
    verbose_name = _("Sign-in lockouts")
