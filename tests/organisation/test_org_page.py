"""The branch tree with its staff: scoped to the viewer's subtree, filterable, a constant number of queries."""

import pytest
from django.urls import reverse

from organisation.models import Branch, Staff
from tests.factories import BranchFactory, StaffFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db
URL = reverse("organisation:branch-tree")


@pytest.mark.parametrize(
    ("who", "status", "sees", "hidden"),
    [
        ("admin", 200, ["总分行", "西一网点", "东一网点"], []),
        ("top_head", 200, ["总分行", "西支行", "东一网点"], []),
        ("west_head", 200, ["西支行", "西一网点", "西二网点"], ["东支行", "东一网点", "总分行"]),
        ("east_head", 200, ["东支行", "东一网点"], ["西支行", "西一网点"]),
        ("west_officer", 403, [], ["西一网点"]),
        ("rm_west", 403, [], ["西一网点"]),
    ],
)
def test_role_matrix(org, login, who, status, sees, hidden):
    response = login(getattr(org, who)).get(URL)
    assert response.status_code == status
    body = region_text(response.content, "branch-tree") if status == 200 else response.content.decode()
    for name in sees:
        assert name in body
    for name in hidden:
        assert name not in body


def test_staff_are_listed_under_their_branch(org, login):
    body = login(org.west_head).get(URL).content.decode()
    assert org.rm_west.name in body and org.rm_west2.name in body and org.west_officer.name in body
    assert org.rm_east.name not in body and org.east_head.name not in body


def test_filter_by_role(org, login):
    body = region_text(login(org.admin).get(URL, {"role": Staff.Role.RM}).content, "branch-tree")
    assert org.rm_west.name in body and org.rm_east.name in body
    assert org.west_head.name not in body and org.west_officer.name not in body


def test_filter_by_branch_and_by_clicking_a_branch(org, login):
    client = login(org.admin)
    body = region_text(client.get(URL, {"branch": org.east.pk}).content, "branch-tree")
    assert "东一网点" in body and "西一网点" not in body
    body = region_text(client.get(URL, {"within": org.west_outlet2.pk}).content, "branch-tree")
    assert org.rm_west2.name in body and org.rm_west.name not in body


def test_a_branch_outside_the_subtree_is_not_found(org, login):
    client = login(org.west_head)
    assert client.get(URL, {"within": org.east.pk}).status_code == 404
    # The drop-down only offers the viewer's own subtree: another branch is ignored as invalid input.
    body = region_text(client.get(URL, {"branch": org.east.pk}).content, "branch-tree")
    assert "东一网点" not in body


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999", "1' OR 1=1"])
def test_bad_filter_input_is_not_a_server_error(org, login, bad):
    response = login(org.admin).get(URL, {"within": bad, "branch": bad, "role": bad, "page": bad})
    assert response.status_code in (200, 404)


def test_search_by_name_or_code(org, login):
    body = region_text(login(org.admin).get(URL, {"q": "东"}).content, "branch-tree")
    assert "东支行" in body and "西支行" not in body
    body = region_text(login(org.admin).get(URL, {"q": "11"}).content, "branch-tree")
    assert "西一网点" in body and "东一网点" not in body


def test_query_count_does_not_grow_with_branches_and_staff(org, login, django_assert_max_num_queries):
    client = login(org.admin)
    client.get(URL)
    # the session, user, staff, count, choices, branches, staff, bell, and the session's save (3)
    with django_assert_max_num_queries(11) as small:
        client.get(URL)
    for _ in range(20):
        outlet = BranchFactory(level=Branch.Level.OUTLET, parent=org.east)
        StaffFactory(branch=outlet, role=Staff.Role.RM)
        StaffFactory(branch=outlet, role=Staff.Role.HEAD)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert response.status_code == 200
