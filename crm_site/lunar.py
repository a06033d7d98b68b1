"""The lunar calendar (from the maintained `lunardate` package): shared by customers (a customer's lunar
birthday) and reminders (the greetings calendar)."""

from datetime import date

from lunardate import LunarDate


def lunar_month_day(solar: date) -> int | None:
    """The lunar month*100+day of a solar date (a leap month counts as its ordinary month); None outside the
    library's range (lunar years 1900–2099). The library does not refuse such a date itself: it answers with a
    day far beyond 30 (9999-12-31 gave 2884992) or below 1, so the answer is checked by converting it back."""
    try:
        lunar = LunarDate.from_solar_date(solar.year, solar.month, solar.day)
        if lunar.to_solar_date() != solar:
            return None
    except ValueError:
        return None
    return lunar.month * 100 + lunar.day
