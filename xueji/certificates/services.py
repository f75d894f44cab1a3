"""Issuing, downloading, verifying and revoking documents. Every one of them is audited; an
issued PDF's SHA-256 goes into the audit chain with the serial."""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.http import FileResponse
from django.template import TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from xueji.audit.services import audit_record
from xueji.certificates import permissions, selectors
from xueji.certificates.models import DocumentStatus, DocumentType, IssuedDocument, SerialCounter
from xueji.certificates.pdf import render_pdf, require_glyphs
from xueji.certificates.produce import produce_pdf
from xueji.certificates.qr import qr_svg
from xueji.certificates.rules import RULES, Context, check_eligibility
from xueji.certificates.templating import check_template, render_template, sample_context
from xueji.certificates.transcript import transcript_for
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.org.models import CodeItem, CodeTable
from xueji.org.selectors import code_name, school_current
from xueji.students.models import Student

LANGUAGES = ("zh", "en")
# Verification codes: no 0/O, 1/I/L, so a code read out or typed from paper is unambiguous.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
_DIGITS = "〇一二三四五六七八九"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def english_date(day: date) -> str:
    """22 November 2026."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _years(duration: Decimal) -> str:
    if duration == duration.to_integral_value() and 0 < duration < 10:
        return _DIGITS[int(duration)]
    return f"{duration.normalize()}"


def verify_url(code: str) -> str:
    return f"{settings.BASE_URL}/verify/{code}/"


def school_name() -> str:
    school = school_current()
    return (school.name if school else "") or settings.SCHOOL_NAME


def _photo_data_url(student: Student) -> str:
    """The record's photo as a data: URL (the only images a template may load), or ""."""
    if not student.photo:
        return ""
    try:
        with student.photo.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        return ""
    kind = "png" if content.startswith(b"\x89PNG") else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(content).decode()}"


def _history(student: Student) -> list[dict[str, str]]:
    return [
        {
            "date": chinese_date(entry.effective_date),
            "action": str(entry.get_action_display()),
            "note": entry.note,
        }
        for entry in student.ledger.order_by("effective_date", "pk")
    ]


def _lazy(compute: Callable[[], Any]) -> Callable[[], Any]:
    """A value the template engine computes only if the template prints it, and only once."""
    return functools.cache(compute)


def record_context(student: Student) -> dict[str, Any]:
    """The 学籍表's variables (and the transcript's), each computed only when printed."""

    def transcript():
        return transcript_for(student)

    transcript_once = _lazy(transcript)
    return {
        "birth_date": _lazy(lambda: chinese_date(student.birth_date)),
        "ethnicity": _lazy(lambda: code_name(CodeTable.ETHNICITY, student.ethnicity)),
        "political_status": _lazy(
            lambda: code_name(CodeTable.POLITICAL_STATUS, student.political_status)
        ),
        "id_type": _lazy(lambda: code_name(CodeTable.ID_TYPE, student.id_type)),
        "id_number": student.id_number,
        "native_region": _lazy(
            lambda: code_name(CodeTable.REGION, student.native_region) or student.native_region
        ),
        "candidate_number": student.candidate_number,
        "class_name": student.school_class.name if student.school_class_id else "",
        "study_form": _lazy(lambda: code_name(CodeTable.STUDY_FORM, student.study_form)),
        "enrollment_date": _lazy(lambda: chinese_date(student.enrollment_date)),
        "expected_graduation": _lazy(lambda: chinese_date(student.expected_graduation_date)),
        "registry_status": _lazy(lambda: str(student.get_registry_status_display())),
        "photo": _lazy(lambda: _photo_data_url(student)),
        "history": _lazy(lambda: _history(student)),
        "terms": _lazy(lambda: transcript_once().terms if transcript_once() else ()),
        "credits_total": _lazy(
            lambda: f"{transcript_once().credits_total.normalize():f}" if transcript_once() else ""
        ),
        "gpa": _lazy(lambda: transcript_once().gpa if transcript_once() else ""),
    }


