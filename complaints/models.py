"""Complaints (消费投诉) under the 《银行业保险业消费投诉处理管理办法》 (CBIRC 2020). See docs/complaints.md.

The rules live in one place each: the state machine and the clock in ``complaints.rules``, the writes in
``complaints.services``, the reads (and the one visibility rule) in ``complaints.selectors``.
"""

import uuid
from pathlib import PurePath

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Product
from organisation.models import Branch, Staff


class Classification(models.Model):
    """A code of the JR/T 0169-2018 statistics axes, editable in admin. "Other" is coded 99."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class ComplaintCategory(Classification):
    """Business category (业务类别): what the complaint is about."""

    class Meta(Classification.Meta):
        verbose_name = _("business category")
        verbose_name_plural = _("business categories")


class ComplaintCause(Classification):
    """Cause (投诉原因), recorded again as the root cause when the complaint is closed."""

    class Meta(Classification.Meta):
        verbose_name = _("complaint cause")
        verbose_name_plural = _("complaint causes")


class ReferenceCounter(models.Model):
    """The last reference number given out on a day: TS + yyyymmdd + 5 digits."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class TextLimit:
    """The longest text each field of a complaint takes, in characters: the forms refuse more with a field error,
    the services refuse more (never cut it short), and admin's forms follow the models' max_length."""

    NAME = 100
    AUTHORISATION = 200
    REQUEST = 2000
    FACTS = 4000
    DECISION = 4000
    CORRECTIVE_ACTION = 2000
    REASON = 1000  # an extension's reason, what a review disputes
    NOTE = 2000  # a note, a contact, a repeat contact
    SHORT = 300  # what a pause waits for, a withdrawal's note, the customer's comment at the callback
    DECISION_NOTE = 200  # the note on an extension's approval or rejection, on an assignment
    VIA = 100  # how the complainant was told
    EVENT = 4000  # a timeline entry holds at most the longest of the above


