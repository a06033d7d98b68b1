"""The two rules of a complaint, in one place each: the regulatory clock and the state machine.

The clock (《银行业保险业消费投诉处理管理办法》 art. 20, CBIRC 2020; see docs/complaints.md):

- Calendar days from receipt: 15; after the first extension 30; after the second, approved, extension 60.
- Counted as the Civil Code counts periods in days (民法典 art. 201, 203): the day of receipt is not counted, and
  the period ends at 24:00 of its last day. So a complaint received on 1 March at any hour is due by the end of
  16 March. The last day is not moved off a weekend or holiday: the conservative reading, never later than the
  regulation's.
- Days spent in external appraisal, testing or valuation do not count: the days between a pause and its resume
  are added to the period.
- A review (重新处理) starts a new clock from the day the review request is received. It may be asked for up to
  the 30th calendar day after the decision day (whole days, as the clock counts them).
- New facts or reasons brought while the complaint is open restart the period from the day they are received
  (the Measures art. 21).
- The time of receipt is bounded: not in the future, and not more than COMPLAINT_RECEIVED_MAX_AGE_DAYS calendar
  days before today.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Complaint

S = Complaint.Status

# Days allowed after 0, 1 and 2 approved extensions.
LIMIT_DAYS = (15, 30, 60)
MAX_EXTENSIONS = len(LIMIT_DAYS) - 1


def limit_days(extension_level: int) -> int:
    return LIMIT_DAYS[extension_level]


def due_date(clock_started_at: datetime, extension_level: int, paused_days: int = 0) -> date:
    """The last day of the period: the day of receipt is not counted."""
    start = timezone.localdate(clock_started_at)
    return start + timedelta(days=limit_days(extension_level) + paused_days)


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def due_at(clock_started_at: datetime, extension_level: int, paused_days: int = 0) -> datetime:
    return end_of_day(due_date(clock_started_at, extension_level, paused_days))


def review_last_day(decided_at: datetime) -> date:
    """The last day a review may be asked for: the decision day is not counted, the window ends at 24:00 of its
    last day, as the clock counts (so a request on the 30th day after the decision is in time, on the 31st not)."""
    return timezone.localdate(decided_at) + timedelta(days=settings.COMPLAINT_REVIEW_WINDOW_DAYS)


FUTURE_TOLERANCE = timedelta(minutes=10)


def received_error(received_at: datetime, now: datetime):
    """Why ``received_at`` cannot be the time a complaint (or a repeat contact) was received, or None: not in the
    future (beyond a few minutes of clock skew), and not more than COMPLAINT_RECEIVED_MAX_AGE_DAYS calendar days
    before today — a late registration of a letter or a referral is possible, a mistyped year is not."""
    if received_at > now + FUTURE_TOLERANCE:
        return _("The time of receipt cannot be in the future.")
    days = settings.COMPLAINT_RECEIVED_MAX_AGE_DAYS
    earliest = timezone.localdate(now) - timedelta(days=days)
    if timezone.localdate(received_at) < earliest:
        return _("This is more than %(days)s days ago (the earliest accepted is %(date)s): check the date.") % {
            "days": days,
            "date": earliest.isoformat(),
        }
    return None


def paused_days_between(paused_since: datetime, resumed_at: datetime) -> int:
    """Whole calendar days the clock stood still (a pause within one day costs none)."""
    return max((timezone.localdate(resumed_at) - timezone.localdate(paused_since)).days, 0)


class Deadline:
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    PAUSED = "paused"
    STOPPED = "stopped"

    CHOICES = (
        (ON_TRACK, _("On track")),
        (DUE_SOON, _("Due soon")),
        (BREACHED, _("Overdue")),
        (PAUSED, _("Clock paused")),
        (STOPPED, _("Clock stopped")),
    )


def _warning_edge(now: datetime) -> datetime:
    """Due soon: the last day is today or within the next COMPLAINT_WARNING_DAYS calendar days."""
    return end_of_day(timezone.localdate(now) + timedelta(days=settings.COMPLAINT_WARNING_DAYS))


def deadline_state(complaint: Complaint, now: datetime) -> str:
    if complaint.status not in Complaint.OPEN_STATES:
        return Deadline.STOPPED
    if complaint.paused_since is not None:
        return Deadline.PAUSED
    if now > complaint.due_at:
        return Deadline.BREACHED
    if complaint.due_at <= _warning_edge(now):
        return Deadline.DUE_SOON
    return Deadline.ON_TRACK


def deadline_condition(state: str, now: datetime) -> Q:
    """The same states as a filter, for lists and counts (served by the partial index on open complaints)."""
    open_ = Q(status__in=Complaint.OPEN_STATES)
    running = open_ & Q(paused_since__isnull=True)
    soon = _warning_edge(now)
    return {
        Deadline.BREACHED: running & Q(due_at__lt=now),
        Deadline.DUE_SOON: running & Q(due_at__gte=now, due_at__lte=soon),
        Deadline.ON_TRACK: running & Q(due_at__gt=soon),
        Deadline.PAUSED: open_ & Q(paused_since__isnull=False),
        Deadline.STOPPED: ~open_,
    }.get(state, Q())


def days_left(complaint: Complaint, now: datetime) -> int | None:
    """Calendar days until the last day (0 on the last day, negative once overdue); None when stopped."""
    if complaint.status not in Complaint.OPEN_STATES:
        return None
    return (timezone.localdate(complaint.due_at) - timezone.localdate(now)).days


# ----------------------------------------------------------------------------------------------------------------
# The state machine
# ----------------------------------------------------------------------------------------------------------------

OPEN = frozenset(Complaint.OPEN_STATES)

# action → (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "accept": (frozenset({S.REGISTERED}), S.ACCEPTED),
    "start": (frozenset({S.ACCEPTED, S.REOPENED}), S.IN_PROGRESS),
    "decide": (frozenset({S.IN_PROGRESS}), S.DECIDED),
    "close": (frozenset({S.DECIDED}), S.CLOSED),
    "withdraw": (OPEN, S.WITHDRAWN),
    "reopen": (frozenset({S.DECIDED, S.CLOSED}), S.REOPENED),
}

# Actions that do not change the status, and the states they are allowed in.
ALLOWED_IN: dict[str, frozenset] = {
    "assign": OPEN,
    "extend": OPEN,
    "pause": frozenset({S.IN_PROGRESS}),
    "resume": frozenset({S.IN_PROGRESS}),
    "callback": frozenset({S.DECIDED, S.CLOSED}),
    "escalate": OPEN,
    "note": frozenset(S.values),
    "contact": frozenset(S.values) - {S.WITHDRAWN},
    "attach": frozenset(S.values) - {S.WITHDRAWN},
    # The complainant comes back about the same matter while it is open (the Measures art. 21).
    "repeat": OPEN,
}

ACTION_LABELS = {
    "accept": _("accepted"),
    "start": _("started"),
    "decide": _("decided"),
    "close": _("closed"),
    "withdraw": _("withdrawn"),
    "reopen": _("reopened"),
    "assign": _("assigned"),
    "extend": _("extended"),
    "pause": _("paused"),
    "resume": _("resumed"),
    "callback": _("given a callback"),
    "escalate": _("escalated"),
    "note": _("annotated"),
    "contact": _("given a customer contact"),
    "attach": _("given an attachment"),
    "repeat": _("given a repeat contact"),
}


def allowed(complaint: Complaint, action: str) -> bool:
    if action in TRANSITIONS:
        return complaint.status in TRANSITIONS[action][0]
    return complaint.status in ALLOWED_IN[action]


def check(complaint: Complaint, action: str) -> str:
    """The status ``action`` leads to (the same status for the actions that keep it), or a clear error."""
    if not allowed(complaint, action):
        raise ValidationError(
            _("A complaint that is “%(status)s” cannot be %(action)s."),
            code="invalid_transition",
            params={"status": complaint.get_status_display(), "action": ACTION_LABELS[action]},
        )
    return TRANSITIONS[action][1] if action in TRANSITIONS else complaint.status


def available_actions(complaint: Complaint) -> set[str]:
    return {a for a in (*TRANSITIONS, *ALLOWED_IN) if allowed(complaint, a)}


# ----------------------------------------------------------------------------------------------------------------
# What the state allows beyond the status: one place for the detail page's buttons and the services
# ----------------------------------------------------------------------------------------------------------------


def precondition_error(complaint: Complaint, action: str, *, extension_pending: bool = False):
    """Why ``action`` cannot be taken now although the status allows it (a handler to start, an extension left, the
    clock running), or None. The detail page offers only actions with none; the services raise it."""
    paused = complaint.paused_since is not None
    if action == "start" and complaint.handler_id is None:
        return _("Assign a handler first.")
    if action == "extend":
        if complaint.extension_level + 1 > MAX_EXTENSIONS:
            return _("No further extension: 60 days is the longest a complaint may take.")
        if extension_pending:
            return _("An extension is already waiting for approval.")
        if paused:
            return _("Resume the clock before extending the deadline.")
    if action == "pause" and paused:
        return _("The clock is already paused.")
    if action == "resume" and not paused:
        return _("The clock is not paused.")
    if action == "decide" and paused:
        return _("Resume the clock before recording the decision.")
    return None


def ready(complaint: Complaint, action: str, *, extension_pending: bool = False) -> bool:
    """The status allows ``action`` and nothing in the state stands in its way."""
    return (
        allowed(complaint, action)
        and precondition_error(complaint, action, extension_pending=extension_pending) is None
    )


def require_ready(complaint: Complaint, action: str, *, extension_pending: bool = False) -> None:
    """The services' form of ``ready``: the status error, then the state's."""
    check(complaint, action)
    error = precondition_error(complaint, action, extension_pending=extension_pending)
    if error is not None:
        raise ValidationError(error)
