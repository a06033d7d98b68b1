"""Writes of tasks: create (for RMs, or for a list of customers split by who looks after each), complete a line,
cancel, and the morning-before reminder."""

from collections import defaultdict
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, CharField, F, QuerySet, Value
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm_site.sql import insert_from_select
from customers.models import Customer
from customers.selectors import customers_visible_to
from notifications.services import notification_send
from organisation import access
from organisation.models import Staff
from organisation.selectors import rms_visible_to
from pool.keepers import customer_owner_expression
from relationships.services import interaction_log

from .models import Task, TaskLine

MAX_DAYS_AHEAD = 366
LINE_COLUMNS = ["task", "assignee", "customer", "outcome_note"]


def _check_due(due_on: date) -> None:
    today = timezone.localdate()
    if due_on < today:
        raise ValidationError({"due_on": _("The due date is in the past. Choose today or a later day.")})
    if due_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({"due_on": _("The due date is at most a year ahead.")})


def _selected(staff: Staff, customers) -> QuerySet[Customer]:
    """The customers of a selection that the actor may see and that are not closed, whatever was posted: a list of
    ids (each must be visible, else the whole selection is refused) or a queryset (a filter of the customer list),
    always re-selected through ``customers_visible_to``."""
    visible = customers_visible_to(staff).filter(closed_on__isnull=True)
    if isinstance(customers, QuerySet):
        return visible.filter(pk__in=customers.order_by().values("pk"))
    ids = {int(pk) for pk in customers}
    selected = visible.filter(pk__in=ids)
    found = selected.count()
    if found != len(ids):
        raise ValidationError(
            ngettext(
                "%(n)s customer of the selection is not in your scope or is closed. Choose the customers again.",
                "%(n)s customers of the selection are not in your scope or are closed. Choose the customers again.",
                len(ids) - found,
            )
            % {"n": len(ids) - found}
        )
    return selected


def _insert_customer_lines(task: Task, selected: QuerySet[Customer]) -> tuple[int, int]:
    """One INSERT … SELECT of a line per customer, for their RM or, for a pool customer, their outlet's keeper;
    then the count of those with nobody. Ignores lines that exist (a retry adds nothing)."""
    owned = selected.annotate(_owner=customer_owner_expression())
    rows = (
        owned.filter(_owner__isnull=False)
        .annotate(_task=Value(task.pk, output_field=BigIntegerField()), _note=Value("", output_field=CharField()))
        .values_list("_task", "_owner", "pk", "_note")
    )
    inserted = insert_from_select(TaskLine, LINE_COLUMNS, rows, ignore_conflicts=True)
    unowned = owned.filter(_owner__isnull=True).count()
    return inserted, unowned


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    due_on: date,
    priority: str = Task.Priority.MEDIUM,
    instructions: str = "",
    assignees=(),
    customers=None,
) -> Task:
    """Hand out a task: to RMs of the actor's scope (``assignees``: one line each), or over a selection of customers
    (``customers``: ids, or a customer queryset) split by portfolio — a line per customer for their RM, or their
    outlet's pool keeper — in a few statements whatever the number of customers. Customers with nobody are counted
    on the task (``customers_unowned``), not given a line."""
    staff = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    if staff is None:
        raise PermissionDenied(_("Only a head or an administrator hands out tasks."))
    assignees = list(assignees or ())
    if customers is not None and not isinstance(customers, QuerySet):
        customers = list(customers)
    if bool(assignees) == bool(customers is not None and (isinstance(customers, QuerySet) or customers)):
        raise ValidationError(_("Choose the RMs, or a selection of customers, for the task."))
    _check_due(due_on)
    task = Task(
        title=(title or "").strip(),
        instructions=(instructions or "").strip(),
        due_on=due_on,
        priority=priority,
        created_by=staff,
        branch=staff.branch,
        created_at=timezone.now(),
    )
    task.full_clean()
    if assignees:
        ids = {a.pk if isinstance(a, Staff) else int(a) for a in assignees}
        allowed = set(rms_visible_to(staff).filter(pk__in=ids).values_list("pk", flat=True))
        if allowed != ids:
            raise ValidationError({"assignees": _("Choose RMs of your own branches only.")})
        task.lines_total = len(ids)
        task.save()
        TaskLine.objects.bulk_create([TaskLine(task=task, assignee_id=pk) for pk in sorted(ids)], ignore_conflicts=True)
        return task
    selected = _selected(staff, customers)
    task.save()
    inserted, unowned = _insert_customer_lines(task, selected)
    if not inserted:
        if unowned:
            raise ValidationError(
                _("No customer of the selection has an RM or a pool keeper: nobody could be given the task.")
            )
        raise ValidationError(_("The selection holds no customer in your scope. Choose the customers again."))
    Task.objects.filter(pk=task.pk).update(lines_total=inserted, customers_unowned=unowned)
    task.lines_total, task.customers_unowned = inserted, unowned
    return task


