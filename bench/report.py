"""Results: JSON lines, the Markdown summary, the query-count pins and the small/large comparison."""

import json
import math
import tomllib
from pathlib import Path

from .config import PINS_FILE, RESULTS_DIR


def pins() -> dict[str, int]:
    with open(PINS_FILE, "rb") as f:
        return tomllib.load(f).get("pages", {})


def latest(scale: str) -> Path | None:
    files = sorted(RESULTS_DIR.glob(f"*-{scale}.jsonl"))
    return files[-1] if files else None


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def compare_scales() -> list[dict]:
    """Pages whose query count differs between the latest small and large results. A difference between runs of
    the same commit fails the bench; between different commits it is only a warning (rerun the other scale)."""
    small, large = latest("small"), latest("large")
    if not small or not large:
        return []
    rows_s = {r["name"]: r for r in load(small) if r.get("kind") in ("page", "dashboard") and r.get("queries")}
    rows_l = {r["name"]: r for r in load(large) if r.get("kind") in ("page", "dashboard") and r.get("queries")}
    out = []
    for name in sorted(rows_s.keys() & rows_l.keys()):
        qs, ql = rows_s[name]["queries"], rows_l[name]["queries"]
        if qs != ql:
            same = rows_s[name].get("commit") == rows_l[name].get("commit")
            out.append({"name": name, "small": qs, "large": ql, "same_commit": same, "files": [small.name, large.name]})
    return out


def _ms(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _verdict(value, budget, unit) -> str:
    if value is None:
        return "–"
    if value <= budget:
        return f"ok ({_ms(value)} ≤ {budget} {unit})"
    return f"**over** ({_ms(value)} > {budget} {unit}, {value / budget:.1f}×)"


def markdown(rows: list[dict], *, header: dict, problems: list[str]) -> str:
    from .pages import PAGES

    order = {page.name: i for i, page in enumerate(PAGES)}
    pages = sorted((r for r in rows if r.get("kind") in ("page", "dashboard")), key=lambda r: order.get(r["name"], 999))
    loads = {(r["name"], r["concurrency"]): r for r in rows if r.get("kind") == "load"}
    jobs = [r for r in rows if r.get("kind") in ("job", "seed")]
    out = [
        f"# Bench {header['scale']} — {header['date']}",
        "",
        f"Machine: {header['machine']}. Commit {header['commit']}.",
        f"Data: {header['data']}.",
        "",
        "Pages: server time over sequential requests (ms), queries per request (pin), response size, and wrk "
        "throughput (requests/s) with its 99th percentile latency at 8 and 32 concurrent clients.",
        "",
        "| page | login | n | p50 | p95 | max | queries (pin) | KB | rps@8 | p99@8 | rps@32 | p99@32 | budget p95 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    if not pages:  # a run of other sections only
        out = out[:4]
    for r in pages:
        if r.get("missing"):
            out.append(f"| {r['name']} | {r.get('login', '')} | | | | | | | | | | | missing: {r['missing']} |")
            continue
        l8, l32 = loads.get((r["name"], 8), {}), loads.get((r["name"], 32), {})
        status = "" if r.get("status") == 200 else f" HTTP {r.get('status')}"
        out.append(
            f"| {r['name']} | {r['login']} | {r['n']} | {_ms(r['p50'])} | {_ms(r['p95'])} | {_ms(r['max'])} | "
            f"{r['queries']} ({r.get('pin') or '–'}) | {r['bytes'] / 1024:.0f} | {_ms(l8.get('rps'))} | "
            f"{_ms(l8.get('p99'))} | {_ms(l32.get('rps'))} | {_ms(l32.get('p99'))} | "
            f"{_verdict(r['p95'], r['budget'], 'ms')}{status} |"
        )
    if jobs:
        out += ["", "| job | seconds | result | budget |", "|---|--:|---|---|"]
    for r in jobs:
        if r.get("see"):
            out.append(f"| {r['name']} | | see {r['see']} | |")
            continue
        if r.get("missing"):
            out.append(f"| {r['name']} | | missing: {r['missing']} | |")
            continue
        result = json.dumps(r.get("rows"), ensure_ascii=False) if r.get("rows") is not None else ""
        budget = _verdict(r["seconds"], r["budget"], "s") if r.get("budget") else "–"
        note = " (reused data set; time of its seeding)" if r.get("reused") else ""
        out.append(f"| {r['name']}{note} | {_ms(r['seconds'])} | {result} | {budget} |")
    out += feed_markdown(rows)
    out += ["", "## Checks", ""]
    out += [f"- {p}" for p in problems] or ["- every page answered 200 within its query-count pin"]
    return "\n".join(out) + "\n"


def feed_markdown(rows: list[dict]) -> list[str]:
    """The feed section (bench/feed.py): each load in a subprocess of its own, its wall time and peak memory, its
    rate next to PostgreSQL's own COPY of the same rows."""
    feed = [r for r in rows if r.get("kind") == "feed"]
    if not feed:
        return []
    out = [""]
    customers = next((r["rows"] for r in rows if r.get("kind") == "feed-data"), None)
    for r in rows:
        if r.get("kind") == "feed-data":
            files = ", ".join(f"{name} {size / 1024 / 1024:,.1f} MB" for name, size in r["bytes"].items())
            out.append(
                f"Feed: {r['rows']:,} customers, {r['holdings']:,} holdings, {r['branches']} branches, {r['staff']} "
                f"staff, on the database {r['database']} (setup {r['setup_seconds']} s, files written in "
                f"{r['generate_seconds']} s): {files}."
            )
    copies = [r for r in rows if r.get("kind") == "feed-copy"]
    if copies:
        out.append(
            "PostgreSQL COPY of the same rows into an empty table of the same columns: "
            + ", ".join(f"{r['name'].rsplit(', ', 1)[-1]} {r['rows_per_s']:,} rows/s" for r in copies)
            + "."
        )
    out += [
        "",
        "| feed | rows | seconds | rows/s | than COPY | max RSS MB | status | budget |",
        "|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in feed:
        if r.get("missing"):
            out.append(f"| {r['name']} | | | | | | missing: {r['missing']} | |")
            continue
        if r.get("budget") is None:
            budget = "–"
        elif (r.get("file", "").endswith(".xlsx") and r.get("rows") != r.get("budget_rows")) or (
            not r.get("file", "").endswith(".xlsx") and customers != 1_000_000 and r.get("budget_rows")
        ):
            budget = f"{r['budget']} s at {r['budget_rows']:,} rows"  # a smaller bank or file: no verdict
        else:
            budget = _verdict(r["seconds"], r["budget"], "s")
        steps = r.get("steps")
        status = r.get("status") or ""
        if steps:
            status = ", ".join(f"{k} {v['seconds']} s" for k, v in steps.items())
        rate = f"{r['rows_per_s']:,}" if r.get("rows_per_s") else "–"
        ratio = f"{1 / r['vs_copy']:,.0f}× slower" if r.get("vs_copy") and r.get("status") == "loaded" else "–"
        out.append(
            f"| {r['name']} | {r.get('rows') or 0:,} | {_ms(r['seconds'])} | {rate} | {ratio} | "
            f"{r.get('max_rss_mb', '–')} | {status} | {budget} |"
        )
    return out
