"""Real HTTP: gunicorn with production settings, signed-in sessions, sequential timing and wrk load runs."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from .config import PYTHON, ROOT, WORK_DIR

GUNICORN_WORKERS = int(os.environ.get("BENCH_WORKERS") or 4)  # the README's production command; 2 cores


def free_port() -> int:
    """A free port on the loopback, or BENCH_PORT when set (a machine that gives each user a range of ports)."""
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, *, log=print):
    """Serve the project on 127.0.0.1 with the bench middleware on; yields the port."""
    port = free_port()
    env = {**env, "BENCH_QUERY_HEADER": "1"}
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    errors = open(WORK_DIR / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "crm_site.wsgi",
            "--workers",
            str(GUNICORN_WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=errors,
        stderr=errors,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/accounts/login/")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: gunicorn did not start; see {WORK_DIR / 'gunicorn.log'}")
            time.sleep(0.3)
        log(f"bench: gunicorn ({GUNICORN_WORKERS} workers) on 127.0.0.1:{port}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        errors.close()


class Session:
    """A signed-in browser session over one keep-alive connection."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = {"Cookie": self.cookie_header, **(headers or {})}
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response, data

    def login(self, username: str, password: str) -> None:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        response, _ = self.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": "/accounts/login/"},
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"bench: sign-in of {username} failed (HTTP {response.status})")

    def searched(self, path: str) -> str:
        """A page searched by a term (``?q=``) is reached as a user reaches it: the term goes through the search
        step (customers.search) and the page is read by the token it redirects to, which belongs to this session.
        Other paths are returned as they are."""
        if "q=" not in path.partition("?")[2]:
            return path
        response, _ = self.request("GET", path)
        if response.status != 303:
            return path
        return response.headers["Location"]


@dataclass
class Sample:
    status: int
    server_ms: float
    client_ms: float
    queries: int | None
    size: int


def fetch(session: Session, path: str) -> Sample:
    started = time.perf_counter()
    response, data = session.request("GET", path)
    client_ms = (time.perf_counter() - started) * 1000
    timing = re.search(r"dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
    queries = response.headers.get("X-Bench-Queries")
    return Sample(
        status=response.status,
        server_ms=float(timing.group(1)) if timing else client_ms,
        client_ms=client_ms,
        queries=int(queries) if queries is not None else None,
        size=len(data),
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


WRK_SCRIPT = """
local cookies = {%(cookies)s}
local paths = {%(paths)s}
local n = 0
request = function()
  n = n + 1
  local i = (n %% #cookies) + 1
  return wrk.format("GET", paths[i], {["Cookie"] = cookies[i]})
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(port: int, path: str | list[str], cookies: list[str], *, connections: int, seconds: int) -> dict:
    """A wrk run: ``connections`` concurrent clients for ``seconds``, rotating over signed-in sessions (and, when
    ``path`` is a list, each session's own path: a search token belongs to its session)."""
    paths = path if isinstance(path, list) else [path] * len(cookies)
    if shutil.which("wrk") is None:
        return {"error": "wrk not installed"}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            WRK_SCRIPT
            % {
                "cookies": ", ".join(_lua_string(c) for c in cookies),
                "paths": ", ".join(_lua_string(p) for p in paths),
            }
        )
        script = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "--latency",
                "-t",
                str(min(2, connections)),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "30s",
                "-s",
                script,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    result = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        if m:
            result[f"p{p}"] = round(_wrk_ms(m.group(1)), 1)
    m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out)
    if m:
        result["max"] = round(_wrk_ms(m.group(1)), 1)
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["errors"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        result["socket_errors"] = m.group(1).strip()
    return result
