from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from reminders import services


class Command(BaseCommand):
    help = "Send the morning digest now, in this process (each RM at most once a day)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default today)")

    def handle(self, *args, date: str | None, **options):
        day = date_from(date)
        results = [services.digest_send(staff_id=pk, day=day) for pk in services.digest_recipients(day)]
        self.stdout.write(f"digests: {results.count('sent')} sent, {results.count('skipped')} already sent")


def date_from(value):
    return date.fromisoformat(value) if value else timezone.localdate()
