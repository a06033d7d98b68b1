"""The outage rehearsal's own arithmetic (bench/outage.py): what counts as an error, how a timeout is timed, which
writes were lost, which tasks were done — on a tiny local server and on log lines as Celery writes them."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import outage


def sample(status, ms=10.0, error=None, **extra):
    return {"kind": "request", "phase": "p", "page": "customer list", "status": status, "ms": ms, "error": error,
            **extra}  # fmt: skip


def test_a_500_a_503_a_timeout_and_a_refused_connection_are_errors_and_a_redirect_is_not():
    samples = [
        sample(200, 20),
        sample(302, 5),
        sample(500, 30),
        sample(503, 40),
        sample(0, 10_000, "timeout"),
        sample(0, 1, "connection"),
        sample(302, 4, signed_out=True),
        sample(500, 700, ended="redis-stopped"),  # sent in the phase, answered once the next fault had begun
    ]
    s = outage.request_summary(samples)
    assert s["requests"] == 8
    assert s["errors"] == 5
    assert (s["5xx"], s["503"], s["timeouts"], s["connection_errors"], s["signed_out"]) == (3, 1, 1, 1, 1)
    assert s["errors_answered_later"] == 1
    assert s["max"] == 10_000  # the timeout counts with the time it took to give up
    assert s["p50"] == 25  # between 20 and 30 of the eight


class _Server(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(1.0)
        status = {"/boom": 500, "/busy": 503, "/out": 302}.get(self.path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/accounts/login/?next=/out")
        self.send_header("Set-Cookie", "sessionid=abc; HttpOnly; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_the_client_gives_up_at_its_timeout_and_records_the_wait(server):
    client = outage.Client(lambda: server, timeout=0.3)
    answer = client.request("GET", "/slow")
    assert (answer.status, answer.error) == (0, "timeout")
    assert 300 <= answer.ms < 1000
    assert outage.is_error({"status": answer.status})
    # The next request works again on a fresh connection, with the cookie the server set.
    assert client.request("GET", "/").status == 200
    assert client.cookies == {"sessionid": "abc"}
    assert client.request("GET", "/boom").status == 500


def test_a_refused_connection_is_an_answer_of_its_own(server):
    client = outage.Client(lambda: outage.free_port(), timeout=1)
    answer = client.request("GET", "/")
    assert (answer.status, answer.error) == (0, "connection")


def test_a_redirect_to_the_sign_in_page_is_signed_out(server):
    answer = outage.Client(lambda: server, timeout=1).request("GET", "/out")
    assert outage.signed_out(answer)
    assert not outage.signed_out(outage.Answer(302, 1, location="/customers/7/"))
    assert not outage.signed_out(outage.Answer(200, 1))


@pytest.mark.parametrize("users", [4, 5, 20, 50, 51])
def test_every_role_has_users_and_they_add_up(users):
    mix = outage.role_mix(users)
    assert sum(mix.values()) == users
    assert set(mix) == {"rm", "head", "officer", "admin"}
    assert min(mix.values()) >= 1
    assert mix["rm"] == max(mix.values())


def test_lost_writes_and_writes_saved_behind_an_error():
    writes = [
        {"what": "quick-log", "phase": "p", "seq": 1, "ok": True},
        {"what": "quick-log", "phase": "p", "seq": 2, "ok": True},  # answered as saved, not in the database
        {"what": "quick-log", "phase": "p", "seq": 3, "ok": False},  # an error page, but written
        {"what": "quick-log", "phase": "p", "seq": 4, "ok": False},
        {"what": "quick-log", "phase": "q", "seq": 5, "ok": True},
        {"what": "complaint", "phase": "p", "seq": 6, "ok": True},
    ]
    saved = {"quick-log": {1, 3, 5}, "complaint": {6}}
    assert outage.write_summary(writes, saved, "quick-log", "p") == {
        "sent": 4, "ok": 2, "saved": 2, "lost": 1, "saved_despite_error": 1,
    }  # fmt: skip
    assert outage.write_summary(writes, saved, "complaint", "p")["saved"] == 1


BEAT = {
    "baseline": """\
