"""A database at the code before the models left the relationships app (commit 328b602), with demo data in it,
migrates forward with ``migrate`` and loses nothing, and migrates back.

The old code is exported from git (``git archive``) into a temporary folder and run with this virtualenv's
interpreter on a PostgreSQL database of its own, created on DATABASE_URL's server and dropped at the end. The
scripts that run inside the old or new code are in tests/crm_site/migration_probe.py.

1. Old code: ``migrate``, a small ``seed_demo``, then rows the demo leaves empty: a group (and a user) with
   permissions on every moved model, admin log entries on them, notifications, a digest delivery, a customer not
   contacted in time, a handover.
2. New code: ``migrate``. Every table keeps its row count; nothing is left to migrate (``migrate --check``,
   ``showmigrations``); the moved models' content types are the same rows under the new app labels, so the
   permissions, the grants and the admin log follow them; the periodic tasks name the new modules and each is a
   registered Celery task; ``makemigrations --check`` is clean; pages open for the demo's admin, head and RM.
   What the data feed added since is exactly: the feed app's and customers' new migrations (NEW_MIGRATIONS), a
   content type and its four default permissions per new model (NEW_MODELS), the new periodic tasks (NEW_TASKS)
   and their crontabs; the asset snapshots become a table partitioned by month with the same rows and id sequence.
3. Back, with the new code: the new apps to zero (which takes every migration depending on them), then each old
   app to the migration it had at the old head. The migration records, periodic tasks, tables and row counts are
   those of step 1 but for the new models' content types and permissions and the new tasks' crontabs, which stay;
   the asset snapshots are a plain table again, as in step 1 (constraints, indexes, rows, sequence); the old code
   finds nothing to migrate and its pages open.
4. Forward again, then back the other way round: ``migrate relationships 0009`` alone rolls back the data
   migration but leaves the new apps' first migrations applied, so its ``post_migrate`` creates content types
   (and permissions) for the new apps' models beside the rows just moved back. Migrating forward once more merges
   those copies into the moved rows (a grant and a log entry put on a copy are carried over) and leaves none.
"""

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.upgrade]

