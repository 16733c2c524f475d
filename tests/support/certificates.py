"""Self-signed X.509 certificates for tests: a stranger CA, a server or client of no known CA, an expired one."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(
    common_name: str = "localhost",
    *,
    ca: bool = False,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    dns_names: Sequence[str] = (),
) -> tuple[bytes, bytes]:
    """(certificate PEM, PKCS#8 key PEM) of a new EC P-256 key, subject = issuer = CN common_name.

    Valid from not_before (default 5 minutes ago) to not_after (default a day from now); ca adds a
    critical BasicConstraints CA:TRUE, dns_names a SubjectAlternativeName.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after or now + datetime.timedelta(days=1))
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False
        )
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
