"""Optional PAdES signature of issued documents, with pyHanko.

Why: the QR code lets anyone check a certificate online; a PDF that travels by e-mail can also
be checked offline when it carries the school's digital signature, and any change to it after
issue is then visible in the reader's signature panel.

Configuration (settings of the same names as the environment variables, config/settings.py):
- `XUEJI_SIGNING_KEY` and `XUEJI_SIGNING_CERT`: the private key and its certificate, PEM (or DER)
  files as `openssl` writes them; `XUEJI_SIGNING_KEY_PASSWORD` when the key is encrypted;
  `XUEJI_SIGNING_CHAIN` (optional): a PEM file of intermediate CA certificates, embedded in the
  signature so that a reader trusting only the school's root can build the path;
- or `XUEJI_SIGNING_PKCS12` (+ `XUEJI_SIGNING_PKCS12_PASSWORD`): one .p12/.pfx file, as a
  Windows CA exports it; its extra certificates are the chain.
Nothing set: `sign_pdf` returns the bytes unchanged, and pyHanko is not even imported.

What is produced: PAdES baseline B-B (ISO 32000-2 / ETSI EN 319 142-1): subfilter
`ETSI.CAdES.detached`, SHA-256, an invisible signature field, the signing-certificate-v2
attribute, the signing time in the signature dictionary. No timestamp (B-T would need a TSA).
The signature is an incremental update: the rendered bytes are kept as they are and the
signature covers all of them.

Errors: a misconfiguration (missing file, wrong password, a key that is not the certificate's,
an expired certificate) raises `SigningMisconfigured` naming the setting, in Chinese; the system
check below reports the same at startup (`manage.py check`, `runserver`, `migrate`).

Warm path: the key and certificate are read and checked once per process (cached on the
settings' values, so a changed setting, as in tests, loads again; a rotated key file needs a
restart). pyHanko's `SimpleSigner` parses the DER key again for each signature, so the signer
here signs with the key object loaded once.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

# The signature field's name in the PDF (invisible; readers list it in the signature panel).
FIELD_NAME = "XuejiSignature"
# A certificate this close to its end is reported by the system check as a warning.
EXPIRY_WARNING_DAYS = 30

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningMisconfigured(ImproperlyConfigured):
    """The signing settings are set but unusable. The message names the setting, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SigningConfig:
    key: str = ""
    cert: str = ""
    chain: str = ""
    key_password: str = ""
    pkcs12: str = ""
    pkcs12_password: str = ""

    @classmethod
    def from_settings(cls) -> SigningConfig:
        return cls(
            key=getattr(settings, "XUEJI_SIGNING_KEY", "") or "",
            cert=getattr(settings, "XUEJI_SIGNING_CERT", "") or "",
            chain=getattr(settings, "XUEJI_SIGNING_CHAIN", "") or "",
            key_password=getattr(settings, "XUEJI_SIGNING_KEY_PASSWORD", "") or "",
            pkcs12=getattr(settings, "XUEJI_SIGNING_PKCS12", "") or "",
            pkcs12_password=getattr(settings, "XUEJI_SIGNING_PKCS12_PASSWORD", "") or "",
        )

    @property
    def configured(self) -> bool:
        # Any one of them set means the school wants signatures: a half configuration is an
        # error, never silently unsigned documents.
        return bool(self.key or self.cert or self.pkcs12)


@dataclass(frozen=True)
class SigningMaterial:
    key: SigningKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def signing_configured() -> bool:
    """Whether the school configured a signing key (possibly a broken one: see the check)."""
    return SigningConfig.from_settings().configured


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SigningMisconfigured(
            f"{setting} 指向的文件无法读取：{path}（{error.strerror}）。"
            "请检查路径，并确认运行学籍系统的用户有读取权限。"
        ) from error


def _is_pem(data: bytes) -> bool:
    return data.lstrip().startswith(b"-----BEGIN")


