"""Beyond instant self-service: types that need staff approval go through the approval engine
and are issued on the final approval; re-issue supersedes the old document; graduates ask
for the types open to graduates; a configured signing key signs what is stored."""

from __future__ import annotations

import hashlib

import pytest
from django.db import transaction

from xueji.audit.models import AuditEvent
from xueji.certificates.approvals import (
    FLOW_KIND,
    document_request_submit,
    document_request_withdraw,
    request_flow,
)
from xueji.certificates.models import DocumentRequest, DocumentStatus, DocumentType, RequestStatus
from xueji.certificates.services import document_reissue, document_request, document_verify
from xueji.certificates.tests import test_signing
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.students.models import RegistryStatus, StudentStatus
from xueji.workflow.models import FlowStatus, StepKind
from xueji.workflow.services import flow_approve, flow_reject


@pytest.fixture
def approval_type(registered: Cast) -> DocumentType:
    """学籍证明 set to need the registrar's approval."""
    DocumentType.objects.filter(code="xjzm").update(auto_issue=False)
    return DocumentType.objects.get(code="xjzm")


def submit(cast: Cast, purpose: str = "办理签证") -> DocumentRequest:
    return document_request_submit(
        cast.actor(cast.student_user), cast.student, "xjzm", "zh", purpose
    )


def test_an_approval_type_is_issued_only_when_the_registrar_approves(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    with pytest.raises(DomainError) as direct:
        document_request(cast.actor(cast.student_user), cast.student, "xjzm")
    assert direct.value.code == "needs_approval"
    request = submit(cast)
    flow = request_flow(request)
    assert flow is not None and flow.kind == FLOW_KIND
    assert [step.kind for step in flow.steps.all()] == [StepKind.REGISTRAR]
    assert request.document is None
    with pytest.raises(PermissionDenied):
        flow_approve(actor=cast.actor(cast.college_admin), flow=flow)
    flow_approve(actor=cast.actor(cast.registrar), flow=flow, comment="同意")
    request.refresh_from_db()
    assert request.status == RequestStatus.ISSUED
    document = request.document
    assert document.status == DocumentStatus.VALID and document.student == cast.student
    assert hashlib.sha256(document.pdf.read()).hexdigest() == document.sha256
    assert AuditEvent.objects.filter(action="certificate.request", target_id=str(request.pk))


def test_a_rejected_or_withdrawn_request_issues_nothing(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    first = submit(cast)
    flow_reject(actor=cast.actor(cast.registrar), flow=request_flow(first), reason="材料不全")
    first.refresh_from_db()
    assert (first.status, first.document) == (RequestStatus.REJECTED, None)
    second = submit(cast)
    document_request_withdraw(cast.actor(cast.student_user), second, "不需要了")
    second.refresh_from_db()
    assert second.status == RequestStatus.WITHDRAWN
    assert not cast.student.documents.exists()


def test_a_request_needs_a_purpose_and_only_one_may_wait_at_a_time(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    with pytest.raises(ValidationFailed) as empty:
        submit(cast, purpose=" ")
    assert "purpose" in empty.value.errors
    submit(cast)
    with pytest.raises(DomainError, match="待审核"):
        submit(cast)


def test_the_approval_is_refused_with_the_reason_when_the_student_no_longer_qualifies(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    request = submit(cast)
    type(cast.student).objects.filter(pk=cast.student.pk).update(
        registry_status=RegistryStatus.NOT_ENROLLED, status=StudentStatus.WITHDRAWN
    )
    with pytest.raises(DomainError, match="不能开具"):
        flow_approve(actor=cast.actor(cast.registrar), flow=request_flow(request))
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert request_flow(request).status == FlowStatus.IN_PROGRESS


def test_reissue_gives_a_new_serial_and_the_old_document_verifies_as_superseded(
    registered: Cast,
) -> None:
    cast = registered
    old = document_request(cast.actor(cast.student_user), cast.student, "zxzm")
    with pytest.raises(PermissionDenied):
        document_reissue(cast.actor(cast.college_admin), old, "姓名更正")
    with pytest.raises(ValidationFailed):
        document_reissue(cast.actor(cast.registrar), old, "")
    new = document_reissue(cast.actor(cast.registrar), old, "姓名更正后重新开具")
    old.refresh_from_db()
    assert old.status == DocumentStatus.SUPERSEDED
    assert new.supersedes == old and new.serial != old.serial
    assert new.status == DocumentStatus.VALID
    found, _ = document_verify(ip="203.0.113.9", code=old.verification_code)
    assert found.status == DocumentStatus.SUPERSEDED
    with pytest.raises(DomainError, match="不能重新开具"):
        document_reissue(cast.actor(cast.registrar), old, "再来一次")
    event = AuditEvent.objects.get(action="certificate.supersede", target_id=str(old.pk))
    assert new.serial in event.summary


def test_a_graduate_asks_for_the_types_open_to_graduates_and_not_for_the_others(
    registered: Cast,
) -> None:
    cast = registered
    type(cast.student).objects.filter(pk=cast.student.pk).update(
        registry_status=RegistryStatus.NOT_ENROLLED, status=StudentStatus.GRADUATED
    )
    cast.student.refresh_from_db()
    actor = cast.actor(cast.student_user)
    document = document_request(actor, cast.student, "xjzm")
    assert document.status == DocumentStatus.VALID
    with pytest.raises(PermissionDenied):
        document_request(actor, cast.student, "zxzm")


def test_a_withdrawn_student_gets_no_certificate_of_student_status(registered: Cast) -> None:
    cast = registered
    type(cast.student).objects.filter(pk=cast.student.pk).update(
        registry_status=RegistryStatus.NOT_ENROLLED, status=StudentStatus.WITHDRAWN
    )
    cast.student.refresh_from_db()
    with pytest.raises(DomainError, match="既不具有学籍"):
        document_request(cast.actor(cast.registrar), cast.student, "xjzm")


def test_with_a_signing_key_configured_the_stored_pdf_is_signed_and_its_hash_recorded(
    registered: Cast, settings, tmp_path
) -> None:
    cast = registered
    school = test_signing.make_cert("示例大学 证明签章")
    key, cert = test_signing.write_pem(tmp_path, school)
    test_signing.configure(settings, key=key, cert=cert)
    document = document_request(cast.actor(cast.student_user), cast.student, "zxzm")
    content = document.pdf.read()
    assert hashlib.sha256(content).hexdigest() == document.sha256
    status = test_signing.validate(content, school.cert)
    assert status.intact and status.valid and status.trusted


def test_nothing_is_kept_when_the_approval_transaction_fails(
    registered: Cast, approval_type: DocumentType, monkeypatch
) -> None:
    cast = registered
    request = submit(cast)

    def broken(*args, **kwargs):
        raise RuntimeError("storage full")

    monkeypatch.setattr("xueji.certificates.services.produce_pdf", broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        flow_approve(actor=cast.actor(cast.registrar), flow=request_flow(request))
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING and not cast.student.documents.exists()
