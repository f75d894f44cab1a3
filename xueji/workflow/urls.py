from django.urls import path

from xueji.workflow import views

urlpatterns = [
    path("", views.WorkbenchView.as_view(), name="workbench"),
    path("history/", views.WorkbenchHistoryView.as_view(), name="workbench-history"),
    path(
        "batch-approve/",
        views.WorkbenchBatchApproveView.as_view(),
        name="workbench-batch-approve",
    ),
    path("delegations/", views.DelegationListView.as_view(), name="delegation-list"),
    path(
        "delegations/<int:pk>/revoke/",
        views.DelegationRevokeView.as_view(),
        name="delegation-revoke",
    ),
    path("flows/<int:pk>/", views.FlowDetailView.as_view(), name="flow-detail"),
    path("flows/<int:pk>/approve/", views.FlowApproveView.as_view(), name="flow-approve"),
    path("flows/<int:pk>/reject/", views.FlowRejectView.as_view(), name="flow-reject"),
    path("flows/<int:pk>/return/", views.FlowReturnView.as_view(), name="flow-return"),
    path("flows/<int:pk>/resubmit/", views.FlowResubmitView.as_view(), name="flow-resubmit"),
    path("flows/<int:pk>/withdraw/", views.FlowWithdrawView.as_view(), name="flow-withdraw"),
    path("flows/<int:pk>/comment/", views.FlowCommentView.as_view(), name="flow-comment"),
    path("flows/<int:pk>/attach/", views.FlowAttachView.as_view(), name="flow-attach"),
    path(
        "attachments/<int:pk>/",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
]
