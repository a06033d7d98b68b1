"""Reads of notifications."""

from organisation.models import Staff

from .models import Notification


def unread_notifications(staff: Staff) -> int:
    return Notification.objects.filter(recipient=staff, read_at__isnull=True).count()
