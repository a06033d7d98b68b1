"""The lunar calendar (from the maintained `lunardate` package): shared by customers (a customer's lunar
birthday) and reminders (the greetings calendar)."""

from datetime import date

from lunardate import LunarDate


def lunar_month_day(solar: date) -> int | None:
    """The lunar month*100+day of a solar date (a leap month counts as its ordinary month)."""
    try:
        lunar = LunarDate.from_solar_date(solar.year, solar.month, solar.day)
    except ValueError:  # outside the library's range (1900–2099)
        return None
    return lunar.month * 100 + lunar.day
