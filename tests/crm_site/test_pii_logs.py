"""End to end under gunicorn with the repository's configuration (gunicorn.conf.py) and DEBUG off: a member of
staff signs in, searches the customer list by a full ID number and by a mobile through the form (POST, then the
303 to ``?s=<token>``), pages through a name search, and opens an old ``?q=`` bookmark; then neither number is in
gunicorn's access or error log, the application's log output, or any URL the server sent back. The header's search
box is searched the same way, as it is typed (htmx) and without JavaScript."""

import http.client
import os
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import TEST_PASSWORD, CustomerFactory

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
PORT = int(os.environ.get("PII_LOG_TEST_PORT", "16410"))
ID_NUMBER, MOBILE = "11010519491231002X", "13800138000"  # book.west's; the ID has a valid GB 11643 check digit


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, and every URL the server hands back."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.urls: list[str] = []

    def request(self, method, path, form=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "User-Agent": "pii-log-test",
            **(headers or {}),
        }
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        location = response.headers.get("Location")
        if location:
            self.urls.append(location)
        self.urls += [unescape(h) for h in re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', text)]
        return response.status, location, text


@pytest.fixture
def server(transactional_db, org, book, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the server process needs the test database on PostgreSQL")
    for i in range(55):  # more than a page (50) of 王…
        CustomerFactory(primary_rm=org.rm_west, name=f"王测{i:02d}")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "0",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "SECRET_KEY": settings.SECRET_KEY,
        "PII_ENCRYPTION_KEYS": ",".join(settings.PII_ENCRYPTION_KEYS),
        "PII_HASH_KEY": settings.PII_HASH_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "DEBUG",  # the application's log at its most talkative
    }
    env.pop("REDIS_URL", None)  # one worker with a local cache: no shared state needed
    logs = {name: tmp_path / f"{name}.log" for name in ("access", "error", "app")}
    with open(logs["app"], "w") as app_log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "crm_site.wsgi"]
            + ["--workers", "1", "--bind", f"127.0.0.1:{PORT}"]
            + ["--access-logfile", str(logs["access"]), "--error-logfile", str(logs["error"])],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=app_log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    Browser().request("GET", "/accounts/login/")
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("gunicorn did not start: " + logs["app"].read_text())
                    time.sleep(0.3)
            yield logs
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_no_identifier_reaches_a_url_or_a_log(server, org):
    browser = Browser()
    browser.request("GET", "/accounts/login/")
    status, _, _ = browser.request("POST", "/accounts/login/", {"username": "west_head", "password": TEST_PASSWORD})
    assert status == 302
    browser.request("GET", "/customers/")
    for term in (ID_NUMBER, MOBILE):
        status, location, _ = browser.request("POST", "/customers/", {"q": term, "sort": "name"})
        assert status == 303 and "s=" in location
        status, _, page = browser.request("GET", location)
        assert status == 200 and "王西甲" in page and "李西乙" not in page
    status, location, page = browser.request("POST", "/customers/", {"q": "王"})
    status, _, page = browser.request("GET", location)
    next_page = unescape(re.search(r'href="(\?[^"]*page=2[^"]*)"', page).group(1))
    status, _, page = browser.request("GET", "/customers/" + next_page)
    assert status == 200 and "王测" in page
    status, location, _ = browser.request("GET", f"/customers/?q={MOBILE}")  # an old bookmark
    assert status == 303 and browser.request("GET", location)[0] == 200
    # The header's search box, as it is typed (htmx) and without JavaScript (through the token step).
    for term in (ID_NUMBER, MOBILE):
        status, _, fragment = browser.request("POST", "/customers/search/", {"q": term}, {"HX-Request": "true"})
        assert status == 200 and "王西甲" in fragment and "李西乙" not in fragment
        status, location, _ = browser.request("POST", "/customers/search/", {"q": term})
        assert status == 303 and "s=" in location
        status, _, page = browser.request("GET", location)
        assert status == 200 and "王西甲" in page

    texts = {name: path.read_text() for name, path in server.items()}
    assert texts["access"].count("/customers/") >= 14  # the requests were logged, without their query strings
    for where, text in [*texts.items(), ("the URLs sent back", "\n".join(browser.urls))]:
        for number in (ID_NUMBER, MOBILE):
            assert number not in text, f"{number} in {where}"
