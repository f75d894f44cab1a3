"""Data-correction pages, included at the root so their paths stay /me/corrections/ and
/corrections/ (they were students' pages before corrections moved onto the approval engine)."""

from django.urls import URLPattern, URLResolver, path

from xueji.changes import correction_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/corrections/", views.MyCorrectionsView.as_view(), name="my-corrections"),
    path(
        "me/corrections/<int:pk>/withdraw/",
        views.MyCorrectionWithdrawView.as_view(),
        name="my-correction-withdraw",
    ),
    path("corrections/", views.CorrectionListView.as_view(), name="correction-list"),
    path("corrections/<int:pk>/", views.CorrectionDetailView.as_view(), name="correction-detail"),
]
