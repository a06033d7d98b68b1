"""Settings come from the environment. Each case imports the settings in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"], "debug": settings.DEBUG,
    "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ, "lang": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES], "acks_late": settings.CELERY_TASK_ACKS_LATE,
    "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER, "serializer": settings.CELERY_TASK_SERIALIZER,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT, "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "scheduler": settings.CELERY_BEAT_SCHEDULER,
}))
"""
PII = {"PII_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q=", "PII_HASH_KEY": "k"}
BASE_ENV = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "crm_site.settings", "PYTHONPATH": str(ROOT)}


def run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=60
    )


def probe(**env) -> dict:
    result = run(PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bare_machine_uses_sqlite_under_var_and_a_file_broker():
    s = probe(DEBUG="1")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(ROOT / "var" / "db.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    s = probe(
        DEBUG="1", DATABASE_URL="postgres://crm:pw@db.internal:5432/crm", REDIS_URL="redis://cache.internal:6379/0"
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "crm"
    assert s["broker"] == "redis://cache.internal:6379/0"
    assert s["cache"] == "crm_site.cache.ResilientRedisCache"  # a miss, not an error, while Redis is down


def test_debug_is_off_unless_set_and_a_missing_secret_key_fails_loudly():
    result = run(PROBE)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    result = run(PROBE, SECRET_KEY="x" * 60)
    assert result.returncode != 0 and "PII_ENCRYPTION_KEYS and PII_HASH_KEY must be set" in result.stderr
    s = probe(SECRET_KEY="x" * 60, **PII)
    assert s["debug"] is False
    assert s["session_cookie_secure"] is True


def test_locale_time_zone_and_celery_defaults():
    s = probe(DEBUG="1")
    assert (s["tz"], s["use_tz"], s["lang"]) == ("Asia/Shanghai", True, "zh-hans")
    assert s["languages"] == ["zh-hans", "en"]
    assert s["acks_late"] is True and s["prefetch"] == 1 and s["serializer"] == "json"
    assert s["time_limit"] > 0
    assert s["scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **BASE_ENV,
            "SECRET_KEY": "k3y-" + "a1B2c3D4e5" * 6,
            **PII,
            "ALLOWED_HOSTS": "crm.bank.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("flag", ["0", "false", ""])
def test_debug_falsy_values_keep_it_off(flag):
    assert probe(DEBUG=flag, SECRET_KEY="y" * 60, **PII)["debug"] is False