class Complaint(models.Model):
    class Channel(models.TextChoices):
        COUNTER = "counter", _("Counter (柜面)")
        HOTLINE = "hotline", _("Hotline (客服热线)")
        LETTER = "letter", _("Letter (信函)")
        ONLINE = "online", _("Online banking (网上银行)")
        APP = "app", _("Mobile app (手机银行)")
        REGULATOR = "regulator", _("Regulator referral (监管转办)")
        MEDIA = "media", _("Media (媒体)")
        OTHER = "other", _("Other (其他)")

    class Severity(models.TextChoices):
        NORMAL = "normal", _("Normal")
        MAJOR = "major", _("Major (重大)")

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered (登记)")
        ACCEPTED = "accepted", _("Accepted (受理)")
        IN_PROGRESS = "in_progress", _("In progress (处理中)")
        DECIDED = "decided", _("Decided (已答复)")
        CLOSED = "closed", _("Closed (办结)")
        WITHDRAWN = "withdrawn", _("Withdrawn (撤回)")
        REOPENED = "reopened", _("Reopened (重新处理)")

    # The clock runs in these states; a decision, a close or a withdrawal stops it.
    OPEN_STATES = (Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED)

    class ComplainantKind(models.TextChoices):
        CUSTOMER = "customer", _("The customer")
        AGENT = "agent", _("An agent with authorisation (代理人)")
        NON_CUSTOMER = "non_customer", _("Not a customer")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    complainant_kind = models.CharField(
        _("complainant"), max_length=15, choices=ComplainantKind.choices, default=ComplainantKind.CUSTOMER
    )
    complainant_name = models.CharField(_("complainant's name"), max_length=100)
    # A non-customer's or agent's phone number: encrypted at rest like a customer's, shown masked.
    complainant_contact_encrypted = models.TextField(_("contact (encrypted)"), blank=True, editable=False)
    complainant_contact_masked = models.CharField(_("contact"), max_length=20, blank=True, editable=False)
    authorisation = models.CharField(
        _("authorisation (授权委托书)"),
        max_length=200,
        blank=True,
        help_text=_("For an agent: the power of attorney seen, e.g. its date and number."),
    )

    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch complained about"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_staff = models.ForeignKey(
        Staff,
        verbose_name=_("staff member complained about"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_about",
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    category = models.ForeignKey(
        ComplaintCategory, verbose_name=_("business category"), on_delete=models.PROTECT, related_name="+"
    )
    cause = models.ForeignKey(
        ComplaintCause,
        verbose_name=_("cause"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    request = models.TextField(_("the complainant's request"), max_length=TextLimit.REQUEST)
    facts = models.TextField(_("main facts and grounds"), max_length=TextLimit.FACTS)
    # The same matter as an earlier complaint (a resubmission registered as a complaint of its own): the
    # statistics count the matter once, on the earliest complaint. Always points at the first of the matter.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("same matter as"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeats",
    )

    registered_by = models.ForeignKey(
        Staff, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="complaints_registered"
    )
    handler = models.ForeignKey(
        Staff,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_handled",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)

    # The clock (complaints.rules): due_at follows from clock_started_at, the approved extensions and the pauses.
    clock_started_at = models.DateTimeField(_("clock started at"))
    extension_level = models.PositiveSmallIntegerField(_("extensions approved"), default=0)
    paused_days = models.PositiveSmallIntegerField(_("days paused"), default=0)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"))
    major_escalated_at = models.DateTimeField(_("escalated as major at"), null=True, blank=True)
    breach_escalated_at = models.DateTimeField(_("escalated as overdue at"), null=True, blank=True)

    decision = models.TextField(_("decision"), max_length=TextLimit.DECISION, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    first_decided_at = models.DateTimeField(_("first decided at"), null=True, blank=True)
    decided_on_time = models.BooleanField(_("first decision on time"), null=True, blank=True)
    corrective_action = models.TextField(
        _("corrective action (整改措施)"), max_length=TextLimit.CORRECTIVE_ACTION, blank=True
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    satisfaction_comment = models.CharField(_("customer's comment"), max_length=300, blank=True)
    callback_at = models.DateTimeField(_("callback at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The list's default order, and the statistics by month of receipt.
            models.Index(fields=["-received_at", "-id"], name="complaint_received_idx"),
            # The escalation sweep and the deadline filters: open complaints by due time.
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["registered", "accepted", "in_progress", "reopened"]),
                name="complaint_open_due_idx",
            ),
            models.Index(fields=["handler", "status"], name="complaint_handler_idx"),
            models.Index(fields=["customer", "-received_at"], name="complaint_customer_idx"),
            models.Index(fields=["branch", "-received_at"], name="complaint_branch_idx"),
            models.Index(fields=["subject_staff", "-received_at"], name="complaint_subject_staff_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(extension_level__lte=2), name="complaint_at_most_two_extensions"),
            models.CheckConstraint(
                condition=Q(handler__isnull=True)
                | Q(subject_staff__isnull=True)
                | ~Q(handler=models.F("subject_staff")),
                name="complaint_handler_not_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None

    @property
    def escalated(self) -> bool:
        return bool(self.major_escalated_at or self.breach_escalated_at)

    @property
    def deadline_state(self) -> str:
        from .rules import deadline_state

        return deadline_state(self, timezone.now())

    @property
    def days_left(self) -> int | None:
        from .rules import days_left

        return days_left(self, timezone.now())

    @property
    def days_overdue(self) -> int:
        left = self.days_left
        return -left if left is not None and left < 0 else 0


class ComplaintExtension(models.Model):
    """An extension of the clock (延期): the first to 30 days on the handler's reason; the second, a further
    30 days, only once approved by a higher-level institution than the complaint's branch or head office
    (complaints.permissions.can_approve_extension). Both with the customer told."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extensions")
    # A review (重新处理) starts a new clock: extensions count again from the first within that round.
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    level = models.PositiveSmallIntegerField(_("extension"))
    reason = models.TextField(_("reason"), max_length=TextLimit.REASON)
    customer_told_at = models.DateTimeField(_("customer told at"))
    customer_told_via = models.CharField(_("customer told by"), max_length=100)
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["level", "pk"]
        constraints = [
            # One live request per level: a rejected one may be asked again.
            models.UniqueConstraint(
                fields=["complaint", "round", "level"],
                condition=Q(status__in=["pending", "approved"]),
                name="complaint_extension_once_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} +{self.level}"


def attachment_path(instance, filename: str) -> str:
    """A random name under a dated folder: the uploader's file name is kept only as data, never as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"complaints/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ComplaintAttachment(models.Model):
    """A document of the complaint (letter, screenshot, power of attorney). Stored outside the static files and
    served only through a view that checks who may see the complaint."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Complaint events are append-only.")

    def delete(self):
        raise TypeError("Complaint events are append-only.")


class ComplaintEvent(models.Model):
    """The complaint's timeline: every state change, assignment, extension, note, customer contact and reopen.
    Append-only: written by the services, never changed (save refuses an update, the queryset refuses bulk
    changes, admin shows it read-only)."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Complaint registered")
        TRANSITION = "transition", _("Status changed")
        ASSIGNED = "assigned", _("Handler assigned")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENDED = "extended", _("Deadline extended")
        EXTENSION_REJECTED = "extension_rejected", _("Extension rejected")
        PAUSED = "paused", _("Clock paused")
        RESUMED = "resumed", _("Clock resumed")
        NOTE = "note", _("Note")
        CONTACT = "contact", _("Customer contacted")
        ATTACHMENT = "attachment", _("Attachment added")
        CALLBACK = "callback", _("Callback recorded")
        ESCALATED = "escalated", _("Escalated")
        REOPENED = "reopened", _("Reopened after review")
        REPEAT = "repeat", _("Complainant came back")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        Staff, verbose_name=_("by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=12, choices=Complaint.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Complaint.Status.choices, blank=True)
    text = models.TextField(_("text"), max_length=TextLimit.EVENT, blank=True)
    data = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaint_event_idx")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Complaint events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Complaint events are append-only.")
