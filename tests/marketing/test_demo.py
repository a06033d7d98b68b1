"""The demo's segments: saved through the service for the first sub-branch's head, two RMs of one outlet, the head
of the 分行 and the administrator; only filters the customer list has; once."""

import pytest

from customers.forms import CustomerFilterForm
from demo.marketing import SEGMENTS, seed_segments
from marketing.models import SavedSegment
from marketing.segments import segment_filter
from marketing.selectors import segments_visible_to

pytestmark = pytest.mark.django_db


def test_the_demo_saves_a_few_segments_once(org, rm_west_b):
    offered = [s for s in SEGMENTS if set(s[4]) <= set(CustomerFilterForm.base_fields)]
    assert seed_segments() == len(offered) >= 8
    assert seed_segments() == 0 and SavedSegment.objects.count() == len(offered)
    owners = dict(SavedSegment.objects.values_list("name", "owner__user__username"))
    assert owners["财富客户 衰退期"] == "west_head" and owners["进取型客户（C4）"] == "rm_west"
    assert owners["潜力客户 稳健型"] == "rm_west_b" and owners["全行私行客户"] == "top_head"
    for segment in SavedSegment.objects.select_related("owner"):
        read = segment_filter(segment, segment.owner)
        assert read.narrows and not read.dropped, segment.name
        assert segment.criteria_text
    # rm_west's shared segment reaches the other RM of the outlet; the private one does not.
    seen = set(segments_visible_to(rm_west_b).values_list("name", flat=True))
    assert {"进取型客户（C4）", "财富客户 衰退期", "全行私行客户", "流失客户（挽回）"} <= seen
    assert "高净值客户（50万以上）" not in seen
