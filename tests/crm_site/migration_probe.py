"""Run against a checkout of the project (old or new code) by tests/crm_site/test_forward_migration.py:

    python migration_probe.py <code root> extras   # old code: rows the demo does not write, on the moved models
    python migration_probe.py <code root> pages    # open pages and the admin log, print JSON
    python migration_probe.py <code root> migrate <app>:<migration> ...   # migrate each app in turn

Models are looked up by app label, so the same script works on both sides of the move. Not a test module: it is
run in a subprocess with the code root first on ``sys.path`` and DATABASE_URL pointing at the scratch database.
"""

import json
import os
import sys
from datetime import timedelta

GROUP = "Moved models check"
# (app label at the old head, model): the models that left the relationships app.
MOVED_MODELS = (
    "branch",
    "staff",
    "historicalbranch",
    "historicalstaff",
    "notification",
    "followup",
    "digestdelivery",
    "branchdayfigures",
    "rmdayfigures",
    "uncoveredcustomer",
)
# Pages opened on the migrated database, per demo login: (name, URL) with {customer} (one of the login's customers),
# {handover}, {branch} (the one with an admin log entry) and {branch_admin} (its admin, by app label) filled in.
PAGES = {
    "admin": [
        ("home", "/"),
        ("customer list", "/customers/"),
        ("customer 360", "/customers/{customer}/"),
        ("branch tree", "/org/"),
        ("dashboard", "/dashboard/"),
        ("handover list", "/handovers/"),
        ("handover", "/handovers/{handover}/"),
        ("complaint list", "/complaints/"),
        ("admin index", "/admin/"),
        ("branch admin history", "/admin/{branch_admin}/{branch}/history/"),
    ],
    "head": [
        ("home", "/"),
        ("customer list", "/customers/"),
        ("customer 360", "/customers/{customer}/"),
        ("today", "/today/"),
        ("dashboard", "/dashboard/"),
        ("branch tree", "/org/"),
        ("handover list", "/handovers/"),
        ("handover", "/handovers/{handover}/"),
        ("complaint list", "/complaints/"),
    ],
    "rm1": [
        ("home", "/"),
        ("customer list", "/customers/"),
        ("customer 360", "/customers/{customer}/"),
        ("today", "/today/"),
        ("my performance", "/performance/"),
        ("complaint list", "/complaints/"),
    ],
}


def setup(root: str) -> None:
    sys.path[0] = root  # the code under test, not this file's folder
    os.chdir(root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    import django

    django.setup()


def extras() -> None:
    """Rows on the moved models and on what hangs on their content types, which seed_demo leaves empty: a group
    with permissions on every moved model, admin log entries, notifications, a digest delivery, a customer not
    contacted in time and a handover."""
    from django.apps import apps
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    def model(name):
        return apps.get_model("relationships", name)

    Staff, Customer = model("Staff"), apps.get_model("customers", "Customer")  # noqa: N806
    today = timezone.localdate()
    with transaction.atomic():
        group = Group.objects.create(name=GROUP)
        codenames = [f"view_{name}" for name in MOVED_MODELS] + ["change_branch", "change_staff"]
        permissions = Permission.objects.filter(content_type__app_label="relationships", codename__in=codenames)
        assert permissions.count() == len(codenames), sorted(permissions.values_list("codename", flat=True))
        group.permissions.set(permissions)
        head1 = Staff.objects.select_related("user").get(user__username="head1")
        head1.user.groups.add(group)
        head1.user.user_permissions.add(
            Permission.objects.get(content_type__app_label="relationships", codename="view_followup")
        )

        admin = Staff.objects.select_related("user").get(user__username="admin")
        rm1 = Staff.objects.get(user__username="rm1")
        rm2 = Staff.objects.get(user__username="rm2")
        for obj in (head1.branch, rm1, model("FollowUp").objects.order_by("pk").first()):
            LogEntry.objects.create(
                user=admin.user,
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=CHANGE,
                change_message="[]",
            )
        model("Notification").objects.create(recipient=rm1, text="客户回访提醒", url="/today/")
        model("Notification").objects.create(recipient=rm1, text="已读的提醒", url="/", read_at=timezone.now())
        model("DigestDelivery").objects.create(staff=rm1, day=today - timedelta(days=1), follow_ups=3)
        customer = Customer.objects.filter(primary_rm=rm1).order_by("pk").first()
        model("UncoveredCustomer").objects.get_or_create(
            day=today - timedelta(days=1), customer=customer, defaults={"aum": customer.aum}
        )
        handover = model("Handover").objects.create(
            leaver=rm2, last_day=today + timedelta(days=7), prepared_by=head1, note="离职交接"
        )
        handover.targets.set([rm1])
        for leaving in Customer.objects.filter(primary_rm=rm2).order_by("pk")[:3]:
            model("HandoverItem").objects.create(handover=handover, customer=leaving, to_staff=rm1)
    print("extras written")


def pages() -> None:
    """GET every page of PAGES as its login (in a transaction rolled back at the end, so that sessions and access
    logs do not change the row counts), see that the admin's recent actions link to the logged branch and count its
    admin history, resolve every admin log entry to its
    object, and list the registered Celery tasks."""
    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client
    from django.test.utils import setup_test_environment

    from crm_site.celery import app as celery_app

    setup_test_environment()  # ALLOWED_HOSTS gains "testserver", mail goes to memory
    customer_model = apps.get_model("customers", "Customer")
    handover = apps.get_model("relationships", "Handover").objects.order_by("pk").first()
    logged = LogEntry.objects.filter(content_type__model="branch").select_related("content_type").get()
    branch_admin = f"{logged.content_type.app_label}/branch"
    statuses, history, linked = {}, None, None
    with transaction.atomic():
        for username, urls in PAGES.items():
            user = get_user_model().objects.get(username=username)
            client = Client()
            client.force_login(user)
            customer = customer_model.objects.filter(primary_rm__user=user).order_by("pk").first()
            customer = customer or customer_model.objects.order_by("pk").first()
            for name, url in urls:
                url = url.format(
                    customer=customer.pk, handover=handover.pk, branch=logged.object_id, branch_admin=branch_admin
                )
                response = client.get(url, follow=True)
                statuses[f"{username} {name} {url}"] = [response.status_code, response.request["PATH_INFO"]]
                if name == "admin index":  # its recent actions link to the logged branch through its content type
                    linked = f'href="/admin/{branch_admin}/{logged.object_id}/change/"' in response.content.decode()
                if name == "branch admin history":  # the branch's HistoricalBranch rows
                    history = response.context["page_obj"].paginator.count
        transaction.set_rollback(True)

    log = {}
    for entry in LogEntry.objects.select_related("content_type").order_by("pk"):
        edited = entry.get_edited_object()
        log[str(entry.pk)] = [entry.content_type.model_class()._meta.label, type(edited)._meta.label, edited.pk]

    celery_app.loader.import_default_modules()
    tasks = sorted(name for name in celery_app.tasks if not name.startswith("celery."))
    print("PROBE " + json.dumps({"pages": statuses, "history": history, "linked": linked, "log": log, "tasks": tasks}))


def migrate(*targets: str) -> None:
    """``migrate <app> <migration>`` for each ``app:migration`` in turn, in one process."""
    from django.core.management import call_command

    for target in targets:
        app, name = target.split(":")
        call_command("migrate", app, name, interactive=False, verbosity=1)


if __name__ == "__main__":
    setup(sys.argv[1])
    {"extras": extras, "pages": pages, "migrate": migrate}[sys.argv[2]](*sys.argv[3:])
