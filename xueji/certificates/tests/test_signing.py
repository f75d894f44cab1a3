"""PAdES signature of issued PDFs: a certificate rendered by the PDF engine, signed with a key made
here at test time (no key is committed), validated with pyHanko's own validator against a trust
root; a tampered copy fails; unconfigured signing changes nothing; a broken configuration is
reported by the system check, naming the setting."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from xueji.certificates import signing
from xueji.certificates.pdf import render_pdf
from xueji.certificates.signing import (
    FIELD_NAME,
    SigningMisconfigured,
    check_signing_configuration,
    sign_pdf,
    signing_configured,
)

HTML = (
    '<!doctype html><html lang="zh-CN"><body>'
    "<h1>在校证明</h1><p>兹证明王䶮同学系我校计算机学院在籍学生。特此证明。</p>"
    "</body></html>"
)
NOW = dt.datetime.now(dt.UTC)
# The app's conftest clears the cache around every test, and the cache may be the database's.
pytestmark = pytest.mark.django_db

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Issued:
    key: SigningKey
    cert: x509.Certificate


def make_cert(
    name: str,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    key: SigningKey | None = None,
    not_before: dt.datetime = NOW - dt.timedelta(days=1),
    not_after: dt.datetime = NOW + dt.timedelta(days=365),
) -> Issued:
    """A certificate for `name`, self-signed unless `issuer` is given; a signing certificate
    (digitalSignature + nonRepudiation, as docs/howto/signing.md asks) unless `ca`."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "示例大学"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True)
    else:
        usage.update(digital_signature=True, content_commitment=True)
    signer = issuer or Issued(key, None)  # type: ignore[arg-type]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer.key, hashes.SHA256())
    )
    return Issued(key, cert)


def write_pem(path: Path, issued: Issued, *, password: str = "") -> tuple[Path, Path]:
    """Write `issued`'s key (encrypted when `password`) and certificate as PEM files."""
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    key_path, cert_path = path / "school.key", path / "school.crt"
    key_path.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    cert_path.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def configure(settings, **values: object) -> None:
    for name in ("KEY", "CERT", "CHAIN", "KEY_PASSWORD", "PKCS12", "PKCS12_PASSWORD"):
        setattr(settings, f"XUEJI_SIGNING_{name}", str(values.get(name.lower(), "")))


def validate(document: bytes, *trusted: x509.Certificate) -> PdfSignatureStatus:
    (embedded,) = PdfFileReader(io.BytesIO(document)).embedded_signatures
    context = ValidationContext(
        trust_roots=[
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
            for cert in trusted
        ]
    )
    return validate_pdf_signature(embedded, context)


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_pdf(HTML)


@pytest.fixture(scope="module")
def school() -> Issued:
    """A self-signed RSA signing certificate, as a school makes with openssl."""
    return make_cert("示例大学 学籍证明签章", key=rsa.generate_private_key(65537, 2048))


def test_a_rendered_certificate_is_signed_pades_and_validates_as_intact_valid_and_trusted(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school, password="口令 s3cret")
    configure(settings, key=key, cert=cert, key_password="口令 s3cret")
    assert signing_configured()

    signed = sign_pdf(rendered, reason="在校证明 ZM-2026-000001", location="示例大学")

    # An incremental update: the rendered bytes are kept, and the signature covers the file.
    assert signed.startswith(rendered)
    assert len(signed) > len(rendered)
    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert embedded.field_name == FIELD_NAME
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.sig_object["/Reason"] == "在校证明 ZM-2026-000001"
    assert embedded.sig_object["/Location"] == "示例大学"
    status = validate(signed, school.cert)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"
    assert status.signing_cert.subject.native["common_name"] == "示例大学 学籍证明签章"


