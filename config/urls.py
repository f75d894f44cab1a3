from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("xueji.students.urls")),
    # Correction requests keep their root paths (/me/corrections/, /corrections/).
    path("", include("xueji.changes.correction_urls")),
    path("accounts/", include("xueji.accounts.urls")),
    path("org/", include("xueji.org.urls")),
    path("audit/", include("xueji.audit.urls")),
    path("notifications/", include("xueji.notifications.urls")),
    path("jobs/", include("xueji.jobs.urls")),
    path("workbench/", include("xueji.workflow.urls")),
    path("changes/", include("xueji.changes.urls")),
    path("exchange/", include("xueji.exchange.urls")),
    path("registration/", include("xueji.registration.urls")),
    # 我的证明 and the staff list under /certificates/; the public page at /verify/<code>/.
    path("", include("xueji.certificates.urls")),
    path("i18n/setlang/", set_language, name="set-language"),
    path("api/v1/", include("config.api_urls")),
]
# Uploaded files (photos, attachments, job files) are never served from /media/: each goes
# through a view that checks who is asking (students.StudentPhotoView, jobs' output, …).
