"""``make run`` end to end on a SQLite file of its own: the first run seeds, a second finds the demo, a database
with data of its own is refused, and the address, the logins and "ready" come last, once the server answers.

The schema is migrated once for the module (``migrated``, with the same ``manage.py migrate`` that ``make run``
runs first) and each test starts from a copy of that file: ``make run``'s own migrate then finds nothing to do, and
the migrations from an empty database are what every test run's own test database is built with."""

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.full]  # make test-full

ROOT = Path(__file__).resolve().parents[2]
READY = "就绪 / ready"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_run(db: Path, port: int, *, timeout: float = 120) -> tuple[int | None, list[str]]:
    """Start ``make run``; stop it with Ctrl-C once it says ready (after checking the page answers). Returns its
    exit status (None when it was stopped) and its output lines."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DEBUG": "1",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        # -o: the requirements stamp counts as up to date, so no pip install runs here
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.requirements-installed",
            "run",
            f"PORT={port}",
            "SEED_ARGS=--customers 0 --figure-days 0",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    watchdog = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))  # never wait for a hung run
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip() == READY:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as response:
                    assert response.status == 200
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(timeout=30)
                return None, lines
        return proc.wait(timeout=30), lines
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _manage(db: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory, worker_id) -> Path:
    """A SQLite file with every migration applied and no data (but the reference rows the migrations install),
    made once per test run: the pytest-xdist workers share it through the run's common temporary folder, under a
    lock, so the second test does not migrate again on another worker."""
    root = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    db = root / "make-run-migrated.sqlite3"
    with open(root / "make-run-migrated.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not db.exists():
            partial = db.with_suffix(".partial")
            _manage(partial, "migrate", "--noinput", "--verbosity", "0")
            partial.rename(db)
    return db


@pytest.fixture
def db_file(migrated, tmp_path) -> Path:
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(migrated, db)
    return db


def tail_after_server_start(lines: list[str]) -> list[str]:
    return lines[next(i for i, line in enumerate(lines) if "Starting development server" in line) :]


def test_first_run_seeds_a_second_finds_the_demo_and_both_end_with_the_address_logins_and_ready(db_file):
    db = db_file
    port = free_port()
    status, first = make_run(db, port)
    assert status is None, first
    assert first[-1].strip() == READY
    tail = tail_after_server_start(first)
    assert any(f"http://127.0.0.1:{port}/" in line for line in tail)
    logins = [line.split()[0] for line in tail if "·" in line]
    assert logins == ["admin", "head", "officer", "head1", "rm1"]
    assert sum("·" in line for line in first) == 5  # printed once, at the end
    assert not any("dashboards.figures" in line or "celery@" in line for line in first)

    status, second = make_run(db, port)
    assert status is None, second
    assert any("not generated again" in line or "未重新生成" in line for line in second)
    assert not any("organisation:" in line for line in second)
    assert [line.split()[0] for line in tail_after_server_start(second) if "·" in line] == logins
    assert second[-1].strip() == READY


def test_a_database_with_data_of_its_own_is_refused_and_no_server_starts(db_file):
    db = db_file
    own_branch = (
        "from organisation import services; from organisation.access import SYSTEM; "
        "services.branch_create(actor=SYSTEM, code='110000', name='北京分行', level='branch', parent=None)"
    )
    _manage(db, "shell", "-c", own_branch)
    status, lines = make_run(db, free_port())
    assert status not in (None, 0), lines
    assert not any(READY in line or "Starting development server" in line for line in lines)
    assert any("no demo data was written" in line or "CommandError" in line for line in lines), lines
