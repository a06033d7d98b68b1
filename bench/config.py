"""Scales, budgets and the environment a bench run uses."""

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PINS_FILE = BENCH_DIR / "pins.toml"
WORK_DIR = ROOT / "var" / "bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SEED = 2026  # the same seed every run, so that runs compare


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    requests: int  # sequential requests per page
    load_seconds: int  # duration of each concurrent (wrk) run


SCALES = {
    "small": Scale("small", 10_000, 200, 2),
    "large": Scale("large", 1_000_000, 200, 5),
}

# The performance budgets (docs/performance.md), in milliseconds (pages, server time at p95) and seconds (jobs).
PAGE_BUDGET_MS = 100
DASHBOARD_BUDGET_MS = 200
JOB_BUDGET_S = 60
IMPORT_BUDGET_S = 60
# The feed (bench/feed.py): seconds per load of a file of 1,000,000 customers (the XLSX upload: 100,000 rows), the
# chain after a day's load, and the loader's peak memory whatever the file size.
FEED_BUDGET_S = {
    "cust_first": 120,
    "cust_daily": 30,
    "bal": 30,
    "hold": 60,  # 1,800,000 holdings
    "cons": 60,  # 1,800,000 consents (SMS, phone, WeChat), first load and daily
    "xlsx": 60,
    "chain": 300,
}
FEED_RSS_BUDGET_MB = 500
FEED_XLSX_ROWS = 100_000


def _fernet_key(label: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(label.encode()).digest()).decode()


def environment(scale: Scale) -> dict[str, str]:
    """The variables of a bench run: production settings (DEBUG off) on plain HTTP at 127.0.0.1, with fixed keys
    of its own, so that the data seeded in one run can be searched and revealed in the next. DATABASE_URL and
    REDIS_URL come from the environment when set (Redis on a database other than 0, to leave the default alone)."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL")
            or f"postgres://postgres@127.0.0.1:5432/crm_bench_{scale.name}",
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-" + "x" * 20,
            "PII_ENCRYPTION_KEYS": _fernet_key("bench-pii-encryption"),
            "PII_HASH_KEY": "bench-only-pii-hash-key",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on the loopback: no HTTPS redirect, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(WORK_DIR / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            # Sign-ins repeat on every run; no account must lock.
            "AXES_FAILURE_LIMIT": "1000",
            "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        }
    )
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env
