from django.urls import path

from xueji.org import views

urlpatterns = [
    path("", views.OrgHomeView.as_view(), name="org-home"),
    path("school/edit/", views.SchoolEditView.as_view(), name="org-school-edit"),
    path("colleges/new/", views.CollegeCreateView.as_view(), name="org-college-create"),
    path("colleges/<int:pk>/", views.CollegeDetailView.as_view(), name="org-college-detail"),
    path("colleges/<int:pk>/edit/", views.CollegeEditView.as_view(), name="org-college-edit"),
    path("majors/", views.MajorListView.as_view(), name="org-major-list"),
    path("majors/new/", views.MajorCreateView.as_view(), name="org-major-create"),
    path("majors/<int:pk>/edit/", views.MajorEditView.as_view(), name="org-major-edit"),
    path(
        "majors/catalogue-lookup/",
        views.MajorCatalogueLookupView.as_view(),
        name="org-major-catalogue-lookup",
    ),
    path("classes/", views.ClassListView.as_view(), name="org-class-list"),
    path("classes/new/", views.ClassCreateView.as_view(), name="org-class-create"),
    path("classes/<int:pk>/edit/", views.ClassEditView.as_view(), name="org-class-edit"),
    path("cohorts/new/", views.CohortCreateView.as_view(), name="org-cohort-create"),
    path(
        "academic-years/new/",
        views.AcademicYearCreateView.as_view(),
        name="org-academic-year-create",
    ),
    path("codes/", views.CodeTableListView.as_view(), name="code-table-list"),
    path("codes/mappings/", views.CodeMappingListView.as_view(), name="code-mapping-list"),
    path("codes/<str:table>/", views.CodeTableDetailView.as_view(), name="code-table-detail"),
]
