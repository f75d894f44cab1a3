from django.urls import URLPattern, URLResolver, path

from xueji.exchange import chsi_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", chsi_views.ChsiKindsView.as_view(), name="chsi-export"),
    path("jobs/<int:pk>/", chsi_views.ChsiJobView.as_view(), name="chsi-job"),
    path("<slug:kind>/", chsi_views.ChsiExportView.as_view(), name="chsi-export-kind"),
]
