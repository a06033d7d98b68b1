"""Fixtures for the feed: an inbox folder and a writer of contract files."""

from datetime import date

import pytest

from feed.writer import write_extract

DAY = date(2026, 11, 30)


@pytest.fixture
def inbox(tmp_path, settings):
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings.FEED_INBOX = folder
    return folder


@pytest.fixture
def write(inbox):
    """write(kind, rows, day=DAY, **options) -> path of the data file (with its control file)."""

    def _write(kind, rows, day=DAY, **options):
        return write_extract(inbox, kind, day, rows, **options)

    return _write
