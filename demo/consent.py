"""Demo marketing consent (营销同意) for seed_demo: most customers signed SMS and phone consent at the counter when
they became customers, some agreed to WeChat and e-mail online, a few percent withdrew later by phone (recorded),
and some asked not to be disturbed — no calls on working days 09:00–18:00, nothing around the Spring Festival.

Set-based at any size: the consents are chosen from the customer id in SQL (so the same database gives the same
demo), staged with one INSERT … SELECT per channel, and written by ``consent.services.consents_apply_staged`` — the
rules and the history of the core-banking feed's consent file, a few statements for a million customers.
Idempotent: a consent already in force is not written again, a withdrawal is not undone by the consent before it,
and the windows are added once; customers added by a later seed_demo get theirs."""

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import connection, transaction
from django.db.models import CharField, DateField, F, IntegerField, JSONField, QuerySet, TimeField, Value
from django.db.models.functions import Cast, Concat, Greatest, Least, TruncDate
from django.utils import timezone
from lunardate import LunarDate

from consent.models import WORKING_DAYS, Channel, ConsentEvent, DndWindow, Source, State
from consent.services import consents_apply_staged
from crm_site.sql import insert_from_select
from customers.models import Customer
from feed.stage import Stage

STAGE = "demo_consent_stage"
STAGE_COLUMNS = [("line", "bigint"), ("cust_no", "text"), ("customer_id", "bigint"), ("channel", "text"),
                 ("state", "text"), ("effective_on", "date"), ("source", "text"), ("reference", "text")]  # fmt: skip


@dataclass(frozen=True)
class Share:
    """``percent`` of the customers on a channel, picked from the id by the hash ``key`` (``_customers``)."""

    channel: str
    percent: int
    key: int
    source: str
    prefix: str  # of the reference: the counter form's or the online agreement's number


# Hash keys: distinct multipliers (xxHash's primes), so that the shares they pick are independent of each other; the
# SMS and phone consents share one, as they share one counter form (the phone consenters are among the SMS ones).
FORM, ONLINE, EMAIL, WITHDRAW_SMS, WITHDRAW_PHONE, BUSY, FESTIVAL = (
    2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497, 3144134277,
)  # fmt: skip
GIVEN = (
    Share(Channel.SMS, 80, FORM, Source.COUNTER, "GM"),
    Share(Channel.PHONE, 70, FORM, Source.COUNTER, "GM"),
    Share(Channel.WECHAT, 30, ONLINE, Source.ONLINE, "WX"),
    Share(Channel.EMAIL, 5, EMAIL, Source.ONLINE, "EM"),
)
# Withdrawn later: percent of those who gave it (an independent pick among them).
WITHDRAWN = ((Channel.SMS, 4, WITHDRAW_SMS), (Channel.PHONE, 3, WITHDRAW_PHONE))
BUSY_HOURS = 2  # percent of the customers: no calls on working days 09:00–18:00
SPRING_FESTIVAL = 1  # percent: nothing at all in the week either side of the Spring Festival


def _customers(*picks: tuple[int, int]) -> QuerySet[Customer]:
    """The open customers in every one of the shares ``(percent, key)``: the id times ``key``, modulo a prime, reduced
    to 0…99 — deterministic, independent for distinct keys, and the same on PostgreSQL and SQLite."""
    qs = Customer.objects.filter(closed_on__isnull=True)
    for percent, key in picks:
        name = f"_h{key}"
        qs = qs.annotate(**{name: F("pk") * key % 1000003 % 100}).filter(**{f"{name}__lt": percent})
    return qs


def _stage_insert(stage: Stage, rows) -> None:
    """INSERT INTO the stage the rows of an ORM queryset (``values_list`` in the stage's column order)."""
    select_sql, params = rows.order_by().query.sql_with_params()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        columns = ", ".join(qn(name) for name, _type in STAGE_COLUMNS)
        cursor.execute(f"INSERT INTO {qn(stage.name)} ({columns}) {select_sql}", params)  # noqa: S608 - from code


def _rows(qs, channel: str, state: str, effective_on, source: str, reference):
    return qs.annotate(
        _line=F("pk"), _id=F("pk"), _channel=Value(channel), _state=Value(state), _on=effective_on,
        _source=Value(source), _ref=reference,
    ).values_list("_line", "customer_no", "_id", "_channel", "_state", "_on", "_source", "_ref")  # fmt: skip


def _reference(prefix: str):
    return Concat(Value(f"{prefix}-"), Cast("pk", output_field=CharField()), output_field=CharField())


