"""The segments pages: who sees and who may change which segment (a role × URL matrix), saving from the customer
list and opening the segment as that list again, the search term left out, stale criteria, empty segments, the
navigation and the query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketing.models import SavedSegment

from .conftest import names_in, save, wealth, wealth_declining

pytestmark = pytest.mark.django_db

LIST = "/marketing/segments/"
CUSTOMERS = "/customers/"


def test_the_urls_are_named():
    assert reverse("marketing:segment-list") == LIST
    assert reverse("marketing:segment-create") == LIST + "new/"
    assert reverse("marketing:segment-detail", args=[7]) == LIST + "7/"
    assert reverse("marketing:segment-open", args=[7]) == LIST + "7/list/"
    assert reverse("marketing:segment-update", args=[7]) == LIST + "7/edit/"
    assert reverse("marketing:segment-delete", args=[7]) == LIST + "7/delete/"


@pytest.fixture
def four(org, rm_west_b):
    """rm_west's private and shared segments, 西支行 head's shared one, the administrator's shared one."""
    return {
        "rm_private": save(org.rm_west, {"lifecycle": ["declining"]}, name="我的衰退客户"),
        "rm_shared": save(org.rm_west, {"lifecycle": ["mature"]}, name="网点成熟客户", visibility="shared"),
        "head_shared": save(org.west_head, {"lifecycle": ["growing"]}, name="支行成长客户", visibility="shared"),
        "admin_shared": save(org.admin, {"lifecycle": ["new"]}, name="全行新客", visibility="shared"),
    }


