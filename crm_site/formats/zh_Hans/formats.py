"""Django's zh_Hans formats, with thousands grouped by commas (amounts read as 1,234,567.89 in bank documents)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
MONTH_DAY_FORMAT = "n月j日"  # 2月6日, as dates are written in Chinese (Django's own is 02月6日)
