"""Formatting for the dashboards: amounts in 万元 (10,000 CNY), as branch staff read them."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from dashboards.boards import churn_reasons as reasons

register = template.Library()


@register.filter
def wan(value, digits: int = 1) -> str:
    """An amount in CNY shown in units of 10,000 (万元), grouped: 123456789 → "12,345.7"."""
    if value in (None, ""):
        return "—"
    return number_format(Decimal(value) / Decimal(10000), decimal_pos=int(digits), force_grouping=True)


@register.filter
def get(mapping, key):
    """``mapping[key]`` in a template (the figures of a table row by column name)."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return None


@register.filter
def churn_reasons(follow_up) -> list:
    return reasons(follow_up)
