"""Writing an extract file as core banking would (docs/feed.md): for the demo, the bench and the tests.

``write_extract`` streams rows to ``<directory>/<KIND>_<YYYYMMDD>.txt`` — a header line of column names, then one
line per row, '|'-delimited — and then writes its control file ``<name>.ok`` holding ``rows|sha256``. The data
goes to a temporary name first and is renamed when complete, and the control file comes last (also renamed into
place), so that a reader watching the directory never takes a half-written file as ready. Rows are encoded and
hashed a batch at a time: the memory used is the same for ten rows and for ten million.
"""

import hashlib
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from . import contract

# Columns holding amounts: a number is written with two decimals.
AMOUNT_COLUMNS = frozenset({"amount", "aum"})
PARTIAL_SUFFIX = ".part"
_BATCH_LINES = 5_000
_TWO_PLACES = Decimal("0.01")


def format_value(value, column: str = "") -> str:
    """A value as the contract writes it: empty for None, YYYYMMDD for a date, YYYYMMDDHHMMSS for a date and time,
    two decimals for an amount; a string as it is (so that deliberately bad values pass through unchanged)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, datetime):
        text = f"{value:%Y%m%d%H%M%S}"
    elif isinstance(value, date):
        text = f"{value:%Y%m%d}"
    elif isinstance(value, bool):
        raise TypeError(f"column {column!r}: no format for a boolean")
    elif isinstance(value, Decimal | float) or (isinstance(value, int) and column in AMOUNT_COLUMNS):
        text = f"{Decimal(str(value)).quantize(_TWO_PLACES):f}"
    else:
        text = str(value)
    if contract.DELIMITER in text or "\n" in text or "\r" in text:
        raise ValueError(f"column {column!r}: a value may not hold the delimiter or a line break: {text!r}")
    return text


def write_extract(
    directory: Path,
    kind: str,
    business_date: date,
    rows: Iterable[dict | Sequence],
    *,
    encoding: str = "gb18030",
    columns: Sequence[str] | None = None,
    crlf: bool = False,
    bom: bool = False,
) -> Path:
    """Write the extract ``kind`` of ``business_date`` and its control file; returns the data file's path.

    ``rows`` are dicts keyed by column name (a missing key is an empty value) or sequences in column order.
    ``columns`` defaults to the contract's columns of the kind (another list writes a file with other columns,
    e.g. a structurally wrong one for a test). ``bom`` starts the file with the byte-order mark (UTF-8 with BOM);
    ``crlf`` ends the lines with CR LF.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = list(columns) if columns is not None else contract.column_names(kind)
    path = directory / contract.file_name(kind, business_date)
    control = path.with_name(path.name + contract.CONTROL_SUFFIX)
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    control_partial = control.with_name(control.name + PARTIAL_SUFFIX)
    newline = "\r\n" if crlf else "\n"
    digest = hashlib.sha256()
    count = 0

    def emit(handle, text: str, *, first: bool = False) -> None:
        data = text.encode(encoding)
        if first and bom:
            data = "\ufeff".encode(encoding) + data
        digest.update(data)
        handle.write(data)

    # A control file left from an earlier version of the file would vouch for the wrong content: it goes first.
    control.unlink(missing_ok=True)
    try:
        with open(partial, "wb") as handle:
            emit(handle, contract.DELIMITER.join(names) + newline, first=True)
            known = frozenset(names)
            batch: list[str] = []
            for row in rows:
                batch.append(_line(row, names, known))
                count += 1
                if len(batch) >= _BATCH_LINES:
                    emit(handle, newline.join(batch) + newline)
                    batch.clear()
            if batch:
                emit(handle, newline.join(batch) + newline)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        with open(control_partial, "w", encoding="ascii", newline="") as handle:
            handle.write(f"{count}{contract.DELIMITER}{digest.hexdigest()}")
        os.replace(control_partial, control)
    finally:
        partial.unlink(missing_ok=True)
        control_partial.unlink(missing_ok=True)
    return path


def _line(row: dict | Sequence, names: list[str], known: frozenset) -> str:
    if isinstance(row, dict):
        unknown = row.keys() - known
        if unknown:
            raise ValueError(f"columns not in the file: {sorted(unknown)}")
        values = [format_value(row.get(name), name) for name in names]
    else:
        if len(row) != len(names):
            raise ValueError(f"a row of {len(row)} values for {len(names)} columns")
        values = [format_value(value, name) for value, name in zip(row, names, strict=True)]
    return contract.DELIMITER.join(values)


def read_control(path: Path) -> tuple[int, str]:
    """(rows, sha256) of a data file's control file."""
    text = Path(str(path) + contract.CONTROL_SUFFIX).read_text(encoding="ascii").strip()
    rows, sha = text.split(contract.DELIMITER)
    return int(rows), sha
