"""``python -m bench.outage`` (``make outage``): the outage rehearsal (docs/performance.md, "Outage rehearsal").

A production-like deployment on this machine — gunicorn with production settings, PostgreSQL seeded with the
bench's small data set, a Redis of its own as cache and Celery broker, a Celery worker and beat — is loaded by
signed-in staff of every role and then faulted, phase by phase: Redis stopped, started again, hung (SIGSTOP) and
resumed (SIGCONT); optionally PostgreSQL unreachable. Every request is recorded (phase, page, status, latency),
every quick log and complaint is looked for in the database afterwards, and the Celery logs tell which periodic
tasks were due, published, received and done.

    OUTAGE_USERS=n            signed-in users (default 50): RMs, branch heads, officers and admins
    OUTAGE_SECONDS=s          each phase's length (default 40)
    OUTAGE_PHASES=a,b,...     the phases, in order (default baseline,redis-stopped,redis-restarted,redis-hung,
                              redis-resumed); add db-unreachable for a second gunicorn whose database is a closed
                              port (the shared PostgreSQL itself is never stopped)
    OUTAGE_THINK=s            mean pause between one user's requests (default 1.0; uniform over 0.5–1.5 times it)
    OUTAGE_QUICK_LOGS=n       quick logs per RM per minute (default 2)
    OUTAGE_COMPLAINTS=n       complaints registered per officer per minute (default 0.5)
    OUTAGE_TIMEOUT=s          client timeout (default 10): no answer within it is a timeout, counted as an error
    OUTAGE_TASK_EVERY=s       a periodic task (the complaint escalation sweep) every s seconds (default 5)
    OUTAGE_DRAIN=s            after the last phase, seconds without load for the worker to catch up (default 20)
    OUTAGE_WORKERS=n          gunicorn workers (default 4); OUTAGE_CELERY_CONCURRENCY (default 2)
    OUTAGE_REDIS_PORT=p       the rehearsal's own Redis (default 16400); OUTAGE_CLOSED_PORT=p the closed port of
                              the db-unreachable phase (default 16401)
    OUTAGE_TAG=name           write <date>-outage-<name>.jsonl/.md instead of <date>-outage
    OUTAGE_DATABASE_URL       the database (default: DATABASE_URL, else crm_outage on 127.0.0.1)

Writes ``bench/results/<date>-outage[-TAG].jsonl`` (one line per request, then the summaries) and the Markdown
summary beside it. Every process it starts is stopped on the way out, on Ctrl-C and on an exception as well.
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlparse

from .config import PYTHON, RESULTS_DIR, ROOT, SCALES, WORK_DIR, environment
from .http import free_port, percentile

OUTAGE_DIR = WORK_DIR.parent / "outage"
BIN = ROOT / ".venv" / "bin"
MARKER = "outage rehearsal"  # the quick logs' notes and the complaints' request start with it


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------------------
# The phases
# --------------------------------------------------------------------------------------------------------------

PHASES = {
    "baseline": "everything up",
    "redis-stopped": "Redis stopped (SIGTERM)",
    "redis-restarted": "Redis started again, same data directory",
    "redis-hung": "Redis hung (SIGSTOP): connections open, no answer",
    "redis-resumed": "Redis resumed (SIGCONT)",
    "db-unreachable": "the load sent to a second gunicorn whose database is a closed port",
}
DEFAULT_PHASES = "baseline,redis-stopped,redis-restarted,redis-hung,redis-resumed"


@dataclass
class Options:
    users: int = 50
    seconds: float = 40
    phases: list[str] = field(default_factory=lambda: DEFAULT_PHASES.split(","))
    think: float = 1.0
    quick_logs_per_minute: float = 2
    complaints_per_minute: float = 0.5
    timeout: float = 10
    task_every: int = 5
    drain: float = 20
    workers: int = 4
    celery_concurrency: int = 2
    redis_port: int = 16400
    closed_port: int = 16401
    tag: str = ""

    @classmethod
    def from_environment(cls) -> "Options":
        e = os.environ.get
        o = cls(
            users=int(e("OUTAGE_USERS") or 50),
            seconds=float(e("OUTAGE_SECONDS") or 40),
            phases=[p.strip() for p in (e("OUTAGE_PHASES") or DEFAULT_PHASES).split(",") if p.strip()],
            think=float(e("OUTAGE_THINK") or 1.0),
            quick_logs_per_minute=float(e("OUTAGE_QUICK_LOGS") or 2),
            complaints_per_minute=float(e("OUTAGE_COMPLAINTS") or 0.5),
            timeout=float(e("OUTAGE_TIMEOUT") or 10),
            task_every=int(e("OUTAGE_TASK_EVERY") or 5),
            drain=float(e("OUTAGE_DRAIN") or 20),
            workers=int(e("OUTAGE_WORKERS") or 4),
            celery_concurrency=int(e("OUTAGE_CELERY_CONCURRENCY") or 2),
            redis_port=int(e("OUTAGE_REDIS_PORT") or 16400),
            closed_port=int(e("OUTAGE_CLOSED_PORT") or 16401),
            tag=e("OUTAGE_TAG") or "",
        )
        unknown = [p for p in o.phases if p not in PHASES]
        if unknown:
            raise SystemExit(f"outage: unknown phase(s) {', '.join(unknown)}; known: {', '.join(PHASES)}")
        if o.users < 4:
            raise SystemExit("outage: OUTAGE_USERS must be at least 4 (one user of every role)")
        return o


# --------------------------------------------------------------------------------------------------------------
# Processes: each in a session of its own (Ctrl-C reaches only the rehearsal), stopped by its process group
# --------------------------------------------------------------------------------------------------------------


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Process:
    def __init__(self, name: str, argv: list[str], env: dict):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = OUTAGE_DIR / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *, append: bool = False) -> "Process":
        out = open(self.log_path, "a" if append else "w")  # noqa: SIM115 - the child holds it; closed below
        try:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            out.close()
        return self

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the process group (a worker's children too), SIGKILL after ``timeout`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGCONT)  # a hung Redis must be able to act on its SIGTERM
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_text(self, start: int = 0, end: int | None = None) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                data = f.read() if end is None else f.read(max(0, end - start))
        except OSError:
            return ""
        return data.decode("utf-8", "replace")


def _wait(what: str, ready, proc: Process, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"outage: {what} did not start; see {proc.log_path}")
        time.sleep(0.3)


def redis_process(options: Options, env: dict) -> Process:
    """Redis as a production broker runs it: append-only file (queued tasks survive a restart), no eviction."""
    data = OUTAGE_DIR / "redis"
    argv = ["redis-server", "--port", str(options.redis_port), "--bind", "127.0.0.1", "--dir", str(data),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction",
            "--daemonize", "no"]  # fmt: skip
    return Process("redis", argv, env)


def redis_start(redis: Process, options: Options, *, append: bool) -> float:
    import redis as redis_client

    started = time.monotonic()
    redis.start(append=append)
    client = redis_client.Redis(port=options.redis_port, socket_timeout=1, socket_connect_timeout=1)

    def ready():
        try:
            return client.ping()
        except redis_client.RedisError:
            return False

    _wait("redis-server", ready, redis, 30)
    client.close()
    return time.monotonic() - started


def gunicorn_process(name: str, env: dict, port: int, workers: int) -> Process:
    argv = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "crm_site.wsgi", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    return Process(name, argv, env)


def _answers(port: int, *, any_status: bool = False) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/accounts/login/")
        status = conn.getresponse().status
        conn.close()
        return any_status or status == 200
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------------------
# The client: one browser, its cookies, a timeout; every request answered or not is a sample
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (timeout or connection error)
    ms: float
    error: str = ""  # "timeout", "connection" or ""
    location: str = ""
    body: bytes = b""


class Client:
    def __init__(self, port_of, timeout: float):
        self.port_of = port_of  # the port is read at every request (the db-unreachable phase moves the load)
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.port: int | None = None

    def _connection(self) -> http.client.HTTPConnection:
        port = self.port_of()
        if self.conn is None or port != self.port:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
            self.port = port
        return self.conn

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        started = time.perf_counter()
        try:
            conn = self._connection()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError:
            self._drop()
            return Answer(0, (time.perf_counter() - started) * 1000, "timeout")
        except (OSError, http.client.HTTPException):
            self._drop()
            return Answer(0, (time.perf_counter() - started) * 1000, "connection")
        ms = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[key] = morsel.value
                else:
                    self.cookies.pop(key, None)
        return Answer(response.status, ms, "", response.headers.get("Location", ""), data)

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGN_IN = "/accounts/login/"


def signed_out(answer: Answer) -> bool:
    return answer.status in (301, 302, 303) and urlparse(answer.location).path == SIGN_IN


# --------------------------------------------------------------------------------------------------------------
# The users
# --------------------------------------------------------------------------------------------------------------

ROLE_SHARE = (("rm", 0.6), ("head", 0.2), ("officer", 0.12), ("admin", 0.08))


def role_mix(users: int) -> dict[str, int]:
    """How many users of each role: at least one of each, the rest by ROLE_SHARE (largest remainders)."""
    counts = {role: 1 for role, _ in ROLE_SHARE}
    rest = users - len(counts)
    exact = {role: share * rest for role, share in ROLE_SHARE}
    for role in counts:
        counts[role] += int(exact[role])
    left = users - sum(counts.values())
    for role in sorted(exact, key=lambda r: exact[r] - int(exact[r]), reverse=True)[:left]:
        counts[role] += 1
    return counts


@dataclass
class Plan:
    """What one user does: its account, the pages it cycles through, and what it writes."""

    username: str
    role: str
    pages: list[tuple[str, str]]  # (page kind, path)
    write: str = ""  # "quick-log" (RMs), "complaint" (officers) or ""
    write_customers: list[int] = field(default_factory=list)
    category: int | None = None


class State:
    """What the users share: the phase, the port they send to, the samples, the stop flag."""

    def __init__(self, port: int):
        self.phase = "setup"
        self.port = port
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples: list[dict] = []
        self.writes: list[dict] = []
        self.seq = 0

    def next_seq(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq

    def record(self, phase: str, role: str, page: str, method: str, answer: Answer, **extra) -> None:
        row = {"kind": "request", "phase": phase, "t": round(time.monotonic() - self.started, 3), "role": role,
               "page": page, "method": method, "status": answer.status, "ms": round(answer.ms, 1),
               "error": answer.error or None, **extra}  # fmt: skip
        if self.phase != phase:  # answered after the next phase began (its fault may be what answered)
            row["ended"] = self.phase
        with self.lock:
            self.samples.append(row)


class User(threading.Thread):
    def __init__(self, n: int, plan: Plan, state: State, options: Options, password: str, run_id: str):
        super().__init__(daemon=True, name=f"user-{n}")
        self.plan, self.state, self.options, self.password, self.run_id = plan, state, options, password, run_id
        self.rng = random.Random(n)
        self.client = Client(lambda: state.port, options.timeout)
        self.token = ""
        rate = {"quick-log": options.quick_logs_per_minute, "complaint": options.complaints_per_minute}.get(
            plan.write, 0
        )
        self.rate = rate / 60
        self.next_write = 0.0

    # Signing in through the real form, once; again only when a page sends the user to the sign-in page.
    def sign_in(self) -> bool:
        phase = self.state.phase
        answer = self.client.request("GET", SIGN_IN)
        self.state.record(phase, self.plan.role, "sign-in", "GET", answer)
        token = TOKEN.search(answer.body) if answer.status == 200 else None
        if not token:
            return False
        body = urlencode(
            {"username": self.plan.username, "password": self.password, "csrfmiddlewaretoken": token.group(1).decode()}
        )
        answer = self.client.request(
            "POST", SIGN_IN, body, {"Content-Type": "application/x-www-form-urlencoded", "Referer": SIGN_IN}
        )
        self.state.record(phase, self.plan.role, "sign-in", "POST", answer)
        return answer.status == 302 and not signed_out(answer) and "sessionid" in self.client.cookies

    def get(self, page: str, path: str) -> Answer:
        phase = self.state.phase
        answer = self.client.request("GET", path)
        out = signed_out(answer)
        if page == "home" and answer.status == 302 and not out:  # each role's home is a redirect, as a browser follows
            first = answer.ms
            answer = self.client.request("GET", urlparse(answer.location).path)
            answer.ms += first
            out = signed_out(answer)
        self.state.record(phase, self.plan.role, page, "GET", answer, signed_out=out or None)
        if out:
            self.sign_in()
        return answer

    def probe(self) -> list[tuple[str, str, int]]:
        """Open each page once (warm-up); keep those the role may open, return the others with their status."""
        kept, dropped = [], []
        for page, path in self.plan.pages:
            answer = self.get(page, path)
            (kept if answer.status == 200 else dropped).append((page, path, answer.status))
        self.plan.pages = [(page, path) for page, path, _ in kept]
        return dropped

    def write(self) -> None:
        customer = self.rng.choice(self.plan.write_customers)
        if self.plan.write == "quick-log":
            form_page, form = "quick-log form", f"/customers/{customer}/interactions/new/"
        else:
            form_page, form = "complaint form", f"/complaints/new/?customer={customer}"
        # The form is opened first; when that fails the form already on the screen (its token) is sent anyway.
        answer = self.get(form_page, form)
        token = TOKEN.search(answer.body) if answer.status == 200 else None
        if token:
            self.token = token.group(1).decode()
        if not self.token:
            return
        phase, seq = self.state.phase, self.state.next_seq()
        marker = f"{MARKER} {self.run_id} {phase} {seq}"
        now = time.strftime("%Y-%m-%dT%H:%M", time.localtime())
        if self.plan.write == "quick-log":
            data = {"channel": "phone", "purpose": "maintenance", "outcome": "reached", "occurred_at": now,
                    "notes": marker}  # fmt: skip
            action, expect = form, f"/customers/{customer}/"
        else:
            data = {"customer": customer, "complainant_kind": "customer", "channel": "counter", "received_at": now,
                    "category": self.plan.category, "severity": "normal", "request": marker,
                    "facts": "Registered at the counter during the outage rehearsal."}  # fmt: skip
            action, expect = "/complaints/new/", "/complaints/"
        data["csrfmiddlewaretoken"] = self.token
        answer = self.client.request(
            "POST", action, urlencode(data), {"Content-Type": "application/x-www-form-urlencoded", "Referer": form}
        )
        ok = answer.status == 302 and urlparse(answer.location).path.startswith(expect) and not signed_out(answer)
        self.state.record(phase, self.plan.role, self.plan.write, "POST", answer, signed_out=signed_out(answer) or None)
        with self.state.lock:
            self.state.writes.append({"kind": "write", "what": self.plan.write, "phase": phase, "seq": seq, "ok": ok,
                                      "status": answer.status})  # fmt: skip
        if signed_out(answer):
            self.sign_in()

    def run(self) -> None:
        self.next_write = time.monotonic() + (self.rng.expovariate(self.rate) if self.rate else 0)
        while not self.state.stop.is_set():
            if self.rate and time.monotonic() >= self.next_write:
                self.write()
                self.next_write = time.monotonic() + self.rng.expovariate(self.rate)
            elif self.plan.pages:
                self.get(*self.rng.choice(self.plan.pages))
            self.state.stop.wait(self.options.think * self.rng.uniform(0.5, 1.5))


def plans(options: Options) -> list[Plan]:
    """Each user's account and pages, from the data set: accounts of a role in turn, its own sample customers."""
    from django.urls import reverse

    from complaints.models import ComplaintCategory
    from complaints.selectors import complaints_visible_to
    from customers.selectors import customers_visible_to
    from organisation.models import Staff

    staff = defaultdict(list)
    for s in Staff.objects.filter(status=Staff.Status.ACTIVE, user__is_active=True).select_related("user"):
        staff[s.role].append(s)
    for role in staff.values():
        role.sort(key=lambda s: s.user.username)
    category = ComplaintCategory.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True).first()
    common = [("home", "/"), ("customer list", reverse("customers:customer-list")),
              ("complaint list", reverse("complaints:complaint-list"))]  # fmt: skip
    extra = {
        "rm": [("today", reverse("reminders:today")), ("my customers", reverse("relationships:my-customers")),
               ("my performance", reverse("dashboards:my-performance"))],
        "head": [("dashboard", reverse("dashboards:dashboard")), ("today", reverse("reminders:today"))],
        "officer": [("complaint statistics", reverse("complaints:statistics"))],
        "admin": [("HQ dashboard", reverse("dashboards:dashboard-hq")), ("dashboard", reverse("dashboards:dashboard"))],
    }  # fmt: skip
    out = []
    for role, count in role_mix(options.users).items():
        if not staff.get(role):
            raise SystemExit(f"outage: the data set has no active staff of role {role}")
        for i in range(count):
            member = staff[role][i % len(staff[role])]
            visible = customers_visible_to(member.user)
            if role == "rm":
                visible = visible.filter(primary_rm=member)
            customers = list(visible.order_by("pk").values_list("pk", flat=True)[:5])
            pages = list(common) + extra[role]
            if customers:
                pages.append(
                    ("customer 360", reverse("customers:customer-detail", kwargs={"pk": customers[i % len(customers)]}))
                )
            complaint = complaints_visible_to(member.user).order_by("pk").values_list("pk", flat=True).first()
            if complaint and role in ("officer", "head"):
                pages.append(("complaint detail", reverse("complaints:complaint-detail", kwargs={"pk": complaint})))
            write = {"rm": "quick-log", "officer": "complaint"}.get(role, "") if customers else ""
            out.append(Plan(member.user.username, role, pages, write, customers, category))
    return out


