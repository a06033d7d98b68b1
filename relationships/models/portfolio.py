"""Portfolios (管户): who looks after which customer, the history of it, reassignment requests and handovers."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm_site import text_limits
from organisation.models import Branch, Staff


class AssignmentQuerySet(models.QuerySet):
    def current(self) -> "AssignmentQuerySet":
        return self.filter(ended_at__isnull=True)

    def primary(self) -> "AssignmentQuerySet":
        return self.filter(role=Assignment.Role.PRIMARY)

    def secondary(self) -> "AssignmentQuerySet":
        return self.filter(role=Assignment.Role.SECONDARY)


class Assignment(models.Model):
    """A period during which a member of staff looks after a customer (管户). Never deleted: a move ends one
    assignment and starts another, so the history of who looked after whom is complete."""

    class Role(models.TextChoices):
        PRIMARY = "primary", _("Primary RM (主管户)")
        SECONDARY = "secondary", _("Secondary RM (协管户)")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="assignments"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.PRIMARY)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    approved_by = models.ForeignKey(
        Staff, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "ReassignmentRequest",
        verbose_name=_("reassignment request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    handover = models.ForeignKey(
        "Handover",
        verbose_name=_("handover"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("portfolio assignment")
        verbose_name_plural = _("portfolio assignments")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Exactly one accountable RM per customer at any time (客户经理制).
            models.UniqueConstraint(
                fields=["customer"], condition=Q(role="primary", ended_at__isnull=True), name="assignment_one_primary"
            ),
            models.UniqueConstraint(
                fields=["customer", "staff"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_current_per_staff",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="assignment_period_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["staff", "role"], condition=Q(ended_at__isnull=True), name="assignment_current_staff_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.staff} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ReassignmentRequest(models.Model):
    """A request to move customers to another RM. Nobody moves customers alone (一手揽权): a branch head of the
    subtree other than the requester approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    requested_by = models.ForeignKey(Staff, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    to_staff = models.ForeignKey(Staff, verbose_name=_("new RM"), on_delete=models.PROTECT, related_name="+")
    scope_branch = models.ForeignKey(
        Branch,
        verbose_name=_("approving branch"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("the lowest branch above every customer and the new RM: its heads (and those above) approve"),
    )
    reason = models.TextField(_("reason"), **text_limits.bounded(text_limits.REASON))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        Staff, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reassignment request")
        verbose_name_plural = _("reassignment requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="reassign_status_idx")]

    def __str__(self) -> str:
        return _("Reassignment #%(id)s") % {"id": self.pk}


class ReassignmentItem(models.Model):
    request = models.ForeignKey(ReassignmentRequest, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    from_staff = models.ForeignKey(Staff, verbose_name=_("current RM"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("customer to move")
        verbose_name_plural = _("customers to move")
        constraints = [models.UniqueConstraint(fields=["request", "customer"], name="reassign_item_unique")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.customer_id}"


class Handover(models.Model):
    """The handover of a leaving RM's whole portfolio (离职交接), approved as one step."""

    class Method(models.TextChoices):
        EVEN = "even", _("Evenly")
        BY_TIER = "by_tier", _("By tier, evenly within each tier")
        MANUAL = "manual", _("By hand")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved and carried out")
        REJECTED = "rejected", _("Returned")

    leaver = models.ForeignKey(Staff, verbose_name=_("leaving RM"), on_delete=models.PROTECT, related_name="handovers")
    method = models.CharField(_("distribution"), max_length=10, choices=Method.choices, default=Method.EVEN)
    targets = models.ManyToManyField(Staff, verbose_name=_("receiving RMs"), related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    last_day = models.DateField(_("last working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    prepared_by = models.ForeignKey(Staff, verbose_name=_("prepared by"), on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        Staff, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["leaver"], condition=Q(status__in=["draft", "pending"]), name="handover_one_open_per_leaver"
            )
        ]

    def __str__(self) -> str:
        return _("Handover of %(name)s") % {"name": self.leaver.name}


class HandoverItem(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    to_staff = models.ForeignKey(Staff, verbose_name=_("receiving RM"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("handover line")
        verbose_name_plural = _("handover lines")
        constraints = [models.UniqueConstraint(fields=["handover", "customer"], name="handover_item_unique")]

    def __str__(self) -> str:
        return f"{self.handover_id}: {self.customer_id} → {self.to_staff_id}"


# ----------------------------------------------------------------------------------------------------------------
# Contact: interactions, follow-ups, visit plans, satisfaction, notifications
# ----------------------------------------------------------------------------------------------------------------
