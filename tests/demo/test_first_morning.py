"""The demo's first morning, as its users see it: every kind of reminder on an RM's Today, coverage below 100 %
with a list of customers not contacted in time, a customer pool, approvals waiting, complaints in every state."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from complaints.models import Complaint
from customers.models import Customer
from organisation.models import Branch
from pool.models import PoolClaim, PoolKeeper
from reminders.models import FollowUp

pytestmark = [pytest.mark.django_db, pytest.mark.full]  # the demo's content: make test-full

MORNING = datetime(2026, 6, 15, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
KINDS = (FollowUp.Kind.BIRTHDAY, FollowUp.Kind.MATURITY, FollowUp.Kind.CHURN_RISK, FollowUp.Kind.CONTACT_POLICY)


@pytest.fixture
def demo(client):
    with time_machine.travel(MORNING, tick=False):
        call_command("seed_demo", customers=1000, figure_days=2, verbosity=0)
        yield client


def sign_in(client, username):
    client.force_login(get_user_model().objects.get(username=username))


def test_every_rm_sees_each_kind_of_reminder_on_today(demo):
    for username in ("rm1", "rm2", "rm9"):
        sign_in(demo, username)
        with time_machine.travel(MORNING, tick=False):
            page = demo.get(reverse("reminders:today")).content.decode()
        staff = get_user_model().objects.get(username=username).staff
        for kind in KINDS:
            open_ones = FollowUp.objects.filter(staff=staff, kind=kind, status=FollowUp.Status.OPEN)
            with translation.override("zh-hans"):
                headlines = {f.headline for f in open_ones.select_related("customer", "customer__segment")}
            assert headlines and any(h in page for h in headlines), (username, kind)


def test_branch_heads_see_coverage_below_100_and_whom_to_contact(demo):
    sign_in(demo, "head")
    for branch in Branch.objects.filter(level=Branch.Level.OUTLET):
        response = demo.get(reverse("dashboards:dashboard"), {"branch": branch.pk})
        coverage = response.context["board"].figures.value("coverage")
        assert 75 <= coverage <= 95, (branch.name, coverage)
    response = demo.get(reverse("dashboards:dashboard-records"), {"metric": "not_contacted"})
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) > 0
    figures = demo.get(reverse("dashboards:dashboard")).context["board"].figures
    assert figures.value("churn_risk") > 0
    assert figures.value("follow_ups_on_time_rate") is not None
    assert figures.value("satisfaction") is not None


def test_a_customer_pool_approvals_waiting_and_complaints_in_every_state(demo):
    mass = Customer.objects.filter(segment__code="mass")
    pooled = mass.filter(primary_rm__isnull=True).count()
    # About 40 % of 大众 customers wait in their outlet's pool (a few were claimed or assigned since: demo/pool.py).
    assert 0.3 * mass.count() < pooled < 0.5 * mass.count()
    assert PoolClaim.objects.filter(method="claim").exists() and PoolClaim.objects.filter(method="assign").exists()
    assert PoolKeeper.objects.count() == 1
    assert not Customer.objects.exclude(segment__code="mass").filter(primary_rm__isnull=True).exists()
    sign_in(demo, "head")
    pending = demo.get(reverse("relationships:approvals")).context["pending"]
    assert len(pending["reassignments"]) >= 2
    assert len(pending["plans"]) >= 3
    assert len(pending["handovers"]) == 1
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)


def test_the_first_morning_is_the_same_for_the_same_seed_and_not_made_twice(demo):
    first = sorted(FollowUp.objects.values_list("kind", "customer__customer_no", "due_on", "status"))
    with time_machine.travel(MORNING, tick=False):
        call_command("seed_demo", customers=1000, figure_days=0, verbosity=0)
    assert sorted(FollowUp.objects.values_list("kind", "customer__customer_no", "due_on", "status")) == first
