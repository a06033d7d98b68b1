"""The sign-in log (organisation.models.SignInRecord): success, failure, lock and unlock, kept when django-axes
forgets its attempts (a lock that expires or is reset), readable by administrators only and read-only, purged
after 180 days; and the lock page that says how long the lock lasts."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from organisation import services
from organisation.models import SignInRecord
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")
Event = SignInRecord.Event


def site_language(text: str, **values) -> str:
    """An outcome as the log writes it: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text) % values if values else gettext(text)


def sign_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def events(username="rm_west") -> list[str]:
    return list(SignInRecord.objects.filter(username=username).order_by("at", "pk").values_list("event", flat=True))


def test_a_success_is_recorded_with_the_user_the_address_and_a_bounded_browser(client, org):
    response = sign_in(client, "rm_west", TEST_PASSWORD, HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 1000)
    assert response.status_code == 302
    record = SignInRecord.objects.get()
    assert record.event == Event.SUCCESS and record.user == org.rm_west.user and record.username == "rm_west"
    assert record.ip_address == "127.0.0.1"
    assert record.user_agent.startswith("Mozilla/5.0") and len(record.user_agent) == 255


def test_a_failure_is_recorded_as_typed_and_never_with_the_password(client, org):
    sign_in(client, "rm_west", "Secret-typed-42")
    sign_in(client, "nobody_here", "Secret-typed-43")
    known, unknown = SignInRecord.objects.order_by("pk")
    assert known.event == unknown.event == Event.FAILURE
    assert known.user == org.rm_west.user and unknown.user is None and unknown.username == "nobody_here"
    assert known.outcome == site_language("Wrong username or password (failure %(n)s of %(limit)s)", n=1, limit=5)
    for record in (known, unknown):
        assert "Secret-typed" not in " ".join(str(v) for v in record.__dict__.values())


def test_a_deactivated_account_is_recorded_as_refused(client, org):
    org.rm_west.user.is_active = False
    org.rm_west.user.save()
    sign_in(client, "rm_west", TEST_PASSWORD)
    record = SignInRecord.objects.get()
    assert record.event == Event.FAILURE
    assert record.outcome == site_language("Refused: the account is deactivated")


def test_the_lock_is_recorded_once_and_attempts_during_it_are_refusals(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "rm_west", "wrong")
    assert events() == [Event.FAILURE] * 5 + [Event.LOCKED]
    locked = SignInRecord.objects.get(event=Event.LOCKED)
    assert locked.user == org.rm_west.user
    assert locked.outcome == site_language("Locked for %(minutes)s minutes after %(n)s failures", minutes=15, n=5)
    assert sign_in(client, "rm_west", TEST_PASSWORD).status_code == 429
    assert events() == [Event.FAILURE] * 5 + [Event.LOCKED, Event.FAILURE]  # no second lock line
    refused = SignInRecord.objects.filter(event=Event.FAILURE).latest("pk")
    assert refused.outcome == site_language("Refused: the account is locked")


def test_a_lock_that_expires_leaves_the_failures_on_record(client, org, settings):
    start = timezone.make_aware(timezone.datetime(2026, 11, 30, 9, 0))
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "rm_west", "wrong")
        assert AccessAttempt.objects.filter(username="rm_west").exists()
        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
        assert sign_in(client, "rm_west", TEST_PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()  # django-axes has forgotten them
    assert events() == [Event.FAILURE] * 5 + [Event.LOCKED, Event.UNLOCKED, Event.SUCCESS]
    unlocked = SignInRecord.objects.get(event=Event.UNLOCKED)
    assert unlocked.outcome == site_language("The lock expired at %(when)s", when="2026-11-30 09:15")


def test_a_reset_is_recorded_as_an_unlock(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "rm_west", "wrong")
    call_command("axes_reset", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert events()[-1] == Event.UNLOCKED
    unlocked = SignInRecord.objects.get(event=Event.UNLOCKED)
    assert unlocked.outcome == site_language("The lock was lifted before it expired (reset)")
    assert sign_in(client, "rm_west", TEST_PASSWORD).status_code == 302


def test_a_reset_of_failures_below_the_limit_adds_no_unlock(client, org):
    sign_in(client, "rm_west", "wrong")
    sign_in(client, "rm_west", TEST_PASSWORD)  # AXES_RESET_ON_SUCCESS deletes the attempt
    assert not AccessAttempt.objects.exists()
    assert events() == [Event.FAILURE, Event.SUCCESS]


@pytest.mark.parametrize("minutes", [15, 30])
def test_the_lock_page_says_how_long_and_until_when(client, org, settings, minutes):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=minutes)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 11, 30, 9, 0)), tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(client, "rm_west", "wrong")
        response = sign_in(client, "rm_west", "wrong")
    assert response.status_code == 429
    text = re.sub(r"\s+", " ", response.content.decode())
    assert re.search(rf"{minutes} ?(minutes|分钟)", text)
    assert f"09:{minutes:02d}" in text  # it unlocks at 09:15 (09:30)


def test_the_log_is_for_administrators_only_and_read_only(client, org, login):
    sign_in(client, "rm_west", "wrong")
    record = SignInRecord.objects.get()
    changelist = reverse("admin:organisation_signinrecord_changelist")
    admin = login(org.admin)
    page = admin.get(changelist)
    assert page.status_code == 200 and "rm_west" in page.content.decode()
    assert admin.get(reverse("admin:organisation_signinrecord_add")).status_code == 403
    detail = admin.get(reverse("admin:organisation_signinrecord_change", args=[record.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert (
        admin.post(reverse("admin:organisation_signinrecord_change", args=[record.pk]), {"outcome": "x"}).status_code
        == 403
    )
    assert admin.get(reverse("admin:organisation_signinrecord_delete", args=[record.pk])).status_code == 403
    for who in ("top_head", "west_head", "west_officer", "rm_west"):
        response = login(getattr(org, who)).get(changelist)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), who
    assert SignInRecord.objects.get(pk=record.pk).outcome == record.outcome


def test_the_nightly_purge_keeps_180_days(org):
    now = timezone.now()
    for days in (181, 179):
        SignInRecord.objects.create(at=now - timedelta(days=days), event=Event.FAILURE, username=f"u{days}")
    result = services.sign_in_records_purge()
    assert result["sign_in_log"] == 1
    assert list(SignInRecord.objects.values_list("username", flat=True)) == ["u179"]
