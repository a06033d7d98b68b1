from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/hq/", views.HqDashboardView.as_view(), name="dashboard-hq"),
    path("dashboard/records/", views.DashboardRecordsView.as_view(), name="dashboard-records"),
    path("dashboard/export.xlsx", views.DashboardExportView.as_view(), name="dashboard-export"),
    path("performance/", views.MyPerformanceView.as_view(), name="my-performance"),
    path("performance/<int:pk>/", views.RmPerformanceView.as_view(), name="rm-performance"),
]
