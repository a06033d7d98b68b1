from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer-list"),
    path("search/", views.CustomerSearchView.as_view(), name="customer-search"),
    path("export.xlsx", views.CustomerExportView.as_view(), name="customer-export"),
    path("new/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("<int:pk>/reveal/", views.CustomerRevealView.as_view(), name="customer-reveal"),
]
