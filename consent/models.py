"""Marketing consent (营销同意, docs/consent.md): per customer and channel, the current state (``ConsentRecord``, one
row per customer × channel), its history (``ConsentEvent``, append-only, written in the same transaction as every
change), and the customer's do-not-disturb windows (``DndWindow``, 勿扰时段).

No record for a channel means no consent: the customer is not marketed to on that channel. The campaigns read the
current rows (one indexed join, ``consent.selectors``), never the history."""

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from organisation.models import Staff

REFERENCE_MAX = 100
REASON_MAX = 200


class Channel(models.TextChoices):
    """The channels a customer may agree to be marketed on."""

    SMS = "sms", _("SMS (短信)")
    PHONE = "phone", _("Phone (电话)")
    WECHAT = "wechat", _("WeChat (微信)")
    EMAIL = "email", _("E-mail (电子邮件)")
    VISIT = "visit", _("Visit (上门拜访)")


class State(models.TextChoices):
    GIVEN = "given", _("Given (同意)")
    WITHDRAWN = "withdrawn", _("Withdrawn (撤回)")


class Source(models.TextChoices):
    """How the customer expressed it: the evidence a reference points to."""

    COUNTER = "counter", _("Counter form (柜面签署)")
    ONLINE = "online", _("Online (线上)")
    RECORDING = "recording", _("Phone recording (电话录音)")
    LETTER = "letter", _("Letter (书面函件)")
    CORE = "core", _("Core banking (核心系统)")
    OTHER = "other", _("Other (其他)")


# Sources whose evidence must be named: a recording is found again by its number.
REFERENCE_REQUIRED = frozenset({Source.RECORDING})


