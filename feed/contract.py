"""The extract contract (docs/feed.md): file names, columns, codes. One place: the loader, the demo writer and the
bench generator all read it."""

import re
from dataclasses import dataclass
from datetime import date

from consent.models import Channel, Source, State

from .models import Kind

# CUST_20261130.txt, with its control file CUST_20261130.txt.ok holding "rows|sha256".
FILE_NAME_RE = re.compile(r"^(?P<kind>CUST|CONS|PROD|HOLD|BAL|TXN)_(?P<date>\d{8})\.txt$")
CONTROL_SUFFIX = ".ok"
DELIMITER = "|"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    Kind.CUST: (
        Column("cust_no", True),
        Column("cust_type", True),
        Column("name", True),
        Column("id_type"),
        Column("id_no"),
        Column("gender"),
        Column("birth_date"),
        Column("mobile"),
        Column("branch_code", True),
        Column("rm_staff_no"),
        Column("open_date"),
        Column("risk_level"),
        Column("risk_assessed_on"),
        Column("occupation"),
        Column("address"),
        Column("uscc"),
        Column("legal_rep"),
        Column("industry"),
        Column("status"),
    ),
    Kind.CONS: (
        Column("cust_no", True),
        Column("channel", True),
        Column("state", True),
        Column("effective_on", True),
        Column("source"),
        Column("reference"),
    ),
    Kind.PROD: (
        Column("product_code", True),
        Column("name", True),
        Column("kind", True),
        Column("risk_level", True),
    ),
    Kind.HOLD: (
        Column("cust_no", True),
        Column("product_code", True),
        Column("account_no", True),
        Column("amount", True),
        Column("opened_on"),
        Column("matures_on"),
    ),
    Kind.BAL: (Column("cust_no", True), Column("aum", True)),
    Kind.TXN: (
        Column("cust_no", True),
        Column("txn_time", True),
        Column("amount", True),
        Column("channel"),
        Column("memo"),
    ),
}

# Codes of the CUST file and what the CRM stores for them.
CUST_TYPES = {"P": "individual", "C": "corporate"}
ID_TYPES = {
    "": "resident_id",
    "ID": "resident_id",
    "PP": "passport",
    "HM": "hk_macao_permit",
    "TW": "taiwan_permit",
    "FP": "foreign_permanent",
}
GENDERS = {"M", "F"}
CUSTOMER_STATUSES = {"", "N", "X"}
RISK_LEVELS = {"C1", "C2", "C3", "C4", "C5"}
PRODUCT_KINDS = {"deposit", "time_deposit", "wealth", "fund", "insurance", "loan"}
PRODUCT_RISKS = {"R1", "R2", "R3", "R4", "R5"}
# Codes of the CONS file: the channels and sources are the CRM's own (consent.models), in capitals; the state is
# Y (given) or N (withdrawn). A row without a source was recorded by the core system itself.
CONSENT_CHANNELS = {value.upper(): value for value in Channel.values}
CONSENT_STATES = {"Y": State.GIVEN.value, "N": State.WITHDRAWN.value}
CONSENT_SOURCES = {"": Source.CORE.value, **{value.upper(): value for value in Source.values}}


def column_names(kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind]]


def required_columns(kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind] if c.required]


def file_name(kind: str, business_date: date) -> str:
    return f"{kind}_{business_date:%Y%m%d}.txt"


def parse_file_name(name: str) -> tuple[str, date] | None:
    """(kind, business date) of a contract file name, None when the name is not one."""
    match = FILE_NAME_RE.match(name)
    if not match:
        return None
    try:
        day = date(int(match["date"][:4]), int(match["date"][4:6]), int(match["date"][6:]))
    except ValueError:
        return None
    return match["kind"], day
