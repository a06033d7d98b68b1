"""The data set of a scale: created with ``seed_demo`` (fixed seed) or reused when already seeded.

A marker row in the table ``bench_dataset`` of the bench database records the scale, the seed, the number of
customers, how long seeding took, a digest of the demo code and the migrations applied. A database carrying a
marker for the same scale and seed is reused: pending migrations are applied, and ``seed_demo`` (idempotent: it
only adds what is missing) runs again only when the demo code changed since.
"""

import hashlib
import json
import subprocess
import time
from urllib.parse import urlparse

import psycopg2

from .config import PYTHON, ROOT, SEED, Scale

DEMO_CODE = (
    "demo/management/commands/seed_demo.py",
    "demo/organisation.py",
    "demo/customers.py",
    "demo/complaints.py",
    "demo/first_morning.py",
    "demo/pool.py",
    "demo/recycle.py",
    "demo/worktasks.py",
    "demo/targets.py",
    "demo/marketing.py",
    "demo/opportunities.py",
    "demo/consent.py",
)

MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    scale text PRIMARY KEY,
    customers integer NOT NULL,
    seed integer NOT NULL,
    seed_seconds double precision,
    seeded_at timestamptz NOT NULL DEFAULT now(),
    demo_digest text NOT NULL,
    migrations text NOT NULL
);
ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS vacuumed_at timestamptz;
ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS figures_through date;
ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS figures_seconds double precision
"""
# The dashboards read precomputed daily figures: the data set gets the last FIGURE_DAYS days of them (the default
# 30-day period and the 30 days before it, which its changes compare with), built by the nightly job's command.
FIGURE_DAYS = 60


def _connect(url: str, dbname: str | None = None):
    u = urlparse(url)
    return psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=dbname or u.path.lstrip("/"),
    )


def database_ensure(url: str) -> bool:
    """Create the database if missing; True when it was created."""
    name = urlparse(url).path.lstrip("/")
    conn = _connect(url, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone():
                return False
            cur.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        conn.close()


def demo_digest() -> str:
    h = hashlib.sha256()
    for rel in DEMO_CODE:
        path = ROOT / rel
        h.update(rel.encode())
        h.update(path.read_bytes() if path.exists() else b"-")
    return h.hexdigest()[:16]


def migrations_state(url: str) -> str:
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
            return json.dumps(dict(cur.fetchall()), sort_keys=True)
    finally:
        conn.close()


def marker_read(url: str, scale: Scale) -> dict | None:
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(MARKER_DDL)
            conn.commit()
            cur.execute(
                "SELECT customers, seed, seed_seconds, seeded_at, demo_digest, migrations, vacuumed_at, figures_through, "
                "figures_seconds FROM bench_dataset "
                "WHERE scale = %s",
                [scale.name],
            )
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    keys = ("customers", "seed", "seed_seconds", "seeded_at", "demo_digest", "migrations", "vacuumed_at",
            "figures_through", "figures_seconds")  # fmt: skip
    return dict(zip(keys, row, strict=True))


def marker_write(url: str, scale: Scale, *, seed_seconds: float | None, keep_seed_time: bool = False) -> None:
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(MARKER_DDL)
            cur.execute(
                """
                INSERT INTO bench_dataset (scale, customers, seed, seed_seconds, demo_digest, migrations)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (scale) DO UPDATE SET customers = EXCLUDED.customers, seed = EXCLUDED.seed,
                    seed_seconds = CASE WHEN %s THEN bench_dataset.seed_seconds ELSE EXCLUDED.seed_seconds END,
                    demo_digest = EXCLUDED.demo_digest, migrations = EXCLUDED.migrations
                """,
                [scale.name, scale.customers, SEED, seed_seconds, demo_digest(), migrations_state(url), keep_seed_time],
            )
        conn.commit()
    finally:
        conn.close()


def vacuum(url: str, scale: Scale, *, log=print) -> None:
    """VACUUM (ANALYZE) the freshly loaded data, as autovacuum would have long since done in a live database: it
    sets the visibility map (index-only scans) and the hint bits, so that the first reads of the bench do not
    pay for writing them."""
    log("bench: VACUUM (ANALYZE) of the data set")
    conn = _connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
            cur.execute("UPDATE bench_dataset SET vacuumed_at = now() WHERE scale = %s", [scale.name])
    finally:
        conn.close()


def snapshots_cluster(url: str, *, log=print) -> bool:
    """Lay the asset snapshots out by date, once per data set (PostgreSQL remembers it: ``indisclustered``).

    A bank loads each day's snapshots in one go, so a day's rows sit together; the demo writes each customer's 90
    days together, which scatters a day's million rows over the whole table (10 GB at 1M customers). The nightly
    figures read one day's snapshots: on the demo's layout that read the whole table, 102 s from a cold cache
    (11 s warm), against 7 s (4 s) laid out as daily loads leave it (docs/performance.md)."""
    conn = _connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # The table is partitioned: CLUSTER marks each partition's index, never the parent's, so the check
            # reads the partitions' (a partition created since, not yet clustered, clusters the table again).
            cur.execute(
                """
                SELECT coalesce(bool_and(i.indisclustered), false) FROM pg_inherits h
                JOIN pg_index i ON i.indexrelid = h.inhrelid WHERE h.inhparent = 'snapshot_date_idx'::regclass
                """
            )
            if cur.fetchone()[0]:
                return False
            log("bench: CLUSTER the asset snapshots by date (as daily loads lay them out)")
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("CLUSTER customers_assetsnapshot USING snapshot_date_idx")
            cur.execute("ANALYZE customers_assetsnapshot")
            return True
    finally:
        conn.close()


def figures_ensure(url: str, scale: Scale, env: dict, *, log=print) -> None:
    """Build the dashboards' figures of the last FIGURE_DAYS days up to yesterday, once a day at most (a day
    already built is rebuilt only when the figures were last built through an earlier day)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    if not (ROOT / "dashboards" / "management" / "commands" / "build_figures.py").exists():
        return
    yesterday = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)  # the project's TIME_ZONE
    marker = marker_read(url, scale)
    built = _built_days(url)
    if marker["figures_through"] is not None and marker["figures_through"] >= yesterday and built.get(yesterday):
        return
    first = yesterday - timedelta(days=FIGURE_DAYS - 1)
    if marker["figures_through"] is not None and marker["figures_through"] >= first:
        first = marker["figures_through"] + timedelta(days=1)
    # seed_demo builds the figures of its last days itself: only the days still missing are built here (and the
    # last day again when it was built before its list of customers not contacted in time existed).
    missing = sorted({first + timedelta(days=i) for i in range((yesterday - first).days + 1)} - set(built))
    if not missing and not built.get(yesterday, True):
        missing = [yesterday]
    if not missing:
        return
    seconds = _manage(env, "build_figures", "--from", missing[0].isoformat(), "--to", yesterday.isoformat(), log=log)
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE bench_dataset SET figures_through = %s, figures_seconds = %s WHERE scale = %s",
                [yesterday, round(seconds, 1), scale.name],
            )
        conn.commit()
    finally:
        conn.close()


