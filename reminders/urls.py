from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("today/", views.TodayView.as_view(), name="today"),
    path("follow-ups/<int:pk>/<str:action>/", views.FollowUpActionView.as_view(), name="follow-up-action"),
]
