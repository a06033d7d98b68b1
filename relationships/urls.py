from django.urls import path

from . import views

app_name = "relationships"

urlpatterns = [
    path("my/customers/", views.MyCustomersView.as_view(), name="my-customers"),
    path("my/visits/", views.MyVisitsView.as_view(), name="my-visits"),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("customers/<int:pk>/interactions/new/", views.InteractionCreateView.as_view(), name="interaction-create"),
    path("customers/<int:pk>/timeline/", views.TimelineView.as_view(), name="customer-timeline"),
    path("customers/<int:pk>/ratings/new/", views.RatingCreateView.as_view(), name="rating-create"),
    path("customers/<int:pk>/secondary/", views.SecondaryAssignView.as_view(), name="secondary-assign"),
    path("interactions/<int:pk>/edit/", views.InteractionUpdateView.as_view(), name="interaction-update"),
    path("reassignments/", views.ReassignmentListView.as_view(), name="reassignment-list"),
    path("reassignments/new/", views.ReassignmentCreateView.as_view(), name="reassignment-create"),
    path("reassignments/<int:pk>/", views.ReassignmentDetailView.as_view(), name="reassignment-detail"),
    path("staff/<int:pk>/leaving/", views.StaffLeavingView.as_view(), name="staff-leaving"),
    path("handovers/", views.HandoverListView.as_view(), name="handover-list"),
    path("handovers/new/", views.HandoverCreateView.as_view(), name="handover-create"),
    path("handovers/<int:pk>/", views.HandoverDetailView.as_view(), name="handover-detail"),
    path("handovers/<int:pk>/report.xlsx", views.HandoverReportView.as_view(), name="handover-report"),
    path("visits/plans/new/", views.VisitPlanCreateView.as_view(), name="visit-plan-create"),
    path("visits/plans/<int:pk>/", views.VisitPlanDetailView.as_view(), name="visit-plan-detail"),
    path("visits/plans/<int:pk>/report/", views.VisitPlanReportView.as_view(), name="visit-plan-report"),
]
