from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SubmissionKey(models.Model):
    """One submission of a create form: the random key the form carried, who posted it, and what it created.

    The row is written in the same transaction as the record it stands for, so it exists exactly when that record
    does; a second post of the same key by the same user finds it and is answered with the same record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.UUIDField(_("key"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True)

    class Meta:
        verbose_name = _("submission key")
        verbose_name_plural = _("submission keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="submissionkey_unique_user_key")]

    def __str__(self):
        return str(self.key)
