from django.urls import URLPattern, URLResolver, path

from xueji.exchange import crosscheck_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.CrossCheckListView.as_view(), name="crosscheck-list"),
    path("<int:pk>/", views.CrossCheckBatchView.as_view(), name="crosscheck-batch"),
    path("<int:pk>/run/", views.CrossCheckRunView.as_view(), name="crosscheck-run"),
    path(
        "discrepancies/<int:pk>/resolve/",
        views.DiscrepancyResolveView.as_view(),
        name="crosscheck-resolve",
    ),
]
