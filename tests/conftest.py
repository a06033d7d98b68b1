import os
from dataclasses import dataclass

import pytest

from customers.models import Customer
from organisation.models import Branch, Staff
from tests.factories import BranchFactory, CorporateCustomerFactory, CustomerFactory, StaffFactory


def pytest_collection_modifyitems(config, items):
    """Two tiers run outside ``make test`` (which CI runs and keeps under 15 minutes), with ``make test-full``
    (CRM_FULL_TESTS=1), before a release and after a change to what they cover:

    - ``upgrade``: a database of an old release migrated forward and back (minutes each; also ``make test-upgrade``);
    - ``full``: the demo's content (seed_demo's data, its first morning), ``make run`` end to end, the feed's 400 MB
      flat-memory read, the dashboards' drill-downs over 90 days, and the fuzzers' walks as a head and as a
      complaints officer (``make test`` walks as an RM and as an administrator)."""
    full = os.environ.get("CRM_FULL_TESTS") == "1"
    upgrade = full or os.environ.get("CRM_UPGRADE_TESTS") == "1"
    skips = {
        "upgrade": None if upgrade else pytest.mark.skip(reason="an upgrade test: make test-upgrade runs it"),
        "full": None if full else pytest.mark.skip(reason="make test-full runs it"),
    }
    for item in items:
        for marker, skip in skips.items():
            if skip is not None and marker in item.keywords:
                item.add_marker(skip)


def reference_data() -> None:
    """The rows the data migrations install: segments, complaint classifications and the beat schedule. Installed
    once per test database (``django_db_setup`` below), and put back after a transactional test has flushed the
    tables (``_reference_data_after_a_flush``)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from complaints.services import classifications_install_defaults
    from crm_site import schedule
    from customers.services import segments_install_defaults

    segments_install_defaults()
    classifications_install_defaults()
    schedule.install(PeriodicTask, CrontabSchedule)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database (migrated), with the reference data committed once for the whole run."""
    with django_db_blocker.unblock():
        reference_data()


RESETTING = ("transaction", "reset_sequences")  # django_db(...) arguments that make a test transactional


class _Tables:
    flushed = False  # a transactional test has emptied every table since the reference data was last committed


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = item.fixturenames
    return (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and (marker.args[:1] == (True,) or any(marker.kwargs.get(k) for k in RESETTING)))
    )


