"""Every list that can be empty says what the emptiness means and offers the next action, from one partial
(templates/partials/_empty.html)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# (what is empty, who looks, the page, a posted search or None, where the next action leads)
CASES = [
    ("today", "rm_west", "reminders:today", None, "relationships:my-customers"),
    ("my-customers", "rm_west", "relationships:my-customers", None, "customers:customer-list"),
    ("my-customers", "rm_west", "relationships:my-customers", {"q": "无此客户"}, "relationships:my-customers"),
    ("my-visits", "rm_west", "relationships:my-visits", None, "relationships:visit-plan-create"),
    ("notifications", "rm_west", "notifications:notification-list", None, "reminders:today"),
    ("approvals-reassignments", "west_head", "relationships:approvals", None, "relationships:reassignment-list"),
    ("approvals-handovers", "west_head", "relationships:approvals", None, "relationships:handover-list"),
    ("complaints", "west_officer", "complaints:complaint-list", None, "complaints:complaint-create"),
    ("customers", "west_head", "customers:customer-list", {"q": "无此客户"}, "customers:customer-list"),
    ("reassignments", "rm_west", "relationships:reassignment-list", None, "relationships:my-customers"),
    ("handovers", "west_head", "relationships:handover-list", None, "organisation:branch-tree"),
    ("loads", "admin", "feed:load-list", None, "feed:load-upload"),
    ("segments", "rm_west", "marketing:segment-list", None, "customers:customer-list"),
    ("opportunities", "rm_west", "opportunities:my-pipeline", None, "opportunities:opportunity-create"),
]


def empty_state(html: str, name: str) -> str:
    match = re.search(
        rf'<div class="empty-state[^"]*" data-testid="empty-state" data-empty="{name}">.*?</div>', html, re.S
    )
    assert match, f"no empty state {name!r} on the page"
    return match.group(0)


@pytest.mark.parametrize(("name", "who", "page", "search", "action"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_an_empty_list_says_what_to_do(org, login, name, who, page, search, action):
    client = login(getattr(org, who))
    url = reverse(page)
    response = client.post(url, search, follow=True) if search else client.get(url)
    assert response.status_code == 200
    state = empty_state(response.content.decode(), name)
    assert 'class="empty-state-icon"' in state and '<i class="bi bi-' in state
    text = re.search(r'<p class="empty-state-text">(.+?)</p>', state, re.S).group(1).strip()
    assert len(text) > 10  # one sentence of what it means
    href = re.search(r'<a class="btn[^"]*" href="([^"]+)" data-testid="empty-action">', state).group(1)
    assert href.split("?")[0] == reverse(action)


def test_a_list_with_rows_shows_no_empty_state(org, book, login):
    body = login(org.rm_west).get(reverse("relationships:my-customers")).content.decode()
    assert 'data-empty="my-customers"' not in body and book.west.name in body