# who -> (the segments they see, the segments they may change). A shared segment reaches: an administrator's,
# everyone; a head's, everyone in the head's subtree; an RM's, the RMs of their outlet; and anyone's, the heads above
# the owner's branch. A private one: its owner only. Changes: the owner, or an administrator.
MATRIX = {
    "rm_west": ({"rm_private", "rm_shared", "head_shared", "admin_shared"}, {"rm_private", "rm_shared"}),
    "rm_west_b": ({"rm_shared", "head_shared", "admin_shared"}, set()),  # the same outlet as rm_west
    "rm_west2": ({"head_shared", "admin_shared"}, set()),  # another outlet of 西支行
    "rm_east": ({"admin_shared"}, set()),
    "west_head": ({"rm_shared", "head_shared", "admin_shared"}, {"head_shared"}),
    "east_head": ({"admin_shared"}, set()),
    "top_head": ({"rm_shared", "head_shared", "admin_shared"}, set()),  # the head above both
    "admin": ({"rm_shared", "head_shared", "admin_shared"}, {"rm_shared", "head_shared", "admin_shared"}),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_role_matrix(org, four, login, rm_west_b, who):
    staff = rm_west_b if who == "rm_west_b" else getattr(org, who)
    sees, changes = MATRIX[who]
    client = login(staff)
    page = client.get(LIST)
    assert page.status_code == 200
    assert {k for k, s in four.items() if s.name in page.content.decode()} == sees
    for key, segment in four.items():
        pk = segment.pk
        expected = {
            reverse("marketing:segment-detail", args=[pk]): 200 if key in sees else 404,
            reverse("marketing:segment-open", args=[pk]): 302 if key in sees else 404,
            reverse("marketing:segment-update", args=[pk]): 200 if key in changes else 404,
            reverse("marketing:segment-delete", args=[pk]): 200 if key in changes else 404,
        }
        assert {url: client.get(url).status_code for url in expected} == expected, key
        if key in sees and key not in changes:  # a segment one may open but not change: posts change nothing
            edit = client.post(reverse("marketing:segment-update", args=[pk]), {"name": "x", "visibility": "private"})
            delete = client.post(reverse("marketing:segment-delete", args=[pk]))
            assert (edit.status_code, delete.status_code) == (404, 404)
    assert SavedSegment.objects.count() == 4 and not SavedSegment.objects.filter(name="x").exists()


def test_an_officer_may_not_open_the_segments_pages(org, four, login):
    client = login(org.west_officer)
    pk = four["admin_shared"].pk
    for url in (LIST, LIST + "new/?lifecycle=new", f"{LIST}{pk}/", f"{LIST}{pk}/list/", f"{LIST}{pk}/edit/"):
        assert client.get(url).status_code == 403, url
    assert 'data-testid="segment-save"' not in client.get(CUSTOMERS, {"lifecycle": "new"}).content.decode()


def test_signed_out_goes_to_sign_in(client, four):
    for url in (LIST, f"{LIST}{four['admin_shared'].pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_owner_renames_shares_and_deletes(org, four, login):
    client = login(org.rm_west)
    segment = four["rm_private"]
    response = client.post(
        f"{LIST}{segment.pk}/edit/", {"name": "衰退客户（重点）", "description": "月底前回访", "visibility": "shared"}
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.description, segment.visibility) == ("衰退客户（重点）", "月底前回访", "shared")
    # A name the owner already uses, or too long: the form again with the error, nothing changed.
    for name in ("网点成熟客户", "长" * 41):
        response = client.post(f"{LIST}{segment.pk}/edit/", {"name": name, "visibility": "private"})
        assert response.status_code == 200 and response.context["form"].errors["name"]
    segment.refresh_from_db()
    assert segment.name == "衰退客户（重点）" and segment.visibility == "shared"
    assert client.post(f"{LIST}{segment.pk}/delete/").status_code == 302
    assert not SavedSegment.objects.filter(pk=segment.pk).exists()


def _save_button(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" data-testid="segment-save"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_saved_from_the_list_it_opens_as_that_list(org, crowd, login):
    """The round trip: filter the customer list, save it, open the segment: the same customers, with a banner."""
    client = login(org.west_head)
    filtered = client.get(
        client.post(CUSTOMERS, {"segment": wealth().pk, "lifecycle": "declining", "sort": "name"}).url
    )
    assert names_in(filtered.content.decode()) == {"甲财富衰退", "丁财富衰退"}
    save_url = _save_button(filtered.content.decode())
    assert save_url is not None
    form_page = client.get(save_url)
    html = form_page.content.decode()
    assert 'data-criterion="segment"' in html and "财富客户" in html and 'data-criterion="sort"' in html
    key = form_page.context["form"]["submission_key"].value()
    data = {"name": "财富衰退", "description": "", "visibility": "shared", "submission_key": key,
            "filter": form_page.context["form"]["filter"].value()}  # fmt: skip
    response = client.post(LIST + "new/", data)
    assert response.status_code == 302 and response.url == LIST
    assert client.post(LIST + "new/", data).status_code == 302  # a double submit: one segment
    segment = SavedSegment.objects.get()
    assert segment.params == {"segment": [str(wealth().pk)], "lifecycle": ["declining"], "sort": ["name"]}
    assert (segment.owner, segment.visibility) == (org.west_head, "shared")

    opened = client.get(f"{LIST}{segment.pk}/list/")
    assert opened.status_code == 302 and opened.url.startswith(CUSTOMERS + "?")
    listed = client.get(opened.url).content.decode()
    assert names_in(listed) == names_in(filtered.content.decode())
    assert 'data-testid="segment-banner"' in listed and "财富衰退" in listed
    # The same segment opened by an RM of the subtree: only their own customers of it.
    rm = login(org.rm_west2)
    assert names_in(rm.get(rm.get(f"{LIST}{segment.pk}/list/").url).content.decode()) == {"丁财富衰退"}


def test_the_search_term_is_never_saved_and_a_search_alone_is_no_segment(org, book, login):
    client = login(org.rm_west)
    searched = client.get(client.post(CUSTOMERS, {"q": "13800138000"}).url)
    assert _save_button(searched.content.decode()) is None  # a search alone is no filter
    searched = client.get(client.post(CUSTOMERS, {"q": "13800138000", "lifecycle": "new"}).url)
    save_url = _save_button(searched.content.decode())
    assert "13800138000" not in save_url and "s=" in save_url
    page = client.get(save_url).content.decode()
    assert 'data-testid="segment-term-left-out"' in page and "138****8000" in page and "13800138000" not in page
    form = client.get(save_url).context["form"]
    response = client.post(LIST + "new/", {"name": "新客", "visibility": "private", "filter": form["filter"].value()})
    assert response.status_code == 302
    assert SavedSegment.objects.get().params == {"lifecycle": ["new"]}


def test_saving_without_a_filter_is_refused(org, login):
    client = login(org.rm_west)
    page = client.get(LIST + "new/", {"sort": "name", "page": "2"})
    assert 'data-testid="segment-refused"' in page.content.decode() and page.context["form"] is None
    response = client.post(LIST + "new/", {"name": "全部", "visibility": "private", "filter": "sort=name&q=王"})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not SavedSegment.objects.exists()


def test_the_list_offers_to_save_only_a_filtered_list_and_shows_no_banner_for_a_segment_one_may_not_see(
    org, four, crowd, login
):
    client = login(org.rm_west)
    assert _save_button(client.get(CUSTOMERS).content.decode()) is None
    assert _save_button(client.get(CUSTOMERS, {"lifecycle": "declining"}).content.decode()) is not None
    hidden = login(org.rm_east).get(CUSTOMERS, {"lifecycle": "declining", "saved": four["rm_private"].pk})
    assert hidden.status_code == 200 and 'data-testid="segment-banner"' not in hidden.content.decode()
    for junk in ("abc", "9" * 30, "-1"):
        response = client.get(CUSTOMERS, {"lifecycle": "declining", "saved": junk})
        assert response.status_code == 200 and 'data-testid="segment-banner"' not in response.content.decode()


def test_a_stale_criterion_is_named_when_opened_and_the_rest_applies(org, crowd, login):
    segment = save(org.west_head, wealth_declining(), name="财富衰退", visibility="shared")
    SavedSegment.objects.filter(pk=segment.pk).update(
        params={"segment": ["999999"], "lifecycle": ["declining"]},
        criteria=[["segment", "客户层级", "已撤销的层级"], ["lifecycle", "生命周期", "衰退"]],
    )
    client = login(org.west_head)
    detail = client.get(f"{LIST}{segment.pk}/").content.decode()
    assert 'data-testid="segment-dropped"' in detail and "客户层级：已撤销的层级" in detail
    assert 'data-testid="segment-stale"' in detail
    opened = client.get(f"{LIST}{segment.pk}/list/", follow=True)
    html = opened.content.decode()
    assert "客户层级：已撤销的层级" in html  # the message names it
    assert names_in(html) == {"甲财富衰退", "乙大众衰退", "丁财富衰退"}  # the lifecycle still applies


def test_a_segment_none_of_whose_criteria_applies_is_not_opened_as_everyone(org, crowd, login):
    segment = save(org.west_head, wealth_declining(), name="财富衰退")
    SavedSegment.objects.filter(pk=segment.pk).update(params={"segment": ["999999"]})
    client = login(org.west_head)
    response = client.get(f"{LIST}{segment.pk}/list/")
    assert response.status_code == 302 and response.url == f"{LIST}{segment.pk}/"
    detail = client.get(response.url).content.decode()
    assert 'data-testid="segment-open"' not in detail and "客户层级" in detail


def test_an_empty_segment_says_so(org, crowd, login):
    segment = save(org.rm_west, {"lifecycle": ["lost"]}, name="流失客户")
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    html = client.get(f"{LIST}{segment.pk}/").content.decode()
    assert 'data-testid="segment-empty"' in html and "0 customers" in html
    assert 'data-testid="segment-open"' in html  # it still opens: an empty list, with the list's own empty state


def test_the_count_over_htmx_is_the_fragment_and_capped_above_the_lists_cap(org, crowd, login, settings):
    segment = save(org.top_head, {"lifecycle": ["declining"]}, name="衰退")
    client = login(org.top_head)
    client.cookies["django_language"] = "en"
    fragment = client.get(f"{LIST}{segment.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "4 customers" in fragment
    settings.LIST_COUNT_CAP = 3
    fragment = client.get(f"{LIST}{segment.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "3+" in fragment and "4 customers" not in fragment
    page = client.get(f"{LIST}{segment.pk}/").content.decode()
    assert "<html" in page and 'data-testid="main-nav"' in page and "3+" in page


def test_a_head_hands_out_a_task_for_a_segment(org, crowd, login):
    segment = save(org.west_head, wealth_declining(), name="财富衰退")
    html = login(org.west_head).get(f"{LIST}{segment.pk}/").content.decode()
    link = re.search(r'href="([^"]+)" data-testid="segment-task"', html).group(1).replace("&amp;", "&")
    form = login(org.west_head).get(link)
    assert form.status_code == 200 and form.context["count"] == 2
    shared = save(org.admin, {"lifecycle": ["declining"]}, name="衰退", visibility="shared")
    assert 'data-testid="segment-task"' not in login(org.rm_west).get(f"{LIST}{shared.pk}/").content.decode()


def test_in_the_customers_menu(org, login):
    for who in ("rm_west", "west_head", "admin"):
        assert f'href="{LIST}"' in login(getattr(org, who)).get(CUSTOMERS).content.decode()
    assert f'href="{LIST}"' not in login(org.west_officer).get(CUSTOMERS).content.decode()


def test_the_empty_page_says_what_to_do(org, login):
    html = login(org.rm_west).get(LIST).content.decode()
    assert 'data-empty="segments"' in html and f'href="{CUSTOMERS}"' in html


# The pages' queries, whatever the number of segments: session, user, staff (middleware); the segments' capped count
# and page; the bell's unread count; the session's save (savepoint, update, release).
LIST_QUERIES = 9
# The count over htmx: session, user, staff; the segment; the filter's records (here the tier); the head's branches;
# the count; the session's save.
COUNT_QUERIES = 10


@pytest.mark.parametrize("who", ["rm_west", "west_head"])
def test_the_segments_page_costs_the_same_whatever_the_segments(org, crowd, login, django_assert_num_queries, who):
    staff = getattr(org, who)
    client = login(staff)
    save(staff, wealth_declining(), name="一")
    client.get(LIST)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(LIST).status_code == 200
    for i in range(12):
        save(staff, {"lifecycle": ["declining"], "aum_min": [str(i)]}, name=f"第{i}个", visibility="shared")
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(LIST).status_code == 200


def test_the_count_fragment_and_the_list_opened_from_a_segment_are_pinned(org, crowd, login, django_assert_num_queries):
    segment = save(org.west_head, wealth_declining(), name="财富衰退")
    client = login(org.west_head)
    url = f"{LIST}{segment.pk}/"
    client.get(url)
    with django_assert_num_queries(COUNT_QUERIES):
        client.get(url, headers={"HX-Request": "true"})
    filtered = {"segment": wealth().pk, "lifecycle": "declining"}
    with CaptureQueriesContext(connection) as plain:
        client.get(CUSTOMERS, filtered)
    with django_assert_num_queries(len(plain) + 1):  # + the segment the list was opened from (its banner)
        client.get(CUSTOMERS, {**filtered, "saved": segment.pk})


# The pages, whole requests as the test client counts them (the session's save included); those benchmarked
# (bench/pages.py) are pinned two fewer in bench/pins.toml.
PINS = {
    "segments (rm)": 9,
    "segments (head)": 9,
    "segment count (head)": 11,  # the segment, its tier, the head's branches, the count
    "segment count (rm)": 10,  # the segment, the RM's secondary customers and kept pools, the count
    "segment as a list (head)": 15,  # the customer list filtered alike (14), + the segment of the banner
    "segment as a list (rm)": 12,
    "segment save form (head)": 7,  # no query of its own: the filter names no record
    "segment edit form": 8,  # the segment
    "segment delete form": 8,
}


def test_the_benchmarked_pages_are_pinned(org, crowd, login):
    head = save(org.west_head, wealth_declining(), name="财富客户 衰退期", visibility="shared")
    rm = save(org.rm_west, {"lifecycle": ["declining"], "sort": ["last_contacted_at"]}, name="衰退期客户 久未联系优先")
    tier = wealth().pk
    pages = {
        "segments (rm)": (org.rm_west, LIST),
        "segments (head)": (org.west_head, LIST),
        "segment count (head)": (org.west_head, f"{LIST}{head.pk}/"),
        "segment count (rm)": (org.rm_west, f"{LIST}{rm.pk}/"),
        "segment as a list (head)": (org.west_head, f"{CUSTOMERS}?segment={tier}&lifecycle=declining&saved={head.pk}"),
        "segment as a list (rm)": (
            org.rm_west,
            f"{CUSTOMERS}?lifecycle=declining&sort=last_contacted_at&saved={rm.pk}",
        ),
        "segment save form (head)": (org.west_head, f"{LIST}new/?lifecycle=declining"),
        "segment edit form": (org.rm_west, f"{LIST}{rm.pk}/edit/"),
        "segment delete form": (org.rm_west, f"{LIST}{rm.pk}/delete/"),
    }
    counts = {}
    for name, (staff, url) in pages.items():
        client = login(staff)
        client.get(url)  # the session's first save
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, name
        counts[name] = len(ctx)
    assert counts == PINS
