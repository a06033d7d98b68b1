"""Django admin for complaints: categories and causes are editable data; events are read-only; complaints are
shown with masked contact details and change only through the services."""

import pytest
from django.urls import reverse

from complaints.models import ComplaintCategory, ComplaintEvent

pytestmark = pytest.mark.django_db


def test_every_complaint_admin_page_opens(org, register, login):
    c = register(complainant_kind="agent", complainant_name="王代理", complainant_contact="13912345678",
                 authorisation="委托书")  # fmt: skip
    client = login(org.admin)
    for name, args in [
        ("complaints_complaint_changelist", []),
        ("complaints_complaint_change", [c.pk]),
        ("complaints_complaintevent_changelist", []),
        ("complaints_complaintevent_change", [c.events.first().pk]),
        ("complaints_complaintcategory_changelist", []),
        ("complaints_complaintcause_changelist", []),
    ]:
        response = client.get(reverse(f"admin:{name}", args=args))
        assert response.status_code == 200, name
        assert "13912345678" not in response.content.decode()
    assert "139****5678" in client.get(reverse("admin:complaints_complaint_change", args=[c.pk])).content.decode()


def test_events_are_read_only_in_admin(org, register, login):
    c = register()
    event = c.events.get()
    client = login(org.admin)
    assert client.get(reverse("admin:complaints_complaintevent_add")).status_code == 403
    client.post(reverse("admin:complaints_complaintevent_change", args=[event.pk]), {"text": "改写"})
    client.post(reverse("admin:complaints_complaintevent_delete", args=[event.pk]), {"post": "yes"})
    assert ComplaintEvent.objects.get(pk=event.pk).text == ""
    assert client.get(reverse("admin:complaints_complaint_add")).status_code == 403


def test_categories_are_editable_data(org, login):
    client = login(org.admin)
    response = client.post(
        reverse("admin:complaints_complaintcategory_add"),
        {"code": "10", "name": "个人金融信息", "name_en": "Personal financial information", "sort_order": 95,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert ComplaintCategory.objects.filter(code="10", name="个人金融信息").exists()
    assert ComplaintCategory.objects.count() == 10