# --------------------------------------------------------------------------------------------------------------
# The Celery logs: what beat sent and what the worker received and did, by the phase the line was written in
# --------------------------------------------------------------------------------------------------------------

BEAT_DUE = re.compile(r"Scheduler: Sending due task")
BEAT_SENT = re.compile(r"(\S+) sent\. id->([0-9a-f-]+)")
BEAT_ERROR = re.compile(r"Message Error")
WORKER_RECEIVED = re.compile(r"Task (\S+)\[([0-9a-f-]+)\] received")
WORKER_DONE = re.compile(r"Task (\S+)\[([0-9a-f-]+)\] (?:succeeded|failed|retry)")


def parse_beat(text: str) -> dict:
    return {
        "due": len(BEAT_DUE.findall(text)),
        "sent": [m.group(2) for m in BEAT_SENT.finditer(text)],
        "failed": len(BEAT_ERROR.findall(text)),
    }


def parse_worker(text: str) -> dict:
    return {
        "received": [m.group(2) for m in WORKER_RECEIVED.finditer(text)],
        "done": [m.group(2) for m in WORKER_DONE.finditer(text)],
    }


def task_summary(phases: list[str], beat_chunks: dict, worker_chunks: dict) -> list[dict]:
    """One row per phase: tasks due, published, not published (beat's error), received and done by the worker in
    that phase, and how many of those published in it the worker had received by the end of the run."""
    beat = {p: parse_beat(beat_chunks.get(p, "")) for p in phases}
    worker = {p: parse_worker(worker_chunks.get(p, "")) for p in phases}
    received_ever = {i for w in worker.values() for i in w["received"]}
    sent_ever = {i for b in beat.values() for i in b["sent"]}
    rows = []
    for p in phases:
        sent = beat[p]["sent"]
        rows.append(
            {
                "kind": "tasks",
                "phase": p,
                "due": beat[p]["due"],
                "published": len(sent),
                "not_published": beat[p]["failed"],
                "received": len(worker[p]["received"]),
                "done": len(worker[p]["done"]),
                "published_then_received": len([i for i in sent if i in received_ever]),
                # Received although beat never logged them as published (a publish that timed out but got through).
                "received_unannounced": len([i for i in worker[p]["received"] if i not in sent_ever]),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------------------


def is_error(sample: dict) -> bool:
    """Not 2xx/3xx: an HTTP error status, or no answer at all (timeout, connection refused or reset)."""
    return not (200 <= sample["status"] < 400)


def request_summary(samples: list[dict]) -> dict:
    latencies = [s["ms"] for s in samples]  # a timeout counts with the time it took to give up
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if is_error(s)),
        "5xx": sum(1 for s in samples if 500 <= s["status"] < 600),
        "503": sum(1 for s in samples if s["status"] == 503),
        "timeouts": sum(1 for s in samples if s.get("error") == "timeout"),
        "connection_errors": sum(1 for s in samples if s.get("error") == "connection"),
        "signed_out": sum(1 for s in samples if s.get("signed_out")),
        # Errors of requests that were still waiting when the next phase (the next fault) began.
        "errors_answered_later": sum(1 for s in samples if is_error(s) and s.get("ended")),
        "p50": round(percentile(latencies, 50), 1) if latencies else None,
        "p95": round(percentile(latencies, 95), 1) if latencies else None,
        "max": round(max(latencies), 1) if latencies else None,
    }


