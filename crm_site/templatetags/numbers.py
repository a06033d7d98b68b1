"""The one place figures are formatted for pages: ``{% load numbers %}``.

One format per kind of figure (docs/ui.md, "Number formats"):

- ``yuan``: an amount on a customer page, in 元 with two decimals and thousands separators: ``¥1,234,567.89``,
  ``-¥1,234.50``;
- ``wan``: an amount on a dashboard, in 万元 (10,000 CNY) with one decimal: ``12,345.7``; the unit is said once,
  in the column header or the card label, not after every figure;
- ``pct``: a percentage with one decimal: ``87.5%`` (the value is already in percent, 87.5 not 0.875).

Each rounds half up (as the bank's statements do) and answers ``—`` for a missing value. Registered as a template
library in settings (``TEMPLATES[...]["OPTIONS"]["libraries"]``), so any app's templates may load it.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

MISSING = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def grouped(number: Decimal, digits: int) -> str:
    """``number`` rounded half up to ``digits`` decimals, with comma thousands separators; never ``-0.00``."""
    quantum = Decimal(1).scaleb(-digits)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{digits}f}"


@register.filter
def yuan(value) -> str:
    """An amount in 元: ``1234567.891`` → ``¥1,234,567.89``; ``-1234.5`` → ``-¥1,234.50``."""
    number = _decimal(value)
    if number is None:
        return MISSING
    text = grouped(number, 2)
    return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"


@register.filter
def wan(value, digits: int = 1) -> str:
    """An amount in CNY shown in 万元 (units of 10,000), grouped: ``123456789`` → ``12,345.7``."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return grouped(number / Decimal(10000), int(digits))


@register.filter
def pct(value, digits: int = 1) -> str:
    """A percentage (already in percent) with one decimal: ``87.46`` → ``87.5%``."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return f"{grouped(number, int(digits))}%"
