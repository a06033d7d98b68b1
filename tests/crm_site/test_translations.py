"""The zh-hans catalogues are complete: every message has a translation and the compiled files are current
(the project's locale/, and locale_vendor/ with the third-party packages' missing messages); and Django admin,
walked page by page in zh-hans, shows no English (below)."""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
VENDOR = sorted((ROOT / "locale_vendor" / "zh_Hans" / "LC_MESSAGES").glob("*.po"))


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_compiled_catalogue_matches_the_source():
    compiled = polib.mofile(str(MO))
    # Keyed by context and message: the same words in another context (pgettext) are another message.
    source = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(PO)).translated_entries() if not e.msgid_plural}
    compiled_map = {(e.msgctxt, e.msgid): e.msgstr for e in compiled if not e.msgid_plural}
    assert source == {k: v for k, v in compiled_map.items() if k[1]}


@pytest.mark.parametrize("po", VENDOR, ids=lambda p: p.name)
def test_the_vendor_catalogues_are_translated_and_compiled(po):
    source = polib.pofile(str(po))
    assert not source.untranslated_entries() and not source.fuzzy_entries()
    compiled = {e.msgid: e.msgstr or e.msgstr_plural for e in polib.mofile(str(po.with_suffix(".mo"))) if e.msgid}
    assert compiled == {e.msgid: e.msgstr or e.msgstr_plural for e in source.translated_entries()}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed (CI installs it)")
def test_the_catalogue_has_every_message_in_the_code(tmp_path):
    """Regenerate the catalogue into a copy of the tree and compare the message ids."""
    work = tmp_path / "src"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".git", "node_modules", "*.pyc", "bench", "test-artifacts", ".pytest_cache", ".ruff_cache"
        ),
    )
    env = {"DEBUG": "1", "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "CRM_VAR_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale=zh_Hans", "--no-obsolete", "--ignore=tests/*"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = {e.msgid for e in polib.pofile(str(work / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO))}
    assert fresh - committed == set(), "run `make messages` and translate the new messages"


# Django admin in zh-hans has no English left. Every admin page (the index, each app's index, each model's
# changelist, its add page and one change page) is walked as a superuser, and every visible text node and the
# attributes a user reads (title, aria-label, placeholder, a button's value) must be Chinese, apart from:
#
# - ``ALLOWED``: product names, units and codes that stay English in Chinese text;
# - the records' own data (usernames, e-mail addresses, Celery task paths, the English names of the complaint
#   classifications, …): the words of the text values stored in the rows the pages show;
# - the options of a select, which are records or reference lists (time zones, registered Celery tasks).
#
# The admin's JavaScript catalogue (/admin/jsi18n/, the filter_horizontal widget's strings) is checked the same way.
# A finding is fixed in the project's catalogue (our own messages) or in locale_vendor/ (third-party ones).


ALLOWED = {
    "Django",  # the framework's name (Django 管理)
    "CRM",
    "AUM",  # assets under management, as bank staff say it
    "RM",
    "ID",
    "IP",
    "URL",
    "JSON",
    "AMQP",
    "RabbitMQ",
    "Redis",
    "LDAP",
    "SHA",
    "HTTP",
    "Accept",  # the HTTP header's name
    "GET",
    "POST",
    "Celery",
    "Mac",
    "Control",
    "Command",  # the keys on the keyboard (按住 Control 键或 Mac 上的 Command 键)
    "None",
    "True",
    "False",  # Python values named in django-celery-beat's help texts
    "Asia",
    "Shanghai",  # the time zone's name
    "UTC",
    "dM",
    "MY",  # a crontab's field codes (m/h/dM/MY/d)
    "PROD",
    "CUST",
    "CONS",
    "HOLD",
    "TXN",
    "BAL",  # the core-banking extracts' file codes
    "arg",
    "argument",
    "value",
    "proj",
    "tasks",
    "import",
    "contacts",
    "all",  # the literal examples in django-celery-beat's help texts
}
WORD = re.compile(r"[A-Za-z]{2,}")
ATTRIBUTES = ("title", "aria-label", "placeholder")


class _Text(HTMLParser):
    SKIP = {"script", "style", "textarea", "option"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip, self.texts = 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self.skip += 1
        for name in ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag in ("input", "button") and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.texts.append(data.strip())


MASKED = re.compile(r"\S*\*{4,}\S*")  # a masked value (a password hash's salt, an identifier): data, not words


def english(texts, data_words):
    return [t for t in texts if any(w not in ALLOWED and w not in data_words for w in WORD.findall(MASKED.sub("", t)))]


def data_words() -> set[str]:
    """The words of every text value stored in the rows of the registered models (a test database's handful)."""
    words = set()
    for model in apps.get_models():
        text_fields = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
        ]
        if not text_fields:
            continue
        for row in model._default_manager.values_list(*text_fields)[:200]:
            for value in row:
                words.update(WORD.findall(value or ""))
    return words


def admin_pages(request):
    pages = [reverse("admin:index")]
    pages += [
        reverse("admin:app_list", args=[app]) for app in sorted({m._meta.app_label for m in admin.site._registry})
    ]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{prefix}_change", args=[first.pk]))
    return pages


@pytest.fixture
def superuser(client, org, book):
    client.force_login(org.admin.user)
    client.post(reverse("admin:logout"))  # an axes access log with a logout time
    client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})  # an axes attempt and failure
    client.force_login(org.admin.user)
    return client


@pytest.mark.django_db
def test_every_admin_page_reads_in_chinese(superuser):
    request = superuser.get(reverse("admin:index")).wsgi_request
    allowed_data = data_words()
    first_seen = {}
    for url in admin_pages(request):
        response = superuser.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        parser = _Text()
        parser.feed(response.content.decode())
        for text in english(parser.texts, allowed_data):
            first_seen.setdefault(" ".join(text.split()), url)
    report = "\n".join(f"{text!r}  (on {url})" for text, url in sorted(first_seen.items()))
    assert not first_seen, "English in the zh-hans admin:\n" + report


@pytest.mark.django_db
def test_the_admin_javascript_catalogue_is_served_in_chinese(superuser):
    """The filter_horizontal widget (staff's tags, a group's permissions) builds its buttons from /admin/jsi18n/."""
    response = superuser.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", body, re.S).group(1))
    for message in (
        "Choose all %s",
        "Remove all %s",
        "Choose selected %s",
        "Remove selected %s",
        "Filter",
        "Chosen %s",
    ):
        assert message in catalog, message
        assert not english([catalog[message]], set()), (message, catalog[message])


@pytest.mark.django_db
def test_the_widget_of_a_page_in_use_finds_its_strings(superuser):
    """The tags selector on a customer's admin page is a filter_horizontal: its page loads the catalogue."""
    page = superuser.get(reverse("admin:auth_group_add"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'class="selectfilter"' in page or "SelectFilter2.js" in page
    assert reverse("admin:jsi18n") in page