def write_summary(writes: list[dict], saved: dict[str, set[int]], what: str, phase: str) -> dict:
    """Quick logs or complaints of a phase: sent, answered as saved, found in the database; those answered as saved
    but missing (lost), and those found although the answer was an error (the user would send them again)."""
    mine = [w for w in writes if w["what"] == what and w["phase"] == phase]
    in_db = saved.get(what, set())
    return {
        "sent": len(mine),
        "ok": sum(1 for w in mine if w["ok"]),
        "saved": sum(1 for w in mine if w["seq"] in in_db),
        "lost": sum(1 for w in mine if w["ok"] and w["seq"] not in in_db),
        "saved_despite_error": sum(1 for w in mine if not w["ok"] and w["seq"] in in_db),
    }


def phase_rows(phases: list[dict], samples: list[dict], writes: list[dict], saved: dict, tasks: list[dict]) -> list:
    by_phase = defaultdict(list)
    for s in samples:
        by_phase[s["phase"]].append(s)
    tasks_by_phase = {t["phase"]: t for t in tasks}
    rows = []
    for p in phases:
        name = p["phase"]
        rows.append(
            {
                "kind": "phase",
                **p,
                **request_summary(by_phase[name]),
                "quick_logs": write_summary(writes, saved, "quick-log", name),
                "complaints": write_summary(writes, saved, "complaint", name),
                "tasks": {k: v for k, v in tasks_by_phase.get(name, {}).items() if k not in ("kind", "phase")},
            }
        )
    return rows


