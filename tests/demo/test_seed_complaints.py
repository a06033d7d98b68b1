import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from complaints import rules
from complaints.models import Complaint, ComplaintEvent

pytestmark = [pytest.mark.django_db, pytest.mark.full]  # the demo's content: make test-full


def test_demo_complaints_cover_every_state_and_follow_the_rules(capsys):
    with translation.override("en"):  # the progress lines are read below
        call_command("seed_demo", customers=600)
    complaints = list(Complaint.objects.select_related("branch"))
    assert len(complaints) == 60  # at least 60; 1 per 200 customers a year on larger demos
    assert {c.status for c in complaints} == set(Complaint.Status.values)
    now = timezone.now()
    states = {rules.deadline_state(c, now) for c in complaints}
    assert {"breached", "due_soon", "stopped"} <= states
    assert any(c.extension_level for c in complaints)
    for c in complaints:
        assert c.due_at == rules.due_at(c.clock_started_at, c.extension_level, c.paused_days)
        assert c.handler_id != c.subject_staff_id or c.handler_id is None
        assert c.branch.path.startswith(c.customer.branch.path[:9])
        if c.status == "closed":
            assert c.cause_id and c.corrective_action
    assert ComplaintEvent.objects.filter(kind="registered").count() == 60
    assert len({c.reference for c in complaints}) == 60
    # Idempotent.
    call_command("seed_demo", customers=600)
    assert Complaint.objects.count() == 60
    assert "complaints: 60" in capsys.readouterr().out
