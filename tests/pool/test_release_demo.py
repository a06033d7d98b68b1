"""The demo's release proposals: a few, made by the recycle job itself, and only once."""

import pytest

from demo.recycle import seed_recycle
from pool.models import ReleaseRequest

pytestmark = pytest.mark.django_db


def test_the_demo_opens_a_few_proposals_once(org, book):
    made = seed_recycle()
    assert made >= 1 and ReleaseRequest.objects.filter(status="proposed").count() == made
    assert ReleaseRequest.objects.filter(proposed_by__isnull=True, reason="missed_policy").count() == made
    assert seed_recycle() == 0 and ReleaseRequest.objects.count() == made
