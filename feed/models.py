"""Loads of the core-banking extracts (docs/feed.md): one row per file a loader took up, and its row errors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """The extract kinds, in the order a business date's files load."""

    PROD = "PROD", _("Products (PROD)")
    CUST = "CUST", _("Customers (CUST)")
    CONS = "CONS", _("Marketing consent (CONS)")
    HOLD = "HOLD", _("Holdings (HOLD)")
    BAL = "BAL", _("Balances (BAL)")
    TXN = "TXN", _("Large transactions (TXN)")


ORDER = [Kind.PROD, Kind.CUST, Kind.CONS, Kind.HOLD, Kind.BAL, Kind.TXN]
# Kinds a date may go without: no later file waits for them.
OPTIONAL = (Kind.CONS, Kind.TXN)


class Load(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        WAITING = "waiting", _("Waiting for an earlier file")
        RUNNING = "running", _("Loading")
        LOADED = "loaded", _("Loaded")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Already loaded")
        CHECKED = "checked", _("Checked (dry run)")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        INBOX = "inbox", _("Inbox")
        COMMAND = "command", _("Command")
        UPLOAD = "upload", _("Upload")

    FINISHED = (Status.LOADED, Status.REJECTED, Status.DUPLICATE, Status.CHECKED, Status.FAILED)

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    business_date = models.DateField(_("business date"))
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.COMMAND)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # A structural error rejects the whole file: its code and the message (in both languages).
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    message_en = models.TextField(_("message (English)"), blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_loaded = models.PositiveIntegerField(_("rows loaded"), default=0)
    rows_changed = models.PositiveIntegerField(_("rows changed"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # What the load left for people to look at (customers without an RM, identity conflicts, closed holdings…).
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # Where the file is kept (an uploaded file until it is loaded; the archive or rejected folder after).
    path = models.CharField(_("path"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data load")
        verbose_name_plural = _("data loads")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The claim: one file (kind, date and content) is loading or loaded at most once, whoever starts it.
            models.UniqueConstraint(
                fields=["kind", "business_date", "sha256"],
                condition=Q(status__in=["running", "loaded"], dry_run=False),
                name="feed_load_claim",
            ),
        ]
        indexes = [models.Index(fields=["business_date", "kind"], name="feed_load_date_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class LoadError(models.Model):
    """A rejected row of a load: where, what (masked) and why, in zh-hans and English. Identity conflicts (an ID
    number held by another customer number) wait for an admin to resolve them."""

    load = models.ForeignKey(Load, verbose_name=_("data load"), on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=40, blank=True)
    value = models.CharField(_("value (masked)"), max_length=100, blank=True)
    code = models.CharField(_("code"), max_length=40)
    reason = models.CharField(_("reason"), max_length=300)
    reason_en = models.CharField(_("reason (English)"), max_length=300)
    key = models.CharField(_("key"), max_length=40, blank=True, help_text=_("The row's customer or product number."))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    CONFLICT = "id_conflict"

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["load", "line", "pk"]
        indexes = [models.Index(fields=["code", "resolved_at"], name="feed_error_code_idx")]

    def __str__(self) -> str:
        return f"{self.load_id}:{self.line} {self.column} {self.code}"
