from django.urls import path

from . import views

app_name = "pool"

urlpatterns = [
    path("", views.PoolListView.as_view(), name="pool-list"),
    path("claim/", views.PoolClaimView.as_view(), name="pool-claim"),
    path("assign/", views.PoolAssignView.as_view(), name="pool-assign"),
    path("keeper/", views.PoolKeeperSetView.as_view(), name="pool-keeper"),
    # Release
    path("releases/", views.ReleaseListView.as_view(), name="release-list"),
    path("releases/decide/", views.ReleaseDecideView.as_view(), name="release-decide"),
    path("releases/propose/", views.ReleaseProposeView.as_view(), name="release-propose"),
]
