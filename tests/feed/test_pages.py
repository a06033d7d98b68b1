"""The feed's pages, for administrators: the role × page matrix, the upload's checks (each a form error, with
nothing written and no file left behind), a good upload queued for the loader, the query counts of the list and a
load's page, the live fragment, the Excel report (masked values only) and the conflicts page."""

import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from openpyxl import load_workbook

from customers.models import AccessLog
from feed import services, tasks
from feed.models import Kind, Load, LoadError
from organisation.access import SYSTEM

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 30)
TODAY = "2026-12-01 10:00:00+08:00"
WHO = ("rm_west", "west_head", "west_officer", "admin")
FULL_ID = "11010519491231002X"
MASKED_ID = "110105********002X"
CUST_TEXT = "cust_no|cust_type|name|branch_code\nC0001|P|王一|111\n".encode("gb18030")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def upload_dir(settings, tmp_path):
    folder = tmp_path / "uploads"
    settings.FEED_UPLOAD_DIR = folder
    return folder


@pytest.fixture
def sent(monkeypatch):
    """The messages handed to the broker for the loader's task (its args), instead of a real broker."""
    calls = []
    monkeypatch.setattr(tasks.run_load, "apply_async", lambda args=(), kwargs=None, **o: calls.append(tuple(args)))
    return calls


def make_load(admin=None, **fields) -> Load:
    make_load.n = getattr(make_load, "n", 0) + 1
    values = {
        "kind": Kind.CUST,
        "business_date": DAY,
        "file_name": f"CUST_{DAY:%Y%m%d}.txt",
        "sha256": f"{make_load.n:04d}" + "ab" * 30,
        "size_bytes": 1234,
        "source": Load.Source.INBOX,
        "status": Load.Status.LOADED,
        "rows_read": 3,
        "rows_loaded": 2,
        "rows_rejected": 1,
        "created_by": admin.user if admin else None,
        "started_at": timezone.now() - timedelta(seconds=5),
        "finished_at": timezone.now(),
    }
    values.update(fields)
    return Load.objects.create(**values)


def make_error(load: Load, line: int = 2, **fields) -> LoadError:
    values = {
        "column": "id_no",
        "value": MASKED_ID,
        "code": LoadError.CONFLICT,
        "reason": "该证件号码已属于客户 C0009：未合并。",
        "reason_en": "This ID number already belongs to customer C0009: not merged.",
        "key": "C0001",
    }
    values.update(fields)
    return LoadError.objects.create(load=load, line=line, **values)


@pytest.fixture
def records(org):
    load = make_load(org.admin, summary={"unknown_rm": {"count": 1, "sample": ["C0003"]}})
    return {"load": load, "conflict": make_error(load)}


def pages(records):
    load, conflict = records["load"], records["conflict"]
    return {
        "load-list": ("get", reverse("feed:load-list")),
        "load-upload": ("get", reverse("feed:load-upload")),
        "load-detail": ("get", reverse("feed:load-detail", args=[load.pk])),
        "load-progress": ("get", reverse("feed:load-progress", args=[load.pk])),
        "load-report": ("get", reverse("feed:load-report", args=[load.pk])),
        "conflict-list": ("get", reverse("feed:conflict-list")),
        "conflict-resolve": ("post", reverse("feed:conflict-resolve", args=[conflict.pk])),
    }


# page → status for each of WHO (the resolve action answers with a redirect to the conflicts page).
EXPECTED = {
    "load-list":        (403, 403, 403, 200),
    "load-upload":      (403, 403, 403, 200),
    "load-detail":      (403, 403, 403, 200),
    "load-progress":    (403, 403, 403, 200),
    "load-report":      (403, 403, 403, 200),
    "conflict-list":    (403, 403, 403, 200),
    "conflict-resolve": (403, 403, 403, 302),
}  # fmt: skip


def test_every_page_is_in_the_matrix():
    from tests.urlwalk import all_urls

    ours = {name.split(":")[1] for _path, name, _view in all_urls() if name.startswith("feed:")}
    assert ours == set(EXPECTED)


