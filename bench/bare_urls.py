"""The application's URLs plus bare views, for bench/api_me.py only.

Selected by bench/wsgi_bench.py when XUEJI_BENCH_BARE_VIEW is set; config/urls.py is untouched.
- /bench/bare/: a plain Django view. It goes through the same middleware (sessions, auth, CSRF,
  locale …) but does no authentication of its own, no query and no serialisation: the ratio of
  the API's throughput to its throughput is the cost of the API itself.
- /bench/bare-drf/ and /bench/token-drf/: a DRF view without authentication, and one with the
  API's authentication (Bearer token) that returns only the username, to attribute that cost.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as application_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class BareDrfView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class TokenDrfView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-drf/", BareDrfView.as_view()),
    path("bench/token-drf/", TokenDrfView.as_view()),
    *application_urlpatterns,
]