def template_context(student: Student, *, issued: date, serial: str, code: str) -> dict[str, Any]:
    """The variables a document template sees (listed in `xueji.certificates.builtin`)."""
    url = verify_url(code)
    return {
        **record_context(student),
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


def _english_code_name(table: str, code: str) -> str:
    # The current name (valid_to empty) first, then the most recent historical one.
    names = CodeItem.objects.filter(table=table, code=code).order_by(
        F("valid_to").desc(nulls_first=True)
    )
    return next((n for n in names.values_list("name_en", flat=True) if n), "")


def english_name(student: Student) -> str:
    """The name in pinyin as "Surname Given" (each word capitalised): "Shan Xiaoming"."""
    words = (student.name_pinyin or "").split()
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


def school_name_en() -> str:
    school = school_current()
    return (school.name_en if school else "") or school_name()


def template_context_en(
    student: Student, *, issued: date, serial: str, code: str
) -> dict[str, Any]:
    """The variables of an English template: the same names as `template_context`, in English.
    A college, major or school without an English name keeps its Chinese name."""
    name = english_name(student)
    if not name:
        raise DomainError(
            "该学生没有姓名拼音，不能开具英文证明。请先在学籍信息中补充姓名拼音。",
            field="name_pinyin",
            code="no_pinyin",
        )
    url = verify_url(code)
    with translation.override("en"):
        status = str(student.get_status_display())
    return {
        **record_context(student),
        "school": school_name_en(),
        "name": name,
        "gender": _english_code_name(CodeTable.GENDER, student.gender) or student.gender,
        "student_number": student.student_number,
        "college": student.college.name_en or student.college.name,
        "major": student.major.name_en or student.major.name,
        "level": _english_code_name(CodeTable.EDUCATION_LEVEL, student.level) or student.level,
        "enrolled": f"{_MONTHS[student.enrollment_date.month - 1]} {student.enrollment_date.year}",
        "years": f"{student.duration.normalize():f}",
        "status": status,
        "issued": english_date(issued),
        "serial": serial,
        "verify_url": url,
        "qr": mark_safe(qr_svg(url)),  # noqa: S308 (segno's SVG of our own URL)
    }


def render_document_html(
    document_type: DocumentType, context: dict[str, Any], language: str = "zh"
) -> str:
    if language not in document_type.languages:
        raise DomainError(
            f"{document_type.name}目前没有该语言的模板（{language}），不能开具。",
            code="language",
            field="language",
        )
    source = document_type.template_html_en if language == "en" else document_type.template_html
    field = "template_html_en" if language == "en" else "template_html"
    try:
        return render_template(source, context)
    except TemplateSyntaxError as exc:
        raise DomainError(
            f"“{document_type.name}”的模板有语法错误：{exc}。请学籍管理部门修改模板。",
            field=field,
        ) from exc
    except DomainError:
        raise
    except Exception as exc:  # a template that compiles but cannot fill in (a bad {% url %} …)
        raise DomainError(
            f"“{document_type.name}”的模板无法生成文件（{type(exc).__name__}: {exc}）。"
            "请学籍管理部门修改模板。",
            field=field,
        ) from exc


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


def requestable_type(
    user, student: Student, type_code: str, language: str, *, verb: str
) -> DocumentType:
    """The active type `type_code` if `user` may ask for it for `student` in `language` — the
    checks an instant issue and a request for approval share. NotFound for a student the user
    cannot see or an unknown type, PermissionDenied, ValidationFailed on the language."""
    if not (permissions.is_own_student(user, student) or permissions.is_issuer_for(user, student)):
        raise NotFound("未找到该学生，或您无权查看。")
    document_type = DocumentType.objects.filter(code=type_code, is_active=True).first()
    if document_type is None:
        raise NotFound("没有这种证明类型，或该类型已停用。")
    if not permissions.can_request(user, student, document_type):
        raise PermissionDenied(f"您不能为该学生{verb}{document_type.name}。")
    if language not in LANGUAGES or language not in document_type.languages:
        raise ValidationFailed(
            {"language": [f"暂不支持该语言的{document_type.name}：{language}。"]}
        )
    return document_type


@contextmanager
def files_removed_on_error() -> Iterator[list[str]]:
    """A list to append the names of stored files to; they are deleted again if the block
    fails (its transaction rolls back, so no row points at them)."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


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
    document_type = requestable_type(user, student, type_code, language, verb="开具")
    if not document_type.auto_issue:
        raise DomainError(
            f"{document_type.name}需经人工审核：请在“我的证明”中填写用途提交申请，"
            "学籍管理部门审核通过后即可下载。",
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

    with files_removed_on_error() as stored, transaction.atomic():
        # Lock the student's row: two requests at once cannot both pass the quota check.
        Student.objects.select_for_update().filter(pk=student.pk).first()
        if selectors.issued_this_term(student, document_type, term) >= (
            document_type.free_per_term
        ):
            raise DomainError(selectors.quota_message(document_type), code="quota")
        return _issue(actor, document_type, student, term, language, stored=stored)


def document_content(
    document_type: DocumentType,
    student: Student,
    language: str,
    *,
    issued: date,
    serial: str,
    code: str,
) -> str:
    """The filled-in HTML of one document, after checking that every character of the variable
    text has a glyph (GlyphMissing names the one that has none)."""
    make_context = template_context_en if language == "en" else template_context
    context = make_context(student, issued=issued, serial=serial, code=code)
    html = render_document_html(document_type, context, language)
    # Everything printed: names, code names, history notes and the template's own text.
    require_glyphs([strip_tags(html)], field="name")
    return html


def _store(
    actor: Actor,
    document: IssuedDocument,
    content: bytes,
    stored: list[str],
    summary: str,
) -> IssuedDocument:
    """Save the PDF and the row, and the audit event with the PDF's SHA-256. Inside the
    caller's transaction; the file's name is appended to `stored` so the caller can remove it
    if the transaction fails."""
    document.sha256 = hashlib.sha256(content).hexdigest()
    name = default_storage.save(
        document.pdf.field.generate_filename(document, f"{document.serial}.pdf"),
        ContentFile(content),
    )
    stored.append(name)
    document.pdf.name = name
    document.save()
    audit_record(
        actor=actor,
        action="certificate.issue",
        target=document,
        summary=summary,
        after={
            "serial": document.serial,
            "type": document.document_type.code,
            "student": document.student.student_number,
            "sha256": document.sha256,
            "language": document.language,
            **({"batch": document.batch_id} if document.batch_id else {}),
            **({"supersedes": document.supersedes.serial} if document.supersedes else {}),
        },
    )
    return document


def _issue(
    actor: Actor,
    document_type: DocumentType,
    student: Student,
    term,
    language: str,
    *,
    stored: list[str],
    supersedes: IssuedDocument | None = None,
) -> IssuedDocument:
    """Number, render, store and audit one document now. Inside the caller's transaction."""
    now = timezone.now()
    today = timezone.localdate(now)
    serial = _next_serial(document_type, today.year)
    code = _new_code()
    html = document_content(
        document_type, student, language, issued=today, serial=serial, code=code
    )
    document = IssuedDocument(
        document_type=document_type,
        student=student,
        term=term,
        serial=serial,
        verification_code=code,
        language=language,
        requested_by=actor.user,
        issued_at=now,
        supersedes=supersedes,
    )
    what = "重新开具" if supersedes else "开具"
    return _store(
        actor,
        document,
        produce_pdf(html, f"{document_type.name} {serial}"),
        stored,
        f"{student.student_number} {what}{document_type.name}（{serial}）",
    )


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


# --- Document types: the registrar's template editor ------------------------------------------

# The fields the editor changes, in the order the audit event lists them.
EDITABLE_FIELDS = (
    "name",
    "name_en",
    "for_students",
    "for_graduates",
    "for_staff",
    "rules",
    "auto_issue",
    "free_per_term",
    "is_active",
    "template_html",
    "template_html_en",
)
_HTML_FIELDS = ("template_html", "template_html_en")
MAX_FREE_PER_TERM = 1000


def _require_type_editor(actor: Actor) -> None:
    user = actor.require_user()
    if not permissions.can_edit_types(user):
        raise PermissionDenied("只有学籍管理部门可以修改证明类型和模板。")


def _validate_type_data(data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned editable fields of `data`; ValidationFailed with every problem found."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["请填写名称。"]
    elif len(name) > 40:
        errors["name"] = ["名称不能超过 40 字。"]
    cleaned["name"] = name
    name_en = str(data.get("name_en") or "").strip()
    if len(name_en) > 80:
        errors["name_en"] = ["英文名称不能超过 80 个字符。"]
    cleaned["name_en"] = name_en
    for field in ("for_students", "for_graduates", "for_staff", "auto_issue", "is_active"):
        cleaned[field] = bool(data.get(field))
    rules = list(data.get("rules") or [])
    unknown = [code for code in rules if code not in RULES]
    if unknown:
        errors["rules"] = [f"未知的开具条件：{'、'.join(map(str, unknown))}。"]
    cleaned["rules"] = [code for code in RULES if code in rules]  # rules.py order, no repeats
    quota = data.get("free_per_term")
    try:
        quota = int(quota)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors["free_per_term"] = [f"每学期免费份数应为整数，“{quota}”不是。"]
    else:
        if quota < 0 or quota > MAX_FREE_PER_TERM:
            errors["free_per_term"] = [
                f"每学期免费份数应在 0 到 {MAX_FREE_PER_TERM} 之间，“{quota}”不在此范围。"
            ]
    cleaned["free_per_term"] = quota
    for field in _HTML_FIELDS:
        cleaned[field] = str(data.get(field) or "").replace("\r\n", "\n")
        if field == "template_html_en" and not cleaned[field].strip():
            cleaned[field] = ""  # no English version
            continue
        try:
            check_template(cleaned[field], field=field)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if not (cleaned["for_students"] or cleaned["for_graduates"] or cleaned["for_staff"]):
        errors.setdefault("for_students", []).append("请至少选择一种可以申请的人。")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _audit_value(field: str, value: Any) -> Any:
    if field in _HTML_FIELDS:
        return {"sha256": hashlib.sha256(value.encode()).hexdigest(), "chars": len(value)}
    return value


def document_type_save(
    actor: Actor, document_type: DocumentType, data: dict[str, Any]
) -> DocumentType:
    """Save the registrar's edit of a type. Validates everything first (the templates compile
    with the certificates' engine and use only known variables, the quota is 0 or more) and
    saves nothing if anything is wrong. Audited as `document_type.update` with the changed
    fields before and after; a template appears as its SHA-256, not its text."""
    _require_type_editor(actor)
    cleaned = _validate_type_data(data)
    with transaction.atomic():
        locked = DocumentType.objects.select_for_update().get(pk=document_type.pk)
        changed = [f for f in EDITABLE_FIELDS if getattr(locked, f) != cleaned[f]]
        if not changed:
            return locked
        before = {f: _audit_value(f, getattr(locked, f)) for f in changed}
        for field in changed:
            setattr(locked, field, cleaned[field])
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="document_type.update",
            target=locked,
            summary=f"修改证明类型“{locked.name}”（{locked.code}）：{'、'.join(changed)}",
            before=before,
            after={f: _audit_value(f, cleaned[f]) for f in changed},
        )
    return locked


def document_type_preview(actor: Actor, template_html: str, language: str = "zh") -> bytes:
    """The PDF of an unsaved template filled with the fictitious sample student (王䶮 / Wang
    Yan). Nothing is stored, issued or audited. ValidationFailed / GlyphMissing as on saving."""
    _require_type_editor(actor)
    field = "template_html_en" if language == "en" else "template_html"
    source = (template_html or "").replace("\r\n", "\n")
    check_template(source, field=field)
    context = sample_context(language)
    require_glyphs(_variable_text(context), field=field)
    return render_pdf(render_template(source, context))


# --- Approved requests and re-issue -----------------------------------------------------------


def issue_for_request(actor: Actor, request) -> IssuedDocument:
    """Issue the document of an approved `DocumentRequest`, inside the approval's transaction
    (an error refuses the approval and leaves no file behind)."""
    with files_removed_on_error() as stored, transaction.atomic():
        return _issue(
            actor,
            request.document_type,
            request.student,
            selectors.current_term(),
            request.language,
            stored=stored,
        )


def document_reissue(actor: Actor, document: IssuedDocument, reason: str) -> IssuedDocument:
    """Issue a fresh copy of a valid document with today's data (after a correction, say): a
    new serial and code; the old one becomes SUPERSEDED and its verification page says so.
    The registrar only; the reason is recorded. Not counted against the free quota."""
    user = actor.require_user()
    if not permissions.can_reissue(user, document):
        raise PermissionDenied("只有学籍管理部门可以重新开具证明。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["请填写重新开具的原因。"]})
    if len(reason) > 400:
        raise ValidationFailed({"reason": ["原因不能超过 400 字。"]})
    with files_removed_on_error() as stored, transaction.atomic():
        old = (
            IssuedDocument.objects.select_for_update()
            .select_related("document_type", "student")
            .get(pk=document.pk)
        )
        if old.status != DocumentStatus.VALID:
            raise DomainError(
                f"证明 {old.serial} 当前为“{old.get_status_display()}”，不能重新开具。"
            )
        # A fresh copy says what is true today: the type's rules must hold today.
        failures = check_eligibility(
            Context(
                student=old.student,
                document_type=old.document_type,
                term=selectors.current_term(),
                for_self=False,
            )
        )
        if failures:
            raise DomainError(
                f"不能重新开具：{failures[0].message}如该证明已不属实，请撤销。",
                code=f"rule_{failures[0].code}",
            )
        new = _issue(
            actor,
            old.document_type,
            old.student,
            selectors.current_term(),
            old.language,
            stored=stored,
            supersedes=old,
        )
        old.status = DocumentStatus.SUPERSEDED
        old.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="certificate.supersede",
            target=old,
            summary=f"{old.serial} 被 {new.serial} 取代：{reason}",
            before={"status": DocumentStatus.VALID},
            after={"status": DocumentStatus.SUPERSEDED, "by": new.serial, "reason": reason},
        )
    return new
