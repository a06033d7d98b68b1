"""Writes of the feed app that people make (docs/feed.md, "Pages and admin"): an administrator uploads an extract
file, which is checked, kept under a random name and queued for the loader; and an administrator marks an identity
conflict resolved. The loader itself (``feed.loader``) writes the loads' results."""

import hashlib
import logging
import re
import uuid
import zipfile
from datetime import date
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from organisation import access

from . import contract, selectors, tasks
from .models import Kind, Load, LoadError

logger = logging.getLogger("feed.services")

UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx")
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
# The start of files that are not text: programs, archives, documents, images. A text extract starts with its
# header line, never with one of these.
BINARY_MAGIC = (
    (b"MZ", gettext_noop("Windows program")),
    (b"\x7fELF", gettext_noop("program")),
    (b"PK\x03\x04", gettext_noop("zip archive")),
    (b"\x1f\x8b", gettext_noop("gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", gettext_noop("7-Zip archive")),
    (b"Rar!", gettext_noop("RAR archive")),
    (b"\xd0\xcf\x11\xe0", gettext_noop("Office 97-2003 document")),
    (b"%PDF", gettext_noop("PDF document")),
    (b"\x89PNG", gettext_noop("PNG image")),
    (b"\xff\xd8\xff", gettext_noop("JPEG image")),
    (b"GIF8", gettext_noop("GIF image")),
)
# What a file name may not carry into the database or a page: control characters and path or shell punctuation.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')

BROKER_DOWN = gettext_noop(
    "The task queue could not be reached. The file is kept and stays queued; the next inbox sweep loads it."
)


def _may_load(actor):
    """Only administrators upload extracts and resolve conflicts (the SYSTEM actor too, for jobs and tests)."""
    return access.actor_staff(actor, access.ADMINS)


# ----------------------------------------------------------------------------------------------------------------
# Upload
# ----------------------------------------------------------------------------------------------------------------


def clean_file_name(name: str, suffix: str) -> str:
    """The uploaded file's own name as it may be shown: no folders, no control or path characters, at most 200
    characters with its extension kept. Never used as a path."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not base:
        return f"upload{suffix}"
    if len(base) > 200:
        base = base[: 200 - len(suffix)] + suffix
    return base


def upload_check(uploaded_file, *, kind: str, business_date: date) -> str:
    """Everything about an upload that can be refused before anything is written: the kind and the date, the size,
    the extension and the content. Returns the extension; raises ValidationError (field → messages)."""
    name = clean_file_name(getattr(uploaded_file, "name", ""), "")
    suffix = PurePosixPath(name).suffix.lower()
    errors: dict[str, list] = {}
    if kind not in Kind.values:
        errors.setdefault("kind", []).append(ValidationError(_("Choose the kind of extract."), code="kind"))
    if business_date is None:
        errors.setdefault("business_date", []).append(
            ValidationError(_("Enter the business date."), code="business_date")
        )
    elif business_date > timezone.localdate():
        errors.setdefault("business_date", []).append(
            ValidationError(_("The business date cannot be in the future."), code="future")
        )
    match = contract.FILE_NAME_RE.match(name)
    if match and not errors:
        named_date = f"{business_date:%Y%m%d}"
        if match["kind"] != kind or match["date"] != named_date:
            errors.setdefault("file", []).append(
                ValidationError(
                    _("The file's name says %(kind)s of %(date)s: choose that kind and date, or rename the file.")
                    % {"kind": match["kind"], "date": match["date"]},
                    code="name_mismatch",
                )
            )
    file_error = _file_error(uploaded_file, name, suffix)
    if file_error is not None:
        errors.setdefault("file", []).append(file_error)
    if errors:
        raise ValidationError(errors)
    return suffix


def _file_error(uploaded_file, name: str, suffix: str) -> ValidationError | None:
    limit = settings.FEED_UPLOAD_MAX_BYTES
    size = uploaded_file.size or 0
    if size > limit:
        return ValidationError(
            _("%(name)s is too large (%(size)s MB): the limit is %(limit)s MB.")
            % {"name": name, "size": f"{size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            code="too_large",
        )
    if suffix not in UPLOAD_SUFFIXES:
        return ValidationError(
            _("%(name)s: this type of file is not accepted. Accepted: %(allowed)s.")
            % {"name": name, "allowed": ", ".join(UPLOAD_SUFFIXES)},
            code="bad_type",
        )
    if size == 0:
        return ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    if suffix == ".xlsx":
        if not head.startswith(b"PK\x03\x04") or not _is_workbook(uploaded_file):
            return ValidationError(
                _("%(name)s is not an Excel workbook (.xlsx): save it again from Excel, or upload the text file.")
                % {"name": name},
                code="bad_content",
            )
        return None
    for magic, what in BINARY_MAGIC:
        if head.startswith(magic):
            return ValidationError(
                _("%(name)s is not a text file: its content is a %(what)s renamed to %(suffix)s.")
                % {"name": name, "what": _(what), "suffix": suffix},
                code="bad_content",
            )
    if b"\x00" in head:
        return ValidationError(
            _("%(name)s is not a text file: it contains binary data (NUL bytes).") % {"name": name},
            code="bad_content",
        )
    return None


def _is_workbook(uploaded_file) -> bool:
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    finally:
        uploaded_file.seek(0)


def _store(uploaded_file, suffix: str) -> tuple[Path, str, int]:
    """Write the upload under FEED_UPLOAD_DIR with a random name, hashing it on the way; (path, sha256, size)."""
    folder = Path(settings.FEED_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    size = 0
    uploaded_file.seek(0)
    try:
        with path.open("xb") as out:
            for chunk in uploaded_file.chunks(CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def upload_start(*, actor, uploaded_file, kind: str, business_date: date) -> Load:
    """An administrator's upload: checked (size, extension, content), kept under a random name, recorded as a
    QUEUED load and handed to the loader's task once committed. A refused file leaves nothing behind."""
    _may_load(actor)
    suffix = upload_check(uploaded_file, kind=kind, business_date=business_date)
    path, sha256, size = _store(uploaded_file, suffix)
    try:
        with transaction.atomic():
            load = Load(
                status=Load.Status.QUEUED,
                source=Load.Source.UPLOAD,
                kind=kind,
                business_date=business_date,
                file_name=clean_file_name(uploaded_file.name, suffix),
                sha256=sha256,
                size_bytes=size,
                path=str(path),
                created_by=access.history_user(actor),
            )
            load.full_clean()
            load.save()
            transaction.on_commit(lambda: _enqueue(load.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return load


def _enqueue(load_id: int) -> None:
    """Hand the load to a worker. On a broker outage the load stays QUEUED with a note saying so; its file is kept
    for the sweep."""
    if tasks.run_load.safe_delay(load_id):
        return
    with override("zh-hans"):
        message = _(BROKER_DOWN)
    with override("en"):
        message_en = _(BROKER_DOWN)
    Load.objects.filter(pk=load_id, status=Load.Status.QUEUED).update(message=message, message_en=message_en)


# ----------------------------------------------------------------------------------------------------------------
# Identity conflicts
# ----------------------------------------------------------------------------------------------------------------


@transaction.atomic
def conflict_resolve(*, actor, error: LoadError, note: str) -> LoadError:
    """An administrator marks an identity conflict (an ID number held by another customer number) resolved, with a
    note of what was done. The note is kept in the load's summary under ``resolutions``, keyed by the row's id."""
    _may_load(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say how the conflict was resolved.")})
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the note under 500 characters.")})
    load = Load.objects.select_for_update().get(pk=error.load_id)
    error = LoadError.objects.select_for_update().get(pk=error.pk)
    if error.code not in selectors.CONFLICT_CODES:
        raise ValidationError(_("This row is not an identity conflict."))
    if error.resolved_at is not None:
        raise ValidationError(_("This conflict is already resolved."))
    if not load.is_finished:
        raise ValidationError(_("The load is still running: resolve its conflicts once it has finished."))
    now = timezone.now()
    user = access.history_user(actor)
    error.resolved_at = now
    error.resolved_by = user
    error.full_clean()
    error.save(update_fields=["resolved_at", "resolved_by"])
    summary = dict(load.summary or {})
    resolutions = dict(summary.get("resolutions") or {})
    resolutions[str(error.pk)] = {
        "note": note,
        "by": getattr(user, "username", "") if user else "",
        "at": now.isoformat(),
    }
    summary["resolutions"] = resolutions
    load.summary = summary
    load.save(update_fields=["summary"])
    return error
