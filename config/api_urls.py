"""Everything under /api/v1/: each app contributes its `api.urlpatterns`."""

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from xueji.core.api import error_body


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown API paths answer in JSON like every other API error, not with an HTML page.

    A path missing only its trailing slash is redirected, as CommonMiddleware would have done
    had this catch-all not matched first.
    """
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            target = request.path + "/" + (f"?{query}" if query else "")
            return HttpResponsePermanentRedirect(target, preserve_request=True)
    return JsonResponse(error_body("not_found", "没有这个接口。"), status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("xueji.accounts.api")),
    path("", include("xueji.org.api")),
    path("", include("xueji.students.api")),
    path("", include("xueji.notifications.api")),
    path("", include("xueji.jobs.api")),
    path("", include("xueji.workflow.api")),
    path("", include("xueji.changes.api")),
    path("", include("xueji.exchange.api")),
    path("", include("xueji.registration.api")),
    path("", include("xueji.certificates.api")),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
