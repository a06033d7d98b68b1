import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from organisation.models import Branch, Staff

pytestmark = pytest.mark.django_db


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
    Staff.objects.all().delete()
    get_user_model().objects.all().delete()
    call_command("seed_demo", customers=0, seed=7)
    assert list(Staff.objects.order_by("employee_no").values_list("name", flat=True)) == names
