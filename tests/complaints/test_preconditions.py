"""The detail page's buttons and the services ask the same rules: who may (complaints.permissions) and what the
state allows (complaints.rules.precondition_error). An action the page does not offer is refused by its service
with the same reason."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import rules, selectors, services
from complaints.views import available

pytestmark = pytest.mark.django_db


def offered(org, complaint):
    return set(available(org.west_officer, selectors.complaint_detail(org.west_officer.user, complaint.pk)))


def test_a_paused_clock_offers_resume_only_and_the_services_agree(org, in_progress, english):
    c = in_progress()
    assert {"pause", "extend", "decide"} <= offered(org, c)
    c = services.clock_pause(actor=org.west_officer.user, complaint=c, reason="司法鉴定", customer_told=True)
    actions = offered(org, c)
    assert "resume" in actions
    assert not {"pause", "extend", "decide"} & actions
    with pytest.raises(ValidationError, match="already paused"):
        services.clock_pause(actor=org.west_officer.user, complaint=c, reason="再次", customer_told=True)
    with pytest.raises(ValidationError, match="Resume the clock before extending"):
        services.extension_request(
            actor=org.west_officer.user,
            complaint=c,
            reason="案情复杂",
            customer_told_at=timezone.now(),
            customer_told_via="电话",
        )
    assert c.extensions.count() == 0


def test_start_needs_a_handler_on_the_page_and_in_the_service(org, register, english):
    c = services.complaint_accept(actor=org.west_officer.user, complaint=register())
    assert "start" not in offered(org, c)
    assert rules.precondition_error(c, "start") is not None
    with pytest.raises(ValidationError, match="Assign a handler first"):
        services.complaint_start(actor=org.west_officer.user, complaint=c)
    c = services.complaint_assign(actor=org.west_officer.user, complaint=c, handler=org.west_officer)
    assert "start" in offered(org, c)


def test_no_extension_is_offered_past_the_last_one(org, in_progress):
    c = in_progress()
    c.extension_level = rules.MAX_EXTENSIONS
    assert rules.precondition_error(c, "extend") is not None
    assert not rules.ready(c, "extend")
