import argparse
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.extract import extract_write


def business_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date, no time of day
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYYMMDD: {value!r}") from None


class Command(BaseCommand):
    help = (
        "Write a business day's core-banking extracts (PROD, CUST, CONS, HOLD, BAL, TXN, each with its .ok control "
        "file) from the demo data, by default with a few deliberately bad rows, for the loader to take up."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=business_date, help="business date YYYYMMDD (default: yesterday)")
        parser.add_argument("--dir", type=Path, help="where to write the files (default: settings.FEED_INBOX)")
        parser.add_argument(
            "--bad",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="add a few deliberately wrong rows (default); --no-bad writes only good rows",
        )

    def handle(self, *args, **options):
        day = options["date"] or timezone.localdate() - timedelta(days=1)
        directory = options["dir"] or Path(settings.FEED_INBOX)
        try:
            written = extract_write(business_date=day, directory=directory, bad=options["bad"])
        except OSError as exc:
            raise CommandError(f"cannot write to {directory}: {exc}") from exc
        for item in written.values():
            self.stdout.write(f"  {item['path']}: {item['rows']:,} rows")
        self.stdout.write(self.style.SUCCESS(f"Extracts of {day:%Y%m%d} written to {directory}"))