@pytest.fixture(autouse=True)
def _reference_data_after_a_flush(request):
    """A transactional test (the browser tests, a real Celery worker, concurrent threads) ends with every table
    flushed, the reference data with it. The next test that uses the database puts it back first: committed for a
    transactional test, inside the test's transaction (so again after it) for any other."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = _transactional(request.node)
    if transactional and _Shared.open:
        pytest.fail(_INSIDE_SHARED_DATA)  # opened by this very test's fixtures (else pytest_runtest_setup)
    if _Tables.flushed and (transactional or marker is not None or "db" in names):
        request.getfixturevalue("transactional_db" if transactional else "db")
        reference_data()
        if transactional:
            _Tables.flushed = False
    yield
    if transactional:
        _Tables.flushed = True


class _Shared:
    open = 0  # transactions of shared data (shared_data below) open around the tests running now


_INSIDE_SHARED_DATA = (
    "a transactional test cannot run inside the data its module or class shares (shared_data): it would commit "
    "and flush that data; move the test out of the group"
)


@pytest.fixture(scope="session")
def shared_data(django_db_setup, django_db_blocker):
    """Data built once for a group of tests that read it (a module's or a class's tests), in place of once for each
    test: a fixture of the group's scope does ``yield from shared_data(build)`` and yields what ``build()`` returned.

    ``build()`` runs in a transaction of its own, opened before the group's first test and rolled back after its
    last one, so the next module finds the database as it was. Each test's own transaction (``db``) nests in it as
    a savepoint: what a test writes is undone after it, and every test starts from the data as built, in whatever
    order the tests run. Hand each test its own copies of the built objects (``copy.deepcopy``, as Django's
    ``setUpTestData`` does), so that a change a test makes to one in memory does not reach the next test either.
    Not for a group with transactional tests: they commit and flush, and fail here before they run."""
    from django.db import transaction

    def close(atomic):
        _Shared.open -= 1
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)

    def share(build):
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic._from_testcase = True  # durable blocks nest in it as they do in a test's own transaction
            atomic.__enter__()
            _Shared.open += 1
            try:
                if _Tables.flushed:
                    reference_data()
                built = build()
            except BaseException:
                close(atomic)
                raise
        try:
            yield built
        finally:
            with django_db_blocker.unblock():
                close(atomic)

    return share


@dataclass
class Org:
    """A small bank: one 分行 with two 支行, each with outlets, and staff in every role."""

    top: Branch
    west: Branch
    east: Branch
    west_outlet: Branch
    west_outlet2: Branch
    east_outlet: Branch
    admin: Staff
    top_head: Staff
    west_head: Staff
    east_head: Staff
    west_officer: Staff
    rm_west: Staff
    rm_west2: Staff
    rm_east: Staff


@pytest.fixture
def org(db) -> Org:
    return org_build()


def org_build() -> Org:
    """The test organisation (``org``), for data built once for several tests (``shared_data``)."""
    top = BranchFactory(code="100", name="总分行", level=Branch.Level.BRANCH)
    west = BranchFactory(code="110", name="西支行", level=Branch.Level.SUB_BRANCH, parent=top)
    east = BranchFactory(code="120", name="东支行", level=Branch.Level.SUB_BRANCH, parent=top)
    west_outlet = BranchFactory(code="111", name="西一网点", level=Branch.Level.OUTLET, parent=west)
    west_outlet2 = BranchFactory(code="112", name="西二网点", level=Branch.Level.OUTLET, parent=west)
    east_outlet = BranchFactory(code="121", name="东一网点", level=Branch.Level.OUTLET, parent=east)
    return Org(
        top=top,
        west=west,
        east=east,
        west_outlet=west_outlet,
        west_outlet2=west_outlet2,
        east_outlet=east_outlet,
        admin=StaffFactory(username="hq_admin", name="管理员甲", branch=top, role=Staff.Role.ADMIN),
        top_head=StaffFactory(username="top_head", name="分行长乙", branch=top, role=Staff.Role.HEAD),
        west_head=StaffFactory(username="west_head", name="西行长丙", branch=west, role=Staff.Role.HEAD),
        east_head=StaffFactory(username="east_head", name="东行长丁", branch=east, role=Staff.Role.HEAD),
        west_officer=StaffFactory(username="west_officer", name="投诉专员戊", branch=west, role=Staff.Role.OFFICER),
        rm_west=StaffFactory(username="rm_west", name="客户经理己", branch=west_outlet, role=Staff.Role.RM),
        rm_west2=StaffFactory(username="rm_west2", name="客户经理庚", branch=west_outlet2, role=Staff.Role.RM),
        rm_east=StaffFactory(username="rm_east", name="客户经理辛", branch=east_outlet, role=Staff.Role.RM),
    )


@dataclass
class Book:
    """Customers spread over the test organisation (see tests/conftest.py)."""

    west: Customer  # rm_west, 西一网点
    west2: Customer  # rm_west2, 西二网点
    east: Customer  # rm_east, 东一网点
    corporate: Customer  # rm_west, corporate


@pytest.fixture
def book(org) -> Book:
    return book_build(org)


def book_build(org: Org) -> Book:
    """The test customers (``book``), for data built once for several tests (``shared_data``)."""
    return Book(
        west=CustomerFactory(
            primary_rm=org.rm_west, name="王西甲", mobile="13800138000", id_number="11010519491231002X"
        ),
        west2=CustomerFactory(primary_rm=org.rm_west2, name="李西乙"),
        east=CustomerFactory(primary_rm=org.rm_east, name="赵东丙"),
        corporate=CorporateCustomerFactory(primary_rm=org.rm_west, name="杭州测试科技有限公司"),
    )


@pytest.fixture
def login(client):
    """Sign a member of staff in on the test client: ``login(staff)`` returns the client."""

    def _login(staff: Staff):
        client.force_login(staff.user)
        return client

    return _login


def pytest_configure(config):
    """On Redis, each pytest-xdist worker gets a cache of its own (tests/cache.py)."""
    from django.conf import settings

    cache = settings.CACHES["default"]
    if cache["BACKEND"] == "crm_site.cache.ResilientRedisCache":
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        cache.update(BACKEND="tests.cache.WorkerRedisCache", KEY_PREFIX=f"crm-test-{worker}")


@pytest.fixture(autouse=True)
def _no_outage_of_a_previous_test():
    """A test that made the cache or the broker unreachable leaves the process skipping them for a few seconds
    (crm_site/cache.py, crm_site/celery.py): the next test starts with both tried again."""
    from crm_site.cache import reset_breakers
    from crm_site.celery import publishing

    reset_breakers()
    publishing.reset()
    yield


@pytest.fixture(scope="session", autouse=True)
def _no_cache_of_a_previous_run():
    """On Redis the cache outlives the run: the dashboards' sums cached by the last run (under the same keys, the
    test databases numbering their rows the same way each time) must not be read by this one."""
    from django.core.cache import cache

    cache.clear()


def pytest_runtest_setup(item):
    """Tests marked ``postgres`` or ``redis`` need those services. On a bare machine they are skipped with the
    reason; in CI (REQUIRE_SERVICES=1) a missing service fails them instead. A transactional test after tests
    that share data in its module or class (``shared_data``) fails, before its fixtures run."""
    from django.conf import settings

    if _Shared.open and _transactional(item):
        pytest.fail(_INSIDE_SHARED_DATA)

    needs = []
    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        needs.append("PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        needs.append("Redis (set REDIS_URL)")
    if needs:
        message = "needs " + " and ".join(needs)
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


# Celery copies Django's CELERY_* settings into its own configuration the first time the configuration is read, so
# a test that overrides CELERY_TASK_ALWAYS_EAGER after another test in the same process has published a task would
# otherwise publish to the real broker. The two settings tests override are handed on to Celery as they change.
_CELERY_FOLLOWS = {
    "CELERY_TASK_ALWAYS_EAGER": "task_always_eager",
    "CELERY_TASK_EAGER_PROPAGATES": "task_eager_propagates",
}


def _celery_follows_settings(*, setting, value, **kwargs):
    if setting in _CELERY_FOLLOWS:
        from crm_site.celery import app

        app.conf[_CELERY_FOLLOWS[setting]] = bool(value)


from django.core.signals import setting_changed  # noqa: E402

setting_changed.connect(_celery_follows_settings)


@pytest.fixture
def fresh_broker_connections():
    """Celery's connection and producer pools made again for this test, and again after it: a test that sends to a
    real broker does not inherit a pool another test of the same process closed or pointed elsewhere."""
    from crm_site.celery import app

    app._pool = None
    app.amqp._producer_pool = None
    yield app
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _language_of_the_settings():
    """Each test starts in the settings' language: a request of the test client in another language (a
    ``django_language`` cookie) leaves its thread's translation activated after the response."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
