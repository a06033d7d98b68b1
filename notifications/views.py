from django.shortcuts import redirect, render
from django.views import View

from crm_site.pagination import paginate
from organisation import access
from organisation.permissions import RoleRequiredMixin

from . import panels, services
from .models import Notification


class NotificationListView(RoleRequiredMixin, View):
    allowed_roles = access.EVERY_ROLE

    def get(self, request):
        notifications = Notification.objects.filter(recipient=request.user.staff).order_by("-created_at")
        page = paginate(notifications, request.GET.get("page"), 30)
        page.object_list = list(page.object_list)
        context = panels.notification_list.context(request, page.object_list)
        return render(request, "notifications/notifications.html", {"page_obj": page, **context})

    def post(self, request):
        services.notifications_mark_read(actor=request.user)
        return redirect("notifications:notification-list")
