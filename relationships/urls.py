from django.urls import path

from . import views

app_name = "relationships"

urlpatterns = [
    path("org/", views.BranchTreeView.as_view(), name="branch-tree"),
]
