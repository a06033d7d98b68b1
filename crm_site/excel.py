"""Excel (.xlsx) responses, written in streaming mode so that a large export stays within memory.

Layout of every sheet: an optional caption in row 1 (what the report is and the period it covers), then the
header row, then the data directly below it; nothing between the header and the data, so that Excel's sort,
filter and pivot tables take the header and the data as one table. The header row carries an auto-filter over
exactly that table and stays in view (frozen) while scrolling."""

from collections.abc import Iterable, Sequence
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter


def xlsx_response(
    filename: str, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]], *, caption: str = ""
) -> HttpResponse:
    """One workbook with a sheet per (title, header, rows). ``filename`` (in the user's language: it is sent as
    UTF-8 ``filename*``) gets the date appended; ``caption``, if any, is row 1 of every sheet, above the header."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        header_row = 2 if caption else 1
        sheet.freeze_panes = f"A{header_row + 1}"
        if caption:
            sheet.append([_bold(sheet, caption)])
        sheet.append([_bold(sheet, h) for h in header])
        last = header_row
        for row in rows:
            sheet.append(list(row))
            last += 1
        if header:
            sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(header))}{last}"
    buffer = BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return response


def _bold(sheet, value):
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.font = Font(bold=True)
    return cell
