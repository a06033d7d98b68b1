from django.urls import path

from . import views

app_name = "worktasks"

urlpatterns = [
    path("tasks/", views.TaskListView.as_view(), name="task-list"),
    path("tasks/new/", views.TaskCreateView.as_view(), name="task-create"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<int:pk>/cancel/", views.TaskCancelView.as_view(), name="task-cancel"),
    path("tasks/lines/<int:pk>/complete/", views.TaskLineCompleteView.as_view(), name="line-complete"),
]
