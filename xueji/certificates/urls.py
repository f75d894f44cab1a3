from django.urls import path

from xueji.certificates import views

urlpatterns = [
    path("certificates/me/", views.MyDocumentsView.as_view(), name="my-documents"),
    path("certificates/types/", views.DocumentTypeListView.as_view(), name="document-type-list"),
    path(
        "certificates/types/<slug:code>/",
        views.DocumentTypeEditView.as_view(),
        name="document-type-edit",
    ),
    path("certificates/", views.DocumentListView.as_view(), name="document-list"),
    path(
        "certificates/<int:pk>/download/",
        views.DocumentDownloadView.as_view(),
        name="document-download",
    ),
    path(
        "certificates/<int:pk>/revoke/", views.DocumentRevokeView.as_view(), name="document-revoke"
    ),
    path(
        "certificates/<int:pk>/reissue/",
        views.DocumentReissueView.as_view(),
        name="document-reissue",
    ),
    path(
        "certificates/requests/<int:pk>/withdraw/",
        views.RequestWithdrawView.as_view(),
        name="document-request-withdraw",
    ),
    path("certificates/batches/", views.BatchView.as_view(), name="document-batch"),
    path("verify/<str:code>/", views.VerifyView.as_view(), name="document-verify"),
]
