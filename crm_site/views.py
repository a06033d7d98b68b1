"""The project's own pages: each role's home."""

from django.shortcuts import redirect
from django.views.generic import TemplateView

from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin


class HomeView(RoleRequiredMixin, TemplateView):
    """Each role's home: Today for RMs, the dashboard for branch heads, the HQ dashboard for admins, the complaint
    list (overdue and due-soon counts first) for complaints officers."""

    template_name = "home.html"
    HOMES = {
        Staff.Role.RM: "reminders:today",
        Staff.Role.HEAD: "dashboards:dashboard",
        Staff.Role.ADMIN: "dashboards:dashboard-hq",
        Staff.Role.OFFICER: "complaints:complaint-list",
    }

    def get(self, request, *args, **kwargs):
        home = self.HOMES.get(request.user.staff.role)
        if home:
            return redirect(home)
        return super().get(request, *args, **kwargs)
