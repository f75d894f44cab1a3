from django.urls import path

from xueji.students import diploma_views as views

urlpatterns = [
    path("diplomas/", views.DiplomaListView.as_view(), name="diploma-list"),
    path("diplomas/assign/", views.DiplomaAssignView.as_view(), name="diploma-assign"),
    path("degrees/", views.DegreeListView.as_view(), name="degree-list"),
    path("degrees/confer/", views.DegreeConferView.as_view(), name="degree-confer"),
]
