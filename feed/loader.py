"""Loading one extract file: claim it, read and check it, stage it, apply it — all or nothing.

1. The file's name gives its kind and business date (an upload gives them in the form). Its SHA-256 is the
   claim: a row in ``Load`` with status "running" or "loaded" for the same kind, date and content exists at most
   once (a unique constraint), so two loaders started at once never load the same file twice, and a file loaded
   before is a no-op that says so.
2. A date's files load in order (PROD → CUST → CONS → HOLD → BAL → TXN; CONS and TXN are optional): a file whose
   predecessors of the same date are not loaded yet waits (status "waiting"); the inbox sweep takes it up again.
3. Inside one transaction: rows are streamed from the file, checked one by one, and COPYed in batches into a
   temporary staging table; checks across the file and against the database run in SQL; the rest is applied in a
   few set-based statements. A structural error anywhere (control total, checksum, encoding, header, truncation)
   rolls everything back: nothing is written. Row errors reject only their rows, each reported.
4. After a date's balances or transactions load, the chain of the day's computations starts (feed.chain).
"""

import logging
import multiprocessing
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from organisation.access import SYSTEM, history_user

from . import chain, contract, progress
from .kinds import LOADERS, MAX_ERRORS, Getter, Report, RowError, content_date_check
from .messages import Structural, render
from .models import OPTIONAL, ORDER, Kind, Load, LoadError
from .reader import Source, file_sha256
from .stage import copy_text, execute, is_pg, table

log = logging.getLogger(__name__)
FORMATS = {".txt": "txt", ".csv": "csv", ".xlsx": "xlsx"}
PROGRESS_EVERY = 20_000
ANALYZE_AFTER_ROWS = 10_000
PARALLEL_MIN_ROWS = 50_000
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
PARALLEL_BATCH = 5_000


class _Rollback(Exception):
    pass


def _finish(load: Load, status: str, *, error: Structural | None = None) -> Load:
    load.status = status
    if error is not None:
        load.error_code = error.code
        load.message, load.message_en = error.texts
    load.finished_at = timezone.now()
    load.save()
    progress.write(load, phase=status)
    return load


