"""``python -m bench`` (``make bench``): seed or reuse, measure pages and jobs, write the results.

    BENCH_SCALE=small|large   data set size (default small)
    BENCH_ONLY=pages,load,jobs,feed  a subset of the measurements (default all)
    BENCH_PAGES=regex         only the pages whose name matches
    BENCH_REQUESTS=n          sequential requests per page (default 200)
    BENCH_PAGE_SECONDS=s      stop a page's sequential requests after s seconds, once 20 are done (default 120)
    BENCH_TAG=name            write <date>-<scale>-<name>.jsonl/.md (a partial run) instead of <date>-<scale>
    BENCH_FEED_ROWS=n         customers in the feed section's files (default: the scale's customers)

Exit status 1 when a page errors, runs more queries than its pin, or its query count differs between the small
and large results of the same commit. Timings never fail the run: they are compared with the budgets in the
summary.
"""

import json
import os
import platform
import re
import subprocess
import sys
import time

from .config import (
    DASHBOARD_BUDGET_MS,
    JOB_BUDGET_S,
    PAGE_BUDGET_MS,
    RESULTS_DIR,
    ROOT,
    SCALES,
    SEED,
    environment,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # a run from an exported tree (git archive) names its commit
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(  # the results the bench itself writes do not make the code dirty
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def _machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} cores{memory}, {platform.system()} {platform.machine()}, PostgreSQL {pg}, Python {platform.python_version()}"


def _data_sizes() -> dict:
    """Row counts: exact for the small tables, the planner's estimate (after ANALYZE) for the big ones."""
    from django.db import connection

    tables = {
        "customers": "customers_customer",
        "interactions": "relationships_interaction",
        "snapshots": "customers_assetsnapshot",
        "holdings": "customers_holding",
        "follow_ups": "relationships_followup",
        "staff": "relationships_staff",
        "branches": "relationships_branch",
        "complaints": "complaints_complaint",
    }
    sizes = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
            if row is None:
                continue
            estimate = row[0]
            if estimate < 200_000:
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
                estimate = cursor.fetchone()[0]
            sizes[label] = int(estimate)
    return sizes


def measure_pages(scale, env, *, only, page_filter, requests, out, page_seconds=120) -> None:
    from django.conf import settings

    from . import http
    from .pages import PAGES, resolve

    pins = _pins()
    targets = []
    for page in PAGES:
        if page_filter and not re.search(page_filter, page.name):
            continue
        budget = DASHBOARD_BUDGET_MS if page.kind == "dashboard" else PAGE_BUDGET_MS
        path, why = resolve(page)
        base = {"name": page.name, "kind": page.kind, "login": page.login, "budget": budget}
        if path is None:
            out({**base, "missing": why, "ok": None})
            continue
        targets.append((page, path, base))
    if not targets:
        return
    with http.gunicorn(env, log=log) as port:
        sessions, load_sessions = {}, {}
        for login in sorted({page.login for page, _, _ in targets}):
            sessions[login] = http.Session(port)
            sessions[login].login(login, settings.DEMO_PASSWORD)
            extra = []
            for _ in range(4):
                s = http.Session(port)
                s.login(login, settings.DEMO_PASSWORD)
                extra.append(s)
            load_sessions[login] = extra
        for page, path, base in targets:
            session = sessions[page.login]
            searched = path
            path = session.searched(path)  # a search term goes through its token step first
            for _ in range(5):  # warm-up: connections, caches, the first compile of templates
                http.fetch(session, path)
            samples, started = [], time.monotonic()
            for _ in range(requests if "pages" in only else 0):
                samples.append(http.fetch(session, path))
                # A page far over its budget would hold the run for many minutes: stop at the time cap.
                if time.monotonic() - started > page_seconds and len(samples) >= 20:
                    break
            if samples:
                server = [s.server_ms for s in samples]
                queries = sorted({s.queries for s in samples if s.queries is not None})
                statuses = sorted({s.status for s in samples})
                status = statuses[-1] if len(statuses) == 1 else statuses
                pin = pins.get(page.name)
                row = {
                    **base,
                    "url": path,
                    "status": status,
                    "n": len(samples),
                    "p50": round(http.percentile(server, 50), 1),
                    "p95": round(http.percentile(server, 95), 1),
                    "max": round(max(server), 1),
                    "client_p50": round(http.percentile([s.client_ms for s in samples], 50), 1),
                    "rps": round(len(samples) / (sum(s.client_ms for s in samples) / 1000), 1),
                    "queries": queries[-1] if queries else None,
                    "queries_varied": queries if len(queries) > 1 else None,
                    "pin": pin,
                    "bytes": samples[-1].size,
                }
                row["ok"] = status == 200 and row["p95"] <= base["budget"] and (pin is None or row["queries"] <= pin)
                out(row)
            if "load" in only:
                extra = load_sessions[page.login]
                paths, cookies = [s.searched(searched) for s in extra], [s.cookie_header for s in extra]
                for connections in (8, 32):
                    result = http.wrk(port, paths, cookies, connections=connections, seconds=scale.load_seconds)
                    out({"name": page.name, "kind": "load", "login": page.login, "concurrency": connections,
                         "seconds": scale.load_seconds, **result})  # fmt: skip


def _pins() -> dict:
    from .report import pins

    return pins()


def measure_jobs(marker, env, out) -> None:
    from .jobs import run_jobs

    seed_seconds = marker.get("seed_seconds")
    seed_row = {"name": f"seed_demo --customers {marker['customers']:,} --seed {SEED}", "kind": "seed"}
    if seed_seconds is None:
        out({**seed_row, "missing": "data set seeded outside the bench; no seed time recorded", "ok": None})
    else:
        out({**seed_row, "seconds": seed_seconds, "reused": marker["reused"], "seeded_at": str(marker["seeded_at"])})

    def queue_cleanup():
        # The digest dispatch published one task per recipient on the bench queue: drop them.
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(env["CELERY_TASK_DEFAULT_QUEUE"])

    for job in run_jobs(log=log, queue_cleanup=queue_cleanup):
        row = {"name": job.name, "kind": "job", "task": job.task, "budget": JOB_BUDGET_S}
        if job.see:
            out({**row, "see": job.see, "ok": None})
            continue
        if job.missing:
            out({**row, "missing": job.missing, "ok": None})
            continue
        rows = job.result if job.result is not None else job.extra
        if isinstance(rows, dict | list | int | str):
            rows = json.loads(json.dumps(rows, default=str))
        out({**row, "seconds": round(job.seconds, 2), "rows": rows, "ok": job.seconds <= JOB_BUDGET_S})


def main() -> int:
    import signal

    # Stopped with SIGTERM, the run still stops the gunicorn it started (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scale_name = os.environ.get("BENCH_SCALE", "small")
    if scale_name not in SCALES:
        log(f"bench: BENCH_SCALE must be one of {', '.join(SCALES)}")
        return 2
    scale = SCALES[scale_name]
    only = set((os.environ.get("BENCH_ONLY") or "pages,load,jobs,feed").split(","))
    requests = int(os.environ.get("BENCH_REQUESTS") or scale.requests)
    env = environment(scale)
    env["CELERY_TASK_DEFAULT_QUEUE"] = "bench"
    os.environ.update(env)

    from .dataset import dataset_ensure

    started = time.monotonic()
    marker = None
    if only - {"feed"}:
        marker = dataset_ensure(scale, env, log=log)
        log(f"bench: data set {scale.name} ready ({'reused' if marker['reused'] else 'seeded'})")
    else:
        # The feed section alone needs no demo data set: it works on a database of its own.
        from .feed import feed_database_url

        env["DATABASE_URL"] = os.environ["DATABASE_URL"] = feed_database_url(env)

    import django
    from django.utils import timezone

    django.setup()

    today = timezone.localdate().isoformat()
    commit = _commit()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # A partial run (BENCH_TAG=name) writes files of its own, which the small/large comparison does not read.
    tag = os.environ.get("BENCH_TAG", "")
    stem = f"{today}-{scale.name}" + (f"-{tag}" if tag else "")
    jsonl = RESULTS_DIR / f"{stem}.jsonl"
    rows: list[dict] = []
    sizes = _data_sizes() if marker else {}
    with open(jsonl, "w") as f:

        def out(row: dict) -> None:
            row = {"date": today, "scale": scale.name, "commit": commit, **row}
            rows.append(row)
            line = json.dumps(row, ensure_ascii=False, default=str)
            print(line, flush=True)
            f.write(line + "\n")
            f.flush()

        load_before = [round(x, 2) for x in os.getloadavg()]
        if marker:
            out({"name": "data set", "kind": "dataset", "rows": sizes, "seed": SEED, "reused": marker["reused"]})
        if only & {"pages", "load"}:
            measure_pages(
                scale,
                env,
                only=only,
                page_filter=os.environ.get("BENCH_PAGES"),
                requests=requests,
                out=out,
                page_seconds=float(os.environ.get("BENCH_PAGE_SECONDS") or 120),
            )
        if "jobs" in only:
            measure_jobs(marker, env, out)
        if "feed" in only:
            from .feed import measure_feed

            measure_feed(scale, env, out=out, log=log)
        # Other work on the machine skews the timings: the load average before and after the run says how much.
        load_after = [round(x, 2) for x in os.getloadavg()]
        out({"name": "load average", "kind": "machine", "before": load_before, "after": load_after})

    problems, failed = _checks(rows)
    from .report import markdown

    data = ", ".join(f"{v:,} {k}" for k, v in sizes.items()) or "no demo data set (the feed section has its own)"
    machine = f"{_machine()}; load average (1, 5, 15 min) {load_before} before the run, {load_after} after"
    summary = markdown(
        rows,
        header={"scale": scale.name, "date": today, "machine": machine, "commit": commit, "data": data},
        problems=problems,
    )
    (RESULTS_DIR / f"{stem}.md").write_text(summary)
    print()
    print(summary)
    log(f"bench: {jsonl.relative_to(ROOT)} and .md written in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def _checks(rows) -> tuple[list[str], bool]:
    from .report import compare_scales

    problems, failed = [], False
    for r in rows:
        if r.get("kind") in ("page", "dashboard") and not r.get("missing"):
            if r.get("status") != 200:
                problems.append(f"FAIL {r['name']}: HTTP {r.get('status')} ({r.get('url')})")
                failed = True
            if r.get("pin") is None:
                problems.append(f"warning: {r['name']} has no query-count pin in bench/pins.toml ({r['queries']})")
            elif r["queries"] is not None and r["queries"] > r["pin"]:
                problems.append(f"FAIL {r['name']}: {r['queries']} queries, pinned at {r['pin']}")
                failed = True
            if r.get("queries_varied"):
                problems.append(f"warning: {r['name']}: the query count varied between requests {r['queries_varied']}")
        if r.get("kind") == "feed" and (r.get("returncode") or r.get("status") not in (None, "loaded", "duplicate")):
            problems.append(f"FAIL {r['name']}: status {r.get('status')}, exit {r.get('returncode', 0)}")
            failed = True
        if r.get("kind") == "feed" and r.get("missing"):
            problems.append(f"FAIL {r['name']}: {r['missing']}")
            failed = True
        if r.get("kind") == "load" and r.get("error"):
            problems.append(f"warning: {r['name']} at {r['concurrency']} clients not measured: {r['error']}")
        elif r.get("kind") == "load" and r.get("errors"):
            problems.append(f"FAIL {r['name']} at {r['concurrency']} clients: {r['errors']} responses not 2xx/3xx")
            failed = True
    for d in compare_scales():
        if d["same_commit"]:
            problems.append(f"FAIL {d['name']}: {d['small']} queries at small, {d['large']} at large")
            failed = True
        else:
            problems.append(
                f"warning: {d['name']}: {d['small']} queries at small, {d['large']} at large "
                f"(different commits: rerun the other scale to confirm)"
            )
    return problems, failed


if __name__ == "__main__":
    sys.exit(main())