def page_rows(samples: list[dict], phases: list[str]) -> list[dict]:
    """Errors and requests of each page in each phase."""
    cells = defaultdict(Counter)
    for s in samples:
        cells[s["page"]][(s["phase"], "n")] += 1
        cells[s["page"]][(s["phase"], "errors")] += is_error(s) or bool(s.get("signed_out"))
    return [
        {"kind": "page", "page": page, **{p: [c[(p, "errors")], c[(p, "n")]] for p in phases}}
        for page, c in sorted(cells.items())
    ]


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def markdown(header: dict, phases: list[dict], pages: list[dict]) -> str:
    names = [p["phase"] for p in phases]
    lines = [
        f"# Outage rehearsal, {header['date']}",
        "",
        f"- commit `{header['commit']}`; {header['machine']}",
        f"- data: {header['data']}",
        f"- {header['deployment']}",
        f"- load: {header['load']}",
        *([f"- left out, not 200 in the warm-up: {'; '.join(header['left_out'])}"] if header.get("left_out") else []),
        *([f"- **exited during the run: {', '.join(header['exited'])}**"] if header.get("exited") else []),
        "",
        "## Requests",
        "",
        "Errors: answers not 2xx/3xx, and no answer within the client timeout (timeouts) or a refused or reset "
        "connection; they include the 5xx and 503. Signed out: a page answered with a redirect to the sign-in page "
        "(the user signs in again). A request counts in the phase it was sent in; *answered later*: errors among "
        "them answered only once the next phase (its fault) had begun. Latency from the client, timeouts included.",
        "",
        "| phase | what | s | requests | errors | 5xx | 503 | timeouts | conn. errors | signed out | answered later | "
        "p50 ms | p95 ms | max ms | load avg start → end |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for p in phases:
        load = f"{p['load_start'][0]:.2f} → {p['load_end'][0]:.2f}"
        lines.append(
            f"| {p['phase']} | {p['what']} | {p['seconds']:.0f} | {p['requests']:,} | {p['errors']:,} | {p['5xx']:,} | "
            f"{p['503']:,} | {p['timeouts']:,} | {p['connection_errors']:,} | {p['signed_out']:,} | "
            f"{p['errors_answered_later']:,} | {_ms(p['p50'])} | {_ms(p['p95'])} | {_ms(p['max'])} | {load} |"
        )
    lines += [
        "",
        "## Writes",
        "",
        "Sent: POSTs; OK: answered with the redirect to the saved record; saved: found in the database afterwards; "
        "lost: OK but not saved; saved despite an error: written although the user saw an error.",
        "",
        "| phase | quick logs sent | OK | saved | lost | saved despite an error | complaints sent | OK | saved | lost "
        "| saved despite an error |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for p in phases:
        q, c = p["quick_logs"], p["complaints"]
        lines.append(
            f"| {p['phase']} | {q['sent']} | {q['ok']} | {q['saved']} | {q['lost']} | {q['saved_despite_error']} | "
            f"{c['sent']} | {c['ok']} | {c['saved']} | {c['lost']} | {c['saved_despite_error']} |"
        )
    lines += [
        "",
        "## Periodic tasks",
        "",
        f"Beat runs the complaint escalation sweep every {header['task_every']} s (besides the deployment's own "
        "schedule). Due: beat's turn came; "
        "published: on the broker; not published: beat's publish failed; received and done by the worker, counted "
        "in the phase the worker logged them; published then received: of those published in the phase, how many "
        "the worker had received by the end of the run. "
        f"The drain is {header['drain']:.0f} s without load after the last phase.",
        "",
        "| phase | due | published | not published | received | done | published then received | "
        "received, not logged as published |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for p in phases:
        t = p["tasks"]
        if not t:
            continue
        lines.append(
            f"| {p['phase']} | {t['due']} | {t['published']} | {t['not_published']} | {t['received']} | {t['done']} | "
            f"{t['published_then_received']} | {t['received_unannounced']} |"
        )
    lines += [
        "",
        "## Errors by page (errors and sign-in redirects / requests)",
        "",
        "| page | " + " | ".join(n for n in names if n != "drain") + " |",
        "|---|" + "--:|" * len([n for n in names if n != "drain"]),
    ]
    for row in pages:
        cells = [f"{row[n][0]}/{row[n][1]}" if row[n][1] else "—" for n in names if n != "drain"]
        lines.append(f"| {row['page']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------------------


def _saved(run_id: str) -> dict[str, set[int]]:
    """The sequence numbers of this run's quick logs and complaints found in the database."""
    from complaints.models import Complaint
    from relationships.models import Interaction

    prefix = f"{MARKER} {run_id} "

    def seqs(values):
        return {int(v.rsplit(" ", 1)[1]) for v in values}

    return {
        "quick-log": seqs(Interaction.objects.filter(notes__startswith=prefix).values_list("notes", flat=True)),
        "complaint": seqs(Complaint.objects.filter(request__startswith=prefix).values_list("request", flat=True)),
    }


def _sizes() -> dict:
    from complaints.models import Complaint
    from customers.models import Customer
    from organisation.models import Staff
    from relationships.models import Interaction

    return {
        "customers": Customer.objects.count(),
        "staff": Staff.objects.filter(status=Staff.Status.ACTIVE).count(),
        "interactions": Interaction.objects.count(),
        "complaints": Complaint.objects.count(),
    }


def _periodic_task(every: int):
    """A periodic task of the rehearsal's own: the complaint escalation sweep (idempotent) every few seconds."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
    task, _ = PeriodicTask.objects.update_or_create(
        name=f"{MARKER}: escalate complaints",
        defaults={
            "task": "complaints.tasks.escalate_complaints",
            "interval": schedule,
            "enabled": True,
            "crontab": None,
            "last_run_at": None,
        },  # fmt: skip
    )
    return task


def run(options: Options) -> int:
    from .dataset import dataset_ensure

    scale = SCALES["small"]
    env = environment(scale)
    env["DATABASE_URL"] = (
        os.environ.get("OUTAGE_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/crm_outage"
    )
    env["REDIS_URL"] = f"redis://127.0.0.1:{options.redis_port}/0"
    env["LOG_LEVEL"] = "INFO"
    env.pop("BENCH_QUERY_HEADER", None)
    os.environ.update(env)
    for port in (options.redis_port, options.closed_port):
        if _listening(port):
            raise SystemExit(f"outage: something listens on 127.0.0.1:{port}; another rehearsal? (OUTAGE_*_PORT)")
    if shutil.which("redis-server") is None:
        raise SystemExit("outage: redis-server is not installed")
    shutil.rmtree(OUTAGE_DIR, ignore_errors=True)
    (OUTAGE_DIR / "redis").mkdir(parents=True)

    with ExitStack() as stack:
        state = None

        def stop_users():
            if state is not None:
                state.stop.set()

        redis = redis_process(options, env)
        stack.callback(redis.stop)
        redis_start(redis, options, append=False)
        log(f"outage: redis-server on 127.0.0.1:{options.redis_port}")
        dataset_ensure(scale, env, log=log)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from .__main__ import _commit, _machine

        task = _periodic_task(options.task_every)
        stack.callback(lambda: task.delete())
        sizes = _sizes()
        connection.close()

        port = free_port()
        web = gunicorn_process("gunicorn", env, port, options.workers)
        stack.callback(web.stop)
        web.start()
        worker = Process("worker", [str(BIN / "celery"), "-A", "crm_site", "worker", "--loglevel=INFO",
                                    f"--concurrency={options.celery_concurrency}", "--hostname=outage@%h"], env)  # fmt: skip
        stack.callback(worker.stop)
        worker.start()
        beat = Process("beat", [str(BIN / "celery"), "-A", "crm_site", "beat", "--loglevel=DEBUG",
                                f"--pidfile={OUTAGE_DIR / 'beat.pid'}"], env)  # fmt: skip
        stack.callback(beat.stop)
        beat.start()
        db_down_port = None
        if "db-unreachable" in options.phases:
            db_down_port = free_port()
            down_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{options.closed_port}/crm"}
            down = gunicorn_process("gunicorn-db-unreachable", down_env, db_down_port, max(2, options.workers // 2))
            stack.callback(down.stop)
            down.start()
            _wait("the second gunicorn", lambda: _answers(db_down_port, any_status=True), down)
        _wait("gunicorn", lambda: _answers(port), web)
        _wait("the Celery worker", lambda: " ready." in worker.log_text(), worker)
        log(f"outage: gunicorn ({options.workers} workers) on 127.0.0.1:{port}, Celery worker and beat running")

        run_id = f"{int(time.time()):x}"
        state = State(port)
        stack.callback(stop_users)
        users = [User(n, plan, state, options, settings.DEMO_PASSWORD, run_id) for n, plan in enumerate(plans(options))]
        connection.close()
        dropped = Counter()
        for user in users:
            if not user.sign_in():
                raise SystemExit(f"outage: {user.plan.username} could not sign in; see {web.log_path}")
            for page, _, status in user.probe():
                dropped[(user.plan.role, page, status)] += 1
        left_out = [f"{role}: {page} ({status}, {n} users)" for (role, page, status), n in sorted(dropped.items())]
        for line in left_out:
            log(f"outage: left out, not 200 in the warm-up: {line}")
        log(f"outage: {len(users)} users signed in ({dict(Counter(u.plan.role for u in users))})")
        with state.lock:
            state.samples.clear()

        phases, beat_chunks, worker_chunks = [], {}, {}
        timings, load_started = {}, False
        for name in [*options.phases, "drain"]:
            if name == "drain":  # the load stops; beat and the worker go on
                state.stop.set()
                for user in users:
                    user.join(timeout=options.timeout + 5)
            elif name == "redis-stopped":
                redis.stop()
            elif name == "redis-restarted":
                timings["redis_restart_s"] = round(redis_start(redis, options, append=True), 2)
            elif name == "redis-hung":
                redis.signal(signal.SIGSTOP)
            elif name == "redis-resumed":
                redis.signal(signal.SIGCONT)
            state.port = db_down_port if name == "db-unreachable" else port
            offsets = (beat.log_size(), worker.log_size())
            start, load_start = time.monotonic(), [round(x, 2) for x in os.getloadavg()]
            state.phase = name
            if not load_started:  # the load starts with the first phase
                load_started = True
                for user in users:
                    user.start()
            what = PHASES.get(name, "no load: the worker catches up")
            log(f"outage: phase {name}: {what}")
            time.sleep(options.drain if name == "drain" else options.seconds)
            phases.append({"phase": name, "what": what, "seconds": round(time.monotonic() - start, 1),
                           "load_start": load_start, "load_end": [round(x, 2) for x in os.getloadavg()]})  # fmt: skip
            beat_chunks[name] = beat.log_text(offsets[0], beat.log_size())
            worker_chunks[name] = worker.log_text(offsets[1], worker.log_size())
        if "redis-hung" in options.phases and "redis-resumed" not in options.phases:
            redis.signal(signal.SIGCONT)
        exited = [p.name for p in (web, worker, beat) if p.proc.poll() is not None]

        saved = _saved(run_id)
        today = timezone.localdate().isoformat()
        names = [p["phase"] for p in phases]
        tasks = task_summary(names, beat_chunks, worker_chunks)
        samples = list(state.samples)
        rows = phase_rows(phases, samples, state.writes, saved, tasks)
        pages = page_rows(samples, names)
        mix = Counter(u.plan.role for u in users)
        header = {
            "kind": "run",
            "date": today,
            "commit": _commit(),
            "machine": _machine()
            + f"; load average (1, 5, 15 min) at the end {[round(x, 2) for x in os.getloadavg()]}",
            "data": ", ".join(f"{v:,} {k}" for k, v in sizes.items()) + f" (bench data set {scale.name})",
            "deployment": f"gunicorn {options.workers} sync workers, DEBUG off; Celery worker (concurrency "
            f"{options.celery_concurrency}) and beat; Redis {redis_version()} as cache and broker "
            f"(sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}); PostgreSQL",
            "load": f"{len(users)} users ({', '.join(f'{n} {r}' for r, n in mix.items())}), a request every "
            f"{options.think:g} s on average each; {options.quick_logs_per_minute:g} quick logs a minute per RM, "
            f"{options.complaints_per_minute:g} complaints a minute per officer; client timeout {options.timeout:g} s; "
            f"phases of {options.seconds:g} s",
            "exited": exited,
            "left_out": left_out,  # pages a role's user could not open in the warm-up  # processes of the deployment that had died by the end
            "task_every": options.task_every,
            "drain": options.drain,
            "options": options.__dict__,
            **timings,
        }
    # Every process is stopped here (the ExitStack): the files are written after.
    stem = f"{header['date']}-outage" + (f"-{options.tag}" if options.tag else "")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_DIR / f"{stem}.jsonl", "w") as f:
        for row in [header, *samples, *state.writes, *rows, *pages]:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    summary = markdown(header, rows, pages)
    (RESULTS_DIR / f"{stem}.md").write_text(summary)
    print(summary)
    log(f"outage: bench/results/{stem}.jsonl and .md written; process logs in {OUTAGE_DIR}")
    return 0


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"v=(\S+)", out)
    return m.group(1) if m else "?"


def main() -> int:
    # Stopped with SIGTERM, the rehearsal still stops what it started (the ExitStack unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C too, even when started in the background
    try:
        return run(Options.from_environment())
    except KeyboardInterrupt:
        log("outage: interrupted; every process it started is stopped, no results written")
        return 130


if __name__ == "__main__":
    sys.exit(main())