def test_every_role_is_in_the_matrix(org):
    from organisation.models import Staff

    assert {getattr(org, who).role for who in WHO} == set(Staff.Role.values)


@pytest.mark.parametrize("page", list(EXPECTED))
def test_matrix(org, records, login, page):
    method, url = pages(records)[page]
    for who, expected in zip(WHO, EXPECTED[page], strict=True):
        client = login(getattr(org, who))
        response = getattr(client, method)(url, {"note": "已在核心系统合并"} if method == "post" else None)
        assert response.status_code == expected, (page, who, response.status_code)
    if page == "conflict-resolve":
        records["conflict"].refresh_from_db()
        assert records["conflict"].resolved_by == org.admin.user  # only the admin's POST did it


@pytest.mark.parametrize("page", list(EXPECTED))
def test_anonymous_is_sent_to_sign_in(client, records, page):
    method, url = pages(records)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login") + "?next=")


def test_a_load_of_a_missing_pk_is_a_404(org, login):
    client = login(org.admin)
    assert client.get(reverse("feed:load-detail", args=[999999])).status_code == 404
    assert client.get(reverse("feed:load-report", args=[999999])).status_code == 404


def test_the_navigation_shows_data_loads_to_admins_only(org, login):
    url = reverse("feed:load-list")
    assert url in login(org.admin).get(reverse("feed:conflict-list")).content.decode()
    assert f'href="{url}"' not in login(org.west_head).get(reverse("reminders:today")).content.decode()


# ----------------------------------------------------------------------------------------------------------------
# The upload
# ----------------------------------------------------------------------------------------------------------------


def post_upload(client, name: str, content: bytes, kind: str = "CUST", business_date: str = "2026-11-30"):
    upload = SimpleUploadedFile(name, content)
    return client.post(reverse("feed:load-upload"), {"file": upload, "kind": kind, "business_date": business_date})


def xlsx_bytes(*, workbook: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if workbook:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def assert_refused(response, upload_dir, *words):
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["form"].errors.get("file", []))
    for word in words:
        assert word in errors, errors
    assert not Load.objects.exists()
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_the_upload_page_opens_with_the_form(org, login):
    body = login(org.admin).get(reverse("feed:load-upload")).content.decode()
    assert 'enctype="multipart/form-data"' in body and 'name="kind"' in body and 'name="business_date"' in body


def test_a_file_over_the_limit_is_refused(org, login, upload_dir, sent, settings):
    settings.FEED_UPLOAD_MAX_BYTES = 100
    response = post_upload(login(org.admin), "CUST_20261130.txt", b"cust_no|name\n" + b"C1|x\n" * 40)
    assert_refused(response, upload_dir, "CUST_20261130.txt", "MB")
    assert sent == []


def test_a_wrong_extension_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "客户.docx", b"PK\x03\x04whatever")
    assert_refused(response, upload_dir, "客户.docx", ".csv, .txt, .xlsx")


def test_a_renamed_program_is_refused(org, login, upload_dir, sent):
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    response = post_upload(login(org.admin), "CUST_20261130.txt", program)
    assert_refused(response, upload_dir, "不是文本文件", "Windows")


def test_a_text_file_with_nul_bytes_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "CUST_20261130.csv", b"cust_no|name\nC1|\x00\x00\x00\n")
    assert_refused(response, upload_dir, "NUL")


def test_an_xlsx_that_is_not_a_zip_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "CUST_20261130.xlsx", b"cust_no|name\nC1|x\n")
    assert_refused(response, upload_dir, "Excel")


def test_a_zip_that_is_not_a_workbook_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "CUST_20261130.xlsx", xlsx_bytes(workbook=False))
    assert_refused(response, upload_dir, "Excel")


def test_a_name_that_disagrees_with_the_kind_and_date_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "HOLD_20261129.txt", CUST_TEXT)
    assert_refused(response, upload_dir, "HOLD", "20261129")


def test_a_future_business_date_is_refused(org, login, upload_dir, sent):
    response = post_upload(login(org.admin), "customers.txt", CUST_TEXT, business_date="2026-12-02")
    assert response.status_code == 200 and "business_date" in response.context["form"].errors
    assert not Load.objects.exists()


