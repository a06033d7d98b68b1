"""Contact work: interactions, visit plans and satisfaction ratings."""

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm_site import text_limits
from organisation.models import Staff


class Interaction(models.Model):
    """A contact with a customer: a visit, call, message, counter visit or event."""

    class Channel(models.TextChoices):
        VISIT = "visit", _("Visit (面访)")
        PHONE = "phone", _("Phone (电话)")
        SMS = "sms", _("SMS (短信)")
        WECHAT = "wechat", _("WeChat (微信)")
        EMAIL = "email", _("Email (邮件)")
        COUNTER = "counter", _("Branch counter (网点接待)")
        EVENT = "event", _("Event (活动)")

    class Purpose(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance (日常维护)")
        MARKETING = "marketing", _("Marketing (营销)")
        SERVICE = "service", _("Service (服务)")
        COMPLAINT = "complaint", _("Complaint follow-up (投诉回访)")
        CARE = "care", _("Care (关怀)")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached the customer")
        NO_ANSWER = "no_answer", _("Not reached")
        INTERESTED = "interested", _("Interested")
        DEAL = "deal", _("Business done")
        DECLINED = "declined", _("Declined")

    EDIT_WINDOW = timedelta(hours=24)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="interactions", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.VISIT)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.MAINTENANCE)
    occurred_at = models.DateTimeField(_("when"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.REACHED)
    notes = models.TextField(_("notes"), blank=True, **text_limits.bounded(text_limits.NOTE))
    products = models.ManyToManyField(
        "customers.Product", verbose_name=_("products discussed"), blank=True, related_name="+"
    )
    next_follow_up_on = models.DateField(_("next follow-up on"), null=True, blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline_idx"),
            models.Index(fields=["staff", "-occurred_at"], name="interaction_staff_idx"),
            models.Index(fields=["occurred_at"], name="interaction_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.customer_id} · {self.occurred_at:%Y-%m-%d}"

    def editable_by(self, staff: Staff | None, now=None) -> bool:
        """Its author may correct it within 24 hours of logging it; after that it is part of the audit trail."""
        now = now or timezone.now()
        return staff is not None and staff.pk == self.staff_id and now - self.created_at <= self.EDIT_WINDOW


class VisitPlan(models.Model):
    """An RM's plan of visits for a day (拜访计划), approved by the branch head, then reported (拜访报告)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")
        REPORTED = "reported", _("Reported")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATES = (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.RETURNED)

    staff = models.ForeignKey(Staff, verbose_name=_("RM"), on_delete=models.PROTECT, related_name="visit_plans")
    planned_on = models.DateField(_("visit date"))
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Interaction.Purpose.choices, default=Interaction.Purpose.MAINTENANCE
    )
    preparation = models.TextField(_("what to prepare"), blank=True, **text_limits.bounded(text_limits.NOTE))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reviewed_by = models.ForeignKey(
        Staff, verbose_name=_("reviewed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["-planned_on", "-pk"]
        indexes = [models.Index(fields=["staff", "-planned_on"], name="visitplan_staff_idx")]

    def __str__(self) -> str:
        return f"{self.staff.name} {self.planned_on:%Y-%m-%d}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES


class VisitPlanItem(models.Model):
    plan = models.ForeignKey(VisitPlan, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    interaction = models.OneToOneField(
        Interaction,
        verbose_name=_("report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit_item",
    )

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        constraints = [models.UniqueConstraint(fields=["plan", "customer"], name="visitplan_item_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.customer_id}"


class SatisfactionRating(models.Model):
    """A customer's rating (1–5) of an interaction or of their RM, recorded by staff after a callback (回访).
    Whoever records it may not be the staff member rated."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="ratings"
    )
    rated_staff = models.ForeignKey(
        Staff, verbose_name=_("staff rated"), on_delete=models.PROTECT, related_name="ratings"
    )
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ratings",
    )
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(Staff, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["rated_staff", "-recorded_at"], name="rating_staff_idx"),
            # The dashboards' ratings drill-down: a period's ratings, newest first, stopping after the page.
            models.Index(fields=["-recorded_at"], name="rating_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
            models.CheckConstraint(condition=~Q(recorded_by=models.F("rated_staff")), name="rating_not_by_rated_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.rated_staff_id}: {self.score}"

    @property
    def stars(self) -> str:
        return "★" * self.score
