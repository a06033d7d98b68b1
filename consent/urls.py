from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("<int:pk>/consent/", views.ConsentEditView.as_view(), name="consent-edit"),
    path("<int:pk>/consent/history/", views.ConsentHistoryView.as_view(), name="consent-history"),
    path("<int:pk>/consent/dnd/new/", views.DndWindowCreateView.as_view(), name="dnd-create"),
    path("<int:pk>/consent/dnd/<int:window_pk>/remove/", views.DndWindowRemoveView.as_view(), name="dnd-remove"),
]
