"""Each extract kind: how a row is checked on its own (in Python, while streaming), what is checked across the
file and against the database (in SQL, on the staging table), and how the checked rows are applied (a few
set-based statements). docs/feed.md states the rules; this module is the one place they are coded.
"""

import hashlib
import hmac
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from consent.models import REFERENCE_MAX, REFERENCE_REQUIRED, ConsentEvent, ConsentRecord
from consent.services import consents_apply_staged
from crm_site.bulk import plain_indexes_rebuilt
from crm_site.lunar import lunar_month_day
from customers import masking, partitions, pii, validators
from customers.models import AssetSnapshot, Customer, Holding, LargeTransaction, Product
from organisation.models import Branch, Staff
from relationships.models import Assignment

from . import contract
from .messages import Structural, render, render_lazy
from .models import Kind
from .stage import Stage, estimated_rows, execute, fetch, is_pg, qn, table

# A load adding at least this many rows (and a quarter of the table) rebuilds the table's plain indexes after
# inserting instead of maintaining them row by row: a first load.
BULK_MIN_ROWS = 100_000
MAX_ERRORS = 10_000  # rows of errors kept per load (all are counted)
AMOUNT_RE = re.compile(r"^-?\d{1,16}(\.\d+)?$")
ACCOUNT_RE = re.compile(r"^[0-9A-Za-z-]{4,40}$")
MASKED = {"id_no": masking.mask_id_number, "mobile": masking.mask_mobile, "account_no": masking.mask_account}


class RowError(Exception):
    def __init__(self, column: str, code: str, **params):
        super().__init__(code)
        self.column, self.code, self.params = column, code, params


@dataclass
class Report:
    """What a load found: rejected rows (the first MAX_ERRORS kept, all counted), notices, counts."""

    file_name: str
    errors: list = field(default_factory=list)
    rejected_lines: int = 0
    notices: dict = field(default_factory=dict)
    changed: int = 0
    loaded: int = 0
    phases: dict = field(default_factory=dict)

    def reject(
        self, line: int, column: str, raw: str, code: str, *, key: str = "", message=None, masked=None, **params
    ) -> None:
        if len(self.errors) < MAX_ERRORS:
            masker = MASKED.get(column)
            value = masked if masked is not None else masker(raw) if masker and raw else (raw or "")[:100]
            zh, en = render_lazy(message) if message is not None else render("row", code, **params)
            self.errors.append((line, column, value, code, zh[:300], en[:300], key[:40]))

    def notice(self, code: str, count: int, sample: list[str]) -> None:
        if count:
            self.notices[code] = {"count": count, "sample": sample[:100]}


# -- parsing helpers ----------------------------------------------------------------------------------------------
def _date(value: str, column: str) -> date | None:
    if not value:
        return None
    v = value.replace("-", "") if len(value) == 10 and value[4] == "-" and value[7] == "-" else value
    if len(v) != 8 or not v.isdigit():
        raise RowError(column, "date")
    try:
        return date(int(v[:4]), int(v[4:6]), int(v[6:]))
    except ValueError:
        raise RowError(column, "date") from None


def _datetime(value: str, column: str) -> datetime:
    digits = re.sub(r"[-: T]", "", value)
    if len(digits) != 14 or not digits.isdigit():
        raise RowError(column, "datetime")
    try:
        naive = datetime(  # noqa: DTZ001 - a local time of the extract, made aware below
            *(int(x) for x in (digits[:4], digits[4:6], digits[6:8], digits[8:10], digits[10:12], digits[12:]))
        )
    except ValueError:
        raise RowError(column, "datetime") from None
    return timezone.make_aware(naive)


def _amount(value: str, column: str, *, signed: bool = False) -> Decimal:
    if not AMOUNT_RE.match(value):
        raise RowError(column, "amount")
    if "." in value and len(value.split(".")[1]) > 2:
        raise RowError(column, "decimals")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(column, "amount") from None
    if amount < 0 and not signed:
        raise RowError(column, "negative")
    return amount


def _text(value: str, column: str, max_length: int) -> str:
    if len(value) > max_length:
        raise RowError(column, "too_long", max=max_length)
    return value


def _choice(value: str, column: str, allowed) -> str:
    if value not in allowed:
        raise RowError(column, "choice", value=value[:20], allowed="/".join(sorted(a for a in allowed if a)))
    return value


def _code(value: str, column: str, codes: dict) -> str:
    """The CRM's value of a contract code (case does not matter)."""
    found = codes.get(value) or codes.get(value.upper())
    if found is None:
        _choice(value.upper(), column, codes)  # raises, with the allowed codes
    return found


@lru_cache(maxsize=100_000)
def _date_cached(value: str) -> date | None:
    """``_date`` of a value, cached (a file repeats its dates); None for a value that is not a date."""
    try:
        return _date(value, "")
    except RowError:
        return None


@cache
def _row_key() -> bytes:
    return hashlib.sha256(("feed-row:" + settings.PII_HASH_KEY).encode()).digest()


