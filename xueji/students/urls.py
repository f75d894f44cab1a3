from django.urls import include, path

from xueji.students import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("students/", views.StudentListView.as_view(), name="student-list"),
    path(
        "students/<str:student_number>/",
        views.StudentDetailView.as_view(),
        name="student-detail",
    ),
    path(
        "students/<str:student_number>/edit/",
        views.StudentEditView.as_view(),
        name="student-edit",
    ),
    path(
        "students/<str:student_number>/photo/",
        views.StudentPhotoView.as_view(),
        name="student-photo",
    ),
    path(
        "students/<str:student_number>/reveal-id/",
        views.StudentRevealIdView.as_view(),
        name="student-reveal-id",
    ),
    path("graduation/", include("xueji.students.diploma_urls")),
    path("me/", views.MyRecordView.as_view(), name="my-record"),
    path("me/parents/", views.MyParentsView.as_view(), name="my-parents"),
    path(
        "me/parents/<int:pk>/consent/",
        views.MyParentConsentView.as_view(),
        name="my-parent-consent",
    ),
]
