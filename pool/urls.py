from django.urls import path

from . import views

app_name = "pool"

urlpatterns = [
    # Release
    path("pool/releases/", views.ReleaseListView.as_view(), name="release-list"),
    path("pool/releases/decide/", views.ReleaseDecideView.as_view(), name="release-decide"),
    path("pool/releases/propose/", views.ReleaseProposeView.as_view(), name="release-propose"),
]
