from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import render
from django.urls import resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


SIGNED_IN_AT = "signed_in_at"  # session key: the sign-in time, in seconds since the epoch


def stamp_sign_in(request) -> None:
    """Called at sign-in (organisation.receivers): the session's clock starts now."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = int(timezone.now().timestamp())


class SessionLifetimeMiddleware:
    """An absolute session lifetime on top of the idle timeout (OWASP ASVS 3.3.2): a session signed in more than
    ``SESSION_ABSOLUTE_SECONDS`` ago (12 hours) is signed out, however active, with a message; the request goes on
    as an anonymous one, so ``LoginRequiredMiddleware`` sends it to sign in (and back afterwards). A signed-in
    session without a sign-in time cannot show its age and is signed out too. Placed after the messages
    middleware (its message needs the storage); the view-level checks run after it anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            limit = settings.SESSION_ABSOLUTE_SECONDS
            if not isinstance(started, int) or timezone.now().timestamp() - started > limit:
                logout(request)
                hours = max(1, round(limit / 3600))
                messages.warning(
                    request,
                    ngettext(
                        "You signed in more than %(hours)s hour ago. Please sign in again.",
                        "You signed in more than %(hours)s hours ago. Please sign in again.",
                        hours,
                    )
                    % {"hours": hours},
                )
        return self.get_response(request)
