"""The chain after a business date's load (feed/chain.py): tiers → lifecycle → reminders → figures for the date,
in order, safe to send again, and never an error for the load when the broker is down. Eager (in this process),
then once with a real Celery worker on Redis."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from crm_site.celery import app
from customers.models import Customer, Holding, LargeTransaction, Segment, SegmentChange
from dashboards.models import BranchDayFigures
from feed import chain
from reminders.models import FollowUp
from tests.factories import CustomerFactory, ProductFactory

D = date(2026, 11, 22)  # the business date; its files arrive on the morning of D + 1
ROOT = Path(__file__).resolve().parents[2]


def at(day: date, hour: int):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone()))


def morning_after():
    return at(D + timedelta(days=1), 7)


def loaded(org) -> dict:
    """What the extracts of D leave behind: a customer whose AUM grew out of the mass tier, a holding maturing in
    three days, a large withdrawal of a wealth customer, and a deposit large for the mass tier only (the customers
    registered a month before)."""
    with at(D - timedelta(days=30), 10):
        return _loaded(org)


def _loaded(org) -> dict:
    mover = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("10000"))
    assert mover.segment.code == "mass"
    Customer.objects.filter(pk=mover.pk).update(aum=Decimal("800000"), aum_as_of=D)
    wealthy = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("800000"))
    holding = Holding.objects.create(
        customer=wealthy,
        product=ProductFactory(code="WM-CH", name="定期理财", category="wealth"),
        amount=Decimal("100000"),
        opened_on=D - timedelta(days=177),
        maturity_on=D + timedelta(days=3),
        as_of=D,
    )
    at = datetime(2026, 11, 22, 14, 5, tzinfo=timezone.get_current_timezone())
    withdrawal = LargeTransaction.objects.create(
        customer=wealthy, business_date=D, txn_time=at, amount=Decimal("-450000"), channel="柜面"
    )
    deposit = LargeTransaction.objects.create(  # ≥ the mass threshold (20,000), < the wealth one (300,000)
        customer=mover, business_date=D, txn_time=at, amount=Decimal("100000"), channel="网银"
    )
    return {"mover": mover, "holding": holding, "withdrawal": withdrawal, "deposit": deposit}


def effects() -> tuple:
    return (
        FollowUp.objects.count(),
        SegmentChange.objects.count(),
        BranchDayFigures.objects.filter(day=D).count(),
    )


# -- eager: the whole chain in this process ------------------------------------------------------------------------


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    assert app.conf.task_always_eager


@pytest.fixture
def steps(monkeypatch) -> list:
    """The services the chain's steps called, in order, with their arguments (each still does its work)."""
    calls = []

    def recorded(name, real):
        def wrapper(*args, **kwargs):
            calls.append((name, kwargs))
            return real(*args, **kwargs)

        return wrapper

    for name in ("customers_recompute_tiers", "reminders_generate", "figures_build"):
        monkeypatch.setattr(chain, name, recorded(name, getattr(chain, name)))
    monkeypatch.setattr(
        chain.lifecycle, "lifecycle_derive", recorded("lifecycle_derive", chain.lifecycle.lifecycle_derive)
    )
    return calls


@pytest.mark.django_db
def test_the_chain_runs_every_step_in_order_for_the_date(org, eager, steps, django_capture_on_commit_callbacks):
    data = loaded(org)
    with morning_after(), django_capture_on_commit_callbacks(execute=True):
        chain.start(D)

    assert [name for name, _kwargs in steps] == [
        "customers_recompute_tiers",
        "lifecycle_derive",
        "reminders_generate",
        "figures_build",
    ]
    assert steps[1][1]["as_of"] == D
    assert steps[2][1]["today"] == D + timedelta(days=1)  # the morning the RM reads them
    assert steps[3][1]["day"] == D

    mover = Customer.objects.get(pk=data["mover"].pk)
    assert mover.segment.code == "wealth"  # the tier follows the loaded AUM
    maturity = FollowUp.objects.get(kind="maturity")
    assert maturity.source_ref == f"holding:{data['holding'].pk}" and maturity.due_on == D + timedelta(days=3)
    alert = FollowUp.objects.get(dedupe_key=f"txn:{data['withdrawal'].pk}")
    assert alert.title.startswith("大额交易：") and alert.due_on == D
    # The reminders ran after the tiers: the deposit is below the mover's new (wealth) threshold.
    assert not FollowUp.objects.filter(dedupe_key=f"txn:{data['deposit'].pk}").exists()
    figures = BranchDayFigures.objects.get(day=D, branch=org.west_outlet)
    wealth = str(Segment.objects.get(code="wealth").pk)
    assert figures.by_tier[wealth]["customers"] == 2  # the day's figures count the loaded AUM


@pytest.mark.django_db
def test_sending_the_chain_again_changes_nothing(org, eager, django_capture_on_commit_callbacks):
    loaded(org)
    with morning_after(), django_capture_on_commit_callbacks(execute=True):
        chain.start(D)
    first = effects()
    assert first[0] >= 2 and first[1] >= 1 and first[2] >= 1
    with morning_after(), django_capture_on_commit_callbacks(execute=True):
        chain.start(D)  # after TXN as after BAL, or a corrected file
    assert effects() == first
    assert FollowUp.objects.values("dedupe_key").distinct().count() == first[0]


@pytest.mark.django_db
def test_the_chain_is_sent_after_the_loads_commit(org, eager, steps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        chain.start(D)
    assert steps == [] and len(callbacks) == 1  # nothing runs before the load's rows are committed


@pytest.mark.django_db
def test_a_broker_outage_is_logged_not_raised(org, monkeypatch, caplog, django_capture_on_commit_callbacks):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    monkeypatch.setitem(app.conf, "broker_connection_timeout", 1)
    monkeypatch.setattr(app, "_pool", None)  # the next publish connects to the broker above (the pools are put
    monkeypatch.setattr(app.amqp, "_producer_pool", None)  # back afterwards)
    with django_capture_on_commit_callbacks(execute=True):
        chain.start(D)  # does not raise
    assert "broker unreachable" in caplog.text and D.isoformat() in caplog.text
    assert not FollowUp.objects.exists()


# -- a real worker -------------------------------------------------------------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_chain(org, monkeypatch, tmp_path, fresh_broker_connections):
    data = loaded(org)
    queue = f"test-chain-{uuid.uuid4().hex[:8]}"  # the test's own queue, so that nothing else interferes
    for task in (chain.tiers, chain.lifecycle_step, chain.reminders, chain.figures):  # this process sends the first
        monkeypatch.setattr(task, "queue", queue, raising=False)  # step there, and the worker the next ones
        monkeypatch.setattr(task, "_exec_options", None)  # (Celery caches a task's options)
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_TASK_DEFAULT_QUEUE": queue}
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm_site.celery", "worker", "--concurrency=1", "--loglevel=INFO",
             "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        chain.start(D)  # no transaction open: sent at once
        assert wait_for(lambda: BranchDayFigures.objects.filter(day=D).exists(), 90), log.read_text()[-3000:]
    finally:
        worker.terminate()  # a warm shutdown of the worker, which stops its pool
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)

    assert Customer.objects.get(pk=data["mover"].pk).segment.code == "wealth"
    assert FollowUp.objects.filter(kind="maturity", source_ref=f"holding:{data['holding'].pk}").count() == 1
    assert FollowUp.objects.filter(dedupe_key=f"txn:{data['withdrawal'].pk}").count() == 1
    assert "feed.chain.figures" in log.read_text()
