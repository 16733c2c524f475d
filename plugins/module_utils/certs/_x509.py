# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""x509 helpers over cryptography: facts of a certificate, issuer checks, new keys."""

from __future__ import annotations

import base64
import datetime
import traceback

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import KEY_TYPES
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()


def utc(cert, attribute: str) -> datetime.datetime:
    value = getattr(cert, f"{attribute}_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attribute).replace(tzinfo=datetime.timezone.utc)
    return value


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_type_of(key) -> str:
    """'ecdsa-p256', 'rsa-2048', ... for a private or public key."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "ecdsa-p256" if key.curve.name == "secp256r1" else f"ecdsa-{key.curve.name}"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"rsa-{key.key_size}"
    return type(key).__name__


def usage_of(cert) -> str:
    """server, client, both or none, from the extended key usage."""
    try:
        ekus = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return "none"
    server = ExtendedKeyUsageOID.SERVER_AUTH in ekus
    client = ExtendedKeyUsageOID.CLIENT_AUTH in ekus
    return "both" if server and client else "server" if server else "client" if client else "none"


def sans_of(cert) -> list:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [f"DNS:{name.lower()}" for name in ext.get_values_for_type(x509.DNSName)] + [
        f"IP:{ip.compressed}" for ip in ext.get_values_for_type(x509.IPAddress)
    ]


def common_name_of(cert) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def is_ca_cert(cert) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def same_public_key(one, other) -> bool:
    encoding, fmt = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return one.public_bytes(encoding, fmt) == other.public_bytes(encoding, fmt)


def issued_by(cert, issuer) -> bool:
    """Is cert signed by issuer's key (and named after issuer's subject)?"""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def new_private_key(key_type: str):
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type.startswith("rsa-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    raise OtelK8sError(f"key_type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_forms(key_pem: bytes) -> set:
    """A private key as it could be printed: PEM text, PEM without its final newline, base64."""
    text = key_pem.decode("ascii", "replace")
    return {text, text.strip(), b64(key_pem)}
