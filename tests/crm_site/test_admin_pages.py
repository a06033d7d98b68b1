"""Every Django admin changelist and add page opens for an administrator."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_pages_open(client, org, model):
    client.force_login(org.admin.user)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    model_admin = admin.site._registry[model]
    request = changelist.wsgi_request
    if model_admin.has_add_permission(request):
        add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code == 200


def test_changelist_search_and_filters_work(client, org):
    client.force_login(org.admin.user)
    response = client.get(reverse("admin:organisation_staff_changelist"), {"q": "rm_west", "role__exact": "rm"})
    assert response.status_code == 200
    body = response.content.decode()
    assert org.rm_west.name in body and org.rm_east.name not in body


def test_non_admin_staff_cannot_open_admin(client, org):
    client.force_login(org.west_head.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_admin_creates_staff_through_the_service(client, org):
    client.force_login(org.admin.user)
    response = client.post(
        reverse("admin:organisation_staff_add"),
        {
            "username": "new_rm",
            "email": "",
            "password": "Fresh-password-2026",
            "employee_no": "E900001",
            "name": "新客户经理",
            "branch": org.west_outlet.pk,
            "role": "rm",
            "joined_on": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from organisation.models import Staff

    staff = Staff.objects.get(employee_no="E900001")
    assert staff.user.username == "new_rm" and staff.user.check_password("Fresh-password-2026")
    assert staff.history.first().history_user == org.admin.user


def test_admin_refuses_a_branch_level_out_of_order_with_a_form_error(client, org):
    client.force_login(org.admin.user)
    response = client.post(
        reverse("admin:organisation_branch_add"),
        {"code": "999", "name": "错层网点", "level": "outlet", "parent": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "只有分行" in response.content.decode()
