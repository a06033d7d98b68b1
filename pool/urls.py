from django.urls import path

from . import views

app_name = "pool"

urlpatterns = [
    path("", views.PoolListView.as_view(), name="pool-list"),
    path("claim/", views.PoolClaimView.as_view(), name="pool-claim"),
    path("assign/", views.PoolAssignView.as_view(), name="pool-assign"),
    path("keeper/", views.PoolKeeperSetView.as_view(), name="pool-keeper"),
]
