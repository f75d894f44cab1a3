from django.urls import path

from xueji.jobs import views

urlpatterns = [
    path("", views.JobListView.as_view(), name="job-list"),
    path("<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("<int:pk>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("<int:pk>/rerun/", views.JobRerunView.as_view(), name="job-rerun"),
    path("<int:pk>/output/", views.JobOutputView.as_view(), name="job-output"),
]
