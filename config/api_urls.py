"""Everything under /api/v1/: each app contributes its `api.urlpatterns`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("xueji.accounts.api")),
    path("", include("xueji.org.api")),
    path("", include("xueji.students.api")),
]