def _open_line(actor, line: TaskLine, roles) -> tuple[Staff, Task, TaskLine]:
    staff = access.actor_staff(actor, roles)
    task = Task.objects.select_for_update().get(pk=line.task_id)
    line = TaskLine.objects.select_for_update(of=("self",)).select_related("customer").get(pk=line.pk)
    if staff is None or line.assignee_id != staff.pk:
        raise PermissionDenied(_("Only the assignee completes their line of a task."))
    if task.status == Task.Status.CANCELLED:
        raise ValidationError(_("This task has been cancelled."))
    if line.is_done:
        raise ValidationError(_("This line is already done."))
    return staff, task, line


def _mark_done(task: Task, line: TaskLine) -> None:
    line.done_at = timezone.now()
    line.full_clean()
    line.save(update_fields=["done_at", "interaction", "outcome_note"])
    task.lines_done = F("lines_done") + 1
    task.save(update_fields=["lines_done"])
    task.refresh_from_db(fields=["lines_done", "lines_total"])
    if task.lines_done >= task.lines_total and task.status == Task.Status.OPEN:
        task.status, task.completed_at = Task.Status.DONE, line.done_at
        task.save(update_fields=["status", "completed_at"])


@transaction.atomic
def task_line_complete(*, actor, line: TaskLine, note: str = "", **interaction_fields) -> TaskLine:
    """Complete one's own line. A customer's line: log the contact (the quick log's fields, through
    ``relationships.services.interaction_log``) and mark the line done with it, in one transaction. A line without
    a customer: done with a note of what was done. The last line done completes the task."""
    _staff, task, line = _open_line(actor, line, access.PORTFOLIO_ROLES)
    if line.customer_id is not None:
        interaction = interaction_log(actor=actor, customer=line.customer, **interaction_fields)
        line.interaction, line.outcome_note = interaction, interaction.notes
    else:
        if interaction_fields:
            raise ValidationError(_("This line has no customer: say what was done instead."))
        if len((note or "").strip()) < 2:
            raise ValidationError({"note": _("Say what was done.")})
        line.outcome_note = note.strip()
    _mark_done(task, line)
    return line


@transaction.atomic
def task_cancel(*, actor, task: Task) -> Task:
    """Cancel an open task: its creator, a head whose subtree holds its branch, or an administrator. Its lines stay
    as they are (those done keep their contact)."""
    staff = access.actor_staff(actor, access.HEADS_AND_ADMINS)
    task = Task.objects.select_for_update().select_related("branch").get(pk=task.pk)
    if staff is not None and not (task.created_by_id == staff.pk or access.can_approve(staff, task.branch)):
        raise PermissionDenied(_("Only the task's creator or a head above them may cancel it."))
    if task.status != Task.Status.OPEN:
        raise ValidationError(_("Only an open task can be cancelled."))
    task.status, task.cancelled_at, task.cancelled_by = Task.Status.CANCELLED, timezone.now(), staff
    task.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return task


@transaction.atomic
def task_due_reminders(*, today: date | None = None) -> dict:
    """The morning before the due date: each assignee with open lines of open tasks due tomorrow gets one
    notification. The tasks are claimed (``FOR UPDATE SKIP LOCKED``) and marked as reminded in the same
    transaction, so a second run, or two at once, sends nothing twice. A few statements whatever the number of
    lines: the tasks, the assignees grouped, the notifications, the mark."""
    today = today or timezone.localdate()
    tomorrow = today + timedelta(days=1)
    tasks = {
        t.pk: t
        for t in Task.objects.select_for_update(skip_locked=True)
        .filter(status=Task.Status.OPEN, due_on=tomorrow, due_reminder_sent_at__isnull=True)
        .only("pk", "title")
    }
    if not tasks:
        return {"tasks": 0, "notified": 0}
    per_assignee: dict[int, list[int]] = defaultdict(list)
    pairs = (
        TaskLine.objects.filter(task_id__in=list(tasks), done_at__isnull=True)
        .values_list("assignee_id", "task_id")
        .distinct()
        .order_by("assignee_id", "task_id")
    )
    for assignee_id, task_id in pairs:
        per_assignee[assignee_id].append(task_id)
    by_text: dict[str, list[Staff]] = defaultdict(list)
    with translation.override("zh-hans"):
        for assignee_id, task_ids in per_assignee.items():
            titles = "、".join(f"《{tasks[pk].title}》" for pk in task_ids[:3])
            text = ngettext(
                "Due tomorrow (%(day)s): the task %(titles)s.",
                "Due tomorrow (%(day)s): %(n)s tasks, %(titles)s.",
                len(task_ids),
            ) % {"day": f"{tomorrow:%m-%d}", "n": len(task_ids), "titles": titles}
            by_text[text].append(Staff(pk=assignee_id))
    url = reverse("worktasks:task-list")
    notified = sum(notification_send(recipients, text, url) for text, recipients in by_text.items())
    Task.objects.filter(pk__in=list(tasks)).update(due_reminder_sent_at=timezone.now())
    return {"tasks": len(tasks), "notified": notified}
