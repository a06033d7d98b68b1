"""Naming the pool keeper (池管理员): a head names an active RM or head of the outlet, or gives the pool back to
the outlet's head; the page shows who keeps each pool."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pool import services
from pool.keepers import keepers_of
from pool.models import PoolKeeper
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEEPER = "/pool/keeper/"


def test_name_and_give_back(org):
    head = StaffFactory(branch=org.west_outlet, role="head", name="网点长甲")
    assert keepers_of([org.west_outlet.pk]) == {org.west_outlet.pk: head.pk}
    keeper = services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=org.rm_west)
    assert (keeper.staff, keeper.named_by) == (org.rm_west, org.west_head)
    assert keepers_of([org.west_outlet.pk]) == {org.west_outlet.pk: org.rm_west.pk}
    services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=None)
    assert not PoolKeeper.objects.exists()
    assert keepers_of([org.west_outlet.pk]) == {org.west_outlet.pk: head.pk}


def test_only_staff_of_the_outlet(org):
    for staff in (org.rm_west2, org.west_officer, org.west_head):
        with pytest.raises(ValidationError):
            services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=staff)
    assert not PoolKeeper.objects.exists()


def test_only_a_head_above_the_outlet(org):
    with pytest.raises(PermissionDenied):
        services.pool_keeper_set(actor=org.east_head.user, branch=org.west_outlet, staff=org.rm_west)
    with pytest.raises(PermissionDenied):
        services.pool_keeper_set(actor=org.rm_west.user, branch=org.west_outlet, staff=org.rm_west)


def test_through_the_page(org, login):
    client = login(org.west_head)
    client.cookies["django_language"] = "en"
    page = client.post(KEEPER, {"branch": org.west_outlet.pk, "staff": org.rm_west.pk}, follow=True).content.decode()
    assert "now keeps the pool of" in page
    assert PoolKeeper.objects.get().staff == org.rm_west
    page = client.post(KEEPER, {"branch": org.west_outlet.pk, "staff": org.rm_east.pk}, follow=True).content.decode()
    assert "must be an active RM or head of" in page
    assert PoolKeeper.objects.get().staff == org.rm_west
    # Another subtree's outlet is a 404.
    assert login(org.east_head).post(KEEPER, {"branch": org.west_outlet.pk, "staff": ""}).status_code == 404


def test_an_rm_sees_who_keeps_their_pool(org, login):
    services.pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=org.rm_west)
    other = StaffFactory(branch=org.west_outlet, role="rm")
    page = login(other).get("/pool/").content.decode()
    assert 'data-testid="pool-keepers"' in page and org.rm_west.name in page
    assert 'data-testid="keeper-form"' not in page
