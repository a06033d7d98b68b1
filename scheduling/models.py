from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """A daily job's run on one day (Asia/Shanghai): one row per job and day, updated as the run is published,
    starts and ends. The job is its Celery task and the arguments it is sent with, exactly as the beat schedule's
    entry sends them. Only a run that ended well sets ``succeeded_at``: a day's run that failed, died or was never
    sent has none, and the catch-up (``scheduling.services.catch_up``) runs it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    task = models.CharField(_("task"), max_length=200)
    arguments = models.CharField(_("arguments"), max_length=500, blank=True, default="")
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    outcome = models.JSONField(_("outcome"), null=True, blank=True)
    catch_ups = models.PositiveSmallIntegerField(_("catch-up runs"), default=0)

    class Meta:
        verbose_name = _("daily job run")
        verbose_name_plural = _("daily job runs")
        ordering = ["-day", "task", "arguments"]
        constraints = [models.UniqueConstraint(fields=["task", "arguments", "day"], name="scheduling_one_run_a_day")]

    def __str__(self) -> str:
        return f"{self.task}({self.arguments}) {self.day}"