def load_file(
    path,
    *,
    kind: str | None = None,
    business_date: date | None = None,
    actor=SYSTEM,
    dry_run: bool = False,
    source: str = Load.Source.COMMAND,
    control: bool = True,
    load: Load | None = None,
    encoding: str | None = None,
) -> Load:
    """Load one file (docs/feed.md). Returns its ``Load``, whatever happened; never raises for bad input."""
    path = Path(path)
    user = history_user(actor)
    named = contract.parse_file_name(path.name)
    if load is None:
        load = Load(
            kind=kind or (named[0] if named else Kind.CUST),
            business_date=business_date or (named[1] if named else timezone.localdate()),
            file_name=path.name[:200],
            source=source,
            dry_run=dry_run,
            created_by=user,
            path=str(path)[:500],
        )
    load.started_at = timezone.now()
    try:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise Structural("unsupported")
        if kind is None or business_date is None:
            if named is None:
                raise Structural("file_name", name=path.name[:100])
            if business_date is not None and business_date != named[1]:
                raise Structural("date_mismatch", given=f"{business_date:%Y-%m-%d}", named=f"{named[1]:%Y-%m-%d}")
            load.kind, load.business_date = kind or named[0], named[1]
        elif named is not None and named[1] != business_date and source != Load.Source.UPLOAD:
            raise Structural("date_mismatch", given=f"{business_date:%Y-%m-%d}", named=f"{named[1]:%Y-%m-%d}")
        if not path.exists():
            raise Structural("no_file")
        load.size_bytes = path.stat().st_size
        load.sha256 = file_sha256(path)
    except Structural as error:
        return _finish(load, Load.Status.REJECTED, error=error)

    if not dry_run and source != Load.Source.UPLOAD:
        waiting_for = missing_predecessors(load.kind, load.business_date)
        if waiting_for:
            load.status = Load.Status.WAITING
            load.message, load.message_en = _waiting_text(waiting_for, load.business_date)
            existing = Load.objects.filter(
                kind=load.kind, business_date=load.business_date, sha256=load.sha256, status=Load.Status.WAITING
            ).first()
            if existing is not None and load.pk is None:
                existing.message, existing.message_en = load.message, load.message_en
                existing.save(update_fields=["message", "message_en"])
                return existing
            load.save()
            return load

    if not dry_run:
        previous = (
            Load.objects.filter(kind=load.kind, business_date=load.business_date, sha256=load.sha256)
            .filter(status=Load.Status.LOADED, dry_run=False)
            .first()
        )
        if previous is None:
            try:
                with transaction.atomic():
                    load.status = Load.Status.RUNNING
                    load.save()
            except IntegrityError:
                previous = (
                    Load.objects.filter(kind=load.kind, business_date=load.business_date, sha256=load.sha256)
                    .filter(status__in=[Load.Status.RUNNING, Load.Status.LOADED], dry_run=False)
                    .first()
                )
        if previous is not None:
            load.status = Load.Status.DUPLICATE
            load.message, load.message_en = _duplicate_text(previous)
            load.summary = {"same_as": previous.pk}
            load.finished_at = timezone.now()
            load.save()
            return load
    else:
        load.status = Load.Status.RUNNING
        load.save()

    started = time.perf_counter()
    report = Report(file_name=load.file_name)
    status = Load.Status.CHECKED if dry_run else Load.Status.LOADED
    error = None
    try:
        with transaction.atomic():
            if encoding is None:
                encoding = "auto" if source == Load.Source.UPLOAD else settings.FEED_ENCODING
            _run(load, path, report, fmt=fmt, control=control, encoding=encoding)
            if dry_run:
                raise _Rollback
            _mark_replaced(load)
    except _Rollback:
        pass
    except Structural as structural:
        status, error = Load.Status.REJECTED, structural
        report.errors.clear()
    except Exception:
        log.exception("feed: load %s of %s failed", load.pk, load.file_name)
        status, error = Load.Status.FAILED, Structural("failed")
        report.errors.clear()
    load.rows_rejected = report.rejected_lines if error is None else 0
    load.rows_loaded = report.loaded if error is None else 0
    load.rows_changed = report.changed if error is None and not dry_run else 0
    summary = dict(report.notices) if error is None else {}
    if error is None and report.phases:
        summary["phases"] = report.phases
    summary["seconds"] = round(time.perf_counter() - started, 2)
    load.summary = {**(load.summary or {}), **summary}
    if error is None:
        LoadError.objects.bulk_create(
            [
                LoadError(load=load, line=line, column=column, value=value, code=code, reason=zh, reason_en=en, key=key)
                for line, column, value, code, zh, en, key in report.errors
            ],
            batch_size=2000,
        )
    _finish(load, status, error=error)
    if status == Load.Status.LOADED and load.kind in (Kind.BAL, Kind.TXN):
        transaction.on_commit(lambda: chain.start(load.business_date))
    return load


def load_queued(load_id: int) -> Load | None:
    """Load an uploaded file whose ``Load`` is queued (from its task, or from the sweep when the task was never
    sent). Taking it from "queued" is one UPDATE, so the task and the sweep never both load it."""
    taken = Load.objects.filter(pk=load_id, status=Load.Status.QUEUED).update(
        status=Load.Status.RUNNING, started_at=timezone.now()
    )
    if not taken:
        return None
    load = Load.objects.select_related("created_by").get(pk=load_id)
    return load_file(
        Path(load.path),
        kind=load.kind,
        business_date=load.business_date,
        actor=load.created_by or SYSTEM,
        source=Load.Source.UPLOAD,
        control=False,
        load=load,
    )