OLD_HEAD = "328b602"
ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("migration_probe.py")
NEW_APP_LABELS = {
    "branch": "organisation",
    "staff": "organisation",
    "historicalbranch": "organisation",
    "historicalstaff": "organisation",
    "notification": "notifications",
    "followup": "reminders",
    "digestdelivery": "reminders",
    "branchdayfigures": "dashboards",
    "rmdayfigures": "dashboards",
    "uncoveredcustomer": "dashboards",
}
NEW_APPS = (
    "organisation", "notifications", "reminders", "dashboards", "feed", "scheduling", "idempotency", "pool",
    "worktasks", "targets", "opportunities", "consent", "marketing",
)  # fmt: skip
# The migrations added since the old head: the move (state-only, but for the content types and periodic tasks),
# then the data feed's (customers' new fields and models, the asset snapshots partitioned by month, two jobs, and
# the feed app).
NEW_MIGRATIONS = {
    ("organisation", "0001_initial"),
    ("organisation", "0002_moved_models_data"),
    ("organisation", "0003_sign_in_log"),
    ("organisation", "0004_head_role_label"),
    ("notifications", "0001_initial"),
    ("reminders", "0001_initial"),
    ("dashboards", "0001_initial"),
    ("relationships", "0010_move_models_out"),
    ("relationships", "0011_texts_bounded"),
    ("customers", "0014_notes_bounded"),
    ("customers", "0009_organisation_models"),
    ("complaints", "0004_organisation_models"),
    ("customers", "0010_feed_fields"),
    ("customers", "0011_snapshot_partitions"),
    ("customers", "0012_snapshot_partitions_schedule"),
    ("customers", "0013_lifecycle_schedule"),
    ("feed", "0001_initial"),
    ("feed", "0002_schedule"),
    ("scheduling", "0001_initial"),
    ("scheduling", "0002_schedule"),
    ("complaints", "0005_same_matter_and_text_limits"),
    ("idempotency", "0001_initial"),
    ("customers", "0015_field_labels"),
    ("relationships", "0012_field_labels"),
    ("pool", "0001_initial"),
    ("pool", "0002_release"),
    ("worktasks", "0001_tasks"),
    ("worktasks", "0002_schedule"),
    ("dashboards", "0002_pool_figures"),
    ("dashboards", "0003_effective_customers_and_holdings_opened"),
    ("targets", "0001_initial"),
    ("opportunities", "0001_opportunities"),
    ("opportunities", "0002_schedule"),
    ("consent", "0001_initial"),
    ("feed", "0003_consent_kind"),
    ("marketing", "0001_initial"),
}
# The models added since the old head: each gains a content type and Django's four default permissions.
NEW_MODELS = {
    ("feed", "load"),
    ("feed", "loaderror"),
    ("customers", "largetransaction"),
    ("customers", "lifecyclerules"),
    ("scheduling", "jobrun"),
    ("idempotency", "submissionkey"),
    ("organisation", "signinrecord"),
    ("pool", "poolrule"),
    ("pool", "poolkeeper"),
    ("pool", "poolclaim"),
    ("pool", "releaserequest"),
    ("worktasks", "task"),
    ("worktasks", "taskline"),
    ("dashboards", "figuresettings"),
    ("targets", "targetperiod"),
    ("targets", "target"),
    ("targets", "attainment"),
    ("opportunities", "opportunity"),
    ("opportunities", "opportunityevent"),
    ("opportunities", "opportunityrules"),
    ("opportunities", "stalenotice"),
    ("consent", "consentrecord"),
    ("consent", "dndwindow"),
    ("consent", "consentevent"),
    ("marketing", "savedsegment"),
}
# The periodic tasks added since the old head (name: Celery task).
NEW_TASKS = {
    "feed: load ready files from the inbox": "feed.tasks.scan_inbox",
    "customers: asset snapshot partitions": "customers.tasks.maintain_snapshot_partitions",
    "customers: derive the lifecycle stages": "customers.tasks.derive_lifecycle",
    "scheduling: catch up missed daily jobs": "scheduling.tasks.catch_up",
    "pool: propose releases to the pool": "pool.tasks.release_candidates",
    "tasks: reminders of tasks due tomorrow": "worktasks.tasks.task_due_reminders",
    "opportunities: match won opportunities with holdings": "opportunities.tasks.reconcile_won",
    "opportunities: remind owners of stale opportunities": "opportunities.tasks.stale_reminders",
}
SNAPSHOTS = "customers_assetsnapshot"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def export_old_code(into: Path) -> Path:
    """The old head's files (``git archive``), or a skip when git or that commit is not there."""
    try:
        found = _git("cat-file", "-e", f"{OLD_HEAD}^{{commit}}")
    except FileNotFoundError:
        pytest.skip("needs git to export the old code")
    if found.returncode != 0:
        pytest.skip(f"needs commit {OLD_HEAD} in the git history (clone with full history, e.g. fetch-depth: 0)")
    archive = _git("archive", "--format=tar", OLD_HEAD)
    assert archive.returncode == 0, archive.stderr.decode()
    old = into / "old"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(old, filter="data")
    return old


def _connect(dbname: str):
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=dbname,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


@contextmanager
def scratch_database():
    """A new, empty database on DATABASE_URL's server; yields (its URL, its name), drops it afterwards."""
    db = settings.DATABASES["default"]
    name = f"crm_migration_{uuid.uuid4().hex[:12]}"
    server = _connect("postgres")
    try:
        with server.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        user = quote(db.get("USER") or "")
        password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        yield f"postgres://{user}{password}@{host}{port}/{name}", name
    finally:
        with server.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        server.close()