def test_a_signature_is_valid_but_not_trusted_where_the_school_certificate_is_not_trusted(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    stranger = make_cert("另一所学校")

    status = validate(sign_pdf(rendered), stranger.cert)

    assert status.intact
    assert status.valid
    assert not status.trusted
    assert not status.bottom_line


def test_the_signed_pdf_still_extracts_its_chinese_text(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext is missing: apt-get install poppler-utils"
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    source = tmp_path / "signed.pdf"
    source.write_bytes(sign_pdf(rendered))

    text = subprocess.run(  # noqa: S603 (our own file name)
        [pdftotext, "-enc", "UTF-8", str(source), "-"], capture_output=True, check=True
    ).stdout.decode()

    assert "在校证明" in text
    assert "兹证明王䶮同学系我校计算机学院在籍学生" in text


def test_poppler_an_independent_validator_also_finds_the_signature_valid_over_the_whole_file(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    # What Linux PDF readers (Evince, Okular) use; they do not trust the school's certificate.
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "pdfsig is missing: apt-get install poppler-utils"
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    source = tmp_path / "signed.pdf"
    source.write_bytes(sign_pdf(rendered))

    report = subprocess.run(  # noqa: S603 (our own file name)
        [pdfsig, str(source)], capture_output=True, check=False
    ).stdout.decode()

    assert f"Signature Field Name: {FIELD_NAME}" in report
    assert "Signer Certificate Common Name: 示例大学 学籍证明签章" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report
    assert "Signature Validation: Signature is Valid." in report


def test_a_byte_changed_inside_the_signed_range_is_reported_not_intact(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    signed = bytearray(sign_pdf(rendered))
    # The binary comment on the header's second line: covered by the signature, ignored by the
    # parser, so the file still opens and only the digest can tell.
    assert signed[:9] == b"%PDF-1.7\n" and signed[9:10] == b"%"
    signed[10] ^= 0x01

    status = validate(bytes(signed), school.cert)

    # The document digest no longer matches; the CMS signature over the signed attributes (which
    # hold the old digest) is still mathematically valid, which pyHanko reports as `valid`.
    assert not status.intact
    assert not status.bottom_line


def test_content_added_to_the_page_after_signing_is_reported_as_a_disallowed_change(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    signed = sign_pdf(rendered)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    overlay = writer.add_object(generic.StreamObject(stream_data=b"0 0 0 rg 72 72 200 40 re f"))
    writer.add_stream_to_page(0, overlay)
    tampered = io.BytesIO()
    writer.write(tampered)

    status = validate(tampered.getvalue(), school.cert)

    # The signed revision itself is untouched, but the file goes on past it with a change to
    # the page that an approval signature does not allow.
    assert status.intact
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.docmdp_ok is False
    assert not status.bottom_line


def test_an_intermediate_from_the_chain_setting_is_embedded_so_a_reader_trusting_the_root_trusts_it(
    settings, tmp_path: Path, rendered: bytes
) -> None:
    root = make_cert("示例大学根证书", ca=True)
    intermediate = make_cert("示例大学文书签发 CA", issuer=root, ca=True)
    leaf = make_cert("示例大学 学籍证明签章", issuer=intermediate)
    key, cert = write_pem(tmp_path, leaf)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(intermediate.cert.public_bytes(serialization.Encoding.PEM))
    configure(settings, key=key, cert=cert, chain=chain)

    status = validate(sign_pdf(rendered), root.cert)

    assert status.intact and status.valid and status.trusted
    assert status.bottom_line


def test_a_pkcs12_file_signs_as_well(settings, tmp_path: Path, rendered: bytes) -> None:
    issued = make_cert("示例大学 学籍证明签章")
    bundle = tmp_path / "school.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"school",
            issued.key,
            issued.cert,
            None,
            serialization.BestAvailableEncryption(b"p12-pass"),
        )
    )
    configure(settings, pkcs12=bundle, pkcs12_password="p12-pass")

    status = validate(sign_pdf(rendered), issued.cert)

    assert status.intact and status.valid and status.trusted


def test_without_signing_settings_the_pdf_is_returned_unchanged_and_the_check_is_silent(
    settings, rendered: bytes
) -> None:
    configure(settings)

    assert not signing_configured()
    assert sign_pdf(rendered, reason="在校证明") == rendered
    assert check_signing_configuration() == []


def test_the_signer_is_loaded_once_and_reused_by_later_signatures(
    settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school)
    configure(settings, key=key, cert=cert)
    sign_pdf(rendered)
    loads = signing._signer.cache_info().misses

    sign_pdf(rendered)
    sign_pdf(rendered)

    assert signing._signer.cache_info().misses == loads


def misconfigure(kind: str, settings, tmp_path: Path, school: Issued) -> str:
    """Set up the misconfiguration `kind`; return the setting the message must name."""
    if kind == "missing key file":
        _, cert = write_pem(tmp_path, school)
        configure(settings, key=tmp_path / "nowhere.key", cert=cert)
        return "XUEJI_SIGNING_KEY"
    if kind == "wrong password":
        key, cert = write_pem(tmp_path, school, password="right")
        configure(settings, key=key, cert=cert, key_password="wrong")
        return "XUEJI_SIGNING_KEY_PASSWORD"
    if kind == "encrypted key without password":
        key, cert = write_pem(tmp_path, school, password="right")
        configure(settings, key=key, cert=cert)
        return "XUEJI_SIGNING_KEY_PASSWORD"
    if kind == "key of another certificate":
        key, _ = write_pem(tmp_path, make_cert("别的密钥"))
        cert = tmp_path / "school-only.crt"
        cert.write_bytes(school.cert.public_bytes(serialization.Encoding.PEM))
        configure(settings, key=key, cert=cert)
        return "XUEJI_SIGNING_CERT"
    if kind == "certificate not set":
        key, _ = write_pem(tmp_path, school)
        configure(settings, key=key)
        return "XUEJI_SIGNING_CERT"
    if kind == "expired certificate":
        expired = make_cert(
            "过期证书",
            not_before=NOW - dt.timedelta(days=400),
            not_after=NOW - dt.timedelta(days=1),
        )
        key, cert = write_pem(tmp_path, expired)
        configure(settings, key=key, cert=cert)
        return "XUEJI_SIGNING_CERT"
    if kind == "wrong pkcs12 password":
        bundle = tmp_path / "school.p12"
        bundle.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"school",
                school.key,
                school.cert,
                None,
                serialization.BestAvailableEncryption(b"a"),
            )
        )
        configure(settings, pkcs12=bundle, pkcs12_password="b")
        return "XUEJI_SIGNING_PKCS12_PASSWORD"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing key file",
        "wrong password",
        "encrypted key without password",
        "key of another certificate",
        "certificate not set",
        "expired certificate",
        "wrong pkcs12 password",
    ],
)
def test_a_broken_signing_configuration_is_reported_by_the_check_and_refused_naming_the_setting(
    kind: str, settings, tmp_path: Path, rendered: bytes, school: Issued
) -> None:
    setting = misconfigure(kind, settings, tmp_path, school)

    (problem,) = check_signing_configuration()
    assert isinstance(problem, Error)
    assert problem.id == "certificates.E001"
    assert problem.msg.startswith("证明文书数字签名配置有误：")
    assert setting in problem.msg
    with pytest.raises(SigningMisconfigured) as refused:
        sign_pdf(rendered)
    assert setting in refused.value.message


def test_manage_py_check_fails_on_a_wrong_key_password(
    settings, tmp_path: Path, school: Issued
) -> None:
    key, cert = write_pem(tmp_path, school, password="right")
    configure(settings, key=key, cert=cert, key_password="wrong")

    with pytest.raises(SystemCheckError) as failed:
        call_command("check", tags=["certificates"])

    assert "XUEJI_SIGNING_KEY_PASSWORD 不正确" in str(failed.value)
    assert "certificates.E001" in str(failed.value)


def test_a_certificate_ending_within_thirty_days_is_a_check_warning(
    settings, tmp_path: Path
) -> None:
    ending = make_cert("将过期证书", not_after=NOW + dt.timedelta(days=10))
    key, cert = write_pem(tmp_path, ending)
    configure(settings, key=key, cert=cert)

    (problem,) = check_signing_configuration()

    assert isinstance(problem, Warning)
    assert problem.id == "certificates.W001"
    assert "XUEJI_SIGNING_CERT" in problem.msg
