"""manage.py load_extract: what an operator types at night when a file must go in now."""

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer
from feed.models import Load

from .test_bad_input import person

pytestmark = pytest.mark.django_db
PROD = [{"product_code": "TD1Y", "name": "一年定期", "kind": "time_deposit", "risk_level": "R1"}]


def test_files_given_together_load_in_the_date_s_order(org, write, capsys):
    cust, prod = write("CUST", [person(1), person(2)]), write("PROD", PROD)
    call_command("load_extract", str(cust), str(prod))
    out = capsys.readouterr().out
    assert out.index("PROD_20261130.txt") < out.index("CUST_20261130.txt")
    assert Customer.objects.count() == 2


def test_a_dry_run_prints_the_report_and_writes_nothing(org, write, capsys):
    call_command("load_extract", str(write("PROD", PROD)))
    call_command("load_extract", str(write("CUST", [person(1), person(2, branch_code="999")])), "--dry-run")
    out = capsys.readouterr().out
    assert "line 3 branch_code '999'" in out and "No branch has this code" in out
    assert not Customer.objects.exists()
    assert Load.objects.get(kind="CUST").dry_run


def test_a_rejected_file_fails_the_command(org, write):
    path = write("PROD", PROD)
    path.with_name(path.name + ".ok").write_text("9|" + "0" * 64)
    with pytest.raises(CommandError):
        call_command("load_extract", str(path))


def test_the_date_is_checked_against_the_name(org, write):
    with pytest.raises(CommandError):
        call_command("load_extract", str(write("PROD", PROD)), "--date", "20261129")
    assert Load.objects.get().error_code == "date_mismatch"
    with pytest.raises(CommandError):
        call_command("load_extract", str(write("PROD", PROD)), "--date", "2026-13-01")
