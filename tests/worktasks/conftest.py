import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _in_english(settings):
    """These tests read messages and pages in English (the msgids), whatever the catalogue holds."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
