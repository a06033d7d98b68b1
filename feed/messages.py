"""What the loader tells people, by code: each message in zh-hans (the report's first language) and English.

Structural errors reject a whole file; row errors reject one row. Messages are rendered once per code and
language and cached: a file with a hundred thousand bad rows does not switch languages a hundred thousand times.
"""

from functools import cache

from django.utils import translation
from django.utils.translation import gettext_lazy as _

STRUCTURAL = {
    "no_file": _("The file does not exist."),
    "empty": _("The file is empty: not even a header line."),
    "no_header": _("The file has a header line but no data rows, and its control file says it should have some."),
    "no_control": _("The control file %(name)s is missing: the file is not ready to load."),
    "control_format": _("The control file must hold one line “rows|sha256”; it holds “%(value)s”."),
    "control_rows": _("The control file announces %(expected)s rows but the file has %(actual)s."),
    "checksum": _("The file's SHA-256 does not match its control file: it was changed or copied incompletely."),
    "encoding": _("Line %(line)s cannot be read as %(encoding)s: the file has another encoding."),
    "looks_utf8": _(
        "The file is declared %(encoding)s but is UTF-8 text without a byte-order mark. Ask for GB18030, or add a BOM."
    ),
    "delimiter": _("The header is not “|”-delimited (it looks delimited by “%(found)s”)."),
    "missing_columns": _("Required columns are missing from the header: %(columns)s."),
    "duplicate_columns": _("The header names a column twice: %(columns)s."),
    "line_too_long": _("Line %(line)s is longer than %(limit)s KB: the file has no line breaks or is not an extract."),
    "truncated": _("The last line does not end with a line break: the file looks truncated."),
    "file_name": _("“%(name)s” is not an extract file name (KIND_YYYYMMDD.txt, for example CUST_20261130.txt)."),
    "date_mismatch": _("The business date %(given)s differs from the date in the file name (%(named)s)."),
    "content_date": _("Line %(line)s carries the business date %(found)s, but the file is for %(named)s."),
    "not_text": _("This is not a text, CSV or Excel file (it looks like a program or another binary file)."),
    "not_xlsx": _("This file cannot be read as an Excel workbook."),
    "unsupported": _("Files of this type cannot be loaded: use .txt, .csv or .xlsx."),
    "stale_snapshot": _(
        "Holdings for %(date)s are older than the holdings already loaded (%(newest)s): a holdings file is the "
        "current snapshot, and an older one would close today's holdings."
    ),
    "failed": _("The load stopped on an unexpected error; nothing was written. The error is in the server log."),
}

ROW = {
    "fields": _("The line has %(found)s fields; the header has %(expected)s."),
    "required": _("This column is required."),
    "too_long": _("Longer than %(max)s characters."),
    "choice": _("“%(value)s” is not one of %(allowed)s."),
    "date": _("Not a date: use YYYYMMDD or YYYY-MM-DD."),
    "datetime": _("Not a time: use YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS."),
    "amount": _("Not an amount in yuan."),
    "decimals": _("An amount has at most 2 decimals."),
    "negative": _("Cannot be negative."),
    "id_gender": _("The gender does not agree with the ID number."),
    "id_birth_date": _("The birth date does not agree with the ID number."),
    "id_needed": _("An ID type is given without an ID number."),
    "corporate_only": _("Only a corporate customer has a credit code."),
    "account": _("Not an account number: 4 to 40 letters, digits or hyphens."),
    "maturity_before_open": _("The holding matures before it was opened."),
    "future": _("Later than the business date."),
    "txn_day": _("The transaction is not of the business date."),
    "reference_required": _("A consent from a phone recording needs the recording's number."),
    "duplicate": _("The key appears more than once in the file (lines %(lines)s): none of them is loaded."),
    "id_conflict": _(
        "This ID number already belongs to customer %(other)s: not merged. An administrator must resolve it."
    ),
    "uscc_conflict": _(
        "This credit code already belongs to customer %(other)s: not merged. An administrator must resolve it."
    ),
    "unknown_branch": _("No branch has this code."),
    "unknown_customer": _("No customer has this number (load the customers file first)."),
    "unknown_product": _("No product has this code (load the products file first)."),
}

NOTICES = {
    "no_rm": _("Loaded without a primary RM (the staff number is empty)."),
    "unknown_rm": _("Loaded without a primary RM: no staff member has this number."),
    "rm_differs": _("The core system names another RM; the CRM's portfolio is kept (moves go through approval)."),
    "branch_differs": _("The core system names another branch; the CRM's branch is kept (moves go through approval)."),
    "unknown_columns": _("Columns the contract does not know were ignored: %(columns)s."),
    "waiting": _("Waiting for the earlier files of the same date: %(files)s."),
    "duplicate": _("This file was loaded before (load #%(load)s, %(at)s): nothing to do."),
    "closed_holdings": _("Holdings absent from this snapshot were closed on the business date."),
    "consent_older": _(
        "The CRM holds a later change of consent for these customers and channels (a withdrawal wins a tie): the "
        "file's rows were not applied. Tell the core system."
    ),
    "consent_withdrawn": _("Consents withdrawn: these customers leave the campaigns on those channels at once."),
}


@cache
def _template(table: str, code: str, language: str) -> str:
    with translation.override(language):
        return str({"structural": STRUCTURAL, "row": ROW, "notice": NOTICES}[table][code])


def render(table: str, code: str, **params) -> tuple[str, str]:
    """(zh-hans, English) text of a message."""
    out = []
    for language in ("zh-hans", "en"):
        text = _template(table, code, language)
        out.append(text % params if params else text)
    return out[0], out[1]


def render_lazy(message) -> tuple[str, str]:
    """(zh-hans, English) text of a lazy message from elsewhere (a validator's), with its params applied."""
    out = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            out.append(str(message))
    return out[0], out[1]


class Structural(Exception):
    """A structural error: the whole file is rejected, nothing is written."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def texts(self) -> tuple[str, str]:
        return render("structural", self.code, **self.params)
