"""An administrator uploads an extract through the page: the load's page shows the live progress bar while the file
waits and loads, and the report (with its rejected, masked rows) replaces it when the load has finished — on a
desktop and on a phone."""

import threading

import pytest
from django.db import connection

from feed import tasks
from feed.models import Load
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUST = (
    "cust_no|cust_type|name|id_type|id_no|branch_code|rm_staff_no\n"
    "C0001|P|王一|ID|11010519491231002X|111|\n"
    "C0002|P|王二|ID|110105194912310021|111|\n"
    "C0003|P|王三|ID|110105198001010016|111|\n"
).encode("gb18030")


@pytest.fixture
def shots(tmp_path):
    """Screenshots into the test's tmp path (their folder is printed, to look at them)."""
    folder = tmp_path / "shots"
    folder.mkdir()
    print(f"shotss: {folder}")

    def _shot(page, name: str):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return _shot


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.FEED_UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def worker(monkeypatch):
    """The loader's task on a thread, as a Celery worker would run it, started only when the test says so: the page
    is seen queued (progress bar and polling) first."""
    go, threads = threading.Event(), []

    def run(load_id):
        try:
            go.wait(timeout=30)
            tasks.run_load(load_id)
        finally:
            connection.close()

    def apply_async(args=(), kwargs=None, **options):
        thread = threading.Thread(target=run, args=tuple(args), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.run_load, "apply_async", apply_async)
    yield go
    go.set()
    for thread in threads:
        thread.join(timeout=30)


def upload_and_watch(page, live_server, worker, tmp_path, name: str, width: int, shots) -> Load:
    page.goto(f"{live_server.url}/feed/upload/")
    path = tmp_path / name
    path.write_bytes(CUST)
    form = page.locator("[data-testid=upload-form]")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("select[name=kind]").select_option("CUST")
    form.locator("input[name=business_date]").fill("2026-11-30")
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("[data-testid=progress-bar]")
    load = Load.objects.latest("pk")
    assert load.status == "queued" and load.file_name == name
    assert page.get_attribute("#load-live", "hx-trigger") == "every 1s"
    assert "排队中" in page.inner_text("[data-testid=progress-phase]")
    shots(page, f"feed-progress-{width}")
    worker.set()  # the worker takes the load up; the page's next poll swaps the report in
    page.wait_for_selector("[data-testid=report]", timeout=15_000)
    assert page.get_attribute("#load-live", "hx-trigger") is None  # no more polling
    assert page.locator("[data-testid=progress-bar]").count() == 0
    errors = page.inner_text("[data-testid=row-errors]")
    assert "11010519491231002X" not in errors and "110105194912310021" not in errors
    assert "0021" in errors  # the rejected ID, masked
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots(page, f"feed-report-{width}")
    load.refresh_from_db()
    assert load.status == "loaded" and load.rows_rejected == 1
    return load


def test_an_upload_shows_its_progress_then_its_report_on_a_desktop(org, live_server, browser, worker, tmp_path, shots):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_server, "hq_admin", TEST_PASSWORD)
        load = upload_and_watch(page, live_server, worker, tmp_path, "CUST_20261130.txt", 1280, shots)
        assert load.created_by == org.admin.user
        page.goto(f"{live_server.url}/feed/")
        assert "CUST_20261130.txt" in page.inner_text("[data-testid=load-table]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        shots(page, "feed-list-1280")
    finally:
        context.close()


def test_an_upload_shows_its_progress_then_its_report_on_a_phone(org, live_server, phone_page, worker, tmp_path, shots):
    page = phone_page
    sign_in(page, live_server, "hq_admin", TEST_PASSWORD)
    upload_and_watch(page, live_server, worker, tmp_path, "客户.txt", 375, shots)
    page.goto(f"{live_server.url}/feed/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shots(page, "feed-list-375")
