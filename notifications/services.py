"""Writes of notifications: sending one to staff, and marking them read."""

from django.utils import timezone

from organisation import access

from .models import Notification


def notification_send(recipients, text: str, url: str = "") -> int:
    """Tell each of ``recipients`` (Staff) something, once each, with a link."""
    rows = [Notification(recipient=r, text=str(text)[:300], url=url) for r in {r.pk: r for r in recipients}.values()]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notifications_send_each(messages) -> int:
    """Tell each member of staff their own message: ``messages`` is (Staff or staff id, text, url) triples, written
    in one INSERT (a job telling hundreds of people each their own count)."""
    rows = [Notification(recipient_id=getattr(r, "pk", r), text=str(text)[:300], url=url) for r, text, url in messages]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notifications_mark_read(*, actor, ids=None) -> int:
    staff = access.actor_staff(actor)
    unread = Notification.objects.filter(recipient=staff, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
