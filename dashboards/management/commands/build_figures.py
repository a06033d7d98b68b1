from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboards import figures as services


class Command(BaseCommand):
    help = (
        "Build the dashboards' daily figures for a range of days (default: yesterday, Asia/Shanghai). "
        "Safe to repeat: each day's rows are rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="since", help="first day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--to", dest="until", help="last day, YYYY-MM-DD (default: the first day, or yesterday)")
        parser.add_argument("--days", type=int, help="instead of --from: the last N days up to --to")

    def handle(self, *args, since: str | None, until: str | None, days: int | None, **options):
        yesterday = timezone.localdate() - timedelta(days=1)
        try:
            last = date.fromisoformat(until) if until else None
            first = date.fromisoformat(since) if since else None
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from exc
        if days:
            last = last or yesterday
            first = last - timedelta(days=days - 1)
        first = first or last or yesterday
        last = last or (first if since else yesterday)
        if last < first:
            raise CommandError("--to is before --from")
        total = 0.0
        for run in services.figures_rebuild(since=first, until=last):
            total += run.seconds
            self.stdout.write(f"{run.day}  {run.branches:>5} branches  {run.rms:>6} RMs  {run.seconds:>7.2f} s")
        self.stdout.write(f"built {(last - first).days + 1} day(s) in {total:.1f} s")
