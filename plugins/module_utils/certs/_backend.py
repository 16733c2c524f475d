# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""CertificateBackend: for one certificate, keep or regenerate (and make the key and certificate)."""

from __future__ import annotations

import datetime
import ipaddress

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import _x509
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import CLOCK_SKEW
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._options import CertRequest
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._stored import Material, Stored

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - _x509.HAS_CRYPTOGRAPHY says so; the module reports it
    pass


class CertificateBackend:
    """Decides about one certificate and makes it, in the manner of community.crypto's
    module backends: ``needs_regeneration()`` then, if it gave a reason, ``generate()``.

    ``issuer`` is the CA material that signs a leaf (None for the CA itself, which is
    self-signed); ``issuer_renewed`` says the CA was just (re)generated, so the leaf must
    be re-issued whatever it holds.
    """

    def __init__(
        self,
        request: CertRequest,
        stored: Stored | None,
        issuer: Material | None = None,
        issuer_renewed: bool = False,
        renew_before_days: int = 30,
        now: datetime.datetime | None = None,
        issuer_reason: str = "the CA was regenerated",
    ):
        if not request.is_ca and issuer is None:
            raise ValueError("a leaf certificate needs its issuer's material")
        self.request = request
        self.stored = stored
        self.issuer = issuer
        self.issuer_renewed = issuer_renewed
        self.issuer_reason = issuer_reason
        self.renew_before = datetime.timedelta(days=renew_before_days)
        self.renew_before_days = renew_before_days
        self.now = now or datetime.datetime.now(datetime.timezone.utc)

    def needs_regeneration(self) -> str | None:
        """Why the stored certificate cannot be kept, or None when it can."""
        return self.unusable_reason() or self.outdated_reason()

    def unusable_reason(self) -> str | None:
        """Why the stored certificate cannot be used at all (a CA then cannot keep anyone's trust
        through a rotation: it is replaced at once), or None."""
        request, stored = self.request, self.stored
        if stored is None:
            return f"no Secret {request.namespace}/{request.secret_name}"
        if stored.material is None:
            return stored.problem
        cert, key = stored.material.cert, stored.material.key
        if not request.is_ca and self.issuer_renewed:
            return self.issuer_reason
        if not _x509.same_public_key(cert.public_key(), key.public_key()):
            return "its private key does not match the certificate"
        if request.is_ca:
            if not _x509.is_ca_cert(cert):
                return "the stored certificate is not a CA (basicConstraints CA:FALSE or missing)"
            if not _x509.issued_by(cert, cert):
                return "the stored CA certificate is not self-signed"
        elif not _x509.issued_by(cert, self.issuer.cert):
            return "it is not signed by the current CA"
        not_after = _x509.utc(cert, "not_valid_after")
        if not_after <= self.now:
            return f"it expired on {_x509.iso(not_after)}"
        return None

    def outdated_reason(self) -> str | None:
        """Why a usable stored certificate is no longer what is asked, or None."""
        request = self.request
        cert, key = self.stored.material.cert, self.stored.material.key
        if _x509.key_type_of(key) != request.key_type:
            return f"its key type is {_x509.key_type_of(key)}, asked {request.key_type}"
        if _x509.common_name_of(cert) != request.common_name:
            return f"its common name is {_x509.common_name_of(cert)!r}, asked {request.common_name!r}"
        if not request.is_ca:
            usage = _x509.usage_of(cert)
            if usage != request.usage:
                return f"its usage is {usage}, asked {request.usage}"
            have, want = _x509.sans_of(cert), request.sans
            if set(have) != set(want):
                added = [s for s in want if s not in have]
                dropped = [s for s in have if s not in want]
                parts = ([f"adds {', '.join(added)}"] if added else []) + (
                    [f"drops {', '.join(dropped)}"] if dropped else []
                )
                return f"subject alternative names changed: {'; '.join(parts)}"
        not_after = _x509.utc(cert, "not_valid_after")
        # A leaf that lasts as long as its CA would be issued again with the same expiry on every
        # run: only the CA's rotation (which re-issues it) can extend it.
        capped = not request.is_ca and not_after >= _x509.utc(self.issuer.cert, "not_valid_after")
        if not_after - self.now <= self.renew_before and not capped:
            return f"it expires on {_x509.iso(not_after)}, within renew_before_days ({self.renew_before_days})"
        not_before = _x509.utc(cert, "not_valid_before")
        if not_before > self.now + CLOCK_SKEW:
            return f"it is not valid before {_x509.iso(not_before)}"
        return None

    def generate(self) -> Material:
        """A new private key and certificate for the request (nothing is stored here)."""
        request = self.request
        key = _x509.new_private_key(request.key_type)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, request.common_name)])
        not_after = self.now + datetime.timedelta(days=request.validity_days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - CLOCK_SKEW)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if request.is_ca:
            issuer_name, signing_key = subject, key
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            builder = builder.add_extension(
                _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True
            )
        else:
            issuer_name, signing_key = self.issuer.cert.subject, self.issuer.key
            # A leaf never outlives its CA: it would fail to verify after the CA expires.
            not_after = min(not_after, _x509.utc(self.issuer.cert, "not_valid_after"))
            builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            builder = builder.add_extension(
                _key_usage(digital_signature=True, key_encipherment=request.key_type.startswith("rsa-")), critical=True
            )
            ekus = []
            if request.usage in ("server", "both"):
                ekus.append(ExtendedKeyUsageOID.SERVER_AUTH)
            if request.usage in ("client", "both"):
                ekus.append(ExtendedKeyUsageOID.CLIENT_AUTH)
            builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
            names = [x509.DNSName(n) for n in request.dns_names] + [
                x509.IPAddress(ipaddress.ip_address(ip)) for ip in request.ip_addresses
            ]
            if names:
                builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer.key.public_key()), critical=False
            )
        cert = builder.issuer_name(issuer_name).not_valid_after(not_after).sign(signing_key, hashes.SHA256())
        return Material.from_objects(cert, key)


def _key_usage(**wanted) -> x509.KeyUsage:
    flags = dict.fromkeys(
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
    flags.update(wanted)
    return x509.KeyUsage(**flags)
