from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.ComplaintListView.as_view(), name="complaint-list"),
    path("new/", views.ComplaintCreateView.as_view(), name="complaint-create"),
    path("new/search/", views.IntakeCustomerSearchView.as_view(), name="intake-customer-search"),
    path("<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
    path("repeated-causes/", views.RepeatedCausesView.as_view(), name="repeated-causes"),
]
