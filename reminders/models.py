"""Follow-up reminders and the morning digest."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisation.models import Staff
from relationships.models import Interaction

from . import titles


class FollowUp(models.Model):
    """A follow-up reminder for an RM: something to do for a customer by a date."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Follow-up (跟进)")
        CONTACT_POLICY = "contact_policy", _("Regular contact (定期回访)")
        BIRTHDAY = "birthday", _("Birthday (生日祝福)")
        HOLIDAY = "holiday", _("Holiday greeting (节日问候)")
        MATURITY = "maturity", _("Product maturity (到期提醒)")
        LARGE_MOVEMENT = "movement", _("Large asset movement (资金异动)")
        CHURN_RISK = "churn", _("Churn risk (流失预警)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        SNOOZED = "snoozed", _("Snoozed")
        SKIPPED = "skipped", _("Skipped")
        EXPIRED = "expired", _("Expired")

    OPEN_STATES = (Status.OPEN, Status.SNOOZED)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="follow_ups", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    due_on = models.DateField(_("due on"))
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    source_ref = models.CharField(
        _("source"), max_length=64, blank=True, help_text=_("what caused it: an interaction, holding, snapshot or rule")
    )
    dedupe_key = models.CharField(max_length=200, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    skip_reason = models.CharField(_("reason for skipping"), max_length=200, blank=True)
    completed_by = models.ForeignKey(
        Staff, verbose_name=_("completed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    interaction = models.ForeignKey(
        Interaction, verbose_name=_("interaction"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        db_table = "relationships_followup"  # kept from when the model lived in relationships
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["staff", "due_on"], condition=Q(status__in=["open", "snoozed"]), name="followup_open_staff_idx"
            ),
            models.Index(fields=["customer", "-due_on"], name="followup_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.headline

    @property
    def headline(self) -> str:
        """What, how much and when, in the reader's language, without the customer's name (reminders.titles)."""
        return titles.headline(self)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()


class DigestDelivery(models.Model):
    """One morning digest for one member of staff on one day. The unique key and the row claim make a retried or
    duplicated task send nothing twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        EMPTY = "empty", _("Nothing to send")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    follow_ups = models.PositiveIntegerField(_("follow-ups"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        db_table = "relationships_digestdelivery"  # kept from when the model lived in relationships
        verbose_name = _("morning digest")
        verbose_name_plural = _("morning digests")
        ordering = ["-day", "staff"]
        constraints = [models.UniqueConstraint(fields=["staff", "day"], name="digest_one_per_staff_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.staff_id} {self.status}"
