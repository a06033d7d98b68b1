"""Tasks a head hands out (任务下发 / 督办): a ``Task`` with a title, instructions, a due date and a priority, and
one ``TaskLine`` per piece of work — per customer of a customer list (for the customer's RM, or the pool keeper of
a customer without one), or per RM for a task without customers."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from organisation.models import Branch, Staff

TITLE_MAX = 100
INSTRUCTIONS_MAX = text_limits.NOTE


class Task(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", _("High (高)")
        MEDIUM = "medium", _("Medium (中)")
        LOW = "low", _("Low (低)")

    class Status(models.TextChoices):
        # Stored: open, done (every line done), cancelled. Overdue is derived: open and past its due date.
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    instructions = models.TextField(_("instructions"), blank=True, **text_limits.bounded(INSTRUCTIONS_MAX))
    due_on = models.DateField(_("due on"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        Staff, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="tasks_created"
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The branch whose heads follow the task: the creator's own."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    lines_done = models.PositiveIntegerField(_("lines done"), default=0)
    customers_unowned = models.PositiveIntegerField(
        _("customers without anyone to look after them"),
        default=0,
        help_text=_("Customers of the selection with neither an RM nor a pool keeper: no line was made for them."),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        Staff, verbose_name=_("cancelled by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_reminder_sent_at = models.DateTimeField(_("due reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "-pk"]
        indexes = [
            models.Index(fields=["branch", "status", "due_on"], name="task_branch_status_idx"),
            models.Index(
                fields=["due_on"], condition=Q(status="open", due_reminder_sent_at__isnull=True), name="task_due_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(lines_done__lte=models.F("lines_total")), name="task_done_le_total"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue_on(self, day) -> bool:
        return self.status == self.Status.OPEN and self.due_on < day

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())

    @property
    def state(self) -> str:
        """open / overdue / done / cancelled, as shown."""
        return "overdue" if self.is_overdue else self.status

    @property
    def progress_pct(self) -> int:
        return round(100 * self.lines_done / self.lines_total) if self.lines_total else 0


class TaskLine(models.Model):
    """One piece of a task for one assignee: a customer to contact, or (a task without customers) the RM's own."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="lines")
    assignee = models.ForeignKey(Staff, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    interaction = models.ForeignKey(
        "relationships.Interaction",
        verbose_name=_("interaction"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome_note = models.TextField(_("outcome"), blank=True, **text_limits.bounded(text_limits.NOTE))

    class Meta:
        verbose_name = _("task line")
        verbose_name_plural = _("task lines")
        ordering = ["task", "assignee", "pk"]
        constraints = [
            # The first is also the index of "the lines of a task by assignee" (its leading columns); the second
            # makes the one line of an RM in a task without customers unique too, so a retried insert adds nothing.
            models.UniqueConstraint(fields=["task", "assignee", "customer"], name="taskline_unique"),
            models.UniqueConstraint(
                fields=["task", "assignee"], condition=Q(customer__isnull=True), name="taskline_unique_no_customer"
            ),
        ]
        indexes = [
            # "My open lines" (Today, the reminder job, the dashboard's overdue count).
            models.Index(fields=["assignee", "task"], condition=Q(done_at__isnull=True), name="taskline_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}/{self.assignee_id}/{self.customer_id or '-'}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