def test_a_good_upload_is_kept_under_a_random_name_queued_and_sent_to_the_loader(
    org, login, upload_dir, sent, django_capture_on_commit_callbacks
):
    client = login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, "../../etc/CUST_20261130.txt", CUST_TEXT)
    load = Load.objects.get()
    assert response.status_code == 302 and response.url == reverse("feed:load-detail", args=[load.pk])
    assert (load.status, load.source, load.kind, load.business_date) == ("queued", "upload", "CUST", DAY)
    assert load.file_name == "CUST_20261130.txt"  # the user's name, without its folders, and never as a path
    assert load.sha256 == hashlib.sha256(CUST_TEXT).hexdigest() and load.size_bytes == len(CUST_TEXT)
    assert load.created_by == org.admin.user
    stored = list(upload_dir.iterdir())
    assert [str(p) for p in stored] == [load.path]
    assert stored[0].name != load.file_name and stored[0].suffix == ".txt"
    assert stored[0].read_bytes() == CUST_TEXT
    assert sent == [(load.pk,)]
    page = client.get(response.url)
    assert page.status_code == 200 and "已上传" in page.content.decode()


def test_a_good_xlsx_upload_is_accepted(org, upload_dir, sent):
    upload = SimpleUploadedFile("客户.xlsx", xlsx_bytes())
    load = services.upload_start(actor=org.admin.user, uploaded_file=upload, kind="CUST", business_date=DAY)
    assert load.file_name == "客户.xlsx" and load.path.endswith(".xlsx")


def test_when_the_broker_is_down_the_load_stays_queued_and_says_so(
    org, login, upload_dir, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.run_load, "apply_async", down)
    client = login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, "CUST_20261130.txt", CUST_TEXT)
    load = Load.objects.get()
    assert load.status == "queued" and "收件箱" in load.message and "inbox sweep" in load.message_en
    assert (upload_dir / load.path.rsplit("/", 1)[1]).exists()  # the file is kept for the sweep
    body = client.get(response.url).content.decode()
    assert 'data-testid="queue-message"' in body


def test_only_admins_upload(org, upload_dir):
    from django.core.exceptions import PermissionDenied

    for who in (org.rm_west, org.west_head, org.west_officer):
        with pytest.raises(PermissionDenied):
            services.upload_start(
                actor=who.user, uploaded_file=SimpleUploadedFile("a.txt", CUST_TEXT), kind="CUST", business_date=DAY
            )
    with pytest.raises(PermissionDenied):
        services.upload_start(actor=None, uploaded_file=None, kind=None, business_date=None)
    assert not Load.objects.exists() and not upload_dir.exists()


def test_a_file_name_is_cleaned_for_display():
    assert services.clean_file_name("C:\\Users\\王\\CUST_20261130.txt", ".txt") == "CUST_20261130.txt"
    assert services.clean_file_name('a<b>|"c\x00.txt', ".txt") == "a_b___c_.txt"
    assert services.clean_file_name("..", ".csv") == "upload.csv"
    assert len(services.clean_file_name("长" * 300 + ".txt", ".txt")) == 200


# ----------------------------------------------------------------------------------------------------------------
# The list, a load's page and its live fragment
# ----------------------------------------------------------------------------------------------------------------


def test_the_list_shows_every_load_newest_first_with_who_and_filters(org, login):
    older = make_load(org.admin, file_name="PROD_20261129.txt", kind=Kind.PROD, business_date=DAY - timedelta(days=1))
    older.created_at = timezone.now() - timedelta(days=1)
    older.save()
    newer = make_load(None, status=Load.Status.REJECTED, file_name="CUST_20261130.txt")
    client = login(org.admin)
    body = client.get(reverse("feed:load-list")).content.decode()
    assert body.index("CUST_20261130.txt") < body.index("PROD_20261129.txt")
    assert org.admin.name in body and "系统" in body and newer.sha256[:12] in body and "5.0 秒" in body
    filtered = client.get(reverse("feed:load-list"), {"status": "rejected"}).content.decode()
    assert f'data-load="{newer.pk}"' in filtered and f'data-load="{older.pk}"' not in filtered
    by_kind = client.get(reverse("feed:load-list"), {"kind": "PROD"}).content.decode()
    assert f'data-load="{older.pk}"' in by_kind and f'data-load="{newer.pk}"' not in by_kind
    by_date = client.get(reverse("feed:load-list"), {"business_date": "2026-11-29"}).content.decode()
    assert f'data-load="{older.pk}"' in by_date and f'data-load="{newer.pk}"' not in by_date