[2026-12-01 23:05:09,163: INFO/MainProcess] Scheduler: Sending due task outage rehearsal: escalate complaints (complaints.tasks.escalate_complaints)
[2026-12-01 23:05:09,171: DEBUG/MainProcess] complaints.tasks.escalate_complaints sent. id->aaaaaaaa-0000-0000-0000-000000000001
""",
    "redis-stopped": """\
[2026-12-01 23:05:14,163: INFO/MainProcess] Scheduler: Sending due task outage rehearsal: escalate complaints (complaints.tasks.escalate_complaints)
[2026-12-01 23:05:14,324: ERROR/MainProcess] Message Error: Couldn't apply scheduled task outage rehearsal: escalate complaints: Error 111 connecting to 127.0.0.1:16400. Connection refused.
""",
    "redis-hung": """\
[2026-12-01 23:05:19,163: INFO/MainProcess] Scheduler: Sending due task outage rehearsal: escalate complaints (complaints.tasks.escalate_complaints)
""",
    "redis-resumed": """\
[2026-12-01 23:05:29,171: DEBUG/MainProcess] complaints.tasks.escalate_complaints sent. id->aaaaaaaa-0000-0000-0000-000000000002
""",
}
WORKER = {
    "baseline": """\
[2026-12-01 23:05:10,631: INFO/MainProcess] Task complaints.tasks.escalate_complaints[aaaaaaaa-0000-0000-0000-000000000001] received
[2026-12-01 23:05:10,700: INFO/ForkPoolWorker-1] Task complaints.tasks.escalate_complaints[aaaaaaaa-0000-0000-0000-000000000001] succeeded in 0.05s: {}
""",
    "drain": """\
[2026-12-01 23:05:31,631: INFO/MainProcess] Task complaints.tasks.escalate_complaints[aaaaaaaa-0000-0000-0000-000000000002] received
[2026-12-01 23:05:31,640: INFO/MainProcess] Task complaints.tasks.escalate_complaints[bbbbbbbb-0000-0000-0000-000000000003] received
[2026-12-01 23:05:31,700: INFO/ForkPoolWorker-2] Task complaints.tasks.escalate_complaints[aaaaaaaa-0000-0000-0000-000000000002] succeeded in 0.05s: {}
""",
}


def test_tasks_due_published_and_done_by_phase_from_the_celery_logs():
    phases = ["baseline", "redis-stopped", "redis-hung", "redis-resumed", "drain"]
    rows = {r["phase"]: r for r in outage.task_summary(phases, BEAT, WORKER)}
    assert (rows["baseline"]["due"], rows["baseline"]["published"], rows["baseline"]["done"]) == (1, 1, 1)
    assert (rows["redis-stopped"]["due"], rows["redis-stopped"]["not_published"]) == (1, 1)
    assert rows["redis-hung"]["published"] == 0  # still waiting on the hung Redis when the phase ended
    assert rows["redis-resumed"]["published_then_received"] == 1  # received later, in the drain
    assert (rows["drain"]["received"], rows["drain"]["done"], rows["drain"]["received_unannounced"]) == (2, 1, 1)


def test_the_report_has_a_row_per_phase_and_page():
    samples = [
        {**sample(200), "phase": "baseline"},
        {**sample(500), "phase": "redis-stopped"},
        {**sample(0, 10_000, "timeout"), "phase": "redis-hung", "page": "home"},
    ]
    phases = [
        {"phase": n, "what": outage.PHASES[n], "seconds": 20.0, "load_start": [1.0, 1, 1], "load_end": [1.5, 1, 1]}
        for n in ("baseline", "redis-stopped", "redis-hung")
    ]
    rows = outage.phase_rows(phases, samples, [], {}, [])
    pages = outage.page_rows(samples, [p["phase"] for p in phases])
    header = {"date": "2026-12-01", "commit": "abc1234", "machine": "2 cores", "data": "10,000 customers",
              "deployment": "gunicorn", "load": "3 users", "task_every": 5, "drain": 20}  # fmt: skip
    text = outage.markdown(header, rows, pages)
    assert "| redis-stopped | Redis stopped (SIGTERM) | 20 | 1 | 1 | 1 | 0 | 0 |" in text
    assert "| redis-hung | Redis hung (SIGSTOP): connections open, no answer | 20 | 1 | 1 | 0 | 0 | 1 |" in text
    assert "| customer list | 0/1 | 1/1 | — |" in text
    assert "| home | — | — | 1/1 |" in text
