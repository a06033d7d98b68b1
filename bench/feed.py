"""The feed section of the bench: the core-banking extracts loaded by ``manage.py load_extract`` (docs/feed.md).

On a database of its own (``crm_bench_feed``, dropped and created each run, migrated, with 50 branches, 500 staff
and the products of the PROD file), synthetic files of N customers (BENCH_FEED_ROWS, else the scale's customer
count) are written with ``feed.writer``, then loaded one by one, each in a subprocess of its own so that its peak
memory is measured alone (``os.wait4`` returns the child's own resource usage):

    day 1: PROD, CUST (first load of N customers), CONS (1.8 × N consents), HOLD (1.8 × N), BAL (N), TXN, then the
           chain after the day's load (feed.chain's steps, run one after another in a subprocess): every customer's
           first tier and stage
    day 2: PROD, CUST (1 % of the rows changed), the same CUST again (nothing to do), CONS (0.1 % changed), HOLD,
           BAL, TXN, then the chain again: the daily one, with its budget
    day 3: PROD, CUST as an uploaded workbook (XLSX, 100,000 rows at most: min(N, 100,000))

and PostgreSQL's own COPY of the same rows (a TSV made beforehand) into an empty table of the same columns and
types gives the rate the loads are compared with. One JSON line per measurement.

The generator is deterministic and fast: valid GB 11643-1999 resident IDs (check digit, gender and birth date
agreeing), GB 32100-2015 credit codes, mobile numbers, and the branch codes and staff numbers the setup created.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from .config import FEED_BUDGET_S, FEED_RSS_BUDGET_MB, FEED_XLSX_ROWS, PYTHON, ROOT, WORK_DIR

FEED_DIR = WORK_DIR / "feed"
QUEUE = "bench-feed"

# -- the organisation of the bench database --------------------------------------------------------------------
SUB_BRANCHES = 7
OUTLETS_PER_SUB = 6  # 1 分行 + 7 支行 + 42 网点 = 50 branches
OUTLETS = SUB_BRANCHES * OUTLETS_PER_SUB
STAFF = 500
NON_RMS = 2 + SUB_BRANCHES + OUTLETS  # admin and the 分行's head, a head for each 支行 and 网点
RMS = STAFF - NON_RMS


def top_code() -> str:
    return "330000"


def sub_code(s: int) -> str:
    return f"33{s + 1:02d}00"


def outlet_code(o: int) -> str:
    return f"33{o // OUTLETS_PER_SUB + 1:02d}{o % OUTLETS_PER_SUB + 1:02d}"


def rm_no(r: int) -> str:
    return f"R{r:05d}"


def _rms_of_outlet(o: int) -> list[int]:
    return list(range(o, RMS, OUTLETS))  # RM r works at outlet r % OUTLETS


# -- the synthetic extracts ------------------------------------------------------------------------------------
class Synth:
    """Rows of customer i on a business day, as tuples in the contract's column order."""

    ID_SPAN = 18_000_000  # 18,000 birth days × 1,000 sequence numbers per area code

    def __init__(self):
        from customers.validators import ID_WEIGHTS
        from demo.customers import AREAS, MOBILE_PREFIXES, OCCUPATIONS, PRODUCTS, STREETS
        from demo.organisation import GIVEN, SURNAMES

        self.weights = ID_WEIGHTS
        self.areas = AREAS
        self.area_sums = [sum(int(d) * w for d, w in zip(a, ID_WEIGHTS[:6], strict=True)) for a in AREAS]
        first = date(1950, 1, 1)
        self.births = [first + timedelta(days=k) for k in range(18_000)]
        self.birth_text = [f"{d:%Y%m%d}" for d in self.births]
        self.birth_sums = [sum(int(c) * w for c, w in zip(t, ID_WEIGHTS[6:14], strict=True)) for t in self.birth_text]
        self.mobiles = MOBILE_PREFIXES
        self.occupations = OCCUPATIONS
        self.streets = STREETS
        self.products = PRODUCTS
        self.surnames, self.given = SURNAMES, GIVEN
        self.outlets = [outlet_code(o) for o in range(OUTLETS)]
        self.rms = [[rm_no(r) for r in _rms_of_outlet(o)] for o in range(OUTLETS)]

    # Identifiers -------------------------------------------------------------------------------------------------
    def resident_id(self, i: int) -> tuple[str, str, str]:
        """(number, birth date YYYYMMDD, gender) of customer i: a bijection of i below 16 × 18,000,000."""
        j = (i * 7919) % self.ID_SPAN
        a = (i // self.ID_SPAN) % len(self.areas)
        b, seq = divmod(j, 1000)
        s = f"{seq:03d}"
        w = self.weights
        total = self.area_sums[a] + self.birth_sums[b] + int(s[0]) * w[14] + int(s[1]) * w[15] + int(s[2]) * w[16]
        check = "10X98765432"[total % 11]
        return f"{self.areas[a]}{self.birth_text[b]}{s}{check}", self.birth_text[b], "M" if seq % 2 else "F"

    @staticmethod
    def credit_code(i: int) -> str:
        from customers.validators import uscc_check_char

        first17 = f"91330100{i % 10**9:09d}"
        return first17 + uscc_check_char(first17)

    def mobile(self, i: int) -> str:
        return self.mobiles[i % len(self.mobiles)] + f"{(i * 7919 + 13) % 10**8:08d}"

    @staticmethod
    def cust_no(i: int) -> str:
        return f"6{i:011d}"

    # Rows --------------------------------------------------------------------------------------------------------
    def cust(self, i: int, day: date) -> tuple:
        """A customer's row. 1 % of the customers change each day: the address's version steps when
        (day + i) crosses a multiple of 100."""
        version = (day.toordinal() + i) // 100
        o = i % OUTLETS
        rms = self.rms[o]
        rm = "" if i % 50 == 7 else rms[(i // OUTLETS) % len(rms)]
        name = self.surnames[i % len(self.surnames)] + self.given[(i * 31 + 7) % len(self.given)]
        opened = f"{date(2010, 1, 1) + timedelta(days=(i * 37) % 5000):%Y%m%d}"
        address = f"浙江省杭州市{self.streets[i % len(self.streets)]}{version % 997 + 1}号"
        mobile = self.mobile(i)
        if i % 20 == 19:  # a corporate customer
            return (self.cust_no(i), "C", f"杭州{name}贸易有限公司", "", "", "", "", mobile, self.outlets[o], rm,
                    opened, "", "", "", address, self.credit_code(i), name, "批发和零售业", "N")  # fmt: skip
        number, birth, gender = self.resident_id(i)
        risk = f"C{i % 5 + 1}"
        assessed = f"{date(2025, 1, 1) + timedelta(days=(i * 13) % 600):%Y%m%d}"
        return (self.cust_no(i), "P", name, "ID", number, gender, birth, mobile, self.outlets[o], rm, opened, risk,
                assessed, self.occupations[i % len(self.occupations)], address, "", "", "", "N")  # fmt: skip

    def holdings(self, i: int, day: date):
        """1.8 holdings a customer on average (two for four customers in five, one for the fifth); 5 % of the
        amounts change each day."""
        for j in range(1 if i % 5 == 4 else 2):
            code, _name, _category, _risk, term = self.products[(i + j * 7) % len(self.products)]
            opened = date(2024, 1, 1) + timedelta(days=(i * 13 + j * 101) % 1000)
            matures = opened + timedelta(days=term) if term else None
            base = 1000 + (i * 7919 + j * 104729) % 500_000
            version = (day.toordinal() + i * 3 + j) // 20
            body = f"6222{i:012d}{j:02d}"
            yield (self.cust_no(i), code, body + _luhn(body), f"{base + version % 100}.{(i + j) % 100:02d}",
                   f"{opened:%Y%m%d}", f"{matures:%Y%m%d}" if matures else "")  # fmt: skip

    @staticmethod
    def aum(i: int, day: date) -> str:
        # Spread over 100 to 10,000,000 (log-uniform), drifting within ±0.5 % from day to day.
        base = 10 ** (2 + 5 * ((i * 0.6180339887) % 1))
        drift = 1 + (((i * 7919 + day.toordinal() * 104729) % 21) - 10) / 2000
        return f"{base * drift:.2f}"

    def txn(self, n: int, day: date):
        count = max(10, n // 1000)
        for k in range(count):
            i = (k * 7919) % n
            at = f"{day:%Y%m%d}{9 + k % 8:02d}{(k * 7) % 60:02d}{(k * 13) % 60:02d}"
            amount = (200_000 + (k * 104729) % 2_000_000) * (-1 if k % 2 else 1)
            yield (self.cust_no(i), at, f"{amount}.00", ("柜面", "手机银行", "网上银行")[k % 3], "大额转账")

    # Marketing consent: SMS for 4 customers in 5, phone for 7 in 10, WeChat for 3 in 10. Each customer's consent on
    # a channel runs in cycles of CONSENT_CYCLE days, given for CONSENT_GIVEN of them (at the counter) and withdrawn
    # for the rest (a recorded call), each customer at their own phase: about 10 % withdrawn on any day, and 0.1 %
    # of the rows changing from one day to the next (a realistic daily delta).
    CONSENT_CHANNELS = (("SMS", 800, 0), ("PHONE", 700, 11), ("WECHAT", 300, 23))
    CONSENT_CYCLE, CONSENT_GIVEN = 2000, 1800

    def cons(self, i: int, day: date):
        for channel, share, salt in self.CONSENT_CHANNELS:
            if (i * 2654435761 + salt) % 1000 >= share:
                continue
            phase = (i * 7919 + salt) % self.CONSENT_CYCLE
            t = day.toordinal() + phase
            start, position = t - t % self.CONSENT_CYCLE - phase, t % self.CONSENT_CYCLE
            if position < self.CONSENT_GIVEN:
                yield (self.cust_no(i), channel, "Y", f"{date.fromordinal(start):%Y%m%d}", "COUNTER", f"GM{i}")
            else:
                since = date.fromordinal(start + self.CONSENT_GIVEN)
                yield (self.cust_no(i), channel, "N", f"{since:%Y%m%d}", "RECORDING", f"REC{i}-{since:%Y%m%d}")

    def prod(self):
        for code, name, category, risk, _term in self.products:
            yield (code, name, category, risk)


def _luhn(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        d = int(char)
        if position % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def write_day(
    synth: Synth, directory: Path, n: int, day: date, kinds=("PROD", "CUST", "CONS", "HOLD", "BAL", "TXN")
) -> dict:
    from feed.writer import write_extract

    rows = {
        "PROD": lambda: synth.prod(),
        "CUST": lambda: (synth.cust(i, day) for i in range(n)),
        "CONS": lambda: (c for i in range(n) for c in synth.cons(i, day)),
        "HOLD": lambda: (h for i in range(n) for h in synth.holdings(i, day)),
        "BAL": lambda: ((synth.cust_no(i), synth.aum(i, day)) for i in range(n)),
        "TXN": lambda: synth.txn(n, day),
    }
    return {kind: write_extract(directory, kind, day, rows[kind]()) for kind in kinds}


def write_xlsx(path: Path, synth: Synth, rows: int, day: date) -> Path:
    """A CUST workbook as staff would upload it (write-only mode: the rows are streamed, not held)."""
    from openpyxl import Workbook

    from feed.contract import column_names

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("CUST")
    sheet.append(column_names("CUST"))
    for i in range(rows):
        sheet.append(list(synth.cust(i, day)))
    workbook.save(path)
    return path


def write_tsv(source: Path, target: Path) -> int:
    """The rows of an extract file as a UTF-8 TSV for COPY (header left out); returns the rows."""
    count = 0
    with open(source, "rb") as src, open(target, "w", encoding="utf-8") as dst:
        src.readline()
        for raw in src:
            dst.write(raw.decode("gb18030").replace("|", "\t"))
            count += 1
    return count


# Column types of the tables COPY fills: those of the columns the rows end up in.
COPY_TYPES = {
    "CUST": {"cust_no": "varchar(20)", "cust_type": "varchar(1)", "name": "varchar(100)", "id_type": "varchar(2)",
             "id_no": "varchar(40)", "gender": "varchar(1)", "birth_date": "date", "mobile": "varchar(20)",
             "branch_code": "varchar(20)", "rm_staff_no": "varchar(20)", "open_date": "date",
             "risk_level": "varchar(2)", "risk_assessed_on": "date", "occupation": "varchar(50)",
             "address": "varchar(200)", "uscc": "varchar(18)", "legal_rep": "varchar(50)",
             "industry": "varchar(50)", "status": "varchar(1)"},
    "HOLD": {"cust_no": "varchar(20)", "product_code": "varchar(30)", "account_no": "varchar(40)",
             "amount": "numeric(18,2)", "opened_on": "date", "matures_on": "date"},
    "BAL": {"cust_no": "varchar(20)", "aum": "numeric(18,2)"},
}  # fmt: skip


def copy_rate(url: str, kind: str, tsv: Path, rows: int) -> dict:
    """COPY of the TSV into an empty table with the extract's columns and types (no index, no constraint)."""
    from .dataset import _connect

    table = f"bench_copy_{kind.lower()}"
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in COPY_TYPES[kind].items())
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE TABLE {table} ({columns})")
            conn.commit()
            started = time.perf_counter()
            with open(tsv, encoding="utf-8") as f:
                cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT text, NULL '')", f, size=1024 * 1024)
            conn.commit()
            seconds = time.perf_counter() - started
            cur.execute(f"DROP TABLE {table}")
            conn.commit()
    finally:
        conn.close()
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


# -- running and measuring -------------------------------------------------------------------------------------
def feed_database_url(env: dict) -> str:
    if os.environ.get("BENCH_FEED_DATABASE_URL"):
        return os.environ["BENCH_FEED_DATABASE_URL"]
    u = urlparse(env["DATABASE_URL"])
    return urlunparse(u._replace(path="/crm_bench_feed"))


def database_recreate(url: str) -> None:
    from .dataset import _connect

    name = urlparse(url).path.lstrip("/")
    conn = _connect(url, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def run_measured(args: list[str], env: dict, log_file: Path) -> dict:
    """Run a subprocess; its wall time, exit status and its own peak resident memory (``os.wait4``)."""
    with open(log_file, "ab") as out:
        out.write(f"\n$ {' '.join(args)}\n".encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "returncode": proc.returncode, "max_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def last_load(url: str) -> dict:
    from .dataset import _connect

    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT status, rows_read, rows_loaded, rows_changed, rows_rejected, error_code, message_en, "
                "EXTRACT(EPOCH FROM finished_at - started_at) FROM feed_load ORDER BY id DESC LIMIT 1"
            )
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return {"status": "no load recorded"}
    keys = ("status", "rows_read", "rows_loaded", "rows_changed", "rows_rejected", "error_code", "message")
    result = {k: v for k, v in zip(keys, row[:7], strict=True) if v not in ("", None)}
    if row[7] is not None:
        result["load_seconds"] = round(float(row[7]), 2)
    return result


def _budget_row(name: str, budget_key: str | None, rows: int, run: dict, load: dict, copy: dict | None) -> dict:
    seconds = run["seconds"]
    row = {"name": name, "kind": "feed", "rows": rows, "seconds": round(seconds, 2),
           "rows_per_s": round(rows / seconds) if seconds else None, "max_rss_mb": run["max_rss_mb"], **load}  # fmt: skip
    budget = FEED_BUDGET_S.get(budget_key) if budget_key else None
    if budget is not None:
        row["budget"] = budget
        # The budgets are for a bank of 1,000,000 customers (1,800,000 holdings); the upload's for 100,000 rows.
        row["budget_rows"] = {"xlsx": FEED_XLSX_ROWS, "hold": 1_800_000, "cons": 1_800_000}.get(budget_key, 1_000_000)
    row["rss_budget_mb"] = FEED_RSS_BUDGET_MB
    if copy:
        row["copy_rows_per_s"] = copy["rows_per_s"]
        row["vs_copy"] = round(row["rows_per_s"] / copy["rows_per_s"], 3) if row["rows_per_s"] else None
    good = (
        run["returncode"] == 0
        and load.get("status") in ("loaded", "duplicate")
        and run["max_rss_mb"] <= (FEED_RSS_BUDGET_MB)
    )
    row["ok"] = good and (budget is None or seconds <= budget)
    if run["returncode"]:
        row["returncode"] = run["returncode"]
    return row


def feed_rows(scale) -> int:
    return int(os.environ.get("BENCH_FEED_ROWS") or scale.customers)


def measure_feed(scale, env: dict, *, out, log=print) -> None:
    n = feed_rows(scale)
    url = feed_database_url(env)
    feed_env = {**env, "DATABASE_URL": url, "CELERY_TASK_DEFAULT_QUEUE": QUEUE, "FEED_INBOX": str(FEED_DIR / "inbox"),
                "FEED_UPLOAD_DIR": str(FEED_DIR / "uploads")}  # fmt: skip
    files = FEED_DIR / "files"
    shutil.rmtree(FEED_DIR, ignore_errors=True)
    files.mkdir(parents=True)
    log_file = FEED_DIR / "commands.log"
    d2 = _today() - timedelta(days=1)
    d1, d3 = d2 - timedelta(days=1), d2 + timedelta(days=1)

    log(f"bench: feed: database {urlparse(url).path.lstrip('/')} (drop, create, migrate, organisation)")
    started = time.perf_counter()
    database_recreate(url)
    for args in (["manage.py", "migrate", "--noinput", "-v0"], ["-m", "bench.feed", "setup"]):
        run = run_measured([PYTHON, *args], feed_env, log_file)
        if run["returncode"]:
            out({"name": "feed: setup", "kind": "feed", "missing": f"{' '.join(args)} failed (see {log_file})",
                 "ok": False})  # fmt: skip
            return
    setup_seconds = time.perf_counter() - started

    log(f"bench: feed: writing the files of {n:,} customers")
    started = time.perf_counter()
    synth = Synth()
    paths = {d1: write_day(synth, files / "d1", n, d1), d2: write_day(synth, files / "d2", n, d2)}
    paths[d3] = write_day(synth, files / "d3", n, d3, kinds=("PROD",))
    xlsx_rows = min(n, int(os.environ.get("BENCH_FEED_XLSX_ROWS") or FEED_XLSX_ROWS))
    xlsx = write_xlsx(files / "d3" / f"CUST_{d3:%Y%m%d}.xlsx", synth, xlsx_rows, d3)
    generate_seconds = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for day in paths.values() for p in day.values()}
    sizes[xlsx.name] = xlsx.stat().st_size
    out({"name": "feed: data", "kind": "feed-data", "rows": n, "holdings": _rows(paths[d1]["HOLD"]),
         "bytes": sizes, "xlsx_rows": xlsx_rows, "setup_seconds": round(setup_seconds, 1),
         "generate_seconds": round(generate_seconds, 1), "branches": 1 + SUB_BRANCHES + OUTLETS, "staff": STAFF,
         "database": urlparse(url).path.lstrip("/")})  # fmt: skip

    copies = {}
    for kind in ("CUST", "HOLD", "BAL"):
        tsv = files / f"{kind}.tsv"
        rows = write_tsv(paths[d2][kind], tsv)
        log(f"bench: feed: PostgreSQL COPY of {rows:,} {kind} rows")
        copies[kind] = copy_rate(url, kind, tsv, rows)
        tsv.unlink()
        out({"name": f"feed: PostgreSQL COPY, {kind} columns", "kind": "feed-copy", **copies[kind]})

    def load(name, path: Path, kind: str, budget_key: str | None, *extra: str) -> dict:
        log(f"bench: feed: {name}")
        rows = xlsx_rows if path.suffix == ".xlsx" else _rows(path)
        run = run_measured([PYTHON, "manage.py", "load_extract", *extra, str(path)], feed_env, log_file)
        row = _budget_row(name, budget_key, rows, run, last_load(url), copies.get(kind))
        out({"file": path.name, **row})
        return row

    def run_chain(day: date, name: str, *, budget: bool = True) -> None:
        log(f"bench: feed: {name}: its steps one after another")
        target = FEED_DIR / f"chain-{day:%Y%m%d}.json"
        run = run_measured([PYTHON, "-m", "bench.feed", "chain", day.isoformat(), str(target)], feed_env, log_file)
        steps = json.loads(target.read_text()) if target.exists() else {}
        row = {"name": name, "kind": "feed", "rows": n, "seconds": round(run["seconds"], 2), "steps": steps,
               "max_rss_mb": run["max_rss_mb"], "ok": run["returncode"] == 0}  # fmt: skip
        if budget:
            row["budget"] = FEED_BUDGET_S["chain"]
            row["ok"] = row["ok"] and run["seconds"] <= row["budget"]
        if run["returncode"]:
            row["returncode"] = run["returncode"]
        out(row)

    load(f"feed: PROD of day 1 ({len(synth.products)} products)", _fresh(paths[d1]["PROD"]), "PROD", None)
    load(f"feed: CUST first load, {n:,} customers", _fresh(paths[d1]["CUST"]), "CUST", "cust_first")
    load(f"feed: CONS first load, {_rows(paths[d1]['CONS']):,} consents", _fresh(paths[d1]["CONS"]), "CONS",
         "cons")  # fmt: skip
    load(f"feed: HOLD first load, {_rows(paths[d1]['HOLD']):,} holdings", _fresh(paths[d1]["HOLD"]), "HOLD",
         "hold")  # fmt: skip
    load(f"feed: BAL first day, {n:,} balances", _fresh(paths[d1]["BAL"]), "BAL", "bal")
    load("feed: TXN of day 1", _fresh(paths[d1]["TXN"]), "TXN", None)
    # In production the chain runs after every day's load: day 1's gives every customer a tier and a lifecycle
    # stage for the first time (no budget), day 2's is the daily one.
    run_chain(d1, "feed: the chain after the first day's load (every customer's first tier and stage)", budget=False)
    load("feed: PROD of day 2", _fresh(paths[d2]["PROD"]), "PROD", None)
    cust2 = _fresh(paths[d2]["CUST"])
    load(f"feed: CUST daily, {n:,} rows, 1 % changed", cust2, "CUST", "cust_daily")
    load("feed: the same CUST file again (already loaded)", _fresh(paths[d2]["CUST"]), "CUST", "noop")
    load(f"feed: CONS daily, {_rows(paths[d2]['CONS']):,} consents, 0.1 % changed", _fresh(paths[d2]["CONS"]), "CONS",
         "cons")  # fmt: skip
    load(f"feed: HOLD daily, {_rows(paths[d2]['HOLD']):,} holdings", _fresh(paths[d2]["HOLD"]), "HOLD", "hold")
    load(f"feed: BAL daily, {n:,} balances", _fresh(paths[d2]["BAL"]), "BAL", "bal")
    load("feed: TXN of day 2", _fresh(paths[d2]["TXN"]), "TXN", None)

    run_chain(d2, f"feed: the chain after a day's load (tiers, lifecycle, reminders, figures), {n:,} customers")

    load("feed: PROD of day 3", _fresh(paths[d3]["PROD"]), "PROD", None)
    # An upload: the loader's upload path (no control file), as the upload task runs it.
    name = f"feed: CUST upload as XLSX, {xlsx_rows:,} rows"
    log(f"bench: feed: {name}")
    run = run_measured([PYTHON, "-m", "bench.feed", "upload", str(xlsx), "CUST", d3.isoformat()], feed_env, log_file)
    out({"file": xlsx.name, **_budget_row(name, "xlsx", xlsx_rows, run, last_load(url), copies.get("CUST"))})
    _queue_cleanup(env)


def _rows(path: Path) -> int:
    from feed.writer import read_control

    return read_control(path)[0]


def _fresh(path: Path) -> Path:
    """A copy of the file and its control file in a folder of its own: the loader may move what it loaded."""
    target = path.parent / "load" / f"{time.monotonic_ns()}" / path.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(path, target)
    shutil.copyfile(str(path) + ".ok", str(target) + ".ok")
    return target


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def _queue_cleanup(env: dict) -> None:
    """The loads after BAL and TXN sent the chain to the broker, on a queue nobody reads: dropped."""
    try:
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(QUEUE)
    except Exception:  # noqa: BLE001, S110 - nothing to clean when Redis is not there
        pass


# -- run inside the feed database (python -m bench.feed …) -----------------------------------------------------
def setup() -> None:
    """50 branches and 500 staff (no passwords: nobody signs in), through the organisation's services."""
    from organisation import services
    from organisation.access import SYSTEM
    from organisation.models import Branch, Staff

    top = services.branch_create(actor=SYSTEM, code=top_code(), name="基准银行杭州分行", level=Branch.Level.BRANCH)
    staff = [("A0001", "总行管理员", top, Staff.Role.ADMIN), ("H0001", "分行行长", top, Staff.Role.HEAD)]
    outlets = []
    for s in range(SUB_BRANCHES):
        sub = services.branch_create(
            actor=SYSTEM, code=sub_code(s), name=f"基准第{s + 1}支行", level=Branch.Level.SUB_BRANCH, parent=top
        )
        staff.append((f"H{sub.code}", f"支行行长{s + 1}", sub, Staff.Role.HEAD))
        for k in range(OUTLETS_PER_SUB):
            o = s * OUTLETS_PER_SUB + k
            outlet = services.branch_create(
                actor=SYSTEM, code=outlet_code(o), name=f"基准第{s + 1}支行第{k + 1}网点", level=Branch.Level.OUTLET,
                parent=sub,
            )  # fmt: skip
            outlets.append(outlet)
            staff.append((f"H{outlet.code}", f"网点主任{o + 1}", outlet, Staff.Role.HEAD))
    staff += [(rm_no(r), f"客户经理{r + 1}", outlets[r % OUTLETS], Staff.Role.RM) for r in range(RMS)]
    for employee_no, name, branch, role in staff:
        services.staff_create(
            actor=SYSTEM, username=employee_no.lower(), password=None, employee_no=employee_no, name=name,
            branch=branch, role=role,
        )  # fmt: skip


def chain(day: str, target: str) -> None:
    """feed.chain's steps for the business date, one after another in this process, each timed."""
    from feed import chain as feed_chain

    steps = {}
    for name, task in (("tiers", feed_chain.tiers), ("lifecycle", feed_chain.lifecycle_step),
                       ("reminders", feed_chain.reminders), ("figures", feed_chain.figures)):  # fmt: skip
        started = time.perf_counter()
        result = task(day)
        steps[name] = {"seconds": round(time.perf_counter() - started, 2), "result": result}
        Path(target).write_text(json.dumps(steps, default=str, ensure_ascii=False))


def upload(path: str, kind: str, day: str) -> None:
    """Load a file as an upload is loaded: kind and date given, no control file."""
    from feed.loader import load_file
    from feed.models import Load

    load_file(Path(path), kind=kind, business_date=date.fromisoformat(day), source=Load.Source.UPLOAD, control=False)


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    django.setup()
    if argv[:1] == ["setup"]:
        setup()
    elif argv[:1] == ["chain"]:
        chain(argv[1], argv[2])
    elif argv[:1] == ["upload"]:
        upload(*argv[1:4])
    else:
        print("usage: python -m bench.feed setup | chain DATE OUT.json | upload PATH KIND DATE", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
