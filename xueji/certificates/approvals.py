"""Document types that need staff approval (`DocumentType.auto_issue` off) go through the
approval engine (`xueji.workflow`): the request is a `DocumentRequest`, its flow has one step,
学校学籍管理部门审核, and the document is issued — numbered, rendered, stored, audited — in the
same transaction as the final approval. A request that can no longer be issued (the student
went on 休学 meanwhile, a character has no glyph) refuses the approval with the reason."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from xueji.audit.services import audit_record
from xueji.certificates import permissions, selectors
from xueji.certificates.models import DocumentRequest, DocumentType, RequestStatus
from xueji.certificates.rules import Context, check_eligibility
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, ValidationFailed
from xueji.students.models import Student
from xueji.workflow.models import Flow, FlowStep, FlowVerb, StepKind
from xueji.workflow.services import StepSpec, flow_start, flow_withdraw

FLOW_KIND = selectors.FLOW_KIND
MAX_PURPOSE = 200


def _eligibility_error(user, student: Student, document_type: DocumentType, term) -> str:
    ctx = Context(
        student=student,
        document_type=document_type,
        term=term,
        for_self=permissions.is_own_student(user, student),
    )
    failures = check_eligibility(ctx)
    return failures[0].message if failures else ""


def document_request_submit(
    actor: Actor, student: Student, type_code: str, language: str = "zh", purpose: str = ""
) -> DocumentRequest:
    """Ask for a document of a type that needs approval. Checks who may ask, the language, the
    eligibility rules and that no request of the same type is pending; starts the flow."""
    from xueji.certificates.services import requestable_type

    user = actor.require_user()
    document_type = requestable_type(user, student, type_code, language, verb="申请")
    if document_type.auto_issue:
        raise DomainError(
            f"{document_type.name}无需审核，可直接开具。", code="auto_issue", field="type"
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed({"purpose": ["请填写用途（如“出国留学”“办理签证”）。"]})
    if len(purpose) > MAX_PURPOSE:
        raise ValidationFailed(
            {"purpose": [f"用途最长 {MAX_PURPOSE} 字，实为 {len(purpose)} 字。"]}
        )
    reason = _eligibility_error(user, student, document_type, selectors.current_term())
    if reason:
        raise DomainError(reason, code="rule")
    with transaction.atomic():
        Student.objects.select_for_update().filter(pk=student.pk).first()
        if DocumentRequest.objects.filter(
            student=student, document_type=document_type, status=RequestStatus.PENDING
        ).exists():
            raise DomainError(
                f"已有一份待审核的{document_type.name}申请，请等待处理或先撤回。", code="pending"
            )
        request = DocumentRequest.objects.create(
            document_type=document_type,
            student=student,
            language=language,
            purpose=purpose,
            requested_by=user,
        )
        audit_record(
            actor=actor,
            action="certificate.request",
            target=request,
            summary=f"{student.student_number} 申请{document_type.name}：{purpose}",
            after={"type": document_type.code, "language": language, "purpose": purpose},
        )
        flow_start(
            actor=actor,
            kind=FLOW_KIND,
            subject_id=request.pk,
            student=student,
            title=f"{student.name}（{student.student_number}）申请{document_type.name}",
            steps=[StepSpec(kind=StepKind.REGISTRAR, due_days=3)],
            subject_type=document_type.code,
        )
    return request


def request_flow(request: DocumentRequest) -> Flow | None:
    return Flow.objects.filter(kind=FLOW_KIND, subject_id=request.pk).first()


def document_request_withdraw(actor: Actor, request: DocumentRequest, reason: str = "") -> None:
    """The applicant withdraws a pending request (through the engine's withdraw)."""
    flow = request_flow(request)
    if flow is None:
        raise NotFound("未找到该申请的审批流程。")
    flow_withdraw(actor=actor, flow=flow, reason=reason)


class CertificateFlowHandler:
    label = "证明开具"

    def check_approve(self, flow: Flow, step: FlowStep, actor: Actor, final: bool) -> None:
        if not final:
            return
        request = DocumentRequest.objects.select_related("document_type", "student").get(
            pk=flow.subject_id
        )
        if not request.document_type.is_active:
            raise DomainError(
                f"{request.document_type.name}已停用，不能开具；请驳回该申请。", code="inactive"
            )
        reason = _eligibility_error(
            actor.user, request.student, request.document_type, selectors.current_term()
        )
        if reason:
            raise DomainError(f"不能开具：{reason}", code="rule")

    def on_transition(self, flow: Flow, actor: Actor, verb: str) -> None:
        from xueji.certificates.services import issue_for_request

        target = {
            FlowVerb.APPROVE_FINAL: RequestStatus.ISSUED,
            FlowVerb.REJECT: RequestStatus.REJECTED,
            FlowVerb.WITHDRAW: RequestStatus.WITHDRAWN,
        }.get(FlowVerb(verb))
        if target is None:
            return
        request = (
            DocumentRequest.objects.select_for_update()
            .select_related("document_type", "student")
            .get(pk=flow.subject_id)
        )
        if request.status != RequestStatus.PENDING:
            raise DomainError(f"该申请当前为“{request.get_status_display()}”，不能再处理。")
        if target == RequestStatus.ISSUED:
            request.document = issue_for_request(actor, request)
        request.status = target
        request.save(update_fields=["status", "document"])

    def url(self, flow: Flow) -> str:
        return reverse("flow-detail", args=[flow.pk])