class ConsentRecord(models.Model):
    """The current state of one customer's consent on one channel, and when and how it took effect. Kept in step
    with ``ConsentEvent`` by ``consent.services`` (the page) and ``consent.services.consents_apply_staged`` (the
    core-banking feed), in the same transaction."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="consents"
    )
    channel = models.CharField(pgettext_lazy("consent", "channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    effective_on = models.DateField(_("effective on"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reference = models.CharField(
        pgettext_lazy("consent", "reference"),
        max_length=REFERENCE_MAX,
        blank=True,
        help_text=_("The evidence: the form's serial number, the recording's number, the online agreement's id."),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        Staff, verbose_name=_("updated by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("marketing consent")
        verbose_name_plural = _("marketing consents")
        ordering = ["customer", "channel"]
        constraints = [
            # One row per customer and channel; its index serves the 360° page (every channel of a customer).
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_record_unique"),
        ]
        indexes = [
            # The campaigns' exclusion: "given on this channel, in force on this day", as an index-only probe (or
            # the build side of a hash join) per channel.
            models.Index(
                fields=["channel", "customer", "effective_on"], condition=Q(state="given"), name="consent_given_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.get_channel_display()} {self.get_state_display()}"

    @property
    def is_given(self) -> bool:
        return self.state == State.GIVEN


WEEKDAY_BITS = tuple(1 << d for d in range(7))  # Monday (0) … Sunday (6), as date.weekday() numbers them
EVERY_DAY = 0b1111111
WORKING_DAYS = 0b0011111
WEEKEND = 0b1100000
WEEKDAY_NAMES = (
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
)


def weekday_bit(day: date) -> int:
    return WEEKDAY_BITS[day.weekday()]


class DndWindow(models.Model):
    """A do-not-disturb window (勿扰时段): when the customer is not to be contacted for marketing, on one channel or
    on every channel (blank). A window is any combination of a date range (both ends included), days of the week
    and a time of day (from the start minute to the end minute, both included): "工作日 9:00–18:00 不要打电话" is
    Monday–Friday 09:00–18:00 on the phone; "春节前后勿扰" is a date range, all day, every channel."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="dnd_windows"
    )
    channel = models.CharField(
        pgettext_lazy("consent", "channel"),
        max_length=10,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: every channel."),
    )
    start_date = models.DateField(_("from (date)"), null=True, blank=True)
    end_date = models.DateField(_("until (date)"), null=True, blank=True)
    weekdays = models.PositiveSmallIntegerField(
        _("days of the week"),
        default=EVERY_DAY,
        validators=[MinValueValidator(1), MaxValueValidator(EVERY_DAY)],
        help_text=_("Monday is 1, Tuesday 2, Wednesday 4, … Sunday 64, added up; 127 is every day."),
    )
    start_time = models.TimeField(_("from (time)"), null=True, blank=True)
    end_time = models.TimeField(_("until (time)"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=REASON_MAX, help_text=_("What the customer asked for."))
    created_by = models.ForeignKey(
        Staff, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("do-not-disturb window")
        verbose_name_plural = _("do-not-disturb windows")
        ordering = ["customer", "start_date", "start_time", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(start_date__isnull=True) & Q(end_date__isnull=True))
                | Q(start_date__isnull=False, end_date__isnull=False, end_date__gte=models.F("start_date")),
                name="dnd_dates_valid",
            ),
            models.CheckConstraint(
                condition=(Q(start_time__isnull=True) & Q(end_time__isnull=True))
                | Q(start_time__isnull=False, end_time__isnull=False, end_time__gt=models.F("start_time")),
                name="dnd_times_valid",
            ),
            models.CheckConstraint(condition=Q(weekdays__gte=1, weekdays__lte=EVERY_DAY), name="dnd_weekdays_valid"),
        ]

    def __str__(self) -> str:
        return str(self.describe())

    def clean(self) -> None:
        errors = {}
        if (self.start_date is None) != (self.end_date is None):
            errors["end_date" if self.end_date is None else "start_date"] = _(
                "Give both dates of the range, or neither."
            )
        elif self.start_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date is before the start date.")
        if (self.start_time is None) != (self.end_time is None):
            errors["end_time" if self.end_time is None else "start_time"] = _("Give both times, or neither.")
        elif self.start_time and self.end_time <= self.start_time:
            errors["end_time"] = _(
                "The end time is not after the start time. For a window over midnight, add two windows "
                "(for example 21:00–23:59 and 00:00–08:00)."
            )
        if not errors and self.start_date is None and self.start_time is None and self.weekdays == EVERY_DAY:
            errors["weekdays"] = _(
                "A window with no dates, no times and every day would forbid every contact: record a withdrawal "
                "of consent instead."
            )
        if errors:
            raise ValidationError(errors)

    # What a window covers -------------------------------------------------------------------------------------
    def covers(self, at: datetime) -> bool:
        """Whether the local moment ``at`` falls in the window (the same rule as consent.selectors.dnd_active_q)."""
        local = timezone.localtime(at)
        day, minute = local.date(), local.time().replace(second=0, microsecond=0)
        if not self.covers_day(day):
            return False
        return self.start_time is None or self.start_time <= minute <= self.end_time

    def covers_day(self, day: date) -> bool:
        if self.start_date is not None and not (self.start_date <= day <= self.end_date):
            return False
        return bool(self.weekdays & weekday_bit(day))

    def is_over(self, today: date) -> bool:
        return self.end_date is not None and self.end_date < today

    @property
    def is_all_day(self) -> bool:
        return self.start_time is None

    @property
    def weekday_list(self) -> list[int]:
        return [d for d in range(7) if self.weekdays & WEEKDAY_BITS[d]]

    def describe_days(self) -> str:
        if self.weekdays == EVERY_DAY:
            return str(_("every day"))
        if self.weekdays == WORKING_DAYS:
            return str(_("Monday to Friday"))
        if self.weekdays == WEEKEND:
            return str(_("weekends"))
        return "、".join(str(WEEKDAY_NAMES[d]) for d in self.weekday_list)

    def describe(self) -> str:
        """The window in words, in the active language: "2027-02-01 – 2027-02-20 · every day · all day"."""
        parts = []
        if self.start_date is not None:
            parts.append(f"{self.start_date:%Y-%m-%d} – {self.end_date:%Y-%m-%d}")
        parts.append(self.describe_days())
        if self.start_time is None:
            parts.append(str(_("all day")))
        else:
            parts.append(f"{self.start_time:%H:%M}–{self.end_time:%H:%M}")
        return " · ".join(parts)

    # The window as a history event keeps it ----------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {
            "channel": self.channel,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "weekdays": self.weekdays,
            "start_time": self.start_time.strftime("%H:%M") if self.start_time else None,
            "end_time": self.end_time.strftime("%H:%M") if self.end_time else None,
        }

    @classmethod
    def from_snapshot(cls, data: dict) -> "DndWindow":
        def day(value):
            return date.fromisoformat(value) if value else None

        def minute(value):
            return time.fromisoformat(value) if value else None

        return cls(
            channel=data.get("channel") or "",
            start_date=day(data.get("start_date")),
            end_date=day(data.get("end_date")),
            weekdays=int(data.get("weekdays") or EVERY_DAY),
            start_time=minute(data.get("start_time")),
            end_time=minute(data.get("end_time")),
        )


class ConsentEvent(models.Model):
    """One change, append-only: a consent given or withdrawn (with the state before), a do-not-disturb window added
    or removed (with the window as it was), who did it and why. Nothing edits or deletes these rows."""

    class Kind(models.TextChoices):
        CONSENT = "consent", _("Consent")
        DND_ADDED = "dnd_added", _("Do-not-disturb window added")
        DND_REMOVED = "dnd_removed", _("Do-not-disturb window removed")

    class Via(models.TextChoices):
        PAGE = "page", _("CRM page")
        FEED = "feed", _("Core-banking file")
        SYSTEM = "system", _("System")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="consent_events"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.CONSENT)
    channel = models.CharField(pgettext_lazy("consent", "channel"), max_length=10, choices=Channel.choices, blank=True)
    state_before = models.CharField(
        _("state before"), max_length=10, choices=State.choices, blank=True, help_text=_("Empty: no record.")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, blank=True)
    effective_on = models.DateField(_("effective on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, blank=True)
    reference = models.CharField(pgettext_lazy("consent", "reference"), max_length=REFERENCE_MAX, blank=True)
    window_detail = models.JSONField(_("window"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=REASON_MAX)
    actor = models.ForeignKey(
        Staff, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via = models.CharField(_("via"), max_length=10, choices=Via.choices, default=Via.PAGE)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent history entry")
        verbose_name_plural = _("consent history")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "-at"], name="consent_event_customer_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.customer_id} {self.get_kind_display()}"

    @property
    def window_text(self) -> str:
        return DndWindow.from_snapshot(self.window_detail).describe() if self.window_detail else ""
