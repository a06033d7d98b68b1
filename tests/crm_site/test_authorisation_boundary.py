"""The authorisation boundary is the service: every write that names an actor refuses a missing one (no
service accepts ``actor=None``), before it reads or writes anything. Jobs and the demo act as
``organisation.access.SYSTEM``."""

import importlib
import inspect

import pytest
from django.core.exceptions import PermissionDenied

from organisation.access import SYSTEM

pytestmark = pytest.mark.django_db

SERVICE_MODULES = [
    "organisation.services",
    "customers.services",
    "notifications.services",
    "consent.services",
    "relationships.services.contact",
    "relationships.services.portfolio",
    "complaints.services",
    "reminders.services",
    "feed.services",
]


def services_with_an_actor():
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for attr, fn in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            params = inspect.signature(fn).parameters
            if "actor" in params and params["actor"].kind is inspect.Parameter.KEYWORD_ONLY:
                yield f"{name}.{attr}", fn


SERVICES = dict(services_with_an_actor())


def test_the_services_with_an_actor_are_found():
    # A sample of each app, so that a rename cannot empty the list below unnoticed.
    for name in (
        "organisation.services.branch_create",
        "customers.services.customer_update",
        "customers.services.customer_reveal",
        "relationships.services.contact.interaction_log",
        "relationships.services.portfolio.handover_distribute",
        "complaints.services.complaint_assign",
        "reminders.services.follow_up_skip",
        "notifications.services.notifications_mark_read",
    ):
        assert name in SERVICES
    assert len(SERVICES) >= 45


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_service_runs_without_an_actor(name):
    fn = SERVICES[name]
    params = inspect.signature(fn).parameters
    kwargs = {
        p: None
        for p, spec in params.items()
        if spec.kind is inspect.Parameter.KEYWORD_ONLY and spec.default is inspect.Parameter.empty
    }
    kwargs["actor"] = None
    with pytest.raises(PermissionDenied):
        fn(**kwargs)


def test_the_system_actor_may_set_up_the_organisation():
    from organisation import services

    branch = services.branch_create(actor=SYSTEM, code="S1", name="系统创建", level="branch")
    assert branch.history.first().history_user is None


def test_writes_about_a_customer_outside_the_actors_scope_are_refused(org, book):
    from customers import services as customers
    from customers.models import AccessLog
    from relationships import services as relationships

    outsider = org.rm_east.user  # book.west is rm_west's customer in another sub-branch
    refused = [
        lambda: relationships.interaction_log(actor=outsider, customer=book.west),
        lambda: relationships.rating_record(actor=org.east_head.user, customer=book.west, score=5),
        lambda: customers.customer_update(actor=outsider, customer=book.west, name="改名"),
        lambda: customers.customer_reveal(actor=outsider, customer=book.west, field="mobile", reason="回访"),
        lambda: customers.customer_create(actor=outsider, kind="individual", name="新客户", branch=org.west_outlet),
        lambda: relationships.reassignment_request(
            actor=org.east_head.user, customers=[book.west], to_staff=org.rm_east, reason="调整"
        ),
    ]
    for write in refused:
        with pytest.raises(PermissionDenied):
            write()
    book.west.refresh_from_db()
    assert book.west.name == "王西甲"
    assert not book.west.interactions.exists()
    assert not AccessLog.objects.exists()
    # The same writes by the customer's own RM go through.
    relationships.interaction_log(actor=org.rm_west.user, customer=book.west)
    assert customers.customer_reveal(actor=org.rm_west.user, customer=book.west, field="mobile", reason="回访")


def test_only_a_head_above_the_leaver_prepares_the_handover(org, book):
    from datetime import date

    from relationships import services

    services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west2, last_day=date(2026, 12, 31))
    handover = services.handover_start(
        actor=org.west_head.user, leaver=org.rm_west2, targets=[org.rm_west], method="even"
    )
    for outsider in (org.east_head.user, org.rm_west.user, org.west_officer.user):
        with pytest.raises(PermissionDenied):
            services.handover_distribute(actor=outsider, handover=handover, method="by_tier")
        with pytest.raises(PermissionDenied):
            services.handover_submit(actor=outsider, handover=handover)
    handover.refresh_from_db()
    assert handover.status == "draft" and handover.method == "even"
    services.handover_submit(actor=org.west_head.user, handover=handover)
    handover.refresh_from_db()
    assert handover.status == "pending"
