from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("segments/", views.SegmentListView.as_view(), name="segment-list"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="segment-create"),
    path("segments/<int:pk>/", views.SegmentDetailView.as_view(), name="segment-detail"),
    path("segments/<int:pk>/list/", views.SegmentOpenView.as_view(), name="segment-open"),
    path("segments/<int:pk>/edit/", views.SegmentUpdateView.as_view(), name="segment-update"),
    path("segments/<int:pk>/delete/", views.SegmentDeleteView.as_view(), name="segment-delete"),
]
