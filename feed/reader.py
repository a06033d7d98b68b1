"""Reading an extract: structure first (control file, encoding, header), then rows, streamed.

A ``Source`` never holds the file in memory: rows are yielded one at a time while the SHA-256 and the row count
are computed on the way; ``finish()`` then compares them with the control file. Any structural problem raises
``Structural``, and the loader rejects the whole file.
"""

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from .contract import CONTROL_SUFFIX, DELIMITER, column_names, required_columns
from .messages import Structural

SAMPLE_BYTES = 64 * 1024
# No row of the contract comes near this; a file without line breaks is refused before it fills the memory.
MAX_LINE_BYTES = 64 * 1024
BINARY_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")
BOM = codecs.BOM_UTF8


def read_control(path: Path) -> tuple[int, str]:
    control = path.with_name(path.name + CONTROL_SUFFIX)
    if not control.exists():
        raise Structural("no_control", name=control.name)
    text = control.read_bytes()[:200].decode("ascii", "replace").strip()
    rows, _, digest = text.partition("|")
    if not rows.strip().isdigit() or len(digest.strip()) != 64:
        raise Structural("control_format", value=text[:80])
    return int(rows), digest.strip().lower()


class Source:
    """The rows of one file. ``kind`` decides the required columns; ``fmt`` is "txt" (the contract: '|'), "csv" or
    "xlsx" (uploads)."""

    def __init__(self, path: Path, *, kind: str, encoding: str, control: bool, fmt: str = "txt"):
        self.path = Path(path)
        self.kind = kind
        self.encoding = encoding
        self.fmt = fmt
        self.expected = read_control(self.path) if control else None
        self.rows_read = 0
        self.header: list[str] = []
        self.unknown_columns: list[str] = []
        if not self.path.exists():
            raise Structural("no_file")
        if self.path.stat().st_size == 0:
            raise Structural("empty")
        self._sniff()

    # -- structure ------------------------------------------------------------------------------------------------
    def _sniff(self) -> None:
        with self.path.open("rb") as f:
            sample = f.read(SAMPLE_BYTES)
        if self.fmt == "xlsx":
            if not sample.startswith(b"PK") or not zipfile.is_zipfile(self.path):
                raise Structural("not_xlsx")
            return
        if sample.startswith(BINARY_MAGIC) or b"\x00" in sample or sample.startswith(b"PK"):
            raise Structural("not_text")
        if sample.startswith(BOM):
            self.encoding = "utf-8"
        elif self.encoding == "auto":
            # An upload from a branch: a spreadsheet program writes UTF-8 or GB18030; the bytes tell which.
            try:
                codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
                self.encoding = "utf-8"
            except UnicodeDecodeError:
                self.encoding = "gb18030"
        elif self.encoding.replace("-", "").lower() in ("gb18030", "gbk", "gb2312") and max(sample) >= 0x80:
            # Valid multi-byte UTF-8 is almost never meaningful GB18030: such a file was written in UTF-8.
            try:
                codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
            except UnicodeDecodeError:
                pass
            else:
                raise Structural("looks_utf8", encoding=self.encoding.upper())

    def _check_header(self, names: list[str]) -> None:
        names = [n.strip().lower() for n in names]
        if len(names) == 1 and self.fmt == "txt":
            for found in (",", "\t", ";"):
                if found in names[0]:
                    raise Structural("delimiter", found="TAB" if found == "\t" else found)
        seen, twice = set(), []
        for n in names:
            if n in seen:
                twice.append(n)
            seen.add(n)
        if twice:
            raise Structural("duplicate_columns", columns=", ".join(twice))
        missing = [c for c in required_columns(self.kind) if c not in seen]
        if missing:
            raise Structural("missing_columns", columns=", ".join(missing))
        known = set(column_names(self.kind)) | {"data_date"}
        self.unknown_columns = [n for n in names if n and n not in known]
        self.header = names

    # -- rows -------------------------------------------------------------------------------------------------------
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of every data row; the header is line 1."""
        self.rows_read = 0
        if self.fmt == "xlsx":
            yield from self._xlsx_rows()
            return
        with self.path.open("rb", buffering=1024 * 1024) as stream:
            if self.fmt == "csv":
                yield from self._csv_rows(stream)
            else:
                yield from self._txt_rows(stream)

    def _txt_rows(self, stream) -> Iterator[tuple[int, list[str]]]:
        encoding = self.encoding
        line_no = 0
        ended = True
        for raw in iter(lambda: stream.readline(MAX_LINE_BYTES), b""):
            line_no += 1
            if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise Structural("line_too_long", line=line_no, limit=MAX_LINE_BYTES // 1024)
            ended = raw.endswith(b"\n")
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[3:]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise Structural("encoding", line=line_no, encoding=encoding.upper()) from None
            text = text.rstrip("\r\n")
            if line_no == 1:
                self._check_header(text.split(DELIMITER))
                continue
            self.rows_read += 1
            yield line_no, text.split(DELIMITER)
        if line_no == 0:
            raise Structural("empty")
        if not ended:
            raise Structural("truncated")

    def _csv_rows(self, stream) -> Iterator[tuple[int, list[str]]]:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig" if self.encoding == "utf-8" else self.encoding, newline="")
        try:
            reader = csv.reader(text)
            for fields in reader:
                if reader.line_num == 1 and not self.header:
                    self._check_header(fields)
                    continue
                if not any(fields):
                    continue
                self.rows_read += 1
                yield reader.line_num, fields
        except UnicodeDecodeError:
            raise Structural("encoding", line=self.rows_read + 2, encoding=self.encoding.upper()) from None
        if not self.header:
            raise Structural("empty")
        text.detach()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged workbook
            raise Structural("not_xlsx") from None
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                fields = [_cell(v) for v in values]
                if number == 1:
                    while fields and not fields[-1]:
                        fields.pop()
                    self._check_header(fields)
                    continue
                if not any(fields):
                    continue
                self.rows_read += 1
                yield number, fields[: len(self.header)] + [""] * (len(self.header) - len(fields))
            if not self.header:
                raise Structural("empty")
        finally:
            workbook.close()

    def check_digest(self, sha256: str) -> None:
        """The control file's checksum against the file's (computed before reading, when the load is claimed)."""
        if self.expected is not None and self.expected[1] != sha256:
            raise Structural("checksum")

    def finish(self) -> None:
        """After the rows: the control total."""
        if self.expected is None:
            return
        rows, _digest = self.expected
        if rows != self.rows_read:
            raise Structural("control_rows", expected=rows, actual=self.rows_read)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S") if (value.hour or value.minute or value.second) else f"{value:%Y%m%d}"
    if isinstance(value, date):
        return f"{value:%Y%m%d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()
