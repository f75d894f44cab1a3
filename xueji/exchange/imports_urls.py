from django.urls import URLPattern, URLResolver, path

from xueji.exchange import import_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ImportHomeView.as_view(), name="import-home"),
    path("jobs/<int:pk>/", views.ImportJobView.as_view(), name="import-job"),
    path("jobs/<int:pk>/confirm/", views.ImportConfirmView.as_view(), name="import-confirm"),
    path("<slug:kind>/", views.ImportKindView.as_view(), name="import-kind"),
    path("<slug:kind>/template/", views.ImportTemplateView.as_view(), name="import-template"),
]
