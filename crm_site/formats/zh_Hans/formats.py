"""Django's zh_Hans formats, with thousands grouped by commas (amounts read as 1,234,567.89 in bank documents)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