def row_hash(values) -> str:
    """Keyed hash of a row's values: equal for an unchanged row, unreadable without the key."""
    return hashlib.blake2b("\x1f".join(values).encode(), key=_row_key(), digest_size=16).hexdigest()


@cache
def _lunar(day: date) -> int | None:
    return lunar_month_day(day)


@cache
def _account_key() -> bytes:
    return settings.PII_HASH_KEY.encode()


def account_hash(number: str) -> str:
    return hmac.new(_account_key(), f"account:{number}".encode(), hashlib.sha256).hexdigest()


class Getter:
    """Fields of a row by column name (a column missing from the header reads as empty)."""

    def __init__(self, header: list[str]):
        self.index = {name: i for i, name in enumerate(header)}
        self.width = len(header)

    def __call__(self, fields: list[str], name: str) -> str:
        i = self.index.get(name)
        return fields[i].strip() if i is not None and i < len(fields) else ""

    def required(self, fields: list[str], name: str) -> str:
        value = self(fields, name)
        if not value:
            raise RowError(name, "required")
        return value


# -- the kinds ----------------------------------------------------------------------------------------------------
class KindLoader:
    kind: str
    key_column: str
    columns: list[tuple[str, str]]

    def __init__(self, *, business_date: date, report: Report, load_id: int, file_name: str, now: datetime):
        self.day = business_date
        self.report = report
        self.load_id = load_id
        self.file_name = file_name
        self.now = now
        self.stage: Stage | None = None

    # Python side ------------------------------------------------------------------------------------------------
    def open_stage(self) -> Stage:
        self.stage = Stage(f"feed_stage_{self.kind.lower()}", [("line", "int"), *self.columns])
        return self.stage

    def parse(self, line: int, get, fields: list[str]) -> tuple:
        raise NotImplementedError

    def key_of(self, get, fields) -> str:
        return get(fields, self.key_column)

    # SQL side ---------------------------------------------------------------------------------------------------
    def _reject_where(self, where: str, column: str, code: str, value_sql: str, params=(), **msg) -> int:
        """Reject the staged rows matching ``where`` (SQL over the stage's own columns, from code), each reported."""
        s = qn(self.stage.name)
        rows = fetch(
            f"SELECT line, {value_sql}, {qn(self.key_column)} FROM {s} WHERE {where} ORDER BY line",  # noqa: S608
            params,
        )
        for line, value, key in rows:
            self.report.reject(line, column, str(value or ""), code, key=str(key or ""), **msg)
        if rows:
            execute(f"DELETE FROM {s} WHERE {where}", params)  # noqa: S608 - names from code
            self.report.rejected_lines += len(rows)
        return len(rows)

    def reject_duplicates(self, *key_columns: str, column: str) -> None:
        """A key more than once in the file: every occurrence is rejected (which one is right cannot be known)."""
        s = qn(self.stage.name)
        keys = ", ".join(qn(k) for k in key_columns)
        same = " AND ".join(f"u.{qn(k)} = t.{qn(k)}" for k in key_columns)
        sql = (
            f"SELECT line, {qn(self.key_column)}, {keys} FROM {s} t WHERE EXISTS "  # noqa: S608 - names from code
            f"(SELECT 1 FROM {s} u WHERE {same} AND u.line <> t.line) ORDER BY {keys}, line"
        )
        rows = fetch(sql)
        if not rows:
            return
        groups: dict[tuple, list[int]] = {}
        for line, _key, *parts in rows:
            groups.setdefault(tuple(parts), []).append(line)
        for line, key, *parts in rows:
            lines = groups[tuple(parts)]
            self.report.reject(line, column, str(key), "duplicate", key=str(key), lines=", ".join(map(str, lines[:10])))
        self.report.rejected_lines += len(rows)
        for lines in groups.values():
            for start in range(0, len(lines), 500):
                chunk = lines[start : start + 500]
                execute(f"DELETE FROM {s} WHERE line IN ({', '.join(['%s'] * len(chunk))})", chunk)  # noqa: S608

    def resolve_customers(self) -> None:
        """Fill customer_id from cust_no; rows of unknown customers are rejected."""
        s = qn(self.stage.name)
        c = table(Customer)
        execute(
            f"UPDATE {s} SET customer_id = c.id FROM {c} c WHERE c.customer_no = {s}.cust_no"  # noqa: S608
        )
        self._reject_where("customer_id IS NULL", "cust_no", "unknown_customer", "cust_no")
        self.stage.analyze()

    def apply(self) -> None:
        raise NotImplementedError

    def count(self) -> int:
        return fetch(f"SELECT COUNT(*) FROM {qn(self.stage.name)}")[0][0]  # noqa: S608


