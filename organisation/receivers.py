"""The sign-in log (``SignInRecord``), written from Django's sign-in signals and django-axes' lock and reset, and
the sign-in time kept in the session for its absolute lifetime (``middleware.SessionLifetimeMiddleware``).

django-axes keeps its failure counts only while they matter (a lock's expiry or a reset deletes them); this log
keeps every event for the retention period. Outcomes are written in the site's language (LANGUAGE_CODE). django-axes' own receivers run first (its app is installed before
this one), so a failure's request already says whether the attempt hit or met a lock.
"""

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from . import services
from .middleware import stamp_sign_in
from .models import SignInRecord

Event = SignInRecord.Event


def _ip(value) -> str | None:
    try:
        validate_ipv46_address(value or "")
    except ValidationError:
        return None
    return value


def _client(request) -> dict:
    meta = getattr(request, "META", {})
    return {
        "ip_address": _ip(getattr(request, "axes_ip_address", None) or meta.get("REMOTE_ADDR")),
        "user_agent": getattr(request, "axes_user_agent", None) or meta.get("HTTP_USER_AGENT", ""),
    }


def _minutes() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds() // 60) if cool_off else 0


@receiver(user_logged_in, dispatch_uid="organisation.sign_in_success")
def on_logged_in(sender, request, user, **kwargs):
    stamp_sign_in(request)
    with translation.override(settings.LANGUAGE_CODE):
        services.sign_in_record(
            Event.SUCCESS, username=user.get_username(), user=user, outcome=_("Signed in"), **_client(request)
        )


@receiver(user_login_failed, dispatch_uid="organisation.sign_in_failure")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")
    failures = getattr(request, "axes_failures_since_start", None)
    limit = get_failure_limit(request, credentials)
    with translation.override(settings.LANGUAGE_CODE):
        if (failures is None and getattr(request, "axes_locked_out", False)) or (failures or 0) > limit:
            outcome = _("Refused: the account is locked")
        else:
            outcome = _("Wrong username or password (failure %(n)s of %(limit)s)") % {
                "n": failures or 1,
                "limit": limit,
            }
        record = services.sign_in_record(Event.FAILURE, username=username, outcome=outcome, **_client(request))
        if record.user is not None and not record.user.is_active:
            record.outcome = _("Refused: the account is deactivated")
            record.save(update_fields=["outcome"])
    _write_lock(request)


@receiver(user_locked_out, dispatch_uid="organisation.sign_in_locked")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    """django-axes sends this from inside its failure handler, before the failure reaches ``on_login_failed``: the
    lock is noted on the request and written just after the failure that caused it (or now, without a request
    to carry it). An attempt while already locked sends it again: its failure line says so, no lock line."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None or failures > get_failure_limit(request, {"username": username}):
        return
    with translation.override(settings.LANGUAGE_CODE):
        outcome = _("Locked for %(minutes)s minutes after %(n)s failures") % {"minutes": _minutes(), "n": failures}
    lock = {"username": username or "", "outcome": outcome, **_client(request)}
    if request is None:
        services.sign_in_record(Event.LOCKED, **lock)
    else:
        request.sign_in_lock = lock


def _write_lock(request) -> None:
    lock = getattr(request, "sign_in_lock", None)
    if lock is not None:
        del request.sign_in_lock
        services.sign_in_record(Event.LOCKED, **lock)


@receiver(post_delete, sender=AccessAttempt, dispatch_uid="organisation.sign_in_unlocked")
def on_attempts_deleted(sender, instance, **kwargs):
    """django-axes deletes an account's attempt record when its lock expires (at the next sign-in attempt), on a
    reset (``axes_reset``, Django admin) and after a successful sign-in. A deleted record that held a lock is an
    unlock; one below the limit needs no line (its failures are on record already)."""
    if instance.failures_since_start < get_failure_limit(None, {"username": instance.username}):
        return
    cool_off = get_cool_off()
    ends = instance.attempt_time + cool_off if cool_off else None
    with translation.override(settings.LANGUAGE_CODE):
        if ends is not None and ends <= timezone.now():
            when = formats.date_format(timezone.localtime(ends), "Y-m-d H:i")
            outcome = _("The lock expired at %(when)s") % {"when": when}
        else:
            outcome = _("The lock was lifted before it expired (reset)")
        services.sign_in_record(
            Event.UNLOCKED,
            username=instance.username or "",
            ip_address=_ip(instance.ip_address),
            user_agent=instance.user_agent or "",
            outcome=outcome,
        )
