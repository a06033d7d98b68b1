"""The one rule of double submits (docs/architecture.md, "Double submits").

A create form carries a random key (``idempotency.forms``). ``submit_once`` writes the key in the same transaction
as the record the form creates. A second post of the same key by the same user — a double tap, or a retry after a
lost answer — waits on the key's unique index until the first post commits, then finds the key taken and gets the
first record back instead of creating another. If the first post failed (a form error, a refusal), its transaction
rolled back with the key, so the key is free again. A key belongs to the user who posted it: the same key from
another user is another submission."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SubmissionKey

logger = logging.getLogger(__name__)

# A key only has to outlive the page that carries it (a signed-in session idles out after 30 minutes).
RETENTION = timedelta(days=7)

M = TypeVar("M", bound=models.Model)


def _user_of(actor):
    user = getattr(actor, "user", actor)  # a Staff or a User
    return user if getattr(user, "is_authenticated", False) else None


def submit_once(*, actor, key: UUID | None, model: type[M], create: Callable[[], M]) -> M:
    """Run ``create`` (a service call returning the new ``model`` instance) once per ``key`` of ``actor``.

    Without a key (an old page, a client that sends none) it simply runs ``create``. A repeated key returns the
    record the first post created. A key already used for another kind of record, or whose record is gone, is a
    ``ValidationError`` (a form error), never a second record."""
    user = _user_of(actor)
    if key is None or user is None:
        return create()
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a taken key leaves the transaction usable
                row = SubmissionKey.objects.create(user=user, key=key)
        except IntegrityError:
            return _first_result(user, key, model)
        result = create()
        row.content_type = ContentType.objects.get_for_model(model)
        row.object_id = result.pk
        row.save(update_fields=["content_type", "object_id"])
        return result


def _first_result(user, key: UUID, model: type[M]) -> M:
    row = SubmissionKey.objects.filter(user=user, key=key).first()
    result = None
    if row is not None and row.content_type_id == ContentType.objects.get_for_model(model).pk:
        result = model._default_manager.filter(pk=row.object_id).first()
    if result is None:
        raise ValidationError(_("This form has already been sent. Open it again to start a new one."))
    logger.info("A repeated submission of a %s form was answered with its first result.", model._meta.label)
    return result


def submission_keys_purge(now: datetime | None = None) -> int:
    """Delete the keys older than the retention period (the nightly housekeeping job)."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = SubmissionKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