def _load_key(config: SigningConfig) -> SigningKey:
    data = _read("XUEJI_SIGNING_KEY", config.key)
    password = config.key_password.encode() if config.key_password else None
    loader = (
        serialization.load_pem_private_key if _is_pem(data) else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=password)
    except TypeError as error:
        # cryptography says TypeError for a password given to a plain key or none to an
        # encrypted one.
        if password is None:
            raise SigningMisconfigured(
                "XUEJI_SIGNING_KEY 的私钥已加密，请在 XUEJI_SIGNING_KEY_PASSWORD 中设置其密码。"
            ) from error
        raise SigningMisconfigured(
            "XUEJI_SIGNING_KEY 的私钥没有加密，却设置了 XUEJI_SIGNING_KEY_PASSWORD，请删除该设置。"
        ) from error
    except ValueError as error:
        if password is not None and b"ENCRYPTED" in data:
            raise SigningMisconfigured(
                "XUEJI_SIGNING_KEY_PASSWORD 不正确，无法解密 XUEJI_SIGNING_KEY 的私钥。"
            ) from error
        raise SigningMisconfigured(
            f"XUEJI_SIGNING_KEY 不是可识别的 PEM 或 DER 私钥文件：{config.key}。"
        ) from error
    return _supported_key("XUEJI_SIGNING_KEY", key)


def _supported_key(setting: str, key: object) -> SigningKey:
    # RSA and ECDSA are what PDF readers verify everywhere; Ed25519 in PDF is not.
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningMisconfigured(
            f"{setting} 的私钥类型（{type(key).__name__}）不受支持，请使用 RSA 或 ECDSA 私钥。"
        )
    return key


def _load_cert(setting: str, path: str) -> x509.Certificate:
    data = _read(setting, path)
    try:
        if _is_pem(data):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise SigningMisconfigured(
            f"{setting} 不是可识别的 PEM 或 DER 证书文件：{path}。"
        ) from error


def _load_chain(path: str) -> tuple[x509.Certificate, ...]:
    if not path:
        return ()
    data = _read("XUEJI_SIGNING_CHAIN", path)
    try:
        return tuple(x509.load_pem_x509_certificates(data))
    except ValueError as error:
        raise SigningMisconfigured(
            f"XUEJI_SIGNING_CHAIN 不是 PEM 格式的证书链文件：{path}。"
        ) from error


def _load_pkcs12(config: SigningConfig) -> SigningMaterial:
    data = _read("XUEJI_SIGNING_PKCS12", config.pkcs12)
    password = config.pkcs12_password.encode() if config.pkcs12_password else None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError as error:
        raise SigningMisconfigured(
            "无法打开 XUEJI_SIGNING_PKCS12 文件：XUEJI_SIGNING_PKCS12_PASSWORD 不正确，"
            "或该文件不是 PKCS#12（.p12/.pfx）格式。"
        ) from error
    if key is None or cert is None:
        raise SigningMisconfigured("XUEJI_SIGNING_PKCS12 文件中缺少私钥或证书，请导出时包含私钥。")
    return SigningMaterial(
        key=_supported_key("XUEJI_SIGNING_PKCS12", key),
        cert=cert,
        chain=tuple(extra) + _load_chain(config.chain),
    )


