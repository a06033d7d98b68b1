import logging
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import translation

from organisation.models import Branch, Staff
from tests.factories import BranchFactory, CustomerFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.full]  # the demo's content: make test-full


def counts():
    return (Branch.objects.count(), Staff.objects.count(), get_user_model().objects.count())


def test_seed_demo_builds_a_realistic_organisation_and_is_idempotent(capsys, settings):
    call_command("seed_demo", customers=0)
    first = counts()
    out = capsys.readouterr().out
    assert Branch.objects.filter(level=Branch.Level.BRANCH).count() == 1
    assert Branch.objects.filter(level=Branch.Level.SUB_BRANCH).count() >= 3
    assert Branch.objects.filter(level=Branch.Level.OUTLET).count() >= 6
    assert 25 <= Staff.objects.count() <= 40
    assert set(Staff.objects.values_list("role", flat=True)) == set(Staff.Role.values)
    assert all("\u4e00" <= s.name[0] <= "\u9fff" for s in Staff.objects.all())
    for username in ("admin", "head", "officer", "rm1"):
        assert username in out
    assert settings.DEMO_PASSWORD in out
    assert get_user_model().objects.get(username="rm1").check_password(settings.DEMO_PASSWORD)

    call_command("seed_demo", customers=0)
    assert counts() == first


def test_the_same_seed_gives_the_same_names():
    call_command("seed_demo", customers=0, seed=7)
    names = list(Staff.objects.order_by("employee_no").values_list("name", flat=True))
    from pool.models import PoolKeeper

    PoolKeeper.objects.all().delete()  # the demo names a keeper, who holds on to their staff row
    Staff.objects.all().delete()
    get_user_model().objects.all().delete()
    for level in reversed(Branch.Level.values):
        Branch.objects.filter(level=level).delete()
    call_command("seed_demo", customers=0, seed=7)
    assert list(Staff.objects.order_by("employee_no").values_list("name", flat=True)) == names


# ---------------------------------------------------------------------------------------------------------------
# The first run: seed_demo decides by what the target database holds, and says so shortly.
# ---------------------------------------------------------------------------------------------------------------


def run(*args, **options) -> list[str]:
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue().splitlines()


def test_if_empty_seeds_an_empty_database_and_prints_the_logins():
    lines = run("--if-empty", customers=0, figure_days=0)
    assert Staff.objects.filter(user__username="head").exists()
    assert any(line.startswith("Demo data ready.") for line in lines)
    assert [line.split()[0] for line in lines if line.startswith("  ") and "·" in line] == [
        "admin",
        "head",
        "officer",
        "head1",
        "rm1",
    ]


def test_if_empty_on_a_seeded_database_says_so_writes_nothing_and_prints_the_logins():
    run(customers=0, figure_days=0)
    before = counts()
    lines = run("--if-empty", customers=0, figure_days=0)
    assert counts() == before
    assert lines[0] == "Demo data already exists in this database; not generated again."
    assert "Demo logins (password: Demo@2026crm):" in lines
    assert any(line.split()[0] == "head1" for line in lines[2:])
    assert not any("organisation:" in line for line in lines)


@pytest.mark.parametrize("what", ["staff", "branch", "customer"])
def test_a_database_with_data_of_its_own_is_refused_and_left_as_it_was(what):
    if what == "staff":
        StaffFactory()
    elif what == "branch":
        BranchFactory()
    else:
        CustomerFactory()
    before = counts()
    for args in (["--if-empty"], []):
        with translation.override("en"), pytest.raises(CommandError, match="not demo data: no demo data was written"):
            call_command("seed_demo", *args, customers=0, figure_days=0, stdout=StringIO())
    assert counts() == before
    assert not Staff.objects.filter(user__email__endswith="@demo.invalid").exists()


def test_data_added_to_a_demo_database_does_not_make_it_refused():
    run(customers=0, figure_days=0)
    StaffFactory(branch=Branch.objects.get(code="330101"))
    assert run("--if-empty", customers=0, figure_days=0)[0].startswith("Demo data already exists")


def test_show_logins_on_a_database_without_the_demo_says_there_are_none():
    assert run("--show-logins") == ["This database holds no demo logins: run seed_demo to create them."]


def test_the_seed_is_quiet_a_line_per_step_and_verbose_with_v2(caplog):
    with caplog.at_level(logging.INFO):
        lines = run(customers=300, figure_days=30)
    figure_records = [r for r in caplog.records if r.name == "dashboards.figures" and r.levelno < logging.WARNING]
    assert figure_records == []
    # organisation, customers, visit plans, complaints, reminders and approvals, the pool, releases, tasks,
    # segments, opportunities, marketing consent, figures, targets, "ready", the logins' heading and five logins
    assert len(lines) == 20, lines
    assert logging.getLogger("dashboards.figures").level == logging.NOTSET  # restored


def test_verbosity_2_shows_every_batch_and_every_day(caplog):
    with caplog.at_level(logging.INFO):
        lines = run(customers=300, figure_days=5, verbosity=2)
    assert any("customers 300/300" in line for line in lines)
    assert len([r for r in caplog.records if r.name == "dashboards.figures"]) == 5


def test_no_logins_leaves_the_logins_to_the_caller():
    assert not any("·" in line for line in run("--if-empty", "--no-logins", customers=0, figure_days=0))
    assert run("--if-empty", "--no-logins", customers=0) == [
        "Demo data already exists in this database; not generated again."
    ]


def test_one_vocabulary_for_heads_the_role_names_all_three_levels_and_each_head_the_level_of_their_branch():
    with translation.override("en"):
        assert Staff.Role.HEAD.label == "Branch head (分行/支行/网点负责人)"
        lines = run(customers=0, figure_days=0)
        titles = {s.user.username: s.role_title for s in Staff.objects.select_related("user", "branch")}
        assert titles["head"] == "Branch head (分行负责人)"
        assert titles["head1"] == "Sub-branch head (支行负责人)"
        assert titles["head11"] == "Outlet head (网点负责人)"
        assert titles["rm1"] == str(Staff.Role.RM.label)
    printed = {line.split()[0]: line for line in lines if "·" in line}
    assert "(分行负责人)" in printed["head"] and "(支行负责人)" in printed["head1"]
    assert "网点/支行" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("who", "shown", "not_shown"),
    [
        ("top_head", "分行负责人", ["支行负责人", "网点负责人", "分行/支行"]),
        ("west_head", "支行负责人", ["分行负责人", "网点负责人", "分行/支行"]),
        ("rm_west", "客户经理", ["负责人"]),
    ],
)
def test_the_header_names_a_heads_level(org, login, who, shown, not_shown):
    page = login(getattr(org, who)).get("/", follow=True).content.decode()
    header = page[page.index('data-testid="current-staff"') :].split("</span>")[0]
    assert shown in header
    assert not any(word in header for word in not_shown), header
