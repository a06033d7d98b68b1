"""The navigation bar by role, in zh-hans: each role's bar lists exactly the pages the role may open (a role x link
matrix, checked against the pages themselves), its most frequent page is a link of its own, the other pages sit in
the menus, the current page and its menu are marked, and the user menu holds the password change and the sign-out."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from crm_site.navigation import NAV_ITEMS

pytestmark = pytest.mark.django_db

# Every page the bar can offer, and its label in zh-hans.
LABELS = {
    "relationships:my-customers": "我的客户",
    "customers:customer-list": "客户列表",
    "pool:pool-list": "客户池",
    "marketing:segment-list": "客群",
    "reminders:today": "今日工作",
    "relationships:my-visits": "我的拜访",
    "worktasks:task-list": "任务",
    "opportunities:my-pipeline": "我的商机",
    "opportunities:pipeline": "商机",
    "complaints:complaint-list": "投诉",
    "relationships:approvals": "待我审批",
    "pool:release-list": "客户释放审批",
    "relationships:reassignment-list": "管户调整",
    "relationships:handover-list": "离职交接",
    "dashboards:dashboard-hq": "总行看板",
    "dashboards:dashboard": "经营看板",
    "dashboards:my-performance": "我的绩效",
    "complaints:statistics": "投诉统计",
    "targets:target-list": "指标",
    "organisation:branch-tree": "机构与人员",
    "feed:load-list": "数据加载",
    "admin:index": "管理后台",
}

# role (org fixture attribute) -> the bar: its links and menus in order; a menu as (label, [pages]).
BARS = {
    "rm_west": [
        "reminders:today",
        ("客户", ["relationships:my-customers", "customers:customer-list", "pool:pool-list",
                  "marketing:segment-list"]),
        ("工作", ["relationships:my-visits", "worktasks:task-list", "opportunities:my-pipeline",
                  "complaints:complaint-list", "pool:release-list", "relationships:reassignment-list"]),
        "dashboards:my-performance",
    ],
    "west_head": [
        "dashboards:dashboard",
        ("客户", ["customers:customer-list", "pool:pool-list", "marketing:segment-list"]),
        ("工作", ["reminders:today", "worktasks:task-list", "opportunities:pipeline", "complaints:complaint-list",
                  "relationships:approvals", "pool:release-list", "relationships:reassignment-list",
                  "relationships:handover-list"]),
        ("报表", ["complaints:statistics", "targets:target-list"]),
        "organisation:branch-tree",
    ],
    "west_officer": [
        "complaints:complaint-list",
        "customers:customer-list",
        "relationships:reassignment-list",
        "complaints:statistics",
    ],
    "admin": [
        "dashboards:dashboard-hq",
        ("客户", ["customers:customer-list", "pool:pool-list", "marketing:segment-list"]),
        ("工作", ["reminders:today", "worktasks:task-list", "opportunities:pipeline", "complaints:complaint-list",
                  "relationships:approvals", "pool:release-list", "relationships:reassignment-list",
                  "relationships:handover-list"]),
        ("报表", ["dashboards:dashboard", "complaints:statistics", "targets:target-list"]),
        ("管理", ["organisation:branch-tree", "feed:load-list", "admin:index"]),
    ],
}  # fmt: skip
BARS["top_head"] = BARS["east_head"] = BARS["west_head"]  # every head level has the same bar


class _Bar(HTMLParser):
    """Reads the bar (``data-testid=main-nav``): its top-level entries, each a link's URL or a menu as (label,
    [its links' URLs]), with the attributes of each link and menu toggle."""

    VOID = {"br", "hr", "img", "input", "link", "meta"}

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside the bar's <ul>: 1 = its own level
        self.entries, self.links = [], []
        self.entry = None
        self.in_toggle = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.VOID:
            return
        if not self.depth:
            self.depth = 1 if attrs.get("data-testid") == "main-nav" else 0
            return
        self.depth += 1
        if tag == "li" and self.depth == 2:
            self.entry = {"menu": "nav-menu-" in (attrs.get("data-testid") or ""), "label": "", "urls": []}
            self.entries.append(self.entry)
        elif tag == "a" and self.entry is not None:
            self.links.append(attrs)
            if "dropdown-toggle" in attrs.get("class", ""):
                self.in_toggle = True
            else:
                self.entry["urls"].append(attrs["href"])

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1
            if tag == "a":
                self.in_toggle = False

    def handle_data(self, data):
        if self.in_toggle:
            self.entry["label"] += data.strip()

    def bar(self) -> list:
        return [(e["label"], e["urls"]) if e["menu"] else e["urls"][0] for e in self.entries]


def read_bar(html: str) -> _Bar:
    parser = _Bar()
    parser.feed(html)
    assert parser.entries, "no navigation bar on the page"
    return parser


def nav_html(html: str) -> str:
    return html[html.index('data-testid="main-nav"') : html.index("</nav>")]


def urls(bar: list) -> list:
    return [reverse(e) if isinstance(e, str) else (e[0], [reverse(n) for n in e[1]]) for e in bar]


def test_the_list_of_pages_above_is_every_page_the_bar_offers():
    assert set(LABELS) == {item.url_name for item in NAV_ITEMS}


@pytest.mark.parametrize("who", list(BARS))
def test_each_roles_bar_lists_exactly_the_pages_it_may_open(org, login, who):
    client = login(getattr(org, who))
    page = client.get(reverse("home"), follow=True)
    html = page.content.decode()
    nav = nav_html(html)
    assert read_bar(html).bar() == urls(BARS[who])
    shown = {n for e in BARS[who] for n in ([e] if isinstance(e, str) else e[1])}
    for url_name, label in LABELS.items():
        url = reverse(url_name)
        opens = client.get(url).status_code == 200
        assert (f'href="{url}"' in nav) == opens == (url_name in shown), (who, url_name)
        if url_name in shown:
            assert label in nav, (who, url_name, label)


def test_a_page_in_a_menu_marks_itself_and_its_menu(org, login):
    client = login(org.west_head)
    links = read_bar(client.get(reverse("relationships:approvals")).content.decode()).links
    current = [a for a in links if a.get("aria-current")]
    assert [(a.get("href"), a["aria-current"]) for a in current] == [
        ("#", "true"),
        (reverse("relationships:approvals"), "page"),
    ]
    assert all("active" in a["class"].split() for a in current)
    assert not any("active" in a["class"].split() for a in links if a not in current)


def test_a_page_of_its_own_in_the_bar_is_marked_and_no_menu_is(org, login):
    client = login(org.west_head)
    links = read_bar(client.get(reverse("dashboards:dashboard")).content.decode()).links
    assert [a["href"] for a in links if a.get("aria-current")] == [reverse("dashboards:dashboard")]
    assert [a["href"] for a in links if "active" in a["class"].split()] == [reverse("dashboards:dashboard")]


@pytest.mark.parametrize("who", ["rm_west", "west_head", "west_officer", "admin"])
def test_the_user_menu_names_the_user_and_holds_the_password_change_and_the_sign_out(org, login, who):
    staff = getattr(org, who)
    html = login(staff).get(reverse("notifications:notification-list")).content.decode()
    menu = html[html.index('data-testid="user-menu"') : html.index("</nav>")]
    header = menu[menu.index('data-testid="current-staff"') :].split("</span>")[0]
    assert staff.name in header and str(staff.role_title) in header and staff.branch.name in header
    assert f'title="{staff.name} · {staff.role_title} · {staff.branch.name}"' in menu
    assert "修改密码" in menu and f'href="{reverse("password_change")}"' in menu
    sign_out = re.search(
        r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrfmiddlewaretoken"', menu
    )
    assert sign_out and sign_out.group(1) == reverse("logout") and "退出" in menu
    assert 'data-testid="language-switch"' in menu  # the language switch is in the user menu
    assert 'data-testid="bell"' in html[: html.index('data-testid="user-menu"')]  # the bell beside it
    assert "{# header search #}" not in html  # the place kept for the header search renders nothing


def test_the_brand_is_the_logo_and_the_product_name(org, login):
    html = login(org.rm_west).get(reverse("reminders:today")).content.decode()
    brand = re.search(r'<a class="navbar-brand[^"]*" href="/" data-testid="brand">(.*?)</a>', html, re.S).group(1)
    assert "img/logo" in brand and ".svg" in brand and "网点 CRM" in brand
