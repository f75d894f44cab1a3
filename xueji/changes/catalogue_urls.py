from django.urls import URLPattern, URLResolver, path

from xueji.changes import catalogue_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ChangeTypeListView.as_view(), name="change-type-list"),
    path("new/", views.ChangeTypeEditView.as_view(), name="change-type-create"),
    path("parameters/", views.RuleParametersView.as_view(), name="rule-parameters"),
    path("<slug:code>/", views.ChangeTypeEditView.as_view(), name="change-type-edit"),
]
