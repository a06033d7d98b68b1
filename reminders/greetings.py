"""The calendar of greetings: Chinese public holidays from the maintained `holidays` package, traditional lunar
festivals and lunar birthdays from `lunardate`. No hand-written date table."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from django.conf import settings
from lunardate import LunarDate

from crm_site.lunar import lunar_month_day  # noqa: F401 - part of the greetings calendar

# Public holidays of holidays.China (English names) that deserve a greeting; Labour Day and the substituted
# working days do not.
PUBLIC = {
    "New Year's Day": ("new_year", "元旦"),
    "Chinese New Year (Spring Festival)": ("spring_festival", "春节"),
    "Tomb-Sweeping Day": ("qingming", "清明节"),
    "Dragon Boat Festival": ("dragon_boat", "端午节"),
    "Mid-Autumn Festival": ("mid_autumn", "中秋节"),
    "National Day": ("national_day", "国庆节"),
}
# Traditional festivals that are not public holidays: (lunar month, day).
TRADITIONAL = {
    "lantern": ((1, 15), "元宵节"),
    "qixi": ((7, 7), "七夕"),
    "double_ninth": ((9, 9), "重阳节"),
}


@dataclass(frozen=True)
class Occasion:
    key: str
    name: str  # zh-hans, used in the reminder's title
    day: date


@cache
def _public(year: int) -> tuple[Occasion, ...]:
    firsts: dict[str, Occasion] = {}
    for day, name in sorted(holidays.China(years=year, language="en_US").items()):
        if name in PUBLIC:
            key, zh = PUBLIC[name]
            firsts.setdefault(key, Occasion(key, zh, day))  # the first day of a holiday of several days
    return tuple(firsts.values())


def _traditional(year: int) -> list[Occasion]:
    keys = [k for k in TRADITIONAL if k != "qixi" or settings.HOLIDAY_GREETINGS_INCLUDE_QIXI]
    out = []
    for key in keys:
        (month, day), zh = TRADITIONAL[key]
        out.append(Occasion(key, zh, LunarDate(year, month, day).to_solar_date()))
    return out


def occasions_between(start: date, end: date) -> list[Occasion]:
    """Greeting occasions whose day falls in [start, end]."""
    found = []
    for year in range(start.year - 1, end.year + 1):
        for occasion in [*_public(year), *_traditional(year)]:
            if start <= occasion.day <= end:
                found.append(occasion)
    return sorted(found, key=lambda o: o.day)


def lunar_birthdays_on(day: date) -> list[int]:
    """The lunar birth month-days celebrated on a solar day: its own lunar month-day, and day 30 when that lunar
    month has only 29 days. In a leap month nobody's lunar birthday is celebrated (the ordinary month is)."""
    try:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:
        return []
    if lunar.is_leap_month:
        return []
    days = [lunar.month * 100 + lunar.day]
    if lunar.day == 29 and not lunar_month_has_30(day):
        days.append(lunar.month * 100 + 30)
    return days


def lunar_month_has_30(day29: date) -> bool:
    """Whether the lunar month whose 29th is ``day29`` has a 30th day (the library accepts any day 30, so ask it
    what the next solar day is)."""
    following = LunarDate.from_solar_date(*(day29 + timedelta(days=1)).timetuple()[:3])
    return following.day == 30


def solar_birthdays_on(day: date) -> list[int]:
    """The solar birth month-days celebrated on a day: 29 February births are celebrated on 28 February in
    years without one."""
    days = [day.month * 100 + day.day]
    if (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).month == 3:
        days.append(229)
    return days
