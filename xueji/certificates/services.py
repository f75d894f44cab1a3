"""Issuing, downloading, verifying and revoking documents. Every one of them is audited; an
issued PDF's SHA-256 goes into the audit chain with the serial."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.http import FileResponse
from django.template import Context as TemplateContext
from django.template import Engine, TemplateSyntaxError
from django.utils import timezone
from django.utils.safestring import mark_safe

from xueji.audit.services import audit_record
from xueji.certificates import permissions, selectors
from xueji.certificates.models import DocumentStatus, DocumentType, IssuedDocument, SerialCounter
from xueji.certificates.pdf import render_pdf, require_glyphs
from xueji.certificates.qr import qr_svg
from xueji.certificates.rules import Context, check_eligibility
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.org.models import CodeTable
from xueji.org.selectors import code_name, school_current
from xueji.students.models import Student

LANGUAGES = ("zh",)
# Verification codes: no 0/O, 1/I/L, so a code read out or typed from paper is unambiguous.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
_DIGITS = "〇一二三四五六七八九"

# Templates are edited by registrars: a dedicated engine without loaders (no {% include %} or
# {% extends %} of files), with the built-in tags and filters and autoescaping.
_ENGINE = Engine(debug=False, loaders=[], autoescape=True)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _years(duration: Decimal) -> str:
    if duration == duration.to_integral_value() and 0 < duration < 10:
        return _DIGITS[int(duration)]
    return f"{duration.normalize()}"


def verify_url(code: str) -> str:
    return f"{settings.BASE_URL}/verify/{code}/"


def school_name() -> str:
    school = school_current()
    return (school.name if school else "") or settings.SCHOOL_NAME


def template_context(student: Student, *, issued: date, serial: str, code: str) -> dict[str, Any]:
    """The variables a document template sees (listed in `xueji.certificates.builtin`)."""
    url = verify_url(code)
    return {
        "school": school_name(),
        "name": student.name,
        "gender": code_name(CodeTable.GENDER, student.gender) or student.gender,
        "student_number": student.student_number,
        "college": student.college.name,
        "major": student.major.name,
        "level": code_name(CodeTable.EDUCATION_LEVEL, student.level) or student.level,
        "enrolled": f"{student.enrollment_date.year}年{student.enrollment_date.month}月",
        "years": _years(student.duration),
        "status": student.get_status_display(),
        "issued": chinese_date(issued),
        "serial": serial,
        "verify_url": url,
        "qr": mark_safe(qr_svg(url)),  # noqa: S308 (segno's SVG of our own URL)
    }


def render_document_html(document_type: DocumentType, context: dict[str, Any]) -> str:
    try:
        template = _ENGINE.from_string(document_type.template_html)
    except TemplateSyntaxError as exc:
        raise DomainError(
            f"“{document_type.name}”的模板有语法错误：{exc}。请学籍管理部门修改模板。",
            field="template_html",
        ) from exc
    return template.render(TemplateContext(context))


def _variable_text(context: dict[str, Any]) -> list[str]:
    return [
        str(context[key])
        for key in ("school", "name", "gender", "college", "major", "level", "status")
    ]


def _next_serial(document_type: DocumentType, year: int) -> str:
    """The next serial for the type and year, e.g. 2026ZXZM000001. Call inside a transaction:
    the counter row stays locked until it ends, so two requests never get the same number."""
    SerialCounter.objects.get_or_create(document_type=document_type, year=year)
    counter = SerialCounter.objects.select_for_update().get(document_type=document_type, year=year)
    counter.last = F("last") + 1
    counter.save(update_fields=["last"])
    counter.refresh_from_db(fields=["last"])
    return f"{year}{document_type.code.upper()}{counter.last:06d}"


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not IssuedDocument.objects.filter(verification_code=code).exists():
            return code


def document_request(
    actor: Actor, student: Student, type_code: str, language: str = "zh"
) -> IssuedDocument:
    """Issue a document of type `type_code` for `student`, now.

    Checks, in order: the actor may request this type for this student (a student for
    themself; the registrar or a college admin for a student in scope — anyone else gets
    NotFound for a student they cannot see, PermissionDenied otherwise), the type's eligibility
    rules, the free quota for the current term, and that every character of the variable text
    has a glyph. Then renders the PDF, stores it and records it with its SHA-256 in the audit
    chain, in one transaction; the stored file is removed if anything after it fails.
    """
    user = actor.require_user()
    if not (permissions.is_own_student(user, student) or permissions.is_issuer_for(user, student)):
        raise NotFound("未找到该学生，或您无权查看。")
    document_type = DocumentType.objects.filter(code=type_code, is_active=True).first()
    if document_type is None:
        raise NotFound("没有这种证明类型，或该类型已停用。")
    if not permissions.can_request(user, student, document_type):
        raise PermissionDenied(f"您不能为该学生开具{document_type.name}。")
    if language not in LANGUAGES:
        raise ValidationFailed(
            {"language": [f"暂不支持该语言的{document_type.name}：{language}。"]}
        )
    if not document_type.auto_issue:
        raise DomainError(
            f"{document_type.name}需经人工审核，暂不支持在线自助开具，请联系学籍管理部门。",
            code="needs_approval",
        )
    term = selectors.current_term()
    ctx = Context(
        student=student,
        document_type=document_type,
        term=term,
        for_self=permissions.is_own_student(user, student),
    )
    failures = check_eligibility(ctx)
    if failures:
        raise DomainError(failures[0].message, code=f"rule_{failures[0].code}")

    now = timezone.now()
    today = timezone.localdate(now)
    stored: str | None = None
    try:
        with transaction.atomic():
            # Lock the student's row: two requests at once cannot both pass the quota check.
            Student.objects.select_for_update().filter(pk=student.pk).first()
            if selectors.issued_this_term(student, document_type, term) >= (
                document_type.free_per_term
            ):
                raise DomainError(selectors.quota_message(document_type), code="quota")
            serial = _next_serial(document_type, today.year)
            code = _new_code()
            context = template_context(student, issued=today, serial=serial, code=code)
            require_glyphs(_variable_text(context), field="name")
            content = render_pdf(render_document_html(document_type, context))
            digest = hashlib.sha256(content).hexdigest()
            document = IssuedDocument(
                document_type=document_type,
                student=student,
                term=term,
                serial=serial,
                verification_code=code,
                language=language,
                requested_by=user,
                issued_at=now,
                sha256=digest,
            )
            stored = default_storage.save(
                document.pdf.field.generate_filename(document, f"{serial}.pdf"),
                ContentFile(content),
            )
            document.pdf.name = stored
            document.save()
            audit_record(
                actor=actor,
                action="certificate.issue",
                target=document,
                summary=f"{student.student_number} 开具{document_type.name}（{serial}）",
                after={
                    "serial": serial,
                    "type": document_type.code,
                    "student": student.student_number,
                    "sha256": digest,
                    "language": language,
                },
            )
    except BaseException:
        if stored is not None:
            default_storage.delete(stored)
        raise
    return document


def document_open(*, actor: Actor, document: IssuedDocument) -> FileResponse:
    """The PDF as a download, audited (`certificate.download`)."""
    try:
        handle = document.pdf.open("rb")
    except FileNotFoundError:
        raise NotFound("证明文件已不在存储中。") from None
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="certificate.download",
            target=document,
            summary=f"下载{document.document_type.name}（{document.serial}）",
        )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{document.document_type.name}-{document.serial}.pdf",
        content_type="application/pdf",
    )


def document_revoke(actor: Actor, doc: IssuedDocument, reason: str) -> IssuedDocument:
    """Revoke a valid document (the registrar only), with a reason; audited."""
    user = actor.require_user()
    if not permissions.can_revoke(user, doc):
        raise PermissionDenied("只有学籍管理部门可以撤销证明。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["请填写撤销原因。"]})
    if len(reason) > 400:
        raise ValidationFailed({"reason": ["撤销原因不能超过 400 字。"]})
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=doc.pk)
        if locked.status != DocumentStatus.VALID:
            raise DomainError(
                f"证明 {locked.serial} 当前为“{locked.get_status_display()}”，不能撤销。"
            )
        locked.status = DocumentStatus.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_by = user
        locked.revoke_reason = reason
        locked.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
        audit_record(
            actor=actor,
            action="certificate.revoke",
            target=locked,
            summary=f"撤销{locked.document_type.name}（{locked.serial}）：{reason}",
            before={"status": DocumentStatus.VALID},
            after={"status": DocumentStatus.REVOKED, "reason": reason},
        )
    return locked


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_number(number: str) -> str:
    """2024000001 → 2024****01."""
    if len(number) <= 6:
        return number[:1] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def document_verify(
    *, ip: str, code: str, upload: bytes | None = None
) -> tuple[IssuedDocument | None, bool | None]:
    """Look a code up for the public page, audited with the visitor's IP only. Returns the
    document (None when unknown) and, when a file was uploaded, whether its SHA-256 matches."""
    document = selectors.document_by_code(code)
    matches = None
    if document is not None and upload is not None:
        matches = secrets.compare_digest(hashlib.sha256(upload).hexdigest(), document.sha256)
    outcome = "未找到" if document is None else document.get_status_display()
    if matches is not None:
        outcome += "，上传文件" + ("与存档一致" if matches else "不一致")
    with transaction.atomic():
        audit_record(
            actor=Actor(user=None, ip=ip, via="verify"),
            action="certificate.verify",
            target=document,
            target_type="" if document else "certificates.issueddocument",
            target_id="" if document else code[:32],
            summary=f"公开核验：{outcome}",
        )
    return document, matches
