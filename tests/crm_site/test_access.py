"""Sign-in, the login requirement on every page, the lockout, and staff without an active record."""

import pytest
from django.urls import reverse

from organisation import services as org_services
from organisation.models import Staff
from tests.factories import TEST_PASSWORD, StaffFactory
from tests.urlwalk import all_urls

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "set_language"}


def public_or_admin(name: str) -> bool:
    return name in PUBLIC or name.startswith("admin:")


@pytest.mark.parametrize(
    ("path", "name"), [(p, n) for p, n, _ in all_urls() if not public_or_admin(n)], ids=lambda v: str(v)
)
def test_every_page_needs_a_signed_in_user(client, path, name):
    response = client.get(path)
    assert response.status_code == 302, (path, response.status_code)
    assert response.url.startswith(reverse("login") + "?next=")


def test_the_url_walk_covers_the_pages(client):
    names = {n for _, n, _ in all_urls()}
    assert {"home", "organisation:branch-tree", "login", "logout", "password_change"} <= names


def test_admin_needs_a_signed_in_administrator(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_login_page_is_in_chinese_and_signs_in(client, org):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    response = client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    home = client.get(reverse("home"), follow=True)  # an RM's home is Today
    assert home.status_code == 200 and org.rm_west.name in home.content.decode()


def test_wrong_password_is_a_clear_form_error(client, org):
    response = client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码错误，还可尝试" in response.content.decode()  # and how many tries remain


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not affected (outlets share one NAT address).
    other = client.post(reverse("login"), {"username": "rm_east", "password": TEST_PASSWORD})
    assert other.status_code == 302


def test_lockout_ends_after_the_cool_off(client, org, settings):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})
        assert client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD}).status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 60)
        assert client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD}).status_code == 302


def test_a_user_without_a_staff_record_gets_a_clear_message(client, django_user_model):
    user = django_user_model.objects.create_user("nostaff", password=TEST_PASSWORD)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "没有关联员工档案" in response.content.decode()


def test_a_leaver_cannot_sign_in_nor_use_an_open_session(client, org):
    client.force_login(org.rm_west.user)
    org_services.staff_mark_left(actor=org.west_head.user, staff=org.rm_west)
    response = client.get(reverse("home"))
    # The session's user is now inactive: the authentication backend no longer loads it, so the request is
    # anonymous and is sent to the sign-in page.
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('home')}"
    client.logout()
    response = client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_left_staff_with_an_active_user_is_refused_with_a_message(client, org):
    staff = StaffFactory(username="left_but_active", branch=org.west_outlet, role=Staff.Role.RM)
    Staff.objects.filter(pk=staff.pk).update(status=Staff.Status.LEFT, left_on="2026-01-01")
    client.force_login(staff.user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "离职" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client, org):
    client.force_login(org.rm_west.user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change_page_works(client, org):
    client.force_login(org.rm_west.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "N3w-password-2026", "new_password2": "N3w-password-2026"},
    )
    assert response.status_code == 302
    org.rm_west.user.refresh_from_db()
    assert org.rm_west.user.check_password("N3w-password-2026")


def test_language_switch_changes_the_page_language(client, org):
    client.force_login(org.rm_west.user)
    assert "退出" in client.get(reverse("home"), follow=True).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Sign out" in client.get(reverse("home"), follow=True).content.decode()


def test_friendly_404_page(client, org, settings):
    client.force_login(org.rm_west.user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