def _built_days(url: str) -> dict:
    """The days with figures, each with whether its customers not contacted in time are listed."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT day, bool_and(uncovered_listed) FROM relationships_branchdayfigures GROUP BY day")
            return dict(cur.fetchall())
    finally:
        conn.close()


def _manage(env: dict, *args: str, log=print) -> float:
    started = time.monotonic()
    log(f"bench: manage.py {' '.join(args)}")
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def dataset_ensure(scale: Scale, env: dict, *, log=print) -> dict:
    """Seed or reuse the data set; returns the marker, with ``reused`` and, for a fresh seed, ``seed_seconds``."""
    url = env["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: DATABASE_URL must point to PostgreSQL")
    database_ensure(url)
    _manage(env, "migrate", "--noinput", log=log)
    marker = marker_read(url, scale)
    if marker and marker["customers"] == scale.customers and marker["seed"] == SEED:
        if marker["demo_digest"] != demo_digest():
            log("bench: the demo code changed since the data set was seeded: seed_demo adds what is missing")
            _manage(env, "seed_demo", "--customers", str(scale.customers), "--seed", str(SEED), log=log)
            marker_write(url, scale, seed_seconds=None, keep_seed_time=True)
            vacuum(url, scale, log=log)
        marker_write(url, scale, seed_seconds=None, keep_seed_time=True)
        figures_ensure(url, scale, env, log=log)
        if snapshots_cluster(url, log=log) or marker_read(url, scale)["vacuumed_at"] is None:
            vacuum(url, scale, log=log)
        return {**marker_read(url, scale), "reused": True}
    seconds = _manage(env, "seed_demo", "--customers", str(scale.customers), "--seed", str(SEED), log=log)
    marker_write(url, scale, seed_seconds=round(seconds, 1))
    figures_ensure(url, scale, env, log=log)
    snapshots_cluster(url, log=log)
    vacuum(url, scale, log=log)
    return {**marker_read(url, scale), "reused": False}
