"""A segment read through the customer list: the same customers as the list filtered alike, for each reader only
those they may see, the capped count, parameters that no longer apply, and the service's rules (a segment is a
filter, never a search term, a name unique per owner, changed only by its owner or an administrator)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from customers.forms import CustomerFilterForm
from customers.models import Customer
from customers.selectors import customer_list
from marketing import services
from marketing.models import NAME_MAX, SavedSegment
from marketing.segments import read_filter, segment_count, segment_customers, segment_filter
from organisation.access import SYSTEM

from .conftest import save, wealth, wealth_declining

pytestmark = pytest.mark.django_db


def pks(qs) -> list[int]:
    return list(qs.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("who", "found"),
    [
        ("rm_west", {"west_hit"}),
        ("west_head", {"west_hit", "west2_hit"}),
        ("top_head", {"west_hit", "west2_hit", "east_hit"}),
        ("admin", {"west_hit", "west2_hit", "east_hit"}),
    ],
)
def test_a_segment_finds_what_the_list_filtered_alike_finds_for_its_reader(org, crowd, who, found):
    """The round trip: the segment's customers are the customer list's, filtered by the same parameters, in the same
    order, for whoever reads it (the admin's shared segment, read by each)."""
    reader = getattr(org, who)
    segment = save(org.admin, {**wealth_declining(), "sort": ["name"]}, visibility="shared")
    query = QueryDict(f"segment={wealth().pk}&lifecycle=declining&sort=name")  # as the list's address carries it
    listed = customer_list(reader, CustomerFilterForm(query, user=reader).filters())
    assert pks(segment_customers(segment, reader)) == pks(listed)
    assert set(pks(listed)) == {getattr(crowd, name).pk for name in found}
    assert segment_count(segment, reader).count == len(found)


def test_a_shared_segment_counts_only_the_customers_its_reader_may_see(org, crowd):
    segment = save(org.west_head, wealth_declining(), visibility="shared")
    counts = {who: segment_count(segment, getattr(org, who)).count for who in ("rm_west", "rm_west2", "west_head")}
    assert counts == {"rm_west": 1, "rm_west2": 1, "west_head": 2}
    assert set(pks(segment_customers(segment, org.rm_west2))) == {crowd.west2_hit.pk}


def test_the_count_is_exact_up_to_the_cap_and_capped_above_in_one_counting_query(org, crowd, django_assert_num_queries):
    segment = save(org.top_head, {"lifecycle": ["declining"]})  # 4 customers
    read = segment_filter(segment, org.top_head)
    exact = segment_count(segment, org.top_head, cap=4, read=read)
    assert (exact.count, exact.capped, exact.shown) == (4, False, 4)
    capped = segment_count(segment, org.top_head, cap=3, read=read)
    assert (capped.capped, capped.shown, capped.cap) == (True, 3, 3)
    # The head's scope (its branches: one query) and the count; the filter was read already.
    with django_assert_num_queries(2) as ctx:
        segment_count(segment, org.top_head, cap=2, read=read)
    assert "LIMIT 3" in ctx.captured_queries[-1]["sql"] and "COUNT(" in ctx.captured_queries[-1]["sql"].upper()


def test_the_customers_are_a_plain_queryset_read_in_one_statement(org, crowd, django_assert_num_queries):
    """What a campaign's INSERT … SELECT needs: a queryset whose SELECT stands alone, no list of customer ids."""
    segment = save(org.west_head, wealth_declining())
    customers = segment_customers(segment, org.west_head)
    assert isinstance(customers, QuerySet)
    with django_assert_num_queries(1):  # one statement, whatever the size: no list of ids on the way
        assert Customer.objects.filter(pk__in=customers.values("pk")).count() == 2


def test_a_stored_parameter_the_list_no_longer_accepts_is_dropped_and_named_and_the_rest_applies(org, crowd):
    segment = save(org.west_head, wealth_declining(), visibility="shared")
    # Later: the tier was removed, and a filter the list once had (saved with its words) is gone from the form.
    SavedSegment.objects.filter(pk=segment.pk).update(
        params={"segment": ["999999"], "lifecycle": ["declining"], "maturing_within": ["30"]},
        criteria=[["segment", "客户层级", "已撤销的层级"], ["lifecycle", "生命周期", "衰退"],
                  ["maturing_within", "理财到期", "30 天内"]],
    )  # fmt: skip
    segment.refresh_from_db()
    read = segment_filter(segment, org.west_head)
    assert {c.key: str(c) for c in read.dropped} == {
        "segment": "客户层级：已撤销的层级",
        "maturing_within": "理财到期：30 天内",
    }
    assert [c.key for c in read.criteria] == ["lifecycle"] and read.narrows
    declining = {crowd.west_hit.pk, crowd.west_other_tier.pk, crowd.west2_hit.pk}
    assert set(pks(segment_customers(segment, org.west_head, read=read))) == declining


def test_a_branch_filter_outside_the_readers_own_list_is_named_and_left_out(org, crowd):
    """The head of the 分行 shares a segment of 东支行's declining customers. An RM's list has no branch filter (their
    list is their portfolio) and 西支行's head may not choose 东支行: each reads the segment without it, is told so,
    and finds the declining customers of their own scope; the 分行's head finds 东支行's."""
    segment = save(org.top_head, {"branch": [str(org.east.pk)], "lifecycle": ["declining"]}, visibility="shared")
    branch = str(CustomerFilterForm.base_fields["branch"].label)
    for who, found in (
        ("rm_west", {crowd.west_hit.pk, crowd.west_other_tier.pk}),
        ("west_head", {crowd.west_hit.pk, crowd.west_other_tier.pk, crowd.west2_hit.pk}),
    ):
        read = segment_filter(segment, getattr(org, who))
        assert [str(c) for c in read.dropped] == [f"{branch}：东支行"], who  # named as it was saved
        assert set(pks(segment_customers(segment, getattr(org, who), read=read))) == found, who
    assert not segment_filter(segment, org.top_head).dropped
    assert set(pks(segment_customers(segment, org.top_head))) == {crowd.east_hit.pk}


def test_a_segment_none_of_whose_criteria_applies_finds_nobody_never_everyone(org, crowd):
    segment = save(org.admin, {"lifecycle": ["declining"]})
    SavedSegment.objects.filter(pk=segment.pk).update(params={"gone": ["1"], "sort": ["name"]})
    segment.refresh_from_db()
    assert not segment_filter(segment, org.admin).narrows
    assert not segment_customers(segment, org.admin).exists()
    assert segment_count(segment, org.admin).count == 0


def test_the_filter_in_words_and_the_search_term_left_out(org, crowd):
    read = read_filter(
        QueryDict(f"q=13800138000&segment={wealth().pk}&lifecycle=declining&aum_min=500000&sort=name&page=3&s=tok"),
        org.west_head,
    )
    assert [str(c) for c in read.criteria] == [
        "客户层级：财富客户",
        "生命周期：衰退",
        "金融资产下限：500,000",
        "排序：姓名/名称",
    ]
    assert "q" not in read.params and "s" not in read.params and "page" not in read.params
    assert read.search_term == "138****8000"
    assert read.params["lifecycle"] == ["declining"]


@pytest.mark.parametrize(
    ("params", "refused"),
    [
        ({}, True),
        ({"sort": ["name"]}, True),  # an order is not a filter
        ({"q": ["王"]}, True),  # a search term is never saved: nothing is left
        ({"q": ["13800138000"], "s": ["tok"], "page": ["2"], "lifecycle": ["declining"]}, False),
        ({"lifecycle": [""], "kind": [""]}, True),  # empty values are no filter
        ({"lifecycle": ["x" * 201]}, True),  # a value longer than any filter's
    ],
)
def test_a_segment_is_a_filter_and_never_keeps_a_search_term(org, params, refused):
    if refused:
        with pytest.raises(ValidationError):
            save(org.rm_west, params)
        assert not SavedSegment.objects.exists()
    else:
        assert save(org.rm_west, params).params == {"lifecycle": ["declining"]}


def test_names_are_unique_per_owner_and_bounded(org):
    save(org.rm_west, {"lifecycle": ["declining"]}, name="衰退客户")
    with pytest.raises(ValidationError) as error:
        save(org.rm_west, {"lifecycle": ["mature"]}, name=" 衰退客户 ")
    assert "name" in error.value.message_dict
    assert save(org.rm_west2, {"lifecycle": ["mature"]}, name="衰退客户").name == "衰退客户"  # another owner's
    with pytest.raises(ValidationError) as error:
        save(org.rm_west, {"lifecycle": ["mature"]}, name="长" * (NAME_MAX + 1))
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        save(org.rm_west, {"lifecycle": ["mature"]}, name="  ")
    assert "name" in error.value.message_dict
    assert SavedSegment.objects.count() == 2


def test_who_may_save(org):
    with pytest.raises(PermissionDenied):
        save(org.west_officer, {"lifecycle": ["declining"]})
    with pytest.raises(PermissionDenied):
        services.segment_create(actor=SYSTEM, name="系统", params={"lifecycle": ["declining"]})
    assert not SavedSegment.objects.exists()


@pytest.mark.parametrize(
    ("who", "may"), [("rm_west", True), ("admin", True), ("west_head", False), ("rm_west2", False)]
)
def test_only_the_owner_or_an_administrator_changes_or_deletes_a_segment(org, who, may):
    segment = save(org.rm_west, {"lifecycle": ["declining"]}, visibility="shared")
    actor = getattr(org, who).user
    if may:
        services.segment_update(actor=actor, segment=segment, name="改名", visibility="private")
        segment.refresh_from_db()
        assert (segment.name, segment.visibility, segment.updated_by_id) == ("改名", "private", getattr(org, who).pk)
        services.segment_delete(actor=actor, segment=segment)
        assert not SavedSegment.objects.exists()
    else:
        with pytest.raises(PermissionDenied):
            services.segment_update(actor=actor, segment=segment, name="改名", visibility="private")
        with pytest.raises(PermissionDenied):
            services.segment_delete(actor=actor, segment=segment)
        segment.refresh_from_db()
        assert segment.name == "财富客户 衰退期"
