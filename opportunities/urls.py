from django.urls import path

from . import views

app_name = "opportunities"

urlpatterns = [
    path("", views.MyPipelineView.as_view(), name="my-pipeline"),
    path("branch/", views.PipelineView.as_view(), name="pipeline"),
    path("export.xlsx", views.PipelineExportView.as_view(), name="pipeline-export"),
    path("new/", views.OpportunityCreateView.as_view(), name="opportunity-create"),
    path("new/search/", views.OpportunityCustomerSearchView.as_view(), name="customer-search"),
    path("<int:pk>/", views.OpportunityDetailView.as_view(), name="opportunity-detail"),
]
