import pytest
from django.core.exceptions import ValidationError

from organisation import services as org_services
from organisation.access import SYSTEM
from organisation.models import Branch
from tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


def codes(qs):
    return sorted(b.code for b in qs)


def test_subtree_is_one_query_and_holds_exactly_the_descendants(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        west = codes(Branch.objects.subtree_of(org.west))
    assert west == ["110", "111", "112"]
    assert codes(Branch.objects.subtree_of(org.top)) == ["100", "110", "111", "112", "120", "121"]
    assert codes(Branch.objects.subtree_of(org.east_outlet)) == ["121"]


def test_paths_and_depths_follow_the_tree(org):
    assert org.top.depth == 1 and org.west.depth == 2 and org.west_outlet.depth == 3
    assert org.west_outlet.path.startswith(org.west.path) and org.west.path.startswith(org.top.path)
    assert org.west_outlet.is_within(org.top)
    assert not org.east_outlet.is_within(org.west)


def test_a_sibling_whose_id_shares_a_prefix_is_not_in_the_subtree(db):
    # Zero-padded, "/"-terminated segments: branch 1's subtree never picks up branch 10 or 11.
    top = BranchFactory(level=Branch.Level.BRANCH)
    subs = [BranchFactory(level=Branch.Level.SUB_BRANCH, parent=top) for _ in range(12)]
    first = subs[0]
    assert codes(Branch.objects.subtree_of(first)) == [first.code]


def test_moving_a_branch_moves_its_whole_subtree(org):
    other_top = BranchFactory(code="200", level=Branch.Level.BRANCH)
    org_services.branch_update(
        actor=SYSTEM, branch=org.west, name="西支行（迁）", level=org.west.level, parent=other_top
    )
    assert codes(Branch.objects.subtree_of(other_top)) == ["110", "111", "112", "200"]
    assert codes(Branch.objects.subtree_of(org.top)) == ["100", "120", "121"]
    outlet = Branch.objects.get(code="111")
    assert outlet.depth == 3 and outlet.path.startswith(other_top.path)


@pytest.mark.parametrize(
    ("level", "parent_attr", "message"),
    [
        (Branch.Level.OUTLET, None, "top"),
        (Branch.Level.SUB_BRANCH, "west", "higher level"),
        (Branch.Level.BRANCH, "top", "higher level"),
    ],
)
def test_the_tree_refuses_a_level_out_of_order(org, level, parent_attr, message):
    parent = getattr(org, parent_attr) if parent_attr else None
    with pytest.raises(ValidationError) as exc:
        org_services.branch_create(actor=SYSTEM, code="X1", name="错位机构", level=level, parent=parent)
    assert "parent" in exc.value.message_dict
    assert not Branch.objects.filter(code="X1").exists()


def test_a_branch_cannot_move_below_itself(org):
    with pytest.raises(ValidationError):
        org_services.branch_update(
            actor=SYSTEM, branch=org.top, name=org.top.name, level=Branch.Level.BRANCH, parent=org.west_outlet
        )


@pytest.mark.postgres
def test_subtree_query_uses_the_path_index_at_ten_thousand_branches(db):
    from django.db import connection

    top = BranchFactory(level=Branch.Level.BRANCH)
    rows = []
    base = Branch.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    for i in range(10_000):
        pk = base + i
        rows.append(
            Branch(
                pk=pk,
                code=f"BULK{i:05d}",
                name=f"网点{i}",
                level=Branch.Level.SUB_BRANCH,
                parent=top,
                path=f"{top.path}{pk:08d}/",
                depth=2,
            )
        )
    Branch.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE relationships_branch")
    target = Branch.objects.get(code="BULK05000")
    plan = Branch.objects.subtree_of(target).explain()
    assert "Index" in plan and "Seq Scan" not in plan, plan