def _run(load: Load, path: Path, report: Report, *, fmt: str, control: bool, encoding: str) -> None:
    src = Source(path, kind=load.kind, encoding=encoding, control=control and fmt == "txt", fmt=fmt)
    src.check_digest(load.sha256)
    loader = LOADERS[load.kind](
        business_date=load.business_date, report=report, load_id=load.pk, file_name=load.file_name, now=timezone.now()
    )
    if load.kind == Kind.HOLD:
        _refuse_stale_holdings(load)
    clock = _Clock(report)
    if is_pg():
        # Memory for the joins and sorts of this transaction only (hashing a million staged rows).
        execute("SELECT set_config('work_mem', %s, true)", [settings.FEED_WORK_MEM])
    stage = loader.open_stage()
    progress.write(load, phase="reading", rows_read=0)
    if getattr(loader, "two_pass", False):
        # First pass: keys and hashes only; the second parses only the rows that are new or changed.
        keys = None
        for line, fields in _checked_rows(src, load, report):
            if keys is None:
                loader.start_keys(src.header)
                keys, batch, get = loader.keys, [], Getter(src.header)
            batch.append(loader.key_row(line, get, fields))
            if len(batch) >= settings.FEED_BATCH_ROWS:
                keys.write(batch)
                batch = []
                _progress(load, src, report)
        if keys is not None:
            keys.write(batch)
            keys.analyze()
        src.finish()
        clock.lap("hashing")
        if keys is None:
            lines, only = set(), True
        else:
            lines, only = loader.lines_to_parse()
            loader.to_parse = len(lines) if only else src.rows_read - len(lines)
        width = len(src.header)
        rows = ((n, f) for n, f in src.rows() if (n in lines) == only and len(f) == width)
        clock.lap("comparing")
    else:
        rows = _checked_rows(src, load, report)
    batch = _parse(loader, src, rows, stage, report, load, parallel=_parallel(load, loader))
    stage.write(batch)
    stage.analyze()
    batch = []
    src.finish()
    load.rows_read = src.rows_read
    if src.unknown_columns:
        report.notices["unknown_columns"] = {"count": len(src.unknown_columns), "sample": src.unknown_columns}
    if src.rows_read == 0 and control and fmt == "txt" and src.expected and src.expected[0] > 0:
        raise Structural("no_header")
    clock.lap("reading")
    progress.write(load, phase="checking", rows_read=src.rows_read, rows_rejected=report.rejected_lines)
    loader.validate()
    clock.lap("checking")
    progress.write(load, phase="writing", rows_read=src.rows_read, rows_rejected=report.rejected_lines)
    if load.kind == Kind.CUST:
        loader.apply()
    elif load.kind == Kind.BAL:
        replacing = Load.objects.filter(
            kind=Kind.BAL, business_date=load.business_date, status=Load.Status.LOADED, dry_run=False
        ).exists()
        loader.apply(replacing=replacing)
    else:
        loader.apply()
    clock.lap("writing")
    stage.drop()
    if is_pg() and report.changed >= ANALYZE_AFTER_ROWS:
        # Fresh statistics for the next statements (the chain, the next load): after a bulk load the planner
        # would otherwise still see the tables as they were (and pick nested loops over a million rows).
        for model in loader.written:
            execute(f"ANALYZE {table(model)}")
        clock.lap("analyze")


class _Clock:
    """Seconds per phase, in the load's summary (the bench and the load page show them)."""

    def __init__(self, report: Report):
        self.report = report
        self.started = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.report.phases[phase] = round(now - self.started, 2)
        self.started = now


def _parallel(load: Load, loader) -> bool:
    """Parse in several processes: on PostgreSQL, for a file worth it (a first load of customers, a big holdings
    file); the database waits meanwhile, so both cores parse."""
    if not is_pg() or settings.FEED_WORKERS < 2:
        return False
    if getattr(loader, "to_parse", None) is not None:
        return loader.to_parse >= PARALLEL_MIN_ROWS
    return load.size_bytes >= PARALLEL_MIN_BYTES


def _parse(loader, src: Source, rows, stage, report: Report, load: Load, *, parallel: bool) -> list:
    """Every row through ``loader.parse`` into the staging table; returns the last, unwritten batch."""
    if parallel:
        global _WORKER_LOADER  # read by the forked workers
        _WORKER_LOADER = loader
        context = multiprocessing.get_context("fork")
        with context.Pool(settings.FEED_WORKERS) as pool:
            for text, errors, rejected in pool.imap(_parse_batch, _batches(rows, src, PARALLEL_BATCH)):
                stage.write_text(text)
                report.errors.extend(errors[: max(MAX_ERRORS - len(report.errors), 0)])
                report.rejected_lines += rejected
                _progress(load, src, report)
        _WORKER_LOADER = None
        return []
    batch: list = []
    for part in _batches(rows, src, settings.FEED_BATCH_ROWS):
        parsed, _errors = _parse_rows(loader, part, report)
        batch.extend(parsed)
        if len(batch) >= settings.FEED_BATCH_ROWS:
            stage.write(batch)
            batch = []
            _progress(load, src, report)
    return batch


