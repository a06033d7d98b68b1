from django.shortcuts import render
from django.urls import resolve
from django.utils.translation import gettext as _

from .models import Staff

# Pages a signed-in user may reach without an active Staff record.
EXEMPT_URL_NAMES = {"login", "logout", "set_language", "password_change", "password_change_done"}


class ActiveStaffMiddleware:
    """Loads the signed-in user's Staff record once per request and keeps everyone without an active one
    out of the staff pages with a clear message. Django admin has its own permission checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        staff = Staff.objects.select_related("branch").filter(user_id=user.pk).first()
        if staff is not None:
            user.staff = staff  # caches the reverse one-to-one: no further query in this request
        match = request.resolver_match or resolve(request.path_info)
        if "admin" in match.namespaces or match.url_name in EXEMPT_URL_NAMES:
            return None
        if not getattr(view_func, "login_required", True):
            return None
        if staff is None:
            message = _("Your account is not linked to a staff record. Please ask an administrator to set it up.")
        elif not staff.is_active_staff:
            message = _("Your staff account has been closed because you have left. Please contact an administrator.")
        else:
            return None
        return render(request, "registration/no_staff.html", {"message": message}, status=403)
