from django.urls import include, path

urlpatterns = [
    # The type catalogue and the rule parameters (registrar).
    path("types/", include("xueji.changes.catalogue_urls")),
]
