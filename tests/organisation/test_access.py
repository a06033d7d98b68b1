"""The one access policy (organisation.access): the scope of every role, the subtree filter, the capability
predicates and the actor check that every service starts with."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from organisation import access
from organisation.access import SYSTEM, Reach
from organisation.models import Branch, Staff
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "reach", "root"),
    [
        ("admin", Reach.ALL, None),
        ("top_head", Reach.SUBTREE, "top"),
        ("west_head", Reach.SUBTREE, "west"),
        ("west_officer", Reach.SUBTREE, "west"),
        ("rm_west", Reach.OWN, None),
    ],
)
def test_every_role_has_its_scope(org, who, reach, root):
    staff = getattr(org, who)
    for subject in (staff, staff.user):  # a Staff or its user
        scope = access.scope_of(subject)
        assert scope.reach is reach
        assert scope.staff == staff
        assert scope.path == (getattr(org, root).path if root else "")


def test_a_kind_of_record_can_narrow_the_subtree_to_heads(org):
    assert access.scope_of(org.west_officer, subtree_roles=access.HEADS).reach is Reach.OWN
    assert access.scope_of(org.west_head, subtree_roles=access.HEADS).reach is Reach.SUBTREE
    assert access.scope_of(org.admin, subtree_roles=access.HEADS).reach is Reach.ALL


def test_nobody_without_an_active_staff_record_sees_anything(org, django_user_model):
    Staff.objects.filter(pk=org.rm_east.pk).update(status=Staff.Status.LEFT, left_on="2026-01-01")
    org.rm_east.refresh_from_db()
    plain_user = django_user_model.objects.create_user("no_staff_record")
    for subject in (AnonymousUser(), plain_user, org.rm_east, None):
        assert access.scope_of(subject).is_none


def test_the_subtree_filter_finds_the_branch_and_everything_below_it(org):
    west = access.scope_of(org.west_head)
    assert set(Branch.objects.filter(access.subtree_q(west))) == {org.west, org.west_outlet, org.west_outlet2}
    staff_in_west = set(Staff.objects.filter(access.subtree_q(west, "branch")))
    assert staff_in_west == {org.west_head, org.west_officer, org.rm_west, org.rm_west2}
    assert Branch.objects.filter(access.subtree_q(access.scope_of(org.admin))).count() == Branch.objects.count()
    assert not Branch.objects.filter(access.subtree_q(access.scope_of(org.rm_west))).exists()


def test_the_branch_id_list_is_none_for_the_whole_bank(org):
    assert access.subtree_branch_ids(access.scope_of(org.top_head)) is None
    ids = access.subtree_branch_ids(access.scope_of(org.east_head))
    assert set(ids) == {org.east.pk, org.east_outlet.pk}


def test_approvals_belong_to_heads_above_and_to_admins(org):
    assert access.can_approve(org.west_head, org.west_outlet)
    assert access.can_approve(org.top_head, org.east_outlet)
    assert access.can_approve(org.admin, org.east_outlet)
    assert not access.can_approve(org.east_head, org.west_outlet)  # another subtree
    assert not access.can_approve(org.west_officer, org.west_outlet)  # not a head
    assert not access.can_approve(org.rm_west, org.west_outlet)


def test_complaint_managers_are_officers_and_heads_of_the_subtree(org):
    assert access.can_manage_in(org.west_officer, org.west_outlet)
    assert access.can_manage_in(org.west_head, org.west_outlet)
    assert not access.can_manage_in(org.west_officer, org.east_outlet)
    assert not access.can_manage_in(org.rm_west, org.west_outlet)


def test_a_service_runs_only_for_an_active_actor_of_the_right_role(org):
    assert access.actor_staff(org.rm_west.user) == org.rm_west
    assert access.actor_staff(org.rm_west) == org.rm_west
    assert access.actor_staff(SYSTEM) is None  # jobs and the demo act as the system
    with pytest.raises(PermissionDenied):
        access.actor_staff(None)
    with pytest.raises(PermissionDenied):
        access.actor_staff(AnonymousUser())
    with pytest.raises(PermissionDenied):
        access.actor_staff(org.rm_west.user, access.ADMINS)
    leaver = StaffFactory(username="gone", branch=org.west_outlet)
    Staff.objects.filter(pk=leaver.pk).update(status=Staff.Status.LEFT, left_on="2026-01-01")
    with pytest.raises(PermissionDenied):
        access.actor_staff(Staff.objects.get(pk=leaver.pk).user)


def test_the_history_records_the_user_and_no_one_for_the_system(org):
    assert access.history_user(org.admin) == org.admin.user
    assert access.history_user(org.admin.user) == org.admin.user
    assert access.history_user(SYSTEM) is None


def test_the_role_sets_are_the_only_role_lists_of_the_pages():
    """Every page's audience is one of the named sets (no role list is written again in a view)."""
    from tests.urlwalk import all_urls

    named = {v for k, v in vars(access).items() if k.isupper() and isinstance(v, frozenset)}
    for _path, name, view in all_urls():
        roles = getattr(getattr(view, "view_class", None), "allowed_roles", None)
        if roles is not None:
            assert roles in named, name
