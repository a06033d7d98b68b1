"""manage.py load_extract PATH… [--date YYYYMMDD] [--dry-run] [--kind KIND]: load extract files now (docs/feed.md)."""

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from feed import contract
from feed.loader import load_file
from feed.models import ORDER, Kind, Load


class Command(BaseCommand):
    help = "Load core-banking extract files (validate only with --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--date", help="business date YYYYMMDD (checked against the file name)")
        parser.add_argument("--kind", choices=[k.value for k in Kind], help="for a file not named by the contract")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument("--errors", type=int, default=20, help="rejected rows to print per file")

    def handle(self, *args, paths, date=None, kind=None, dry_run=False, errors=20, **options):
        day = None
        if date:
            try:
                day = datetime.strptime(date.replace("-", ""), "%Y%m%d").date()  # noqa: DTZ007 - a date only
            except ValueError:
                raise CommandError(_("The date must be YYYYMMDD.")) from None

        def order(path: Path) -> tuple[str, int]:
            named = contract.parse_file_name(path.name)
            return (f"{named[1]:%Y%m%d}", ORDER.index(named[0])) if named else ("", 0)

        failed = False
        for path in sorted(paths, key=order):
            load = load_file(path, kind=kind, business_date=day, dry_run=dry_run)
            self.stdout.write(
                f"{path.name}: {load.get_status_display()} · read {load.rows_read} · loaded {load.rows_loaded} · "
                f"changed {load.rows_changed} · rejected {load.rows_rejected} · "
                f"{load.summary.get('seconds', 0)} s"
            )
            if load.message:
                self.stdout.write(f"  {load.message}\n  {load.message_en}")
            for notice, detail in (load.summary or {}).items():
                if isinstance(detail, dict) and detail.get("count"):
                    self.stdout.write(f"  {notice}: {detail['count']}")
            for error in load.errors.all()[:errors]:
                self.stdout.write(
                    f"  line {error.line} {error.column} {error.value!r}: {error.reason} / {error.reason_en}"
                )
            failed |= load.status in (Load.Status.REJECTED, Load.Status.FAILED, Load.Status.WAITING)
        if failed:
            raise CommandError(_("Not every file loaded."))