def test_the_list_pages(org, login):
    for i in range(35):
        make_load(org.admin, file_name=f"TXN_{i}.txt")
    client = login(org.admin)
    first = client.get(reverse("feed:load-list"))
    assert len(first.context["page_obj"]) == 30 and "第 1 页，共 2 页" in first.content.decode()
    assert len(client.get(reverse("feed:load-list"), {"page": 2}).context["page_obj"]) == 5


@pytest.mark.parametrize("n", [3, 30])
def test_the_list_query_count_is_pinned(org, login, django_assert_num_queries, n):
    for _ in range(n):
        make_load(org.admin)
        make_load(None)
    client = login(org.admin)
    client.get(reverse("feed:load-list"))  # the session and the staff record are warm, as on a second page view
    # the session, the user, the staff record, the capped count, the page, the bell, and the session's save (3)
    with django_assert_num_queries(9):
        assert client.get(reverse("feed:load-list"), {"kind": "CUST"}).status_code == 200


@pytest.mark.parametrize("n", [3, 60])
def test_a_finished_loads_page_query_count_is_pinned(org, login, django_assert_num_queries, n):
    load = make_load(org.admin, summary={"no_rm": {"count": 2, "sample": ["C0001", "C0002"]}, "seconds": 1.5})
    for line in range(n):
        make_error(load, line=line + 2, code="date")
    client = login(org.admin)
    client.get(reverse("feed:load-detail", args=[load.pk]))
    # the session, the user, the staff record, the load, the rows' capped count, the open conflicts, the bell, the
    # page of rows, and the session's save (3)
    with django_assert_num_queries(11):
        response = client.get(reverse("feed:load-detail", args=[load.pk]))
    body = response.content.decode()
    assert 'data-testid="report"' in body and 'hx-trigger="every' not in body  # a finished load is not polled
    assert MASKED_ID in body and FULL_ID not in body


def test_a_running_load_polls_its_progress_and_the_finished_one_swaps_in_the_report(org, login, monkeypatch):
    from feed import progress

    load = make_load(org.admin, status=Load.Status.RUNNING, finished_at=None, rows_read=0, rows_loaded=0)
    read = {"phase": "apply", "rows_read": 1200, "rows_loaded": 1100, "rows_rejected": 3}
    monkeypatch.setattr(progress, "read", lambda load_id: read)
    client = login(org.admin)
    page = client.get(reverse("feed:load-detail", args=[load.pk])).content.decode()
    progress_url = reverse("feed:load-progress", args=[load.pk])
    assert f'hx-get="{progress_url}"' in page and 'hx-trigger="every 1s"' in page
    assert 'data-testid="progress-bar"' in page and "1,200" in page
    fragment = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<div") and "<html" not in fragment and "1,100" in fragment
    Load.objects.filter(pk=load.pk).update(status=Load.Status.LOADED, finished_at=timezone.now(), rows_read=1200)
    done = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="report"' in done and "hx-trigger" not in done and "report.xlsx" in done


def test_a_rejected_load_shows_its_structural_error(org, login):
    load = make_load(
        org.admin,
        status=Load.Status.REJECTED,
        error_code="checksum",
        message="文件的 SHA-256 与控制文件不符。",
        message_en="The file's SHA-256 does not match its control file.",
        rows_read=0,
        rows_loaded=0,
        rows_rejected=0,
    )
    body = login(org.admin).get(reverse("feed:load-detail", args=[load.pk])).content.decode()
    assert 'data-testid="structural-error"' in body and "控制文件不符" in body and "does not match" in body