def _batches(rows, src: Source, size: int):
    batch = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield (src.header, batch)
            batch = []
    if batch:
        yield (src.header, batch)


def _parse_rows(loader, part, report: Report) -> tuple[list, Report]:
    header, rows = part
    get = Getter(header)
    parsed = []
    for line, fields in rows:
        try:
            parsed.append(loader.parse(line, get, fields))
        except RowError as e:
            report.reject(
                line,
                e.column,
                get(fields, e.column) if e.column else "",
                e.code,
                key=get(fields, loader.key_column),
                message=getattr(e, "message", None),
                **e.params,
            )
            report.rejected_lines += 1
    return parsed, report


_WORKER_LOADER = None


def _parse_batch(part) -> tuple[str, list, int]:
    """In a worker process: a batch parsed into COPY text, with its rejected rows. It never touches the
    database (the connection it inherited belongs to the parent)."""
    report = Report(file_name="")
    parsed, report = _parse_rows(_WORKER_LOADER, part, report)
    return copy_text(parsed), report.errors, report.rejected_lines


def _checked_rows(src: Source, load: Load, report: Report):
    """The rows with as many fields as the header (the others rejected), checked for the business date."""
    width, get, has_date = None, None, False
    for line, fields in src.rows():
        if width is None:
            width, get, has_date = len(src.header), Getter(src.header), "data_date" in src.header
        if len(fields) != width:
            report.reject(line, "", "", "fields", found=len(fields), expected=width)
            report.rejected_lines += 1
            continue
        if has_date:
            content_date_check(get, fields, line, load.business_date)
        yield line, fields


def _progress(load: Load, src: Source, report: Report) -> None:
    if src.rows_read % PROGRESS_EVERY < settings.FEED_BATCH_ROWS:
        progress.write(load, phase="reading", rows_read=src.rows_read, rows_rejected=report.rejected_lines)


def _refuse_stale_holdings(load: Load) -> None:
    newest = (
        Load.objects.filter(kind=Kind.HOLD, status=Load.Status.LOADED, dry_run=False)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )
    if newest and newest > load.business_date:
        raise Structural("stale_snapshot", date=f"{load.business_date:%Y-%m-%d}", newest=f"{newest:%Y-%m-%d}")


def _mark_replaced(load: Load) -> None:
    """Earlier loads of the same kind and date were replaced by this one (a corrected file)."""
    for earlier in Load.objects.filter(
        kind=load.kind, business_date=load.business_date, status=Load.Status.LOADED, dry_run=False
    ).exclude(pk=load.pk):
        earlier.summary = {**(earlier.summary or {}), "replaced_by": load.pk}
        earlier.save(update_fields=["summary"])


def missing_predecessors(kind: str, day: date) -> list[str]:
    """The kinds before ``kind`` in the date's order that have not loaded for ``day`` (CONS and TXN are optional:
    nothing waits for them)."""
    before = [k for k in ORDER[: ORDER.index(kind)] if k not in OPTIONAL]
    if not before:
        return []
    loaded = set(
        Load.objects.filter(business_date=day, kind__in=before, status=Load.Status.LOADED, dry_run=False).values_list(
            "kind", flat=True
        )
    )
    return [k for k in before if k not in loaded]


def _waiting_text(kinds: list[str], day: date) -> tuple[str, str]:
    return render("notice", "waiting", files=", ".join(contract.file_name(k, day) for k in kinds))


def _duplicate_text(previous: Load) -> tuple[str, str]:
    at = timezone.localtime(previous.finished_at or previous.created_at)
    return render("notice", "duplicate", load=previous.pk, at=f"{at:%Y-%m-%d %H:%M}")
