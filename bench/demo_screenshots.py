"""The screenshots of the docs (``make screenshots``): each demo role's home page, the page they land on after
signing in, at 375 px (a phone) and 1280 px (a desktop), saved to docs/screenshots/<role>-<width>.png.

It seeds a demo database of its own (a SQLite file under var/, or SCREENSHOTS_DATABASE_URL) when it has none or
when it was seeded on another day (the reminders and figures are relative to the day), starts the development
server on a free port (SCREENSHOTS_PORT to choose one), signs in as each role in headless Chromium and shoots the
full page, clipped to its first 2,500 pixels (less where the file would pass 400 KB) so that a long list stays a
small file. It lives outside the app packages because it drives a browser (Playwright), which the app never
imports.

    python -m bench.demo_screenshots            # or: make screenshots
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
VAR = ROOT / "var"
DATABASE = VAR / "screenshots.sqlite3"
STAMP = VAR / "screenshots.seeded-on"
WIDTHS = (375, 1280)
CLIP_HEIGHTS = (2500, 1800, 1200)  # the first that keeps the file under MAX_BYTES
MAX_BYTES = 400 * 1024
CUSTOMERS = 2000
FIGURE_DAYS = 60  # the default 30-day period beside the 30 days before it
# role slug → demo login; every role seed_demo creates, heads at each level of the tree.
ROLES = {
    "rm": "rm1",
    "head-outlet": "head11",
    "head-sub-branch": "head1",
    "head-branch": "head",
    "officer": "officer",
    "admin": "admin",
}
# The pages of the branch's sales work beside the home pages: (role slug, page slug, path) →
# docs/screenshots/<role>-<page>-<width>.png.
PAGES = (
    ("rm", "pool", "/pool/"),
    ("rm", "tasks", "/tasks/"),
    ("rm", "targets", "/targets/mine/"),
    ("head-outlet", "pool", "/pool/"),
    ("head-sub-branch", "tasks", "/tasks/"),
    ("head-sub-branch", "targets", "/targets/"),
    ("head-sub-branch", "releases", "/pool/releases/"),
)


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _environment() -> dict:
    env = dict(os.environ, DEBUG="1")
    env["DATABASE_URL"] = os.environ.get("SCREENSHOTS_DATABASE_URL") or f"sqlite:///{DATABASE}"
    env.pop("REDIS_URL", None)  # a file broker and a local cache: nothing shared with another run
    return env


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _seed(env: dict) -> None:
    """A fresh demo database unless today's exists. An empty migrated database is kept beside it (for the same
    migrations), so that a new day's seed does not migrate again."""
    VAR.mkdir(exist_ok=True)
    started = time.monotonic()
    if "SCREENSHOTS_DATABASE_URL" in os.environ:
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
    elif not STAMP.exists() or STAMP.read_text().strip() != _today() or not DATABASE.exists():
        for path in VAR.glob(f"{DATABASE.name}*"):
            path.unlink()
        STAMP.unlink(missing_ok=True)
        template = VAR / f"screenshots-migrated-{_migrations_digest()}.sqlite3"
        if not template.exists():
            for old in VAR.glob("screenshots-migrated-*.sqlite3"):
                old.unlink()
            _manage(env, "migrate", "--noinput", "--verbosity", "0")
            shutil.copyfile(DATABASE, template)
        else:
            shutil.copyfile(template, DATABASE)
    _manage(
        env, "seed_demo", "--if-empty", "--no-logins", "--customers", str(CUSTOMERS), "--figure-days", str(FIGURE_DAYS)
    )
    if "SCREENSHOTS_DATABASE_URL" not in os.environ:
        STAMP.write_text(_today())
    print(f"  demo database ready in {time.monotonic() - started:.0f} s")


def _free_port() -> int:
    if os.environ.get("SCREENSHOTS_PORT"):
        return int(os.environ["SCREENSHOTS_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the development server stopped before it accepted connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the development server did not accept connections on port {port}")


def _full_page(page, path: Path, width: int) -> Path:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # the charts draw after load
    height = page.evaluate("document.documentElement.scrollHeight")
    for clip in CLIP_HEIGHTS:
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": min(height, clip)}
        )
        if path.stat().st_size <= MAX_BYTES:
            break
    return path


def _shoot(url: str, password: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for role, username in ROLES.items():
                for width in WIDTHS:
                    context = browser.new_context(
                        viewport={"width": width, "height": 812 if width < 768 else 900},
                        locale="zh-CN",
                        is_mobile=width < 768,
                        reduced_motion="reduce",
                    )
                    page = context.new_page()
                    page.goto(f"{url}/accounts/login/")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", password)
                    page.click("button[type=submit]")
                    page.wait_for_url(lambda u: "/accounts/login/" not in u)
                    shots = [(f"{role}-{width}.png", None)] + [
                        (f"{role}-{name}-{width}.png", path) for slug, name, path in PAGES if slug == role
                    ]
                    for filename, target in shots:
                        if target:
                            page.goto(f"{url}{target}")
                        written.append(_full_page(page, OUT / filename, width))
                    context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    started = time.monotonic()
    env = _environment()
    _seed(env)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        password = os.environ.get("DEMO_PASSWORD") or "Demo@2026crm"
        written = _shoot(f"http://127.0.0.1:{port}", password)
    finally:
        server.terminate()
        server.wait(timeout=10)
    for path in written:
        print(f"  {path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    print(f"  {len(written)} screenshots in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