def environment(database_url: str, var_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "PYTHONPATH"}}
    env.update(
        DEBUG="1",
        DATABASE_URL=database_url,
        CRM_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="crm_site.settings",
        SECRET_KEY="insecure-key-for-tests-only",
        SECURE_SSL_REDIRECT="0",
        STATIC_MANIFEST="0",
        PASSWORD_HASHERS="django.contrib.auth.hashers.MD5PasswordHasher",
        PII_ENCRYPTION_KEYS="dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q=",
        PII_HASH_KEY="test-only-hash-key",
        CONN_MAX_AGE="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run(root: Path, env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """``args`` with this interpreter in ``root``; by default the command must succeed."""
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"{' '.join(args)} in {root} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


def manage(root: Path, env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    return run(root, env, "manage.py", *args, ok=ok)


def probe(root: Path, env: dict, action: str) -> dict:
    out = run(root, env, str(PROBE), str(root), action).stdout
    line = next(line for line in out.splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def snapshot(dbname: str) -> dict:
    """What must survive the migration, read with plain SQL: every public table's row count, the content types,
    the group's and head1's permissions, the admin log, the periodic tasks and the migration records."""
    connection = _connect(dbname)
    try:
        with connection.cursor() as cursor:

            def rows(query) -> list[tuple]:
                cursor.execute(query)
                return [tuple(row) for row in cursor.fetchall()]

            tables = [t for (t,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
            counts = {
                table: rows(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))[0][0] for table in tables
            }
            return {
                "counts": counts,
                "content_types": {
                    pk: (app, model) for pk, app, model in rows("SELECT id, app_label, model FROM django_content_type")
                },
                "group_permissions": sorted(
                    rows(
                        "SELECT p.id, p.codename, p.content_type_id FROM auth_group g"
                        " JOIN auth_group_permissions gp ON gp.group_id = g.id"
                        " JOIN auth_permission p ON p.id = gp.permission_id"
                        " WHERE g.name = 'Moved models check'"
                    )
                ),
                "user_permissions": sorted(
                    rows(
                        "SELECT p.id, p.codename, p.content_type_id FROM auth_user u"
                        " JOIN auth_user_user_permissions up ON up.user_id = u.id"
                        " JOIN auth_permission p ON p.id = up.permission_id WHERE u.username = 'head1'"
                    )
                ),
                "permissions": sorted(rows("SELECT id, codename, content_type_id FROM auth_permission")),
                "log": sorted(rows("SELECT id, content_type_id, object_id FROM django_admin_log")),
                "tasks": dict(rows("SELECT name, task FROM django_celery_beat_periodictask")),
                "task_crontabs": dict(rows("SELECT name, crontab_id FROM django_celery_beat_periodictask")),
                "crontabs": {
                    pk: tuple(spec)
                    for pk, *spec in rows(
                        "SELECT id, minute, hour, day_of_week, day_of_month, month_of_year, timezone"
                        " FROM django_celery_beat_crontabschedule"
                    )
                },
                "migrations": sorted(rows("SELECT app, name FROM django_migrations")),
                "snapshots": snapshots_table(cursor),
            }
    finally:
        connection.close()


def snapshots_table(cursor) -> dict:
    """The asset snapshots' table: plain ("r") or partitioned ("p"), its partitions, constraints and indexes, its id
    sequence's position and a digest of its rows."""

    def rows(query, params=()) -> list[tuple]:
        cursor.execute(query, params)
        return [tuple(row) for row in cursor.fetchall()]

    [(relkind,)] = rows("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [SNAPSHOTS])
    [(sequence,)] = rows("SELECT pg_get_serial_sequence(%s, 'id')", [SNAPSHOTS])
    return {
        "relkind": relkind,
        "partitions": [
            name
            for (name,) in rows(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1",
                [SNAPSHOTS],
            )
        ],
        "constraints": sorted(
            rows(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
                [SNAPSHOTS],
            )
        ),
        "indexes": sorted(rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [SNAPSHOTS])),
        "sequence": rows(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence)))[0],
        "rows": rows(
            sql.SQL(
                "SELECT count(*), md5(string_agg(concat_ws('|', id, customer_id, date, aum), ',' ORDER BY id)) FROM {}"
            ).format(sql.Identifier(SNAPSHOTS))
        )[0],
    }


def execute(dbname: str, *statements: str) -> list[int]:
    """Run SQL statements on the database; the number of rows each one wrote."""
    connection = _connect(dbname)
    try:
        with connection.cursor() as cursor:
            written = []
            for statement in statements:
                cursor.execute(statement)
                written.append(cursor.rowcount)
            return written
    finally:
        connection.close()


