# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""What a TLS Secret holds, read back as certificates and keys (Material, Stored)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import NEXT_CA_CERT, NEXT_CA_KEY
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._x509 import is_ca_cert, same_public_key

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - _x509.HAS_CRYPTOGRAPHY says so; the module reports it
    pass


@dataclass
class Material:
    """A certificate with its private key, and their PEM bytes as stored."""

    cert: object
    key: object
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def from_objects(cls, cert, key) -> Material:
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(cert, key, cert.public_bytes(serialization.Encoding.PEM), key_pem)


@dataclass
class Stored:
    """A Secret as read from the cluster: its certificate and key when they can be read,
    else ``problem`` says why not."""

    namespace: str
    name: str
    secret_type: str | None
    material: Material | None = None
    ca_pem: bytes | None = None
    problem: str | None = None
    annotations: dict = field(default_factory=dict)
    # The CA Secret in phase 1 of a rotation: the incoming CA, trusted but not signing yet.
    next_material: Material | None = None

    @classmethod
    def from_secret(cls, secret: dict | None) -> Stored | None:
        if secret is None:
            return None
        meta = secret.get("metadata") or {}
        stored = cls(meta.get("namespace"), meta.get("name"), secret.get("type"))
        stored.annotations = dict(meta.get("annotations") or {})
        data = secret.get("data") or {}
        raw = {}
        for key in ("tls.crt", "tls.key", "ca.crt", NEXT_CA_CERT, NEXT_CA_KEY):
            if data.get(key):
                try:
                    raw[key] = base64.b64decode(data[key], validate=True)
                except (binascii.Error, ValueError):
                    raw[key] = None
        stored.ca_pem = raw.get("ca.crt")
        stored.next_material = _material_or_none(raw.get(NEXT_CA_CERT), raw.get(NEXT_CA_KEY))
        if not raw.get("tls.crt") or not raw.get("tls.key"):
            missing = [k for k in ("tls.crt", "tls.key") if not raw.get(k)]
            stored.problem = f"its Secret has no readable {' and '.join(missing)}"
            return stored
        try:
            cert = x509.load_pem_x509_certificate(raw["tls.crt"])
        except ValueError:
            stored.problem = "its tls.crt is not a PEM certificate"
            return stored
        try:
            key = serialization.load_pem_private_key(raw["tls.key"], password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            stored.problem = "its tls.key is not an unencrypted PEM private key"
            return stored
        stored.material = Material(cert, key, raw["tls.crt"], raw["tls.key"])
        return stored


def _material_or_none(cert_pem: bytes | None, key_pem: bytes | None) -> Material | None:
    """A usable CA pair from stored PEM, else None (then a rotation starts its phase 1 again)."""
    if not cert_pem or not key_pem:
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if not same_public_key(cert.public_key(), key.public_key()) or not is_ca_cert(cert):
        return None
    return Material(cert, key, cert_pem, key_pem)
