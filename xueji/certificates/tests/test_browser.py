"""The certificate flow in Chromium: a student requests a 在校证明 and downloads the PDF (read
back with poppler's pdftotext and rendered with pdftoppm), a visitor without an account follows
the verification URL printed on it and checks the file, the registrar revokes it, and a student
who may not have one is told why. BASE_URL points at the live server, so the URL in the PDF is
the page the browser opens. Screenshots and the rendered page go to test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations import RunPython
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from PIL import Image

from xueji.certificates.models import DocumentStatus, IssuedDocument
from xueji.conftest import Cast
from xueji.org.models import Term
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.registration.services import registration_open
from xueji.students.models import StudentStatus
from xueji.students.tests import test_browser as base

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

# The students app's Chromium and live-cast fixtures, shared rather than copied.
browser = base.browser
page = base.page
live_cast = base.live_cast
log_in = base.log_in
shot = base.shot

SERIAL = re.compile(r"\d{4}ZXZM\d{6}")


def builtin_types_install() -> None:
    """The built-in document types come from the app's data migrations, and the flush after a
    transactional test removes them: run those migrations' functions again, in order, as on a
    fresh database (each leaves rows it already finds alone)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(key for key in loader.disk_migrations if key[0] == "certificates"):
        for operation in loader.disk_migrations[key].operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)


@pytest.fixture
def live_registered(live_cast: Cast, term: Term, live_server, settings) -> Cast:
    """The cast with the built-in document types, registration opened for the current term
    and only `student` registered; document URLs point at the live server."""
    builtin_types_install()
    registration_open(actor=live_cast.actor(live_cast.registrar), term=term)
    TermRegistration.objects.filter(term=term, student=live_cast.student).update(
        state=RegistrationState.REGISTERED
    )
    settings.BASE_URL = live_server.url
    return live_cast


def request_and_download(page, live_server, folder: Path) -> tuple[IssuedDocument, Path, str]:
    """As `student`: request a 在校证明 on 我的证明 and download it through the page's link.
    Returns the document, the saved PDF and the success message."""
    log_in(page, live_server, "student")
    page.get_by_role("link", name="我的证明").first.click()
    page.wait_for_url(f"{live_server.url}/certificates/me/")
    option = page.locator('[data-type="zxzm"]')
    assert "在校证明" in option.inner_text()
    option.get_by_role("button", name=re.compile(r"^开具")).first.click()
    message = page.get_by_role("alert").filter(has_text="已开具")
    message.wait_for()
    document = IssuedDocument.objects.get()
    with page.expect_download() as info:
        page.locator("#my-documents").get_by_role("link", name="下载 PDF").click()
    download = info.value
    assert download.suggested_filename == f"在校证明-{document.serial}.pdf"
    path = folder / "original.pdf"
    download.save_as(path)
    return document, path, message.inner_text()


def poppler(program: str) -> str:
    found = shutil.which(program)
    assert found, f"{program} is missing: apt-get install poppler-utils"
    return found