# ----------------------------------------------------------------------------------------------------------------
# The Excel report
# ----------------------------------------------------------------------------------------------------------------


def test_the_report_downloads_with_masked_values_only_and_is_logged(org, login, records):
    load = records["load"]
    make_error(load, line=3, column="mobile", value="138****8000", code="required", key="C0002")
    response = login(org.admin).get(reverse("feed:load-report", args=[load.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    summary, rows = workbook.worksheets
    cells = [list(r) for r in rows.iter_rows(values_only=True)]
    assert cells[0][:3] == ["行号", "列", "值（已脱敏）"]
    assert [(r[0], r[1], r[2]) for r in cells[1:]] == [(2, "id_no", MASKED_ID), (3, "mobile", "138****8000")]
    text = " ".join(str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    assert FULL_ID not in text and "13800138000" not in text
    assert "CUST_20261130.txt" in text
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.user == org.admin.user and entry.row_count == 2 and entry.detail["load"] == load.pk


# ----------------------------------------------------------------------------------------------------------------
# Identity conflicts
# ----------------------------------------------------------------------------------------------------------------


def test_the_conflicts_page_lists_open_conflicts_and_resolves_one(org, login, records):
    load = records["load"]
    make_error(load, line=5, code="date", key="C0005")  # not a conflict
    resolved = make_error(load, line=6, key="C0006", resolved_at=timezone.now())
    client = login(org.admin)
    body = client.get(reverse("feed:conflict-list")).content.decode()
    assert f'data-conflict="{records["conflict"].pk}"' in body
    assert "C0005" not in body and f'data-conflict="{resolved.pk}"' not in body
    assert "csrfmiddlewaretoken" in body
    response = client.post(reverse("feed:conflict-resolve", args=[records["conflict"].pk]), {"note": "核心已合并"})
    assert response.status_code == 302 and response.url == reverse("feed:conflict-list")
    conflict = LoadError.objects.get(pk=records["conflict"].pk)
    assert conflict.resolved_by == org.admin.user and conflict.resolved_at is not None
    load.refresh_from_db()
    assert load.summary["resolutions"][str(conflict.pk)]["note"] == "核心已合并"
    after = client.get(reverse("feed:conflict-list")).content.decode()
    assert "没有待处理的身份冲突" in after


def test_a_conflict_needs_a_note_and_is_resolved_once(org, login, records):
    client = login(org.admin)
    url = reverse("feed:conflict-resolve", args=[records["conflict"].pk])
    client.post(url, {"note": ""})
    assert LoadError.objects.get(pk=records["conflict"].pk).resolved_at is None
    client.post(url, {"note": "已合并"})
    second = client.post(url, {"note": "又一次"}, follow=True)
    assert "已处理" in second.content.decode()


def test_a_conflict_of_a_running_load_waits(org, records):
    from django.core.exceptions import ValidationError

    load = make_load(org.admin, status=Load.Status.RUNNING, finished_at=None)
    error = make_error(load)
    with pytest.raises(ValidationError):
        services.conflict_resolve(actor=SYSTEM, error=error, note="x")
    with pytest.raises(ValidationError):
        services.conflict_resolve(actor=SYSTEM, error=make_error(records["load"], code="date"), note="x")


def test_only_admins_resolve_conflicts(org, records):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.conflict_resolve(actor=org.west_head.user, error=records["conflict"], note="x")
    with pytest.raises(PermissionDenied):
        services.conflict_resolve(actor=None, error=None, note=None)


def test_admin_shows_loads_and_their_rows_read_only(org, login, records):
    client = login(org.admin)
    load = records["load"]
    change = client.get(reverse("admin:feed_load_change", args=[load.pk]))
    assert change.status_code == 200 and "被拒绝的行：1 行" in change.content.decode()
    rows = client.get(reverse("admin:feed_loaderror_changelist"), {"load__id__exact": load.pk})
    assert rows.status_code == 200 and "C0001" in rows.content.decode()
    assert client.get(reverse("admin:feed_load_add")).status_code == 403