class ProductLoader(KindLoader):
    written = (Product,)
    kind = Kind.PROD
    key_column = "product_code"
    columns = [("product_code", "text"), ("name", "text"), ("category", "text"), ("risk_level", "text")]

    def parse(self, line, get, fields):
        return (
            line,
            _text(get(fields, "product_code"), "product_code", 30),
            _text(get(fields, "name"), "name", 100),
            _choice(get(fields, "kind"), "kind", contract.PRODUCT_KINDS),
            _choice(get(fields, "risk_level").upper(), "risk_level", contract.PRODUCT_RISKS),
        )

    def validate(self) -> None:
        self.reject_duplicates("product_code", column="product_code")

    def apply(self) -> None:
        s, p = qn(self.stage.name), table(Product)
        self.report.loaded = self.count()
        self.report.changed = execute(
            f"INSERT INTO {p} (code, name, category, risk_level, is_active) "  # noqa: S608 - names from code
            f"SELECT product_code, name, category, risk_level, %s FROM {s} WHERE true "
            f"ON CONFLICT (code) DO UPDATE SET name = excluded.name, category = excluded.category, "
            f"risk_level = excluded.risk_level WHERE {p}.name <> excluded.name OR {p}.category <> excluded.category "
            f"OR {p}.risk_level <> excluded.risk_level",
            [True],
        )


