from django.urls import path

from xueji.audit import views

urlpatterns = [
    path("", views.AuditEventListView.as_view(), name="audit-event-list"),
    path("events/<int:seq>/", views.AuditEventDetailView.as_view(), name="audit-event-detail"),
    path("verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
]
