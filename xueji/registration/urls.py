from django.urls import URLPattern, URLResolver, path

from xueji.registration import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.RegistrationHomeView.as_view(), name="registration-home"),
    path("self/", views.RegistrationSelfView.as_view(), name="registration-self"),
    path("progress/", views.RegistrationProgressView.as_view(), name="registration-progress"),
    path("list/", views.RegistrationListView.as_view(), name="registration-list"),
    path("<int:pk>/set/", views.RegistrationSetView.as_view(), name="registration-set"),
    path(
        "candidates/",
        views.RegistrationCandidatesView.as_view(),
        name="registration-candidates",
    ),
    path("open/", views.RegistrationOpenView.as_view(), name="registration-open"),
    path(
        "finance/<str:student_number>/",
        views.FinanceStatusEditView.as_view(),
        name="finance-status-edit",
    ),
]