class CustomerLoader(KindLoader):
    written = (Customer, Customer.history.model, Assignment)
    kind = Kind.CUST
    key_column = "cust_no"
    columns = [
        ("cust_no", "text"), ("kind", "text"), ("name", "text"), ("id_type", "text"), ("id_hash", "text"),
        ("id_masked", "text"), ("id_last4", "text"), ("gender", "text"), ("birth_date", "date"),
        ("birth_md", "int"), ("lunar_md", "int"), ("mobile_hash", "text"), ("mobile_masked", "text"),
        ("branch_code", "text"), ("rm_staff_no", "text"), ("created_at", "ts"), ("risk_level", "text"),
        ("risk_assessed_on", "date"), ("risk_expires_on", "date"), ("occupation", "text"), ("address", "text"),
        ("uscc", "text"), ("legal_rep", "text"), ("industry", "text"), ("closed", "bool"), ("row_hash", "text"),
        ("id_enc", "text"), ("mobile_enc", "text"), ("changed", "bool"), ("existed", "bool"),
    ]  # fmt: skip
    two_pass = True
    ID_VALIDATORS = {
        "resident_id": None,  # parse_resident_id, which also gives the birth date and gender
        "passport": validators.validate_passport,
        "hk_macao_permit": validators.validate_hk_macao_permit,
        "taiwan_permit": validators.validate_taiwan_permit,
        "foreign_permanent": validators.validate_foreign_permanent,
    }

    def identifiers(self, get, fields) -> tuple[str, str, str, str]:
        """(id type, normalised ID number, normalised mobile, customer type) of a row; raises RowError."""
        cust_type = contract.CUST_TYPES.get(get(fields, "cust_type").upper())
        id_code = get(fields, "id_type").upper()
        raw_id = get(fields, "id_no")
        raw_mobile = get(fields, "mobile")
        id_type, number = "", ""
        self.resident = None
        if cust_type == "individual" and raw_id:
            id_type = contract.ID_TYPES[_choice(id_code, "id_type", contract.ID_TYPES)]
            try:
                if id_type == "resident_id":
                    self.resident = validators.parse_resident_id(raw_id, today=self.day)
                    number = self.resident.number
                else:
                    number = self.ID_VALIDATORS[id_type](raw_id)
            except ValidationError as e:
                raise _validation("id_no", e) from None
        elif cust_type == "individual" and id_code:
            _choice(id_code, "id_type", contract.ID_TYPES)
        mobile = ""
        if raw_mobile:
            try:
                mobile = validators.validate_mobile(raw_mobile)
            except ValidationError as e:
                raise _validation("mobile", e) from None
        return id_type, number, mobile, cust_type

    def parse(self, line, get, fields):
        day = self.day
        cust_no = get.required(fields, "cust_no")
        _text(cust_no, "cust_no", 20)
        cust_type = get(fields, "cust_type").upper()
        _choice(cust_type, "cust_type", contract.CUST_TYPES)
        name = get.required(fields, "name")
        _text(name, "name", 100)
        id_type, number, mobile, kind = self.identifiers(get, fields)
        gender = get(fields, "gender").upper()
        if gender:
            _choice(gender, "gender", contract.GENDERS)
        birth = _date(get(fields, "birth_date"), "birth_date")
        if birth and birth > day:
            raise RowError("birth_date", "future")
        if id_type == "resident_id":
            parsed = self.resident
            if gender and gender != parsed.gender:
                raise RowError("gender", "id_gender")
            if birth and birth != parsed.birth_date:
                raise RowError("birth_date", "id_birth_date")
            gender, birth = parsed.gender, parsed.birth_date
        if kind != "individual":
            gender, birth = "", None
        branch_code = get.required(fields, "branch_code")
        opened = _date(get(fields, "open_date"), "open_date")
        if opened and opened > day:
            raise RowError("open_date", "future")
        risk = get(fields, "risk_level").upper()
        if risk:
            _choice(risk, "risk_level", contract.RISK_LEVELS)
        assessed = _date(get(fields, "risk_assessed_on"), "risk_assessed_on")
        uscc = get(fields, "uscc").upper()
        if uscc:
            if kind != "corporate":
                raise RowError("uscc", "corporate_only")
            try:
                uscc = validators.validate_credit_code(uscc)
            except ValidationError as e:
                raise _validation("uscc", e) from None
        status = _choice(get(fields, "status").upper(), "status", contract.CUSTOMER_STATUSES)
        occupation = _text(get(fields, "occupation"), "occupation", 50)
        address = _text(get(fields, "address"), "address", 200)
        legal_rep = _text(get(fields, "legal_rep"), "legal_rep", 50)
        industry = _text(get(fields, "industry"), "industry", 50)
        rm = _text(get(fields, "rm_staff_no"), "rm_staff_no", 20)
        if kind != "individual":
            risk, assessed = "", None
        digest = self.line_hash(fields)
        created = timezone.make_aware(datetime.combine(opened, time.min)) if opened else self.now
        return (
            line, cust_no, kind, name, id_type,
            pii.search_hash(id_type, number) if number else "",
            masking.mask_id_number(number), number[-4:] if number else "",
            gender, birth, birth.month * 100 + birth.day if birth else None, _lunar(birth) if birth else None,
            pii.search_hash("mobile", mobile) if mobile else "", masking.mask_mobile(mobile),
            branch_code, rm, created, risk, assessed,
            assessed + timedelta(days=settings.RISK_ASSESSMENT_VALID_DAYS) if (assessed and risk) else None,
            occupation, address, uscc or None, legal_rep, industry, status == "X", digest,
            pii.encrypt(number), pii.encrypt(mobile), True, False,
        )  # fmt: skip

    def validate(self) -> None:
        s, c, b = qn(self.stage.name), table(Customer), table(Branch)
        self._reject_where(
            f"NOT EXISTS (SELECT 1 FROM {b} b WHERE b.code = {s}.branch_code)",  # noqa: S608 - names from code
            "branch_code",
            "unknown_branch",
            "branch_code",
        )  # fmt: skip
        # An identifier already held by another customer number is not merged: listed for an administrator.
        for stage_col, model_col, code, column in (
            ("id_hash", "id_number_hash", "id_conflict", "id_no"),
            ("uscc", "credit_code", "uscc_conflict", "uscc"),
        ):
            value = "id_masked" if stage_col == "id_hash" else "uscc"
            rows = fetch(
                f"SELECT s.line, s.{value}, s.cust_no, c.customer_no FROM {s} s JOIN {c} c "  # noqa: S608
                f"ON c.{model_col} = s.{stage_col} WHERE s.{stage_col} <> '' AND c.customer_no <> s.cust_no"
            )
            rows += fetch(
                f"SELECT s.line, s.{value}, s.cust_no, f.cust_no FROM {s} s JOIN {s} f "  # noqa: S608
                f"ON f.{stage_col} = s.{stage_col} AND f.line < s.line AND f.cust_no <> s.cust_no "
                f"WHERE s.{stage_col} <> ''"
            )
            done = set()
            for line, masked, cust_no, other in sorted(rows):
                if line in done:
                    continue
                done.add(line)
                self.report.reject(line, column, "", code, key=cust_no, masked=masked or "", other=other)
            if done:
                lines = sorted(done)
                self.report.rejected_lines += len(lines)
                for start in range(0, len(lines), 500):
                    chunk = lines[start : start + 500]
                    execute(f"DELETE FROM {s} WHERE line IN ({', '.join(['%s'] * len(chunk))})", chunk)  # noqa: S608
        # Which of the rows (all new or changed: unchanged ones were skipped) are customers already.
        execute(
            f"UPDATE {s} SET existed = %s FROM {c} c WHERE c.customer_no = {s}.cust_no",  # noqa: S608
            [True],
        )

    # The first pass: every row's key and keyed hash only -------------------------------------------------------
    def start_keys(self, header: list[str]) -> None:
        """Rows are compared by a keyed hash of the header and the row's text: an unchanged row (the same hash as
        the customer's last load) is not parsed, encrypted or written again."""
        self._hasher = hashlib.blake2b(key=_row_key(), digest_size=16)
        self._hasher.update("|".join(header).encode())
        self.keys = Stage("feed_stage_keys", [("line", "int"), ("cust_no", "text"), ("row_hash", "text")])

    def line_hash(self, fields: list[str]) -> str:
        h = self._hasher.copy()
        h.update("\x1f".join(fields).encode())
        return h.hexdigest()

    def key_row(self, line: int, get, fields) -> tuple:
        return (line, get(fields, "cust_no"), self.line_hash(fields))

    def lines_to_parse(self) -> tuple[set[int], bool]:
        """After the first pass: duplicates rejected; returns (lines, True) — parse only these — or (lines, False)
        — parse all but these —, whichever set is smaller. Also counts the unchanged rows."""
        k, c = qn(self.keys.name), table(Customer)
        duplicates = fetch(
            f"SELECT line, cust_no FROM {k} WHERE cust_no IN (SELECT cust_no FROM {k} WHERE cust_no <> '' "  # noqa: S608
            f"GROUP BY cust_no HAVING COUNT(*) > 1) ORDER BY cust_no, line"
        )
        groups: dict[str, list[int]] = {}
        for line, cust_no in duplicates:
            groups.setdefault(cust_no, []).append(line)
        for line, cust_no in duplicates:
            self.report.reject(
                line, "cust_no", cust_no, "duplicate", key=cust_no, lines=", ".join(map(str, groups[cust_no][:10]))
            )
        self.report.rejected_lines += len(duplicates)
        rejected = {line for line, _ in duplicates}
        same = f"EXISTS (SELECT 1 FROM {c} c WHERE c.customer_no = k.cust_no AND c.feed_hash = k.row_hash)"  # noqa: S608 - names from code
        total = fetch(f"SELECT COUNT(*) FROM {k}")[0][0]  # noqa: S608 - names from code
        unchanged = fetch(
            f"SELECT COUNT(*) FROM {k} k JOIN {c} c ON c.customer_no = k.cust_no AND c.feed_hash = k.row_hash"  # noqa: S608
        )[0][0]
        self.unchanged = int(unchanged)
        if self.unchanged * 2 >= total:
            lines = {r[0] for r in fetch(f"SELECT line FROM {k} k WHERE NOT {same}")} - rejected  # noqa: S608
            self.keys.drop()
            return lines, True
        lines = {r[0] for r in fetch(f"SELECT line FROM {k} k WHERE {same}")} | rejected  # noqa: S608
        self.keys.drop()
        return lines, False

    def notices(self) -> None:
        s, st, c, b = qn(self.stage.name), table(Staff), table(Customer), table(Branch)
        rm_ok = "st.employee_no = s.rm_staff_no AND st.role = 'rm' AND st.status = 'active'"
        for code, where in (
            ("no_rm", "s.rm_staff_no = ''"),
            ("unknown_rm", f"s.rm_staff_no <> '' AND NOT EXISTS (SELECT 1 FROM {st} st WHERE {rm_ok})"),  # noqa: S608
        ):
            rows = fetch(f"SELECT s.cust_no FROM {s} s WHERE {where} ORDER BY s.line")  # noqa: S608
            self.report.notice(code, len(rows), [r[0] for r in rows[:100]])
        if not fetch(f"SELECT 1 FROM {s} WHERE existed LIMIT 1"):  # noqa: S608 - names from code
            return  # all new (a first load): nothing to compare with
        rows = fetch(
            f"SELECT s.cust_no FROM {s} s JOIN {c} c ON c.customer_no = s.cust_no JOIN {st} st ON {rm_ok} "  # noqa: S608
            f"WHERE s.existed AND c.primary_rm_id IS NOT NULL AND c.primary_rm_id <> st.id ORDER BY s.line"
        )
        self.report.notice("rm_differs", len(rows), [r[0] for r in rows[:100]])
        rows = fetch(
            f"SELECT s.cust_no FROM {s} s JOIN {c} c ON c.customer_no = s.cust_no JOIN {b} b ON b.code = s.branch_code "  # noqa: S608
            f"WHERE s.existed AND c.branch_id <> b.id ORDER BY s.line"
        )
        self.report.notice("branch_differs", len(rows), [r[0] for r in rows[:100]])

    def apply(self) -> None:
        s, c, b, st = qn(self.stage.name), table(Customer), table(Branch), table(Staff)
        self.report.loaded = self.count() + self.unchanged
        self.report.notices["unchanged"] = {"count": self.unchanged, "sample": []}
        self.notices()
        day = self.day if is_pg() else self.day.isoformat()
        now = self.now if is_pg() else _sqlite_ts(self.now)
        rm_join = f"LEFT JOIN {st} st ON st.employee_no = s.rm_staff_no AND st.role = 'rm' AND st.status = 'active'"
        # Customers the CRM holds: what changed is rewritten; the branch and the portfolio stay the CRM's (a
        # customer without an RM takes the one the file names).
        updated = (
            ("kind", "kind"), ("name", "name"), ("id_type", "id_type"), ("id_number_enc", "id_enc"),
            ("id_number_hash", "id_hash"), ("id_number_masked", "id_masked"), ("id_last4", "id_last4"),
            ("gender", "gender"), ("birth_date", "birth_date"), ("birth_md", "birth_md"),
            ("lunar_birth_md", "lunar_md"), ("mobile_enc", "mobile_enc"), ("mobile_hash", "mobile_hash"),
            ("mobile_masked", "mobile_masked"), ("risk_level", "risk_level"), ("risk_assessed_on", "risk_assessed_on"),
            ("risk_expires_on", "risk_expires_on"), ("occupation", "occupation"), ("address", "address"),
            ("credit_code", "uscc"), ("legal_representative", "legal_rep"), ("industry", "industry"),
            ("feed_hash", "row_hash"),
        )  # fmt: skip
        set_sql = ", ".join(f"{qn(target)} = s.{qn(source)}" for target, source in updated)
        closed_date = "CAST(%s AS DATE)" if is_pg() else "%s"
        changed = execute(
            f"UPDATE {c} SET {set_sql}, updated_at = %s, updated_by_id = NULL, "  # noqa: S608 - names from code
            f"closed_on = CASE WHEN s.closed THEN COALESCE({c}.closed_on, {closed_date}) ELSE NULL END, "
            f"primary_rm_id = COALESCE({c}.primary_rm_id, st.id) "
            f"FROM {s} s {rm_join} WHERE {c}.customer_no = s.cust_no AND s.existed",
            [now, day],
        )
        # New customers: a plain INSERT; a first load (many new rows at once) rebuilds the plain indexes after it.
        new = fetch(f"SELECT COUNT(*) FROM {s} WHERE NOT existed")[0][0]  # noqa: S608 - names from code
        bulk = new >= max(BULK_MIN_ROWS, estimated_rows(Customer) // 4)
        history = Customer.history.model
        with plain_indexes_rebuilt(Customer, history, Assignment, references_checked=True) if bulk else nullcontext():
            changed += execute(
                f"INSERT INTO {c} (customer_no, kind, name, branch_id, primary_rm_id, lifecycle, lifecycle_manual, "  # noqa: S608
                "closed_on, feed_hash, aum, notes, id_type, id_number_enc, id_number_hash, id_number_masked, "
                "id_last4, gender, birth_date, lunar_birthday, birth_md, lunar_birth_md, occupation, address, "
                "risk_level, risk_assessed_on, risk_expires_on, mobile_enc, mobile_hash, mobile_masked, credit_code, "
                "legal_representative, industry, contact_person, created_at, updated_at, updated_by_id) "
                f"SELECT s.cust_no, s.kind, s.name, b.id, st.id, %s, %s, CASE WHEN s.closed THEN {closed_date} END, "
                "s.row_hash, 0, '', s.id_type, s.id_enc, s.id_hash, s.id_masked, s.id_last4, s.gender, s.birth_date, "
                "%s, s.birth_md, s.lunar_md, s.occupation, s.address, s.risk_level, s.risk_assessed_on, "
                "s.risk_expires_on, s.mobile_enc, s.mobile_hash, s.mobile_masked, s.uscc, s.legal_rep, s.industry, "
                f"'', s.created_at, %s, NULL FROM {s} s JOIN {b} b ON b.code = s.branch_code {rm_join} "
                "WHERE NOT s.existed",
                [Customer.Lifecycle.PROSPECT, False, day, False, now],
            )
            self.report.changed = changed
            self._portfolio_and_history(now)

    def _portfolio_and_history(self, now) -> None:
        s, c = qn(self.stage.name), table(Customer)
        if not self.report.changed:
            return
        # The portfolio: a customer who now has a primary RM and no current primary assignment gets one.
        a = table(Assignment)
        execute(
            f"INSERT INTO {a} (customer_id, staff_id, role, started_at, reason, end_reason) "  # noqa: S608
            f"SELECT c.id, c.primary_rm_id, %s, %s, %s, '' FROM {c} c JOIN {s} s ON s.cust_no = c.customer_no "
            f"WHERE s.changed AND c.primary_rm_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {a} x WHERE "
            f"x.customer_id = c.id AND x.role = %s AND x.ended_at IS NULL)",
            [Assignment.Role.PRIMARY, now, f"feed: {self.file_name}"[:200], Assignment.Role.PRIMARY],
        )
        # Every change in the customer's history, as the feed's system actor (no user).
        history = Customer.history.model
        tracked = [
            f.column for f in history._meta.concrete_fields if not f.column.startswith("history_") and f.column != "id"
        ]
        columns = ", ".join(qn(col) for col in ["id", *tracked])
        select = ", ".join(f"c.{qn(col)}" for col in ["id", *tracked])
        execute(
            f"INSERT INTO {table(history)} ({columns}, history_date, history_change_reason, history_type, "  # noqa: S608
            f"history_user_id) SELECT {select}, %s, %s, CASE WHEN s.existed THEN '~' ELSE '+' END, NULL "
            f"FROM {c} c JOIN {s} s ON s.cust_no = c.customer_no WHERE s.changed",
            [now, f"feed: {self.file_name}"[:100]],
        )


class HoldingLoader(KindLoader):
    written = (Holding,)
    kind = Kind.HOLD
    key_column = "cust_no"
    columns = [
        ("cust_no", "text"), ("product_code", "text"), ("acct_hash", "text"), ("acct_last4", "text"),
        ("acct_masked", "text"), ("amount", "num"), ("opened_on", "date"), ("matures_on", "date"),
        ("customer_id", "bigint"), ("product_id", "bigint"),
    ]  # fmt: skip

    def parse(self, line, get, fields):
        cust_no = get.required(fields, "cust_no")
        code = get.required(fields, "product_code")
        account = get.required(fields, "account_no").replace(" ", "")
        if not ACCOUNT_RE.match(account):
            raise RowError("account_no", "account")
        raw_amount = get.required(fields, "amount")
        amount = _amount(raw_amount, "amount")
        opened = _date(get(fields, "opened_on"), "opened_on")
        matures = _date(get(fields, "matures_on"), "matures_on")
        if matures and opened and matures < opened:
            raise RowError("matures_on", "maturity_before_open")
        return (line, cust_no, code, account_hash(account), account[-4:], masking.mask_account(account), amount,
                opened, matures, None, None)  # fmt: skip

    def validate(self) -> None:
        s, p = qn(self.stage.name), table(Product)
        self.reject_duplicates("acct_hash", "product_code", column="account_no")
        self.resolve_customers()
        execute(f"UPDATE {s} SET product_id = p.id FROM {p} p WHERE p.code = {s}.product_code")  # noqa: S608
        self._reject_where("product_id IS NULL", "product_code", "unknown_product", "product_code")

    def apply(self) -> None:
        s, h = qn(self.stage.name), table(Holding)
        self.report.loaded = self.count()
        day = self.day if is_pg() else self.day.isoformat()
        same_key = f"{h}.account_no_hash = s.acct_hash AND {h}.product_id = s.product_id"
        # What changed is rewritten; an opening date the file leaves empty keeps the one held.
        changed = (
            f"{h}.amount <> s.amount OR {h}.customer_id <> s.customer_id OR {h}.closed_on IS NOT NULL OR "
            f"{h}.opened_on <> COALESCE(s.opened_on, {h}.opened_on) OR {h}.maturity_on <> s.matures_on OR "
            f"({h}.maturity_on IS NULL) <> (s.matures_on IS NULL)"
        )
        updated = execute(
            f"UPDATE {h} SET customer_id = s.customer_id, amount = s.amount, "  # noqa: S608 - names from code
            f"opened_on = COALESCE(s.opened_on, {h}.opened_on), maturity_on = s.matures_on, as_of = %s, "
            f"closed_on = NULL FROM {s} s WHERE {same_key} AND ({changed})",
            [day],
        )
        staged = self.report.loaded
        bulk = staged >= BULK_MIN_ROWS and estimated_rows(Holding) * 2 < staged  # a first load
        with plain_indexes_rebuilt(Holding, references_checked=True) if bulk else nullcontext():
            inserted = self._insert_new(day, same_key)
        self.report.changed = updated + inserted
        self._close_absent(day)

    def _insert_new(self, day, same_key) -> int:
        s, h = qn(self.stage.name), table(Holding)
        return execute(
            f"INSERT INTO {h} (customer_id, product_id, amount, account_no_masked, account_no_hash, account_last4, "  # noqa: S608
            f"opened_on, maturity_on, as_of, closed_on) SELECT s.customer_id, s.product_id, s.amount, s.acct_masked, "
            f"s.acct_hash, s.acct_last4, COALESCE(s.opened_on, %s), s.matures_on, %s, NULL FROM {s} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {h} WHERE {same_key})",
            [day, day],
        )

    def _close_absent(self, day) -> None:
        s, h = qn(self.stage.name), table(Holding)
        # A full snapshot: an open holding absent from it is closed on the business date.
        self.stage.index("acct_hash", "product_id")
        closed = execute(
            f"UPDATE {h} SET closed_on = %s WHERE closed_on IS NULL AND NOT EXISTS (SELECT 1 FROM {s} s "  # noqa: S608
            f"WHERE s.acct_hash = {h}.account_no_hash AND s.product_id = {h}.product_id)",
            [day],
        )
        self.report.notice("closed_holdings", closed, [])


class BalanceLoader(KindLoader):
    written = (AssetSnapshot,)
    kind = Kind.BAL
    key_column = "cust_no"
    columns = [("cust_no", "text"), ("aum", "num"), ("customer_id", "bigint")]

    def parse(self, line, get, fields):
        cust_no = get.required(fields, "cust_no")
        raw = get.required(fields, "aum")
        return (line, cust_no, _amount(raw, "aum"), None)

    def validate(self) -> None:
        self.reject_duplicates("cust_no", column="cust_no")
        self.resolve_customers()

    def apply(self, *, replacing: bool) -> None:
        s, a = qn(self.stage.name), table(AssetSnapshot)
        self.report.loaded = self.count()
        partitions.snapshot_partitions_ensure(self.day, self.day)
        day = self.day if is_pg() else self.day.isoformat()
        self.report.changed = execute(
            f"INSERT INTO {a} (customer_id, date, aum) SELECT customer_id, %s, aum FROM {s} WHERE true "  # noqa: S608
            f"ON CONFLICT (customer_id, date) DO UPDATE SET aum = excluded.aum WHERE {a}.aum <> excluded.aum",
            [day],
        )
        if replacing:
            # A corrected file for the date replaces it: snapshots of customers no longer in it go.
            self.stage.index("customer_id")
            removed = execute(
                f"DELETE FROM {a} WHERE date = %s AND NOT EXISTS (SELECT 1 FROM {s} s "  # noqa: S608
                f"WHERE s.customer_id = {a}.customer_id)",
                [day],
            )
            self.report.changed += removed
        # Current AUM follows in the chain after the load (customers.services.customers_refresh_aum): refreshing a
        # million customers is the dearest statement of the day and does not hold up the file.


class TransactionLoader(KindLoader):
    written = (LargeTransaction,)
    kind = Kind.TXN
    key_column = "cust_no"
    columns = [("cust_no", "text"), ("txn_time", "ts"), ("amount", "num"), ("channel", "text"), ("memo", "text"),
               ("customer_id", "bigint")]  # fmt: skip

    def parse(self, line, get, fields):
        cust_no = get.required(fields, "cust_no")
        raw_time = get.required(fields, "txn_time")
        at = _datetime(raw_time, "txn_time")
        if timezone.localtime(at).date() != self.day:
            raise RowError("txn_time", "txn_day")
        raw = get.required(fields, "amount")
        amount = _amount(raw, "amount", signed=True)
        return (line, cust_no, at if is_pg() else _sqlite_ts(at), amount, _text(get(fields, "channel"), "channel", 20),
                _text(get(fields, "memo"), "memo", 100), None)  # fmt: skip

    def validate(self) -> None:
        self.resolve_customers()

    def apply(self) -> None:
        s, t = qn(self.stage.name), table(LargeTransaction)
        self.report.loaded = self.count()
        day = self.day if is_pg() else self.day.isoformat()
        removed = execute(f"DELETE FROM {t} WHERE business_date = %s", [day])  # noqa: S608
        added = execute(
            f"INSERT INTO {t} (customer_id, business_date, txn_time, amount, channel, memo) "  # noqa: S608
            f"SELECT customer_id, %s, txn_time, amount, channel, memo FROM {s}",
            [day],
        )
        self.report.changed = added + removed


class ConsentLoader(KindLoader):
    """CONS: marketing consent per customer and channel. Not a snapshot: a customer and channel absent from the file
    keep what the CRM holds. The rows are checked here; the rules of applying them (already in force, older than
    the CRM's, the history, the withdrawal signal) are consent's own (``consent.services.consents_apply_staged``)."""

    written = (ConsentRecord, ConsentEvent)
    kind = Kind.CONS
    key_column = "cust_no"
    columns = [("cust_no", "text"), ("channel", "text"), ("state", "text"), ("effective_on", "date"),
               ("source", "text"), ("reference", "text"), ("customer_id", "bigint")]  # fmt: skip

    FIELDS = ("cust_no", "channel", "state", "effective_on", "source", "reference")

    def parse(self, line, get, fields):
        # A consent file has two rows per customer or so and few distinct values: the columns are found once per
        # header, the codes by one lookup each, the dates through a cache.
        if getattr(self, "_header", None) is not get.index:
            self._header, self._at = get.index, tuple(get.index.get(name) for name in self.FIELDS)
        cust_no, channel, state, day, source, reference = (fields[i].strip() if i is not None else "" for i in self._at)
        for name, value in (("cust_no", cust_no), ("channel", channel), ("state", state), ("effective_on", day)):
            if not value:
                raise RowError(name, "required")
        channel = _code(channel, "channel", contract.CONSENT_CHANNELS)
        state = _code(state, "state", contract.CONSENT_STATES)
        effective_on = _date_cached(day)
        if effective_on is None:
            raise RowError("effective_on", "date")
        if effective_on > self.day:
            raise RowError("effective_on", "future")
        source = _code(source, "source", contract.CONSENT_SOURCES)
        reference = _text(reference, "reference", REFERENCE_MAX)
        if not reference and source in REFERENCE_REQUIRED:
            raise RowError("reference", "reference_required")
        return (line, cust_no, channel, state, effective_on, source, reference, None)

    def validate(self) -> None:
        self.reject_duplicates("cust_no", "channel", column="cust_no")
        self.resolve_customers()

    def apply(self) -> None:
        self.report.loaded = self.count()
        result = consents_apply_staged(
            table=self.stage.name, via=ConsentEvent.Via.FEED, reason=f"feed: {self.file_name}", now=self.now
        )
        self.report.changed = result.changed
        self.report.notices["unchanged"] = {"count": result.unchanged, "sample": []}
        self.report.notice("consent_older", result.older, result.older_sample)
        self.report.notice("consent_withdrawn", result.withdrawn, [])


LOADERS = {
    Kind.PROD: ProductLoader,
    Kind.CUST: CustomerLoader,
    Kind.CONS: ConsentLoader,
    Kind.HOLD: HoldingLoader,
    Kind.BAL: BalanceLoader,
    Kind.TXN: TransactionLoader,
}


def _validation(column: str, error: ValidationError) -> RowError:
    first = error.error_list[0]
    message = first.message % first.params if first.params else first.message
    err = RowError(column, first.code or "invalid")
    err.message = message
    return err


def _sqlite_ts(value: datetime) -> str:
    return connection.ops.adapt_datetimefield_value(value)


def content_date_check(get, fields, line: int, day: date) -> None:
    """An optional data_date column must carry the file's business date on every row."""
    value = get(fields, "data_date")
    if value:
        try:
            found = _date(value, "data_date")
        except RowError:
            found = None
        if found != day:
            raise Structural("content_date", line=line, found=value[:20], named=f"{day:%Y-%m-%d}")
