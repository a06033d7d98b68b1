"""Every free text staff type has a bound (crm_site/text_limits.py): the page's form says so in the user's language
and saves nothing, the browser stops at it, and the services' full_clean refuses a longer text from any caller."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm_site import text_limits
from relationships import services
from relationships.models import Interaction, ReassignmentRequest, VisitPlan

pytestmark = pytest.mark.django_db

# The apps whose texts staff type (complaints bound their own texts; the feed's messages are written by the loader).
APPS = ("organisation", "customers", "notifications", "relationships", "reminders")


def too_long(limit: int, length: int) -> str:
    with translation.override("zh-hans"):
        return gettext(text_limits.ERRORS["max_length"]) % {"limit_value": limit, "show_value": length}


def test_every_text_field_staff_type_has_a_bound():
    unbounded = [
        f"{m._meta.label}.{f.name}"
        for label in APPS
        for m in apps.get_app_config(label).get_models()
        for f in m._meta.get_fields()
        if isinstance(f, models.TextField) and f.editable and not f.name.endswith("_enc")
        and (f.max_length is None or not any(getattr(v, "limit_value", None) == f.max_length for v in f.validators))
    ]  # fmt: skip
    assert unbounded == []


def test_the_quick_log_refuses_a_100000_character_note(org, book, login):
    payload = {"channel": "visit", "purpose": "maintenance", "outcome": "reached",
               "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "notes": "记" * 100_000}  # fmt: skip
    client = login(org.rm_west)
    response = client.post(reverse("relationships:interaction-create", args=[book.west.pk]), payload)
    assert response.status_code == 200
    assert too_long(2000, 100_000) in response.content.decode()
    assert not Interaction.objects.exists()
    # the field itself stops at the bound in the browser
    page = client.get(reverse("relationships:interaction-create", args=[book.west.pk])).content.decode()
    assert 'maxlength="2000"' in page
    # and 2,000 characters are a note
    response = client.post(
        reverse("relationships:interaction-create", args=[book.west.pk]), payload | {"notes": "记" * 2000}
    )
    assert response.status_code == 302 and Interaction.objects.get().notes == "记" * 2000


def test_a_reassignment_reason_is_at_most_500_characters(org, book, login):
    url = reverse("relationships:reassignment-create")
    data = {"customer": [book.west.pk], "to_staff": org.rm_west2.pk, "reason": "搬" * 501}
    response = login(org.rm_west).post(url, data)
    assert response.status_code == 200 and too_long(500, 501) in response.content.decode()
    assert not ReassignmentRequest.objects.exists()
    assert login(org.rm_west).post(url, data | {"reason": "搬" * 500}).status_code == 302


def test_what_to_prepare_for_a_visit_is_at_most_2000_characters(org, book, login):
    data = {"planned_on": timezone.localdate().isoformat(), "purpose": "care", "customers": [book.west.pk],
            "preparation": "备" * 2001}  # fmt: skip
    response = login(org.rm_west).post(reverse("relationships:visit-plan-create"), data)
    assert response.status_code == 200 and too_long(2000, 2001) in response.content.decode()
    assert not VisitPlan.objects.exists()


def test_the_services_refuse_an_overlong_text_from_any_caller(org, book):
    with pytest.raises(ValidationError) as exc:
        services.interaction_log(actor=org.rm_west.user, customer=book.west, notes="记" * 2001)
    assert "notes" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.reassignment_request(
            actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="搬" * 501
        )
    assert not Interaction.objects.exists() and not ReassignmentRequest.objects.exists()


@pytest.mark.parametrize(("note", "stored"), [("同意", True), ("批" * 201, False), ("a\x00b", False)])
def test_a_decision_note_is_checked_like_a_form_field(org, book, login, note, stored):
    """The approve button's note was cut to 200 characters without a word, and a NUL in it was a server error."""
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="客户搬家"
    )
    url = reverse("relationships:reassignment-detail", args=[request.pk])
    response = login(org.west_head).post(url, {"action": "approve", "note": note}, follow=True)
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.status == ReassignmentRequest.Status.APPROVED) is stored
    if stored:
        assert request.decision_note == note