def pdf_text(path: Path) -> str:
    return subprocess.run(  # noqa: S603 (fixed program and our own paths)
        [poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def verify_url_in(text: str, live_server) -> str:
    found = re.search(re.escape(live_server.url) + r"/verify/[A-Z0-9]+/", text)
    assert found, f"no verification URL in the PDF text:\n{text}"
    return found.group(0)


def dark_pixels(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:200])


def test_a_student_requests_an_enrolment_certificate_and_the_downloaded_pdf_says_so(
    page, live_server, live_registered: Cast, tmp_path: Path
) -> None:
    student = live_registered.student

    document, path, message = request_and_download(page, live_server, tmp_path)

    assert message.strip() == f"已开具在校证明，编号 {document.serial}。"
    assert SERIAL.fullmatch(document.serial)
    assert document.student == student
    assert document.status == DocumentStatus.VALID
    assert document.serial in page.locator("#my-documents").inner_text()
    shot(page, "certificates-student-issued")

    text = pdf_text(path)
    flat = re.sub(r"\s+", "", text)  # the title is letter-spaced; lines wrap
    assert "在校证明" in flat
    assert f"兹证明{student.name}" in flat
    assert f"学号{student.student_number}" in flat
    assert document.serial in text
    assert verify_url_in(text, live_server) == (
        f"{live_server.url}/verify/{document.verification_code}/"
    )

    base.ARTIFACTS.mkdir(exist_ok=True)
    png = base.ARTIFACTS / "certificates-downloaded-page-1"
    first_page = ["-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(  # noqa: S603 (fixed program and our own paths)
        [poppler("pdftoppm"), *first_page, str(path), str(png)], check=True
    )
    with Image.open(png.with_suffix(".png")) as rendered:
        width, height = rendered.size
        assert (round(width / 50 * 25.4), round(height / 50 * 25.4)) == (210, 297)  # A4
        # Not a blank page: the school and the title in the top third, the serial and the
        # verification line in the bottom third, and the QR code in the bottom left corner.
        assert dark_pixels(rendered.crop((0, 0, width, height // 3))) > 1000
        assert dark_pixels(rendered.crop((0, 2 * height // 3, width, height))) > 800
        assert dark_pixels(rendered.crop((0, 4 * height // 5, width // 5, height))) > 400


def test_the_url_printed_on_the_pdf_opens_a_public_page_with_masked_data_only(
    browser, page, live_server, live_registered: Cast, tmp_path: Path
) -> None:
    student = live_registered.student
    document, path, _message = request_and_download(page, live_server, tmp_path)
    url = verify_url_in(pdf_text(path), live_server)

    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(url)

    status = visitor.locator("#verify-status")
    assert status.get_attribute("data-status") == "valid"
    assert "该证明有效" in status.inner_text()
    assert visitor.locator("#masked-name").inner_text() == "单*明"
    assert visitor.locator("#masked-number").inner_text() == "2024****01"
    assert document.serial in visitor.content()
    assert student.name not in visitor.content()
    assert student.student_number not in visitor.content()
    assert visitor.get_by_role("link", name="我的证明").count() == 0  # nobody is logged in
    shot(visitor, "certificates-verify-valid")
    visitor.context.close()


def test_on_the_public_page_the_downloaded_pdf_matches_and_a_changed_copy_does_not(
    browser, page, live_server, live_registered: Cast, tmp_path: Path
) -> None:
    document, path, _message = request_and_download(page, live_server, tmp_path)
    tampered = bytearray(path.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    (tmp_path / "changed.pdf").write_bytes(bytes(tampered))
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(verify_url_in(pdf_text(path), live_server))

    visitor.get_by_label("PDF 文件").set_input_files(str(path))
    visitor.get_by_role("button", name="核对").click()
    result = visitor.locator("#hash-result")
    result.wait_for()
    assert result.get_attribute("data-match") == "yes"
    assert result.inner_text().strip() == "与存档一致"
    shot(visitor, "certificates-verify-match")

    visitor.get_by_label("PDF 文件").set_input_files(str(tmp_path / "changed.pdf"))
    visitor.get_by_role("button", name="核对").click()
    visitor.locator('#hash-result[data-match="no"]').wait_for()
    assert "不一致（文件可能被修改）" in visitor.locator("#hash-result").inner_text()
    assert "与存档一致" not in visitor.content()
    shot(visitor, "certificates-verify-mismatch")
    visitor.context.close()

    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


def test_the_registrar_revokes_the_document_and_the_public_page_shows_it_revoked(
    browser, page, live_server, live_registered: Cast, tmp_path: Path
) -> None:
    document, path, _message = request_and_download(page, live_server, tmp_path)
    url = verify_url_in(pdf_text(path), live_server)

    registrar = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    staff = registrar.new_page()
    log_in(staff, live_server, "registrar")
    staff.goto(f"{live_server.url}/certificates/")
    staff.get_by_label("证明编号或学号").fill(document.serial)
    staff.get_by_role("button", name="查找").click()
    staff.wait_for_url(re.compile(rf"/certificates/\?q={document.serial}$"))
    row = staff.locator("#document-table tbody tr").filter(has_text=document.serial)
    assert row.count() == 1
    row.get_by_label("撤销原因").fill("学生申请退学，原证明作废")
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    staff.once("dialog", accept)
    row.get_by_role("button", name="撤销").click()
    staff.get_by_role("alert").filter(has_text=f"证明 {document.serial} 已撤销。").wait_for()
    assert dialogs == ["确定撤销该证明？撤销后核验页面将显示为已撤销。"]
    row = staff.locator("#document-table tbody tr").filter(has_text=document.serial)
    assert "已撤销" in row.inner_text()
    assert "学生申请退学，原证明作废" in row.inner_text()
    assert row.get_by_role("button", name="撤销").count() == 0
    shot(staff, "certificates-registrar-revoked")
    registrar.close()

    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert document.revoke_reason == "学生申请退学，原证明作废"
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(url)
    status = visitor.locator("#verify-status")
    assert status.get_attribute("data-status") == "revoked"
    day = timezone.localdate(document.revoked_at).strftime("%Y-%m-%d")
    assert status.inner_text().strip() == f"该证明已于 {day} 撤销，不再有效。"
    shot(visitor, "certificates-verify-revoked")
    visitor.context.close()


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("student", "您当前为休学状态，不能开具在校证明。"),
        ("other-student", "您尚未注册，不能开具在校证明。请先完成本学期注册。"),
    ],
    ids=["suspended", "not-registered"],
)
def test_a_student_who_may_not_have_one_sees_why_and_a_forced_post_is_refused(
    page, live_server, live_registered: Cast, username: str, reason: str
) -> None:
    if username == "student":
        live_registered.student.status = StudentStatus.SUSPENDED
        live_registered.student.save()
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}/certificates/me/")

    option = page.locator('[data-type="zxzm"]')
    assert reason in option.locator(".refusal").inner_text()
    assert option.locator("form").count() == 0
    shot(page, f"certificates-refused-{username}")

    # What a hand-made form would send: the page's CSRF token and type=zxzm.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.evaluate(
            """() => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = "/certificates/me/";
                const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
                for (const [name, value] of [["csrfmiddlewaretoken", token], ["type", "zxzm"]]) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }"""
        )
    assert posted.value.status == 400
    page.get_by_role("alert").filter(has_text=reason).wait_for()
    assert not IssuedDocument.objects.exists()