def _public_der(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_validity(cert: x509.Certificate, setting: str, now: dt.datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise SigningMisconfigured(
            f"{setting} 的证书尚未生效（生效时间 {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC）。"
        )
    if now > cert.not_valid_after_utc:
        raise SigningMisconfigured(
            f"{setting} 的证书已于 {cert.not_valid_after_utc:%Y-%m-%d} 过期，"
            "用它签名的文件在阅读器中会显示为无效，请更换证书。"
        )


def _cert_setting(config: SigningConfig) -> str:
    return "XUEJI_SIGNING_PKCS12" if config.pkcs12 else "XUEJI_SIGNING_CERT"


@functools.lru_cache(maxsize=4)
def load_signing_material(config: SigningConfig) -> SigningMaterial:
    """Read and check the key, certificate and chain of `config` (cached per configuration).

    Raises SigningMisconfigured naming the setting: both kinds configured, one half of a pair
    missing, a file unreadable or not a key/certificate, a wrong password, a key that does not
    belong to the certificate, a certificate not yet or no longer valid.
    """
    if config.pkcs12 and (config.key or config.cert):
        raise SigningMisconfigured(
            "XUEJI_SIGNING_PKCS12 与 XUEJI_SIGNING_KEY / XUEJI_SIGNING_CERT 只能设置其中一种。"
        )
    if config.pkcs12:
        material = _load_pkcs12(config)
    else:
        if not config.key:
            raise SigningMisconfigured(
                "设置了 XUEJI_SIGNING_CERT 但没有设置 XUEJI_SIGNING_KEY（签名私钥文件）。"
            )
        if not config.cert:
            raise SigningMisconfigured(
                "设置了 XUEJI_SIGNING_KEY 但没有设置 XUEJI_SIGNING_CERT（签名证书文件）。"
            )
        material = SigningMaterial(
            key=_load_key(config),
            cert=_load_cert("XUEJI_SIGNING_CERT", config.cert),
            chain=_load_chain(config.chain),
        )
    if _public_der(material.key.public_key()) != _public_der(material.cert.public_key()):
        key_setting = "XUEJI_SIGNING_PKCS12" if config.pkcs12 else "XUEJI_SIGNING_KEY"
        raise SigningMisconfigured(
            f"{key_setting} 的私钥与 {_cert_setting(config)} 的证书不匹配（公钥不同），"
            "请确认两者是同一次申请生成的。"
        )
    _check_validity(material.cert, _cert_setting(config), dt.datetime.now(dt.UTC))
    return material


@functools.lru_cache(maxsize=4)
def _bytes_reserved(config: SigningConfig) -> int:
    """Room for the signature container in the PDF, in hex digits. Fixed per configuration, so
    pyHanko does not make a dry-run signature to estimate it each time (that is ~40% of a
    signature's time): the certificates it embeds, plus 4 KiB for the signature value (512
    bytes for RSA-4096), the signed attributes and the ASN.1 around them; doubled for hex."""
    material = load_signing_material(config)
    embedded = sum(
        len(cert.public_bytes(serialization.Encoding.DER))
        for cert in (material.cert, *material.chain)
    )
    return 2 * (embedded + 4096)


@functools.lru_cache(maxsize=4)
def _signer(config: SigningConfig) -> SimpleSigner:
    # Imported here: pyHanko (and aiohttp under it) takes ~0.5 s to import, for nothing where
    # signing is not configured.
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    material = load_signing_material(config)
    key = material.key

    class _LoadedKeySigner(SimpleSigner):
        """SimpleSigner that signs with the key object loaded once, not re-parsed per call."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                algorithm = mechanism.signature_algo
            except ValueError:  # a mechanism asn1crypto does not name (ML-DSA …)
                algorithm = ""
            digest = get_pyca_cryptography_hash(digest_algorithm)
            if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), digest)
            if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(digest))
            return super().sign_raw(data, digest_algorithm)  # anything else: pyHanko's way

    def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    return _LoadedKeySigner(
        signing_cert=asn1_cert(material.cert),
        # pyHanko keeps the key as ASN.1 too (for its own fallback in sign_raw).
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in material.chain]),
    )


def sign_pdf(content: bytes, *, reason: str = "", location: str = "") -> bytes:
    """A PAdES B-B signed copy of the PDF `content` when signing is configured; `content`
    unchanged when it is not.

    `reason` and `location` go into the signature dictionary (readers show them in the signature
    panel). Raises SigningMisconfigured when the settings are set but unusable, or the
    certificate has expired since startup. Runs pyHanko's own event loop (`asyncio.run`), so
    call it from synchronous code (a view, a service, a task), not from inside a running loop.
    """
    config = SigningConfig.from_settings()
    if not config.configured:
        return content
    signer = _signer(config)
    _check_validity(
        load_signing_material(config).cert, _cert_setting(config), dt.datetime.now(dt.UTC)
    )

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(content))
    output = signers.sign_pdf(
        writer, metadata, signer=signer, bytes_reserved=_bytes_reserved(config)
    )
    return output.getvalue()


@checks.register("certificates")
def check_signing_configuration(app_configs: object = None, **kwargs: object) -> list[Any]:
    """System check: a configured signing key must load; warn when its certificate ends soon."""
    config = SigningConfig.from_settings()
    if not config.configured:
        return []
    try:
        material = load_signing_material(config)
    except SigningMisconfigured as error:
        return [
            checks.Error(
                f"证明文书数字签名配置有误：{error.message}",
                hint="修正上述设置，或全部留空以不签名（见 docs/howto/signing.md）。",
                id="certificates.E001",
            )
        ]
    remaining = material.cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    if remaining < dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return [
            checks.Warning(
                f"证明文书签名证书（{_cert_setting(config)}）将于 "
                f"{material.cert.not_valid_after_utc:%Y-%m-%d} 过期，请及时更换。",
                id="certificates.W001",
            )
        ]
    return []
