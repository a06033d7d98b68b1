"""The inbox (settings.FEED_INBOX): core banking drops a day's files there, each made ready by its control file.
The sweep loads ready files in the date's order; loaded files move to ``archive/D/``, rejected ones to
``rejected/D/`` with their report beside them. A file waiting for an earlier one stays where it is."""

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import contract
from .loader import load_file, load_queued
from .models import ORDER, Load
from .reports import report_lines

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=2)
QUEUED_AFTER = timedelta(minutes=5)


def ready_files(inbox: Path) -> list[tuple[Path, str, object]]:
    """(path, kind, date) of the contract files with a control file, oldest date first, in the date's order."""
    found = []
    for path in inbox.glob("*.txt"):
        named = contract.parse_file_name(path.name)
        if named and path.with_name(path.name + contract.CONTROL_SUFFIX).exists():
            found.append((path, *named))
    return sorted(found, key=lambda item: (item[2], ORDER.index(item[1])))


def release_stale_claims(now=None) -> int:
    """A load left "running" by a loader that died (the machine restarted) no longer blocks its file."""
    now = now or timezone.now()
    return Load.objects.filter(status=Load.Status.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=Load.Status.FAILED, finished_at=now, error_code="failed", message="", message_en=""
    )


def queued_uploads(now=None) -> list[int]:
    """Uploads whose task never ran (the broker was down when they were sent), after a few minutes."""
    now = now or timezone.now()
    return list(
        Load.objects.filter(source=Load.Source.UPLOAD, status=Load.Status.QUEUED, created_at__lt=now - QUEUED_AFTER)
        .exclude(path="")
        .values_list("pk", flat=True)
    )


def scan(inbox: Path | None = None) -> list[Load]:
    release_stale_claims()
    loads = []
    for load_id in queued_uploads():
        load = load_queued(load_id)
        if load is not None:
            loads.append(load)
    inbox = Path(inbox or settings.FEED_INBOX)
    if not inbox.is_dir():
        return loads
    for path, _kind, day in ready_files(inbox):
        load = load_file(path, source=Load.Source.INBOX)
        loads.append(load)
        if load.status in (Load.Status.LOADED, Load.Status.DUPLICATE):
            same = Load.objects.filter(pk=(load.summary or {}).get("same_as")).first()
            if load.status == Load.Status.DUPLICATE and same is not None and same.status == Load.Status.RUNNING:
                continue  # another loader has it now: leave the file to it
            _move(load, path, inbox / "archive" / f"{day:%Y%m%d}")
        elif load.status in (Load.Status.REJECTED, Load.Status.FAILED):
            target = _move(load, path, inbox / "rejected" / f"{day:%Y%m%d}")
            write_report(load, target.with_name(target.name + ".report.txt"))
    return loads


def _move(load: Load, path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{load.pk}{path.suffix}"
    shutil.move(str(path), target)
    control = path.with_name(path.name + contract.CONTROL_SUFFIX)
    if control.exists():
        shutil.move(str(control), target.with_name(target.name + contract.CONTROL_SUFFIX))
    load.path = str(target)[:500]
    load.save(update_fields=["path"])
    return target


def write_report(load: Load, path: Path) -> None:
    """A plain-text report beside a rejected file (masked values only), for the ETL team."""
    path.write_text("\n".join(report_lines(load)) + "\n", encoding="utf-8")