def assert_pages_open(result: dict) -> None:
    """Every page answers 200 (after its redirects, the home page's to the login's start page), the admin's recent
    actions link to the branch in the admin log, and the branch's admin history lists its historical rows."""
    failed = {page: status for page, (status, _path) in result["pages"].items() if status != 200}
    assert not failed, f"pages that did not open: {failed}, all: {result['pages']}"
    assert result["linked"] and result["history"] >= 1, result


def assert_same_rows(before: dict, after: dict, grown: dict | None = None) -> None:
    """No table dropped, no row count changed but by ``grown`` (new tables would be allowed); django_migrations is
    compared by the callers."""
    grown = grown or {}
    dropped = set(before["counts"]) - set(after["counts"])
    assert not dropped, f"tables dropped: {sorted(dropped)}"
    changed = {
        table: (n, after["counts"][table])
        for table, n in before["counts"].items()
        if after["counts"][table] != n + grown.get(table, 0) and table != "django_migrations"
    }
    assert not changed, f"row counts changed (before, after): {changed}"


def new_content_types(before: dict, after: dict) -> dict:
    """The content types ``after`` has that ``before`` had not (id: (app label, model))."""
    return {pk: found for pk, found in after["content_types"].items() if pk not in before["content_types"]}


def assert_new_models(before: dict, after: dict) -> None:
    """Beside the content types and permissions of ``before`` (every row kept, same id), ``after`` has exactly
    one content type per model of NEW_MODELS, and their default permissions (add, change, delete, view)."""
    assert before["content_types"].keys() <= after["content_types"].keys()
    added = new_content_types(before, after)
    assert sorted(added.values()) == sorted(NEW_MODELS), f"content types added: {sorted(added.values())}"
    kept = set(before["permissions"])
    assert kept <= set(after["permissions"]), f"permissions lost: {sorted(kept - set(after['permissions']))}"
    gained = sorted((codename, pk) for _id, codename, pk in set(after["permissions"]) - kept)
    expected = sorted(
        (f"{action}_{added[pk][1]}", pk) for pk in added for action in ("add", "change", "delete", "view")
    )
    assert gained == expected, f"permissions added: {gained}"


def grown_by_new_models(before: dict, after: dict) -> dict:
    """The row counts the new models' content types and permissions and the new periodic tasks' crontabs add."""
    added = new_content_types(before, after)
    return {
        "django_content_type": len(added),
        "auth_permission": 4 * len(added),
        "django_celery_beat_crontabschedule": len(after["crontabs"].keys() - before["crontabs"].keys()),
    }


def assert_moved(before: dict, after: dict) -> None:
    """The moved models' content types are the same rows (ids) under the new app labels, with no copy left under
    another label; the permissions, the grants and the admin log are the same rows on the same content types."""
    ids = {model: pk for pk, (app, model) in before["content_types"].items() if app == "relationships"}
    wrong = {model: after["content_types"].get(ids[model]) for model, app in NEW_APP_LABELS.items()}
    wrong = {model: found for model, found in wrong.items() if found != (NEW_APP_LABELS[model], model)}
    assert not wrong, f"content types not moved: {wrong}"
    copies = sorted(
        (app, model)
        for pk, (app, model) in after["content_types"].items()
        if model in NEW_APP_LABELS and pk != ids[model]
    )
    assert not copies, f"content types of the moved models besides the moved rows: {copies}"
    assert_new_models(before, after)
    assert after["group_permissions"] == before["group_permissions"]
    assert after["user_permissions"] == before["user_permissions"]
    assert after["log"] == before["log"]


