"""The WSGI entry point (crm_site/wsgi.py) and gunicorn's configuration (gunicorn.conf.py): the application
serves signed-in pages; on the Python versions whose frame stack churns (CPython 3.11 and 3.12: a chunk allocated
with mmap on every call and freed on every return when a hot call path sits on a chunk boundary) it serves them
without that churn, wherever in the stack the server calls it; and each gunicorn worker freezes the loaded
application out of the garbage collector's walks."""

import gc
import io
import resource
import sys
import types
from pathlib import Path

import pytest
from django.core import signals
from django.db import close_old_connections
from django.urls import reverse
from gunicorn.app.wsgiapp import WSGIApplication

from crm_site import wsgi
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client, org):
    """Call a WSGI application as a server would, signed in as the admin. Like the test client, requests keep the
    test's database connection (and its transaction) open."""
    for _ in range(30):
        CustomerFactory(primary_rm=org.rm_west)
    client.force_login(org.admin.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def call(app, path):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "HTTP_COOKIE": cookie,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
        return status[0], body

    yield call
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_application_serves_a_signed_in_page(call):
    status, body = call(wsgi.application, reverse("customers:customer-list"))
    assert status == "200 OK"
    assert "客户" in body.decode()


def test_the_frame_stack_workaround_is_on_exactly_where_the_churn_is():
    affected = sys.implementation.name == "cpython" and sys.version_info < (3, 13)  # python/cpython#142183
    assert wsgi.FRAME_STACK_CHURN is affected
    assert (wsgi.application is not wsgi.django_application) is affected


@pytest.fixture
def gc_state():
    """The collector's state of this process, restored after the test."""
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if frozen:
        gc.freeze()


def test_each_gunicorn_worker_freezes_the_loaded_application_out_of_the_collectors_walks(gc_state, monkeypatch):
    """Full collections walked the whole heap every twenty requests or so, 80 ms each (the list's p95). gunicorn
    reads the hook from its configuration file and calls it in each worker once the application is loaded."""
    config = Path(wsgi.__file__).resolve().parents[1] / "gunicorn.conf.py"
    monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", str(config), "crm_site.wsgi"])  # the README's command
    threshold = gc.get_threshold()
    server = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == threshold  # not when read: in the worker
    server.cfg.post_worker_init(worker=None)
    assert gc.get_freeze_count() > 10_000  # the modules, settings and URL patterns of the loaded application
    assert gc.get_threshold() == (10_000, 20, 50)


def _nest(n, fn):
    return fn() if n == 0 else _nest(n - 1, fn)


# Each level of nesting moves the caller 40-odd frame slots deeper: 50 levels cover a whole 16 KiB chunk.
_nest = types.FunctionType(_nest.__code__.replace(co_stacksize=32), globals(), "_nest")


def _page_faults(fn) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.slow
@pytest.mark.skipif(sys.implementation.name != "cpython", reason="a CPython frame-stack matter")
def test_a_page_does_not_churn_the_frame_stack_at_any_depth(call):
    url = reverse("customers:customer-list")
    for _ in range(3):  # warm: templates compiled, caches filled
        call(wsgi.application, url)
    through_wrapper = [
        _page_faults(lambda d=depth: _nest(d, lambda: call(wsgi.application, url))) for depth in range(60)
    ]
    # A page served by the application touches few new memory pages, at every depth of the caller.
    assert max(through_wrapper) < 300, through_wrapper
    if wsgi.FRAME_STACK_CHURN:
        # Without the wrapper, some depth puts the rendering on a chunk boundary: thousands of page faults.
        bare = [
            _page_faults(lambda d=depth: _nest(d, lambda: call(wsgi.django_application, url))) for depth in range(60)
        ]
        assert max(bare) > 5 * max(through_wrapper), bare
