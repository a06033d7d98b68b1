"""The zh-hans catalogue is complete: every message has a translation, and the compiled file is current."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_compiled_catalogue_matches_the_source():
    compiled = polib.mofile(str(MO))
    source = {e.msgid: e.msgstr for e in polib.pofile(str(PO)).translated_entries() if not e.msgid_plural}
    compiled_map = {e.msgid: e.msgstr for e in compiled if not e.msgid_plural}
    assert source == {k: v for k, v in compiled_map.items() if k}


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
