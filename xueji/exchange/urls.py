from django.urls import URLPattern, URLResolver, include, path

from xueji.exchange import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("events/<str:event_id>/", views.EventDetailView.as_view(), name="event-detail"),
    path("inbox/", views.DepartmentInboxView.as_view(), name="department-inbox"),
    path("deliveries/<int:pk>/ack/", views.DeliveryAckView.as_view(), name="delivery-ack"),
    path("deliveries/<int:pk>/retry/", views.DeliveryRetryView.as_view(), name="delivery-retry"),
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
    path("departments/new/", views.DepartmentEditView.as_view(), name="department-create"),
    path("departments/<int:pk>/edit/", views.DepartmentEditView.as_view(), name="department-edit"),
    path(
        "departments/<int:pk>/secret/",
        views.DepartmentSecretRotateView.as_view(),
        name="department-secret-rotate",
    ),
    # Imports, CHSI exports and the admission cross-check have their own modules.
    path("imports/", include("xueji.exchange.imports_urls")),
    path("chsi/", include("xueji.exchange.chsi_urls")),
    path("crosscheck/", include("xueji.exchange.crosscheck_urls")),
]
