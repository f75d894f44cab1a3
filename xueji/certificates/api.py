"""Certificates over the API: the same selectors, services, scope and messages as the pages.

A student requests and reads their own documents; the registrar and a college admin issue on a
student's behalf and read the documents in their scope; only the registrar revokes and
re-issues. Types that need approval are asked for as requests, decided through the approval
flow's endpoints (`/api/v1/flows/{id}/`). Staff issue one type for a class or cohort as a
batch: a background job whose progress and output file are the jobs API's. A document,
request, batch or student outside the caller's scope reads as 404. The public verification
endpoint needs no login and shares the verification page's per-IP limit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from xueji.accounts.models import Role, User
from xueji.certificates import approvals, batches, permissions, selectors, services
from xueji.certificates.models import (
    DocumentBatch,
    DocumentRequest,
    IssuedDocument,
)
from xueji.certificates.ratelimit import VERIFY_WINDOW, verify_over_limit
from xueji.certificates.serializers import (
    CertificateBatchSerializer,
    CertificateBatchStartSerializer,
    CertificateRequestFilterSerializer,
    CertificateRequestSerializer,
    CertificateRequestSubmitSerializer,
    DocumentFilterSerializer,
    DocumentRequestSerializer,
    DocumentSerializer,
    DocumentTypeSerializer,
    OptionsQuerySerializer,
    ReissueSerializer,
    RequestWithdrawSerializer,
    RevokeSerializer,
    TypeOptionSerializer,
    VerificationSerializer,
    VerifyUploadSerializer,
)
from xueji.core.api import ErrorSerializer, error_responses
from xueji.core.context import Actor, client_ip
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.students.models import Student
from xueji.students.selectors import get_student_for, student_for_user

TAGS = ["certificates"]


# --- helpers ---------------------------------------------------------------------------------


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _student_for(user: User, student_number: str) -> Student:
    """The student a call is about: the given 学号 in the caller's scope, or the caller's own
    record when none is given (staff must give one)."""
    if student_number:
        return get_student_for(user, student_number)
    if permissions.is_issuing_staff(user) and not user.has_role(Role.STUDENT):
        raise serializers.ValidationError({"student": ["代为开具或查询时请填写学生学号。"]})
    return student_for_user(user)


def _request_body(request: DocumentRequest) -> dict[str, Any]:
    return CertificateRequestSerializer(
        request, context={"flows": selectors.request_flow_ids([request])}
    ).data


# --- views -----------------------------------------------------------------------------------


class DocumentTypeListApi(APIView):
    @extend_schema(
        operation_id="certificates_types_list",
        summary="证明类型",
        description=(
            "调用者可以为本人申请（学生；毕业生为面向毕业生的类型）或代为开具（学籍管理部门、"
            "学院管理员）的启用中的证明类型，含语言、开具条件和每学期免费份数。"
        ),
        responses={200: DocumentTypeSerializer(many=True), **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        types = selectors.types_visible_to(_user(request))
        return Response(DocumentTypeSerializer(types, many=True).data)


class TypeOptionsApi(APIView):
    @extend_schema(
        operation_id="certificates_options_list",
        summary="某学生现在可以开具的证明",
        description=(
            "学生本人（省略 student），或授权范围内的学籍管理部门、学院管理员（填学号）：每种"
            "可申请的证明类型现在能否开具，不能时列出全部原因。范围外的学生返回 404。"
        ),
        parameters=[OptionsQuerySerializer],
        responses={200: TypeOptionSerializer(many=True), **error_responses(400, 401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        form = OptionsQuerySerializer(data=request.query_params.dict())
        form.is_valid(raise_exception=True)
        user = _user(request)
        student = _student_for(user, form.validated_data.get("student", ""))
        if not (
            permissions.is_own_student(user, student) or permissions.is_issuer_for(user, student)
        ):
            # As `services.document_request` answers the same caller.
            raise NotFound("未找到该学生，或您无权查看。")
        options = selectors.type_options_for(user, student)
        return Response(TypeOptionSerializer(options, many=True).data)


class DocumentListApi(generics.ListAPIView):
    serializer_class = DocumentSerializer

    @extend_schema(
        operation_id="certificates_list",
        summary="已开具的证明",
        description=(
            "学生：本人的证明；学籍管理部门、学院管理员：授权范围内学生的证明。新开具的在前。"
            "其他角色返回 403。"
        ),
        parameters=[DocumentFilterSerializer],
        responses={200: DocumentSerializer(many=True), **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[IssuedDocument]:
        form = DocumentFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        query = form.validated_data.get("q", "").strip()
        user = _user(self.request)
        if permissions.is_issuing_staff(user):
            rows = selectors.document_list_visible_to(user, query=query)
        elif user.has_role(Role.STUDENT):
            # The student is the same on every row: load it with the rows, not once per row.
            rows = selectors.documents_of(student_for_user(user)).select_related("student")
            if query:
                rows = rows.filter(serial__startswith=query) | rows.filter(
                    student__student_number=query
                )
        else:
            raise PermissionDenied("只有学生本人、学籍管理部门和学院管理员可以查看已开具的证明。")
        if form.validated_data.get("student"):
            rows = rows.filter(student__student_number=form.validated_data["student"])
        if form.validated_data.get("status"):
            rows = rows.filter(status=form.validated_data["status"])
        # Re-issue links shown on every row: loaded with the rows, not once per row.
        return rows.select_related("supersedes", "superseded_by")

    @extend_schema(
        operation_id="certificates_create",
        summary="开具证明",
        description=(
            "学生为本人开具（省略 student），或学籍管理部门、学院管理员为授权范围内的学生代为"
            "开具。立即生成 PDF 并写入审计链。不能开具时返回 400，error.code 说明原因："
            "rule_<条件代码>（如 rule_in_school，error.message 为原因）、quota（本学期免费"
            "份数已用完）、needs_approval（需人工审核）、no_pinyin（英文证明缺姓名拼音）；"
            "范围外的学生或停用的类型返回 404，不能开具该类型返回 403。"
        ),
        request=DocumentRequestSerializer,
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        form = DocumentRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        student = _student_for(_user(request), data["student"])
        document = services.document_request(
            Actor.from_request(request, via="api"), student, data["type"], data["language"]
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="证明 id")


class DocumentDetailApi(APIView):
    @extend_schema(
        operation_id="certificates_retrieve",
        summary="证明详情",
        parameters=[_ID],
        responses={200: DocumentSerializer, **error_responses(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        document = selectors.get_document_for(_user(request), pk)
        return Response(DocumentSerializer(document).data)


class PdfRenderer(BaseRenderer):
    """Lets a client send `Accept: application/pdf`; the body itself is a FileResponse."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> bytes:
        # Only error bodies reach a renderer here: they go out as JSON, labelled as such.
        response = (context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class DocumentPdfApi(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="certificates_pdf_retrieve",
        summary="下载证明 PDF",
        description="与开具时存档的文件相同（SHA-256 见证明详情）。每次下载写入审计链。",
        parameters=[_ID],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        document = selectors.get_document_for(_user(request), pk)
        return services.document_open(
            actor=Actor.from_request(request, via="api"), document=document
        )


class DocumentRevokeApi(APIView):
    @extend_schema(
        operation_id="certificates_revoke_create",
        summary="撤销证明",
        description=(
            "仅校级学籍管理员，须填原因；撤销后公开核验显示“已撤销”。已撤销或已被取代的证明"
            "返回 400。写入审计链。"
        ),
        parameters=[_ID],
        request=RevokeSerializer,
        responses={200: DocumentSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        if not user.has_role(Role.REGISTRAR):  # as the page: refused before the lookup
            raise PermissionDenied("只有学籍管理部门可以撤销证明。")
        document = selectors.get_document_for(user, pk)
        form = RevokeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        revoked = services.document_revoke(
            Actor.from_request(request, via="api"), document, form.validated_data["reason"]
        )
        return Response(DocumentSerializer(revoked).data)


class DocumentReissueApi(APIView):
    @extend_schema(
        operation_id="certificates_reissue_create",
        summary="重新开具证明",
        description=(
            "仅校级学籍管理员，须填原因（如信息更正后）：以当前数据开具新证明（新编号、新核验码，"
            "不计入免费份数），原证明状态变为 superseded（已被新版本取代），其 superseded_by "
            "为新编号，公开核验显示已被取代；新证明的 supersedes 为原编号。只有有效的证明可以"
            "重新开具，否则返回 400。写入审计链。"
        ),
        parameters=[_ID],
        request=ReissueSerializer,
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        if not user.has_role(Role.REGISTRAR):  # as the page: refused before the lookup
            raise PermissionDenied("只有学籍管理部门可以重新开具证明。")
        document = selectors.get_document_for(user, pk)
        form = ReissueSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        new = services.document_reissue(
            Actor.from_request(request, via="api"), document, form.validated_data["reason"]
        )
        return Response(DocumentSerializer(new).data, status=status.HTTP_201_CREATED)


# --- requests for types that need approval ---------------------------------------------------

_REQUEST_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="证明申请 id"
)


class RequestListApi(generics.ListAPIView):
    serializer_class = CertificateRequestSerializer

    @extend_schema(
        operation_id="certificates_requests_list",
        summary="证明申请",
        description=(
            "需经审核的证明申请。学生：本人的申请；学籍管理部门、学院管理员：授权范围内学生的"
            "申请。新提交的在前。其他角色返回 403。"
        ),
        parameters=[CertificateRequestFilterSerializer],
        responses={
            200: CertificateRequestSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the API always paginates
        body = CertificateRequestSerializer(
            page, many=True, context={"flows": selectors.request_flow_ids(page)}
        ).data
        return self.get_paginated_response(body)

    def get_queryset(self) -> QuerySet[DocumentRequest]:
        form = CertificateRequestFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        rows = selectors.request_list_visible_to(_user(self.request))
        if form.validated_data.get("student"):
            rows = rows.filter(student__student_number=form.validated_data["student"])
        if form.validated_data.get("status"):
            rows = rows.filter(status=form.validated_data["status"])
        return rows

    @extend_schema(
        operation_id="certificates_requests_create",
        summary="申请需审核的证明",
        description=(
            "需经审核的类型（auto_issue 为 false）：学生为本人申请（省略 student），或学籍管理"
            "部门、学院管理员为授权范围内的学生代为申请；须填用途。提交后进入审批流程（flow，"
            "审批人通过 /api/v1/flows/{id}/ 办理），最终审批通过时开具，document 为证明 id。"
            "不能申请时返回 400：error.code 为 rule（不符合开具条件，error.message 为原因）、"
            "pending（同类型已有待审核的申请）、auto_issue（该类型无需审核，请用 "
            "POST /api/v1/certificates/ 直接开具）或 invalid（逐字段说明）；范围外的学生或停用"
            "的类型返回 404，不能申请该类型返回 403。"
        ),
        request=CertificateRequestSubmitSerializer,
        responses={201: CertificateRequestSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        form = CertificateRequestSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        student = _student_for(_user(request), data["student"])
        submitted = approvals.document_request_submit(
            Actor.from_request(request, via="api"),
            student,
            data["type"],
            data["language"],
            data["purpose"],
        )
        return Response(_request_body(submitted), status=status.HTTP_201_CREATED)


class RequestDetailApi(APIView):
    @extend_schema(
        operation_id="certificates_requests_retrieve",
        summary="证明申请详情",
        description="申请的学生本人，或授权范围内的学籍管理部门、学院管理员；其他人返回 404。",
        parameters=[_REQUEST_ID],
        responses={200: CertificateRequestSerializer, **error_responses(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        found = selectors.get_request_for(_user(request), pk)
        return Response(_request_body(found))


class RequestWithdrawApi(APIView):
    @extend_schema(
        operation_id="certificates_requests_withdraw_create",
        summary="撤回证明申请",
        description=(
            "申请人或学生本人撤回审核中的申请（其审批流程随之撤回），原因可不填。已处理的申请"
            "返回 400（error.code 为 invalid_transition），授权范围内的其他教职工返回 403。"
        ),
        parameters=[_REQUEST_ID],
        request=RequestWithdrawSerializer,
        responses={200: CertificateRequestSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        found = selectors.get_request_for(user, pk)
        form = RequestWithdrawSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        approvals.document_request_withdraw(
            Actor.from_request(request, via="api"), found, form.validated_data["reason"]
        )
        return Response(_request_body(selectors.get_request_for(user, pk)))


# --- batches ---------------------------------------------------------------------------------

_BATCH_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="批量开具批次 id"
)
_SCOPE_FIELDS = ("school_class", "cohort", "college", "major")


class BatchListApi(generics.ListAPIView):
    serializer_class = CertificateBatchSerializer

    @extend_schema(
        operation_id="certificates_batches_list",
        summary="批量开具批次",
        description=(
            "本人发起的批次（校级学籍管理员：全部批次），新建的在前。只有学籍管理部门和学院"
            "管理员可以查看，其他角色返回 403。"
        ),
        responses={
            200: CertificateBatchSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[DocumentBatch]:
        user = _user(self.request)
        if not permissions.can_issue_batch(user):
            raise PermissionDenied("只有学籍管理部门和学院管理员可以批量开具证明。")
        return selectors.batches_visible_to(user)

    @extend_schema(
        operation_id="certificates_batches_create",
        summary="批量开具证明",
        description=(
            "学籍管理部门或学院管理员为一个班级（school_class），或一个年级（cohort，可再用 "
            "college、major 缩小）中授权范围内的学生开具同一种证明。作为后台任务运行，返回 202："
            "进度见 job_url（/api/v1/jobs/{id}/，可取消），完成后结果文件见 output_url"
            "（/api/v1/jobs/{id}/output/）：zip 为每人一个 PDF 加未开具名单（未开具名单.csv，"
            "含原因），pdf 为合并的一个文件。不符合开具条件的学生不开具，列入名单。只能批量"
            "开具教职工可代为开具、无需审核的类型；输入有误返回 400（逐字段说明），范围内没有"
            "学生返回 400（error.code 为 empty），其他角色返回 403。"
        ),
        request=CertificateBatchStartSerializer,
        responses={202: CertificateBatchSerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        if not permissions.can_issue_batch(user):  # as the page: refused before parsing
            raise PermissionDenied("只有学籍管理部门和学院管理员可以批量开具证明。")
        form = CertificateBatchStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        ids = {key: "" if data[key] is None else str(data[key]) for key in _SCOPE_FIELDS}
        batch = batches.document_batch_start(
            Actor.from_request(request, via="api"),
            type_code=data["type"],
            language=data["language"],
            output=data["output"],
            **batches.batch_scope_from_ids(**ids),
        )
        body = CertificateBatchSerializer(selectors.get_batch_for(user, batch.pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class BatchDetailApi(APIView):
    @extend_schema(
        operation_id="certificates_batches_retrieve",
        summary="批量开具批次详情",
        description="发起人或校级学籍管理员；其他人返回 404。",
        parameters=[_BATCH_ID],
        responses={200: CertificateBatchSerializer, **error_responses(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            CertificateBatchSerializer(selectors.get_batch_for(_user(request), pk)).data
        )


class VerifyThrottle(BaseThrottle):
    """The verification page's limit: the same counter per IP, so page and API share it."""

    def allow_request(self, request: Any, view: Any) -> bool:
        return not verify_over_limit(client_ip(request))

    def wait(self) -> float:
        return VERIFY_WINDOW


_CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="证明上印的核验码"
)
_VERIFY_RESPONSES = {
    200: VerificationSerializer,
    404: OpenApiResponse(ErrorSerializer, description="没有与该核验码对应的证明"),
    429: OpenApiResponse(
        ErrorSerializer,
        description=f"同一 IP 核验过于频繁（{VERIFY_WINDOW // 60} 分钟内超过上限），见 Retry-After",
    ),
}


class VerifyApi(APIView):
    """Public: no login, no session (so no CSRF), masked data only. Audited with the IP."""

    authentication_classes: list[Any] = []
    permission_classes: list[type[BasePermission]] = [AllowAny]
    throttle_classes = [VerifyThrottle]
    parser_classes = [MultiPartParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="verify_retrieve",
        summary="公开核验证明",
        description="无需登录。返回证明的状态、类型、编号、开具日期和部分遮盖的姓名、学号。",
        parameters=[_CODE],
        responses=_VERIFY_RESPONSES,
        auth=[],
        tags=["verify"],
    )
    def get(self, request: Request, code: str) -> Response:
        document, _ = services.document_verify(ip=client_ip(request), code=code)
        return _verification(document, None)

    @extend_schema(
        operation_id="verify_create",
        summary="核对 PDF 文件",
        description=(
            "无需登录。multipart/form-data 上传收到的 PDF（字段 pdf），比对其 SHA-256 与开具时"
            "存档的指纹；文件不会被保存。matches 为 true 时仍须看 status：已撤销的证明文件也会"
            "一致。"
        ),
        parameters=[_CODE],
        request={"multipart/form-data": VerifyUploadSerializer},
        responses={**_VERIFY_RESPONSES, **error_responses(400)},
        auth=[],
        tags=["verify"],
    )
    def post(self, request: Request, code: str) -> Response:
        form = VerifyUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        document, matches = services.document_verify(
            ip=client_ip(request), code=code, upload=form.validated_data["pdf"].read()
        )
        return _verification(document, matches)


def _verification(document: IssuedDocument | None, matches: bool | None) -> Response:
    if document is None:
        raise NotFound("未找到该证明：没有与该核验码对应的证明。")
    body = {
        "status": document.status,
        "status_label": document.get_status_display(),
        "type": document.document_type.code,
        "type_name": document.document_type.name,
        "serial": document.serial,
        "issued_on": timezone.localdate(document.issued_at),
        "revoked_on": timezone.localdate(document.revoked_at) if document.revoked_at else None,
        "masked_name": services.mask_name(document.student.name),
        "masked_number": services.mask_number(document.student.student_number),
        "matches": matches,
    }
    return Response(VerificationSerializer(body).data)


urlpatterns = [
    path("certificates/", DocumentListApi.as_view(), name="api-certificate-list"),
    path("certificates/types/", DocumentTypeListApi.as_view(), name="api-certificate-types"),
    path("certificates/options/", TypeOptionsApi.as_view(), name="api-certificate-options"),
    path("certificates/<int:pk>/", DocumentDetailApi.as_view(), name="api-certificate-detail"),
    path("certificates/<int:pk>/pdf/", DocumentPdfApi.as_view(), name="api-certificate-pdf"),
    path(
        "certificates/<int:pk>/revoke/",
        DocumentRevokeApi.as_view(),
        name="api-certificate-revoke",
    ),
    path(
        "certificates/<int:pk>/reissue/",
        DocumentReissueApi.as_view(),
        name="api-certificate-reissue",
    ),
    path("certificates/requests/", RequestListApi.as_view(), name="api-certificate-requests"),
    path(
        "certificates/requests/<int:pk>/",
        RequestDetailApi.as_view(),
        name="api-certificate-request-detail",
    ),
    path(
        "certificates/requests/<int:pk>/withdraw/",
        RequestWithdrawApi.as_view(),
        name="api-certificate-request-withdraw",
    ),
    path("certificates/batches/", BatchListApi.as_view(), name="api-certificate-batches"),
    path(
        "certificates/batches/<int:pk>/",
        BatchDetailApi.as_view(),
        name="api-certificate-batch-detail",
    ),
    path("verify/<str:code>/", VerifyApi.as_view(), name="api-verify"),
]
