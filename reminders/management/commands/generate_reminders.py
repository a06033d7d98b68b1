from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reminders import services


class Command(BaseCommand):
    help = "Run the follow-up reminder generators for a day (default: today, Asia/Shanghai). Safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD")
        parser.add_argument("--kind", action="append", choices=list(services.GENERATORS), help="one kind (repeatable)")
        parser.add_argument("--housekeeping", action="store_true", help="also expire and wake follow-ups first")

    def handle(self, *args, date: str | None, kind, housekeeping: bool, **options):
        try:
            day = self._parse(date)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        if housekeeping:
            self.stdout.write(f"housekeeping: {services.follow_ups_housekeeping(today=day)}")
        for run in services.reminders_generate(today=day, kinds=kind):
            self.stdout.write(f"{run.kind:<16} created {run.created:>8}  in {run.seconds:>6.2f} s")

    @staticmethod
    def _parse(value):
        return date.fromisoformat(value) if value else None
