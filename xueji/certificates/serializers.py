"""The certificates API's request and response bodies (read by `xueji.certificates.api`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xueji.certificates import selectors, services
from xueji.certificates.models import (
    BatchOutput,
    DocumentBatch,
    DocumentRequest,
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    RequestStatus,
)
from xueji.certificates.ratelimit import MAX_UPLOAD
from xueji.certificates.rules import RULES
from xueji.core.api import QueryTextField


class RuleTitleSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="开具条件代码")
    title = serializers.CharField(help_text="开具条件名称")


class DocumentTypeSerializer(serializers.ModelSerializer):
    languages = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="zh 中文；有英文模板时另有 en"
    )
    rules = serializers.SerializerMethodField(help_text="开具前检查的条件，按检查顺序")

    class Meta:
        model = DocumentType
        fields = [
            "code",
            "name",
            "name_en",
            "description",
            "languages",
            "for_students",
            "for_graduates",
            "for_staff",
            "auto_issue",
            "free_per_term",
            "rules",
        ]
        read_only_fields = fields

    @extend_schema_field(RuleTitleSerializer(many=True))  # type: ignore[misc]
    def get_rules(self, obj: DocumentType) -> list[dict[str, str]]:
        # An unknown code is shown as is: the service refuses to issue until it is fixed.
        return [
            {"code": code, "title": RULES[code].title if code in RULES else code}
            for code in obj.rules
        ]


class RuleFailureSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="未满足的开具条件代码")
    message = serializers.CharField(help_text="原因")


class TypeOptionSerializer(serializers.Serializer):
    type = DocumentTypeSerializer(source="document_type")
    available = serializers.SerializerMethodField(help_text="现在能否开具")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="不能开具的全部原因（条件不满足、需人工审核、免费份数用完）；能开具时为空",
    )
    failures = RuleFailureSerializer(many=True, help_text="未满足的开具条件")
    used = serializers.IntegerField(help_text="本学期已开具份数")
    remaining = serializers.IntegerField(help_text="本学期剩余免费份数")

    def get_available(self, option: selectors.TypeOption) -> bool:
        return not option.reasons


class DocumentSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="document_type.code", help_text="证明类型代码")
    type_name = serializers.CharField(source="document_type.name")
    student_number = serializers.CharField(source="student.student_number", help_text="学号")
    student_name = serializers.CharField(source="student.name", help_text="姓名")
    term = serializers.IntegerField(
        source="term_id", allow_null=True, help_text="计入免费份数的学期 id"
    )
    status = serializers.ChoiceField(
        choices=DocumentStatus.choices,
        help_text="valid 有效；revoked 已撤销；superseded 已被新版本取代",
    )
    status_label = serializers.CharField(source="get_status_display")
    verify_url = serializers.SerializerMethodField(help_text="公开核验页地址（二维码指向此处）")
    download_url = serializers.SerializerMethodField(help_text="PDF 下载地址（API）")
    supersedes = serializers.CharField(
        source="supersedes.serial",
        allow_null=True,
        help_text="重新开具时被本证明取代的原证明编号；不是重新开具的为 null",
    )
    superseded_by = serializers.CharField(
        source="superseded_by.serial",
        allow_null=True,
        help_text="取代本证明的新证明编号（状态为 superseded 时）；否则为 null",
    )
    batch = serializers.IntegerField(
        source="batch_id", allow_null=True, help_text="批量开具的批次 id；单独开具的为 null"
    )

    class Meta:
        model = IssuedDocument
        fields = [
            "id",
            "serial",
            "type",
            "type_name",
            "student_number",
            "student_name",
            "term",
            "language",
            "status",
            "status_label",
            "issued_at",
            "sha256",
            "verification_code",
            "verify_url",
            "download_url",
            "revoked_at",
            "revoke_reason",
            "supersedes",
            "superseded_by",
            "batch",
        ]
        read_only_fields = fields

    def get_verify_url(self, document: IssuedDocument) -> str:
        return services.verify_url(document.verification_code)

    def get_download_url(self, document: IssuedDocument) -> str:
        return f"/api/v1/certificates/{document.pk}/pdf/"


class DocumentRequestSerializer(serializers.Serializer):
    type = serializers.SlugField(
        max_length=20, help_text="证明类型代码，见 /api/v1/certificates/types/"
    )
    language = serializers.CharField(
        required=False, max_length=10, default="zh", help_text="zh 中文（默认）；en 英文"
    )
    student = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=15,
        default="",
        help_text="学号：教职工代为开具时必填；学生为本人开具时省略",
    )


class DocumentFilterSerializer(serializers.Serializer):
    q = QueryTextField(
        required=False, allow_blank=True, max_length=40, help_text="证明编号前缀，或学号（精确）"
    )
    student = QueryTextField(required=False, allow_blank=True, max_length=15, help_text="学号")
    status = serializers.ChoiceField(
        required=False, allow_blank=True, choices=DocumentStatus.choices, help_text="状态"
    )


class OptionsQuerySerializer(serializers.Serializer):
    student = QueryTextField(
        required=False,
        allow_blank=True,
        max_length=15,
        help_text="学号：教职工查询某学生时必填；学生查询本人时省略",
    )


class RevokeSerializer(serializers.Serializer):
    # Optional here so the service's own message ("请填写撤销原因。") answers a missing reason.
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=400, help_text="撤销原因（必填）"
    )


class VerificationSerializer(serializers.Serializer):
    """What the public sees: no full name or 学号, no reason for a revocation."""

    status = serializers.ChoiceField(
        choices=DocumentStatus.choices,
        help_text="valid 有效；revoked 已撤销；superseded 已被新版本取代",
    )
    status_label = serializers.CharField()
    type = serializers.CharField(help_text="证明类型代码")
    type_name = serializers.CharField()
    serial = serializers.CharField(help_text="证明编号")
    issued_on = serializers.DateField(help_text="开具日期")
    revoked_on = serializers.DateField(allow_null=True, help_text="撤销日期；未撤销为 null")
    masked_name = serializers.CharField(help_text="姓名（部分遮盖）")
    masked_number = serializers.CharField(help_text="学号（部分遮盖）")
    matches = serializers.BooleanField(
        allow_null=True,
        help_text="上传文件的 SHA-256 是否与存档一致；未上传文件（GET）时为 null",
    )


class VerifyUploadSerializer(serializers.Serializer):
    pdf = serializers.FileField(help_text="要核对的 PDF 文件（不超过 20 MB，不会被保存）")

    def validate_pdf(self, upload: Any) -> Any:
        if upload.size > MAX_UPLOAD:
            raise serializers.ValidationError("文件过大（超过 20 MB），不是本系统开具的证明。")
        return upload


class ReissueSerializer(serializers.Serializer):
    # Optional here so the service's own message ("请填写重新开具的原因。") answers a missing one.
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="重新开具的原因（必填，最长 400 字），记入审计链",
    )


# --- requests for types that need approval ---------------------------------------------------


class CertificateRequestSubmitSerializer(serializers.Serializer):
    type = serializers.SlugField(
        max_length=20, help_text="需经审核的证明类型代码（auto_issue 为 false 的类型）"
    )
    language = serializers.CharField(
        required=False, max_length=10, default="zh", help_text="zh 中文（默认）；en 英文"
    )
    # Optional and unbounded here so the service's messages answer (required, at most 200).
    purpose = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="用途（必填，最长 200 字），如“出国留学”“办理签证”",
    )
    student = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=15,
        default="",
        help_text="学号：教职工代为申请时必填；学生为本人申请时省略",
    )


class CertificateRequestFilterSerializer(serializers.Serializer):
    student = QueryTextField(
        required=False, allow_blank=True, max_length=15, help_text="学号（仅教职工）"
    )
    status = serializers.ChoiceField(
        required=False, allow_blank=True, choices=RequestStatus.choices, help_text="状态"
    )


class RequestWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="撤回原因（可不填）"
    )


class CertificateRequestSerializer(serializers.ModelSerializer):
    """A request as its student and the staff in scope see it. The serializer context's
    `flows` maps request id to approval flow id (read for the whole page at once)."""

    type = serializers.CharField(source="document_type.code", help_text="证明类型代码")
    type_name = serializers.CharField(source="document_type.name")
    student_number = serializers.CharField(source="student.student_number", help_text="学号")
    student_name = serializers.CharField(source="student.name", help_text="姓名")
    status = serializers.ChoiceField(
        choices=RequestStatus.choices,
        help_text="pending 审核中；issued 已开具；rejected 未通过；withdrawn 已撤回",
    )
    status_label = serializers.CharField(source="get_status_display")
    document = serializers.IntegerField(
        source="document_id", allow_null=True, help_text="开具的证明 id；未开具时为 null"
    )
    document_url = serializers.SerializerMethodField(help_text="开具的证明（API）；未开具时为 null")
    flow = serializers.SerializerMethodField(help_text="审批流程 id")
    flow_url = serializers.SerializerMethodField(
        help_text="审批流程（API）：审批人在此处理，学生在此查看进度"
    )

    class Meta:
        model = DocumentRequest
        fields = [
            "id",
            "type",
            "type_name",
            "language",
            "purpose",
            "student_number",
            "student_name",
            "status",
            "status_label",
            "created_at",
            "document",
            "document_url",
            "flow",
            "flow_url",
        ]
        read_only_fields = fields

    def get_document_url(self, request: DocumentRequest) -> str | None:
        if request.document_id is None:
            return None
        return f"/api/v1/certificates/{request.document_id}/"

    def get_flow(self, request: DocumentRequest) -> int | None:
        flow_id: int | None = self.context["flows"].get(request.pk)
        return flow_id

    def get_flow_url(self, request: DocumentRequest) -> str | None:
        flow_id = self.get_flow(request)
        return None if flow_id is None else f"/api/v1/flows/{flow_id}/"


# --- batches ---------------------------------------------------------------------------------


def _scope_id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text=help_text
    )


class CertificateBatchStartSerializer(serializers.Serializer):
    type = serializers.SlugField(
        max_length=20,
        help_text="证明类型代码：须为教职工可代为开具、无需审核的类型",
    )
    language = serializers.CharField(
        required=False, max_length=10, default="zh", help_text="zh 中文（默认）；en 英文"
    )
    output = serializers.ChoiceField(
        choices=BatchOutput.choices,
        required=False,
        default=BatchOutput.ZIP,
        help_text="zip 每人一个 PDF 打包（默认，含未开具名单）；pdf 合并为一个 PDF（便于打印）",
    )
    school_class = _scope_id("班级 id；与 cohort 二者至少填一个")
    cohort = _scope_id("年级 id；可再用 college、major 缩小范围")
    college = _scope_id("学院 id（与 cohort 一起用）")
    major = _scope_id("专业 id（与 cohort 一起用）")


class CertificateBatchSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="document_type.code", help_text="证明类型代码")
    type_name = serializers.CharField(source="document_type.name")
    output = serializers.ChoiceField(choices=BatchOutput.choices, help_text="zip 或 pdf")
    school_class = serializers.IntegerField(source="school_class_id", allow_null=True)
    cohort = serializers.IntegerField(source="cohort_id", allow_null=True)
    college = serializers.IntegerField(source="college_id", allow_null=True)
    major = serializers.IntegerField(source="major_id", allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", help_text="发起人")
    issued = serializers.IntegerField(help_text="已开具份数")
    skipped = serializers.IntegerField(help_text="未开具人数（不符合开具条件等，原因见结果文件）")
    job = serializers.IntegerField(source="job_id", allow_null=True, help_text="后台任务 id")
    job_status = serializers.CharField(
        source="job.status",
        allow_null=True,
        help_text="queued 排队中；running 进行中；succeeded 已完成；failed 失败；cancelled 已取消",
    )
    job_percent = serializers.IntegerField(
        source="job.percent", allow_null=True, help_text="进度（0–100）"
    )
    job_url = serializers.SerializerMethodField(help_text="任务进度（API），可取消")
    output_url = serializers.SerializerMethodField(
        help_text="结果文件下载地址（API）；任务完成前为 null"
    )

    class Meta:
        model = DocumentBatch
        fields = [
            "id",
            "type",
            "type_name",
            "language",
            "output",
            "school_class",
            "cohort",
            "college",
            "major",
            "requested_by",
            "created_at",
            "issued",
            "skipped",
            "job",
            "job_status",
            "job_percent",
            "job_url",
            "output_url",
        ]
        read_only_fields = fields

    def get_job_url(self, batch: DocumentBatch) -> str | None:
        return None if batch.job_id is None else f"/api/v1/jobs/{batch.job_id}/"

    def get_output_url(self, batch: DocumentBatch) -> str | None:
        if batch.job is None or not batch.job.output_file:
            return None
        return f"/api/v1/jobs/{batch.job_id}/output/"
