from django.urls import path

from . import views

app_name = "feed"

urlpatterns = [
    path("", views.LoadListView.as_view(), name="load-list"),
    path("upload/", views.LoadUploadView.as_view(), name="load-upload"),
    path("<int:pk>/", views.LoadDetailView.as_view(), name="load-detail"),
    path("<int:pk>/progress/", views.LoadProgressView.as_view(), name="load-progress"),
    path("<int:pk>/report.xlsx", views.LoadReportView.as_view(), name="load-report"),
    path("conflicts/", views.ConflictListView.as_view(), name="conflict-list"),
    path("conflicts/<int:pk>/resolve/", views.ConflictResolveView.as_view(), name="conflict-resolve"),
]
