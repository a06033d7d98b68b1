"""What a follow-up is about, in one line: what, how much and when — never the customer's name, which every page
shows beside it. Built here and only here, at render time and in the reader's language, from the facts the
generators store on the follow-up (its kind, due date, ``detail`` and ``source_ref``) and from its customer's
tier and birth date. Follow-ups created before a fact was stored fall back to what can still be said.

Every page that shows a follow-up (Today, the 360° page, My customers, the churn list, the digest, the admin)
renders ``FollowUp.headline``, which is ``headline(follow_up)``.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lunardate import LunarDate

# Greeting occasions by key (reminders.greetings): the key is in the follow-up's source_ref ("holiday:<key>").
OCCASIONS = {
    "new_year": gettext_lazy("New Year's Day"),
    "spring_festival": gettext_lazy("Spring Festival"),
    "qingming": gettext_lazy("Qingming Festival"),
    "dragon_boat": gettext_lazy("Dragon Boat Festival"),
    "mid_autumn": gettext_lazy("Mid-Autumn Festival"),
    "national_day": gettext_lazy("National Day"),
    "lantern": gettext_lazy("Lantern Festival"),
    "qixi": gettext_lazy("Qixi Festival"),
    "double_ninth": gettext_lazy("Double Ninth Festival"),
}

# A contact policy's frequency in words, for the usual lengths (any other length reads "every N days").
FREQUENCIES = {
    7: gettext_lazy("once a week"),
    14: gettext_lazy("once a fortnight"),
    30: gettext_lazy("once a month"),
    31: gettext_lazy("once a month"),
    60: gettext_lazy("once every two months"),
    90: gettext_lazy("once a quarter"),
    91: gettext_lazy("once a quarter"),
    92: gettext_lazy("once a quarter"),
    180: gettext_lazy("twice a year"),
    182: gettext_lazy("twice a year"),
    183: gettext_lazy("twice a year"),
    365: gettext_lazy("once a year"),
    366: gettext_lazy("once a year"),
}


def money(value) -> str:
    """¥1,234,567.89 (the sign left out: the words say which way the money went)."""
    try:
        amount = abs(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"¥{amount:,.2f}"


def day_label(day: date | None) -> str:
    """12月8日 / December 8: the month and day in the reader's language."""
    return formats.date_format(day, "MONTH_DAY_FORMAT") if day else ""


def frequency(days: int) -> str:
    if days in FREQUENCIES:
        return str(FREQUENCIES[days])
    return _("once every %(n)s days") % {"n": days}


def _age(birth: date | None, on: date, *, lunar: bool) -> int | None:
    if birth is None:
        return None
    if lunar:  # the age reached at the lunar birthday: lunar years between birth and the day
        try:
            return (
                LunarDate.from_solar_date(*on.timetuple()[:3]).year
                - LunarDate.from_solar_date(*birth.timetuple()[:3]).year
            )
        except ValueError:
            return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birthday(f) -> str:
    detail = f.detail or {}
    lunar = detail.get("lunar", f.title.startswith("农历"))
    age = detail.get("age")
    if age is None:
        age = _age(getattr(f.customer, "birth_date", None), f.due_on, lunar=lunar)
    day = day_label(f.due_on)
    if lunar:
        if age:
            return _("Lunar birthday %(day)s (%(age)s)") % {"day": day, "age": age}
        return _("Lunar birthday %(day)s") % {"day": day}
    if age:
        return _("Birthday %(day)s (%(age)s)") % {"day": day, "age": age}
    return _("Birthday %(day)s") % {"day": day}


def _holiday(f) -> str:
    key = (f.source_ref or "").removeprefix("holiday:")
    name = OCCASIONS.get(key)
    if name is None:  # an occasion no longer in the calendar: the name written in the stored title
        name = f.title.split("问候")[0] or _("Holiday")
    return _("%(occasion)s greeting · %(day)s") % {"occasion": name, "day": day_label(f.due_on)}


def _maturity(f) -> str:
    detail = f.detail or {}
    product = detail.get("product") or f.title.removeprefix("到期提醒：").split("（")[0]
    amount = money(detail.get("amount")) if detail.get("amount") is not None else ""
    values = {"product": product, "amount": amount, "day": day_label(f.due_on)}
    if amount:
        return _("%(product)s %(amount)s matures on %(day)s") % values
    return _("%(product)s matures on %(day)s") % values


def _movement(f) -> str:
    detail = f.detail or {}
    day = day_label(f.due_on)
    if (f.source_ref or "").startswith("txn:") or "channel" in detail:
        amount = detail.get("amount")
        if amount is None:
            return _("Large transaction · %(day)s") % {"day": day}
        values = {"amount": money(amount), "day": day}
        if Decimal(str(amount)) < 0:
            return _("Large transfer out %(amount)s · %(day)s") % values
        return _("Large transfer in %(amount)s · %(day)s") % values
    change = detail.get("change")
    if change is None:
        return _("Large asset movement · %(day)s") % {"day": day}
    values = {"amount": money(change), "day": day}
    if Decimal(str(change)) < 0:
        return _("AUM down %(amount)s in a day · %(day)s") % values
    return _("AUM up %(amount)s in a day · %(day)s") % values


def _churn(f) -> str:
    detail = f.detail or {}
    signs = []
    if detail.get("falling_aum"):
        percent = detail.get("drop_percent")
        if percent is not None:
            signs.append(_("AUM down %(percent)s%% in 60 days") % {"percent": percent})
        else:
            signs.append(_("AUM falling for 60 days"))
    if detail.get("no_contact"):
        days = detail.get("no_contact_days", settings.CHURN_NO_CONTACT_DAYS)
        signs.append(_("No contact for over %(days)s days") % {"days": days})
    if detail.get("open_complaint"):
        signs.append(_("Open complaint"))
    return " · ".join(signs) or _("Churn risk")


def _contact_policy(f) -> str:
    detail = f.detail or {}
    segment = getattr(f.customer, "segment", None)
    days = detail.get("days") or getattr(segment, "contact_policy_days", None)
    tier = detail.get("tier") or getattr(segment, "name", "")
    if not days:
        return _("Regular contact due")
    values = {"days": days, "tier": tier, "frequency": frequency(days)}
    if tier:
        return _("Not contacted for over %(days)s days (%(tier)s: %(frequency)s)") % values
    return _("Not contacted for over %(days)s days (%(frequency)s)") % values


def _names_only_the_customer(title: str, name: str) -> bool:
    """Whether a manual follow-up's stored title is the default one written without a next action — "跟进：<name>"
    from the generator, or "Follow up with <name>" in the language of whoever logged the contact."""
    if title == f"跟进：{name}":
        return True
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            if title == _("Follow up with %(name)s") % {"name": name}:
                return True
    return False


def _manual(f) -> str:
    title = (f.title or "").strip()
    if not title or _names_only_the_customer(title, f.customer.name):
        return _("Follow up · %(day)s") % {"day": day_label(f.due_on)}
    return _("%(action)s · %(day)s") % {"action": title, "day": day_label(f.due_on)}


BUILDERS = {
    "birthday": _birthday,
    "holiday": _holiday,
    "maturity": _maturity,
    "movement": _movement,
    "churn": _churn,
    "contact_policy": _contact_policy,
    "manual": _manual,
}


def headline(follow_up) -> str:
    """The follow-up's title in the active language (see the module's docstring)."""
    builder = BUILDERS.get(follow_up.kind)
    return builder(follow_up) if builder else follow_up.title