def test_a_database_at_the_old_head_migrates_forward_and_back_losing_nothing(tmp_path):
    old = export_old_code(tmp_path)
    with scratch_database() as (url, dbname):
        env = environment(url, tmp_path / "var")

        # 1. The old code: its schema, a small demo, and rows on every moved model.
        manage(old, env, "migrate", "--no-input", "-v0")
        manage(old, env, "seed_demo", "--customers", "300", "--figure-days", "3")
        run(old, env, str(PROBE), str(old), "extras")
        before = snapshot(dbname)
        assert before["counts"]["customers_customer"] == 300
        empty = [model for model in NEW_APP_LABELS if not before["counts"][f"relationships_{model}"]]
        assert not empty, f"no rows to carry over in {empty}"
        assert {app for app, _model in before["content_types"].values()}.isdisjoint(NEW_APPS)
        assert len(before["group_permissions"]) == len(NEW_APP_LABELS) + 2 and before["user_permissions"]
        assert len(before["log"]) == 3
        old_tasks = {task.removeprefix("relationships.tasks.") for task in before["tasks"].values()}
        assert old_tasks >= {"build_figures", "digest_dispatch", "follow_ups_housekeeping", "generate_reminders"}
        assert before["tasks"].keys().isdisjoint(NEW_TASKS)
        assert before["snapshots"]["relkind"] == "r" and before["snapshots"]["rows"][0], before["snapshots"]

        # 2. The new code migrates it.
        manage(ROOT, env, "migrate", "--no-input")
        after = snapshot(dbname)
        grown = grown_by_new_models(before, after)
        assert_same_rows(before, after, grown={**grown, "django_celery_beat_periodictask": len(NEW_TASKS)})
        assert set(after["migrations"]) - set(before["migrations"]) == NEW_MIGRATIONS
        assert set(before["migrations"]) < set(after["migrations"])
        assert_moved(before, after)

        assert after["tasks"].keys() - before["tasks"].keys() == NEW_TASKS.keys()
        assert before["tasks"].keys() <= after["tasks"].keys()
        assert {name: after["tasks"][name] for name in NEW_TASKS} == NEW_TASKS
        left = {name: task for name, task in after["tasks"].items() if task.startswith("relationships.")}
        assert not left, f"periodic tasks still naming the old module: {left}"
        renamed = {task: after["tasks"][name] for name, task in before["tasks"].items()}
        assert renamed["relationships.tasks.build_figures"] == "dashboards.tasks.build_figures"
        assert renamed["relationships.tasks.generate_reminders"] == "reminders.tasks.generate_reminders"
        assert renamed["relationships.tasks.digest_dispatch"] == "reminders.tasks.digest_dispatch"
        assert renamed["relationships.tasks.purge_expired_sessions"] == "organisation.tasks.purge_expired_sessions"
        # The old tasks keep their crontabs, which keep their schedules; the only new crontabs are the new tasks'.
        assert {name: after["task_crontabs"][name] for name in before["tasks"]} == before["task_crontabs"]
        assert {pk: after["crontabs"][pk] for pk in before["crontabs"]} == before["crontabs"]
        new_crontabs = {after["task_crontabs"][name] for name in NEW_TASKS} - before["crontabs"].keys()
        assert after["crontabs"].keys() - before["crontabs"].keys() == new_crontabs
        # The asset snapshots: partitioned by month, the same rows, the id sequence where it was.
        assert after["snapshots"]["relkind"] == "p" and after["snapshots"]["partitions"], after["snapshots"]
        assert after["snapshots"]["rows"] == before["snapshots"]["rows"]
        assert after["snapshots"]["sequence"] == before["snapshots"]["sequence"]

        unapplied = manage(ROOT, env, "migrate", "--check", ok=False)
        assert unapplied.returncode == 0, unapplied.stdout + unapplied.stderr
        listing = manage(ROOT, env, "showmigrations").stdout
        assert "[ ]" not in listing and "[X] 0002_moved_models_data" in listing, listing
        changes = manage(ROOT, env, "makemigrations", "--check", "--dry-run", ok=False)
        assert changes.returncode == 0, changes.stdout + changes.stderr

        new = probe(ROOT, env, "pages")
        assert_pages_open(new)
        missing = sorted(set(after["tasks"].values()) - set(new["tasks"]))
        assert not missing, f"periodic tasks that are no registered Celery task: {missing}"
        resolved = sorted(content_type for content_type, edited, _pk in new["log"].values() if content_type == edited)
        assert resolved == ["organisation.Branch", "organisation.Staff", "reminders.FollowUp"], new["log"]

        # 3. Back: the new apps first (every migration depending on them goes with them), then the old apps to
        # the migrations they had at the old head.
        old_heads = {}
        for app, name in before["migrations"]:
            old_heads[app] = max(old_heads.get(app, name), name)
        targets = [f"{app}:zero" for app in NEW_APPS]
        targets += [f"{app}:{old_heads[app]}" for app in ("relationships", "customers", "complaints")]
        run(ROOT, env, str(PROBE), str(ROOT), "migrate", *targets)
        back = snapshot(dbname)
        assert back["migrations"] == before["migrations"]
        # The new models' content types and permissions stay (as Django leaves those of removed models).
        assert back["content_types"] == {**before["content_types"], **new_content_types(before, after)}
        assert back["permissions"] == after["permissions"]
        assert_new_models(before, back)
        assert back["tasks"] == before["tasks"] and back["task_crontabs"] == before["task_crontabs"]
        # The new tasks' crontabs stay, unused (installing again takes them up).
        assert back["crontabs"] == after["crontabs"]
        assert back["counts"].keys() == before["counts"].keys(), "tables added or left"
        assert_same_rows(before, back, grown=grown)
        # The asset snapshots are a plain table again, as it was, with its rows and its id sequence.
        assert back["snapshots"] == before["snapshots"]
        assert back["group_permissions"] == before["group_permissions"]
        assert back["log"] == before["log"]
        unapplied = manage(old, env, "migrate", "--check", ok=False)
        assert unapplied.returncode == 0, unapplied.stdout + unapplied.stderr
        assert_pages_open(probe(old, env, "pages"))

        # 4. Forward again, back the other way round (relationships alone: its post_migrate adds content types for
        # the new apps' models, which are still in the migration state), and forward once more: the moved rows
        # come back under the new labels with their grants and the extra copies are gone.
        manage(ROOT, env, "migrate", "--no-input")
        assert_moved(before, snapshot(dbname))
        manage(ROOT, env, "migrate", "relationships", old_heads["relationships"], "--no-input")
        halfway = snapshot(dbname)
        ids = {model: pk for pk, (app, model) in before["content_types"].items() if app == "relationships"}
        assert all(halfway["content_types"][ids[model]] == ("relationships", model) for model in NEW_APP_LABELS)
        # A grant and an admin log entry on such a copy (organisation.branch) are carried over to the moved row.
        granted = execute(
            dbname,
            "INSERT INTO auth_group_permissions (group_id, permission_id)"
            " SELECT g.id, p.id FROM auth_group g, auth_permission p JOIN django_content_type c"
            " ON c.id = p.content_type_id WHERE g.name = 'Moved models check'"
            " AND c.app_label = 'organisation' AND c.model = 'branch' AND p.codename = 'delete_branch'",
            "INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, change_message,"
            " content_type_id, user_id) SELECT now(), '1', 'branch', 2, '[]', c.id, u.id"
            " FROM django_content_type c, auth_user u"
            " WHERE c.app_label = 'organisation' AND c.model = 'branch' AND u.username = 'admin'",
        )
        assert granted == [1, 1]
        manage(ROOT, env, "migrate", "--no-input")
        again = snapshot(dbname)
        delete_branch = next(
            pk
            for pk, codename, content_type in before["permissions"]
            if (codename, content_type) == ("delete_branch", ids["branch"])
        )
        assert again["group_permissions"] == sorted(
            [*before["group_permissions"], (delete_branch, "delete_branch", ids["branch"])]
        )
        assert [row[1] for row in again["log"]] == [row[1] for row in before["log"]] + [ids["branch"]]
        assert_moved(before, {**again, "group_permissions": before["group_permissions"], "log": before["log"]})
        assert_same_rows(after, again, grown={"auth_group_permissions": 1, "django_admin_log": 1})
        assert again["migrations"] == after["migrations"] and again["tasks"] == after["tasks"]
        assert again["crontabs"] == after["crontabs"] and again["task_crontabs"] == after["task_crontabs"]
        assert again["snapshots"] == after["snapshots"]
