from django.urls import include, path

from xueji.changes import views

urlpatterns = [
    path("", views.ChangeListView.as_view(), name="change-list"),
    path("new/", views.ChangeCreateView.as_view(), name="change-create"),
    # The type catalogue and the rule parameters (registrar).
    path("types/", include("xueji.changes.catalogue_urls")),
    path("<str:number>/", views.ChangeDetailView.as_view(), name="change-detail"),
    path("<str:number>/override/", views.ChangeOverrideView.as_view(), name="change-override"),
    path("<str:number>/apply/", views.ChangeApplyNowView.as_view(), name="change-apply"),
]
