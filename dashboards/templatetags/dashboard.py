"""Small helpers of the dashboards' templates. Figures are formatted by ``{% load numbers %}``
(crm_site/templatetags/numbers.py: ``wan`` for amounts in 万元, ``pct`` for percentages)."""

from django import template

from dashboards.boards import churn_reasons as reasons

register = template.Library()


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
