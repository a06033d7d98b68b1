from django.urls import path

from . import views

app_name = "organisation"

urlpatterns = [
    path("org/", views.BranchTreeView.as_view(), name="branch-tree"),
]
