"""Timing of every periodic job, in this process (Django set up with the bench environment).

Jobs come from the default beat schedule (crm_site/schedule.py), so a job added there is timed without a change
here; jobs the product needs that are not scheduled yet are reported as ``missing``. Each job runs inside a
transaction that is rolled back afterwards, so every run measures the same data set (the reminders a generator
would create today are created in every run, not only the first).
"""

import json
import re
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.db import transaction

# Jobs the product needs (docs/performance.md), found among the scheduled (or registered) tasks by a pattern over the task name.
EXPECTED = {
    "dashboard figures": r"(dashboard|figure|daily_stat|stats)",
    "complaint escalation": r"complaint.*escalat|escalat.*complaint|complaints\.tasks\.\w*escalat",
    "pool release candidates": r"pool\.tasks\.release_candidates",
    "task due reminders": r"worktasks\.tasks\.task_due_reminders",
    "opportunity reconciliation": r"opportunities\.tasks\.reconcile_won",
    "stale opportunity reminders": r"opportunities\.tasks\.stale_reminders",
}


class _Rollback(Exception):
    pass


@dataclass
class JobResult:
    name: str
    task: str
    seconds: float | None
    result: object = None
    missing: str = ""
    extra: dict | None = None
    see: str = ""  # measured in another section of the bench


def _task(dotted: str):
    module, attr = dotted.rsplit(".", 1)
    try:
        return getattr(import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def _timed(func, **kwargs) -> tuple[float, object]:
    result = None
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = func(**kwargs)
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, result


def _registered_tasks() -> list[str]:
    from crm_site.celery import app

    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def scheduled() -> list[tuple[str, str, dict]]:
    from crm_site.schedule import DEFAULT_SCHEDULE

    return [(entry.name, entry.task, json.loads(entry.kwargs or "{}")) for entry in DEFAULT_SCHEDULE]


def digest_send_all(day) -> tuple[float, dict]:
    """Every RM's morning digest, one after another (in production, one task each, spread over the workers)."""
    from reminders.services import digest_recipients, digest_send

    recipients = digest_recipients(day)
    per_rm = []
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            for staff_id in recipients:
                clock = time.perf_counter()
                outcome = digest_send(staff_id=staff_id, day=day)
                per_rm.append((time.perf_counter() - clock) * 1000)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    extra = {"recipients": len(recipients), "outcomes": outcomes}
    if per_rm:
        extra.update(
            per_rm_ms_p50=round(statistics.median(per_rm), 1),
            per_rm_ms_max=round(max(per_rm), 1),
        )
    return elapsed, extra


def run_jobs(*, log=print, queue_cleanup=None) -> list[JobResult]:
    from django.utils import timezone

    results = []
    seen = set()
    for name, dotted, kwargs in scheduled():
        key = (dotted, json.dumps(kwargs, sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        task = _task(dotted)
        if task is None:
            results.append(JobResult(name, dotted, None, missing="task not importable"))
            continue
        log(f"bench: job {name}")
        seconds, result = _timed(task.run, **kwargs)
        results.append(JobResult(name, dotted, seconds, result))
        if dotted.endswith("digest_dispatch") and queue_cleanup:
            queue_cleanup()
    today = timezone.localdate()
    log("bench: job reminders: morning digest, every send")
    seconds, extra = digest_send_all(today)
    results.append(
        JobResult("reminders: morning digest, every send", "reminders.tasks.send_digest", seconds, None, extra=extra)
    )
    # The attainment of the targets runs inside the figures build (its answer to figures_built); timed here on its own
    # for yesterday, the day the nightly build writes (11 queries a period: tests/targets/test_attainment.py).
    from targets.services import attainment_build

    log("bench: job targets: attainment build")
    seconds, result = _timed(attainment_build, days=[today - timedelta(days=1)])
    results.append(JobResult("targets: attainment build", "targets.services.attainment_build", seconds, result))
    known = [task for _, task, _ in scheduled()] + _registered_tasks()
    for label, pattern in EXPECTED.items():
        if not any(re.search(pattern, t) for t in known):
            results.append(JobResult(label, "", None, missing="no scheduled task matches " + pattern))
        elif not any(re.search(pattern, t) for _, t, _ in scheduled()):
            results.append(JobResult(label, "", None, missing="task exists but is not in crm_site/schedule.py"))
    # Customers come in through the core-banking extracts: the feed section times their loads, in subprocesses of
    # their own on a database of its own (bench/feed.py), the upload of a 100,000-row workbook among them.
    results.append(
        JobResult(
            "import 100,000 customers",
            "feed.loader.load_file",
            None,
            see="the feed section: “feed: CUST upload as XLSX” (100,000 rows at the large scale) and the CUST loads",
        )
    )
    return results
