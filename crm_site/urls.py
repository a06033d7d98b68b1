from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from crm_site.views import HomeView
from organisation.forms import AdminSignInForm, SignInForm

admin.site.site_header = _("Branch CRM administration")
admin.site.site_title = _("Branch CRM")
admin.site.index_title = _("Administration")
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("organisation.urls")),
    path("", include("reminders.urls")),
    path("", include("dashboards.urls")),
    path("", include("notifications.urls")),
    path("", include("relationships.urls")),
    path("", include("worktasks.urls")),
    path("customers/", include("customers.urls")),
    path("customers/", include("consent.urls")),
    path("complaints/", include("complaints.urls")),
    path("pool/", include("pool.urls")),
    path("feed/", include("feed.urls")),
    path("targets/", include("targets.urls")),
    path("marketing/", include("marketing.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("admin/", admin.site.urls),
]

# An unhandled exception: 503 with Retry-After when the database, Redis or the broker is unreachable, else 500
# (crm_site/errors.py).
handler500 = "crm_site.errors.handler500"