def spring_festival_after(today: date) -> date:
    """The next Spring Festival (正月初一) on or after ``today``'s week, from the lunar calendar."""
    for year in (today.year, today.year + 1):
        day = LunarDate(year, 1, 1).to_solar_date()
        if day + timedelta(days=7) >= today:
            return day
    raise AssertionError("unreachable")  # noqa: EM101 - the next year's festival always follows


@transaction.atomic
def seed_consent(*, today: date | None = None) -> dict:
    """The demo's consents and windows; returns what was written."""
    today = today or timezone.localdate()
    if not Customer.objects.exists():
        return {"consents": 0, "withdrawn": 0, "windows": 0}
    stage = Stage(STAGE, STAGE_COLUMNS)
    # The day they became customers (never after today).
    opened = Least(TruncDate("created_at", output_field=DateField()), Value(today, output_field=DateField()))
    for share in GIVEN:
        qs = _customers((share.percent, share.key))
        _stage_insert(stage, _rows(qs, share.channel, State.GIVEN, opened, share.source, _reference(share.prefix)))
    stage.analyze()
    given = consents_apply_staged(table=STAGE, via=ConsentEvent.Via.SYSTEM, reason="开户时签署营销同意书")
    _empty(stage)
    days_ago = (100, 40, 7)
    for channel, percent, key in WITHDRAWN:
        share = next(s for s in GIVEN if s.channel == channel)
        for k, ago in enumerate(days_ago):
            qs = (
                _customers((share.percent, share.key), (percent, key))
                .annotate(_third=(F("pk") % len(days_ago)))
                .filter(_third=k)
            )
            on = Greatest(opened, Value(today - timedelta(days=ago), output_field=DateField()))
            _stage_insert(stage, _rows(qs, channel, State.WITHDRAWN, on, Source.RECORDING, _reference("REC")))
    stage.analyze()
    withdrawn = consents_apply_staged(table=STAGE, via=ConsentEvent.Via.SYSTEM, reason="客户来电要求停止营销联系")
    stage.drop()
    windows = _seed_windows(today)
    return {"consents": given.changed, "withdrawn": withdrawn.changed, "windows": windows}


def _empty(stage: Stage) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(stage.name)}")  # noqa: S608 - a name from code


def _seed_windows(today: date) -> int:
    """Two kinds of window, each added once (a database holding demo windows is left as it is), with its history
    event: one INSERT … SELECT of the windows and one of their events per kind."""
    if DndWindow.objects.exists():
        return 0
    festival = spring_festival_after(today)
    kinds = (
        (BUSY_HOURS, BUSY, Channel.PHONE, None, None, WORKING_DAYS, time(9), time(18), "客户要求工作日上班时间勿打电话"),
        (SPRING_FESTIVAL, FESTIVAL, "", festival - timedelta(days=7), festival + timedelta(days=7), 127, None, None,
         "客户要求春节前后勿扰"),
    )  # fmt: skip
    now = timezone.now()
    written = 0
    columns = ["customer", "channel", "start_date", "end_date", "weekdays", "start_time", "end_time", "reason",
               "created_at"]  # fmt: skip
    for percent, key, channel, start, end, weekdays, start_time, end_time, reason in kinds:
        window = DndWindow(channel=channel, start_date=start, end_date=end, weekdays=weekdays, start_time=start_time,
                           end_time=end_time)  # fmt: skip
        rows = _customers((percent, key)).annotate(
            _customer=F("pk"), _channel=Value(channel), _start=Value(start, output_field=DateField()),
            _end=Value(end, output_field=DateField()), _weekdays=Value(weekdays, output_field=IntegerField()),
            _from=Value(start_time, output_field=TimeField()), _until=Value(end_time, output_field=TimeField()), _reason=Value(reason), _at=Value(now),
        ).values_list("_customer", "_channel", "_start", "_end", "_weekdays", "_from", "_until", "_reason", "_at")  # fmt: skip
        written += insert_from_select(DndWindow, columns, rows)
        events = DndWindow.objects.filter(reason=reason).annotate(
            _customer=F("customer_id"), _kind=Value(ConsentEvent.Kind.DND_ADDED), _channel=F("channel"),
            _window=Value(window.snapshot(), output_field=JSONField()), _reason=F("reason"),
            _via=Value(ConsentEvent.Via.SYSTEM), _at=F("created_at"), _empty=Value(""),
        ).values_list("_customer", "_kind", "_channel", "_empty", "_empty", "_empty", "_empty", "_window", "_reason",
                      "_via", "_at")  # fmt: skip
        insert_from_select(
            ConsentEvent,
            ["customer", "kind", "channel", "state_before", "state", "source", "reference", "window_detail", "reason",
             "via", "at"],
            events,
        )  # fmt: skip
    return written
