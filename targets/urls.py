from django.urls import path

from . import views

app_name = "targets"

urlpatterns = [
    path("", views.TargetListView.as_view(), name="target-list"),
    path("mine/", views.MyTargetsView.as_view(), name="my-targets"),
    path("set/", views.TargetSetView.as_view(), name="target-set"),
    path("<int:pk>/distribute/", views.TargetDistributeView.as_view(), name="target-distribute"),
    path("export.xlsx", views.TargetExportView.as_view(), name="target-export"),
]
