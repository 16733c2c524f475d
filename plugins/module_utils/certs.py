# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS material for agent-to-gateway mTLS and webhook serving certificates.

A CA and leaf certificates, stored as ``kubernetes.io/tls`` Secrets (``tls.crt``,
``tls.key``, ``ca.crt``). The CA Secret also holds the CA's ``tls.key`` so later runs can
sign new leaves; leaf Secrets hold the CA certificate only in ``ca.crt``.

Two backends:

- ``self_signed``: keys and certificates are made here with ``cryptography``. For each
  certificate a :class:`CertificateBackend` reads what is stored and answers
  ``needs_regeneration()`` (a reason, or None to keep it) and ``generate()`` (new key and
  certificate). A certificate that is kept is re-applied byte for byte, so the engine
  reports it unchanged. A CA that cannot be used is replaced at once with every leaf; a usable
  CA that must change is rotated in three phases, one per run (:func:`plan_ca`), so that both
  sides of an mTLS connection trust old and new CA while the Secrets change.
- ``cert_manager``: cert-manager objects are rendered instead (a self-signed Issuer, the
  CA Certificate, a CA Issuer and one Certificate per leaf); cert-manager makes the keys.

With render_only, :func:`render_only_result` renders the cert-manager objects whatever the
backend: a rendered manifest must never carry a private key.

Everything but :func:`read_secret`, :func:`cert_manager_served` and :func:`execute` is pure:
options in, certificates, Kubernetes objects (plain dicts) or reasons out. No Ansible import.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
import traceback
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.engine import describe_api_error
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError, OtelK8sError

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

TLS_SECRET_TYPE = "kubernetes.io/tls"
KEY_TYPES = ("ecdsa-p256", "rsa-2048", "rsa-4096")
USAGES = ("server", "client", "both")
BACKENDS = ("auto", "self_signed", "cert_manager")
ACTIONS = ("kept", "issued", "renewed", "rotating", "rotated")
CERT_MANAGER_API = "cert-manager.io/v1"
CERT_MANAGER_KINDS = ("Issuer", "Certificate")
MANAGED_BY = "otel.kubernetes"
# The CA Secret's record of a rotation (see plan_ca): which CA generation it holds, the phase
# and when that phase began; in phase 1, the incoming CA's certificate and key.
GENERATION_ANNOTATION = "otel.kubernetes/ca-generation"
PHASE_ANNOTATION = "otel.kubernetes/ca-rotation-phase"
SINCE_ANNOTATION = "otel.kubernetes/ca-rotation-phase-since"
NEXT_CA_CERT = "next-ca.crt"
NEXT_CA_KEY = "next-ca.key"
PHASES = ("trust", "switch")
DEFAULT_ROTATION_PHASE_SECONDS = 3900
# Certificates start a little in the past: nodes whose clocks lag must accept them at once.
CLOCK_SKEW = datetime.timedelta(minutes=5)
MAX_COMMON_NAME = 64  # ub-common-name in RFC 5280

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^(\*\.)?{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_SECRET_NAME = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")


# ---------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class CertRequest:
    """One certificate as asked for. ``usage`` is server, client, both, or ca (the CA)."""

    secret_name: str
    namespace: str
    common_name: str
    usage: str = "server"
    key_type: str = "ecdsa-p256"
    validity_days: int = 365
    dns_names: tuple = ()
    ip_addresses: tuple = ()

    @property
    def is_ca(self) -> bool:
        return self.usage == "ca"

    @property
    def sans(self) -> list:
        """Subject alternative names as 'DNS:name' / 'IP:address', in the order asked."""
        return [f"DNS:{name}" for name in self.dns_names] + [f"IP:{ip}" for ip in self.ip_addresses]


@dataclass
class CertsOptions:
    """The module's options, checked and normalised (see :meth:`from_params`)."""

    namespace: str
    ca: CertRequest
    certificates: list = field(default_factory=list)
    renew_before_days: int = 30
    backend: str = "self_signed"
    prefix: str = "otel"
    ca_generation: int | None = None
    rotation_phase_seconds: int = DEFAULT_ROTATION_PHASE_SECONDS

    @classmethod
    def from_params(cls, params: dict, default_namespace: str = "default") -> CertsOptions:
        """Module parameters -> options; raises one OtelK8sError listing every problem."""
        problems = []
        namespace = params.get("namespace") or default_namespace
        prefix = params.get("prefix") or "otel"
        key_type = params.get("key_type") or "ecdsa-p256"
        renew = params.get("renew_before_days")
        renew = 30 if renew is None else renew
        cluster_domain = (params.get("cluster_domain") or "cluster.local").strip(".")
        if renew < 0:
            problems.append(f"renew_before_days must be 0 or more, got {renew}")
        if key_type not in KEY_TYPES:
            problems.append(f"key_type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")
        backend = params.get("backend") or "self_signed"
        if backend not in BACKENDS:
            problems.append(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")

        ca_params = params.get("ca") or {}
        ca = CertRequest(
            secret_name=ca_params.get("secret_name") or f"{prefix}-ca",
            namespace=namespace,
            common_name=ca_params.get("common_name") or f"{prefix}-ca",
            usage="ca",
            key_type=key_type,
            validity_days=_days(ca_params.get("validity_days"), 3650),
        )
        _check_request(ca, "ca", renew, problems)
        generation = ca_params.get("generation")
        if generation is not None and (not isinstance(generation, int) or generation < 1):
            problems.append(
                f"ca.generation must be a whole number of 1 or more, got {generation!r}; "
                "raise it by one to rotate the CA"
            )
        phase_seconds = _days(ca_params.get("rotation_phase_seconds"), DEFAULT_ROTATION_PHASE_SECONDS)
        if phase_seconds < 0:
            problems.append(
                f"ca.rotation_phase_seconds must be 0 or more, got {phase_seconds}; give at least the kubelet's "
                "Secret refresh (about 60) plus the collectors' reload_interval"
            )

        certificates = []
        seen = {(ca.namespace, ca.secret_name): "ca"}
        for index, entry in enumerate(params.get("certificates") or []):
            where = f"certificates[{index}]"
            if not isinstance(entry, dict) or not entry.get("secret_name"):
                problems.append(f"{where}: secret_name is required")
                continue
            cert_namespace = entry.get("namespace") or namespace
            usage = entry.get("usage") or "server"
            dns_names = [str(n).strip().lower().rstrip(".") for n in entry.get("dns_names") or []]
            for service in entry.get("services") or []:
                dns_names.extend(service_sans(service, cert_namespace, cluster_domain))
            gateway = entry.get("gateway")
            if gateway:
                if not gateway.get("name"):
                    problems.append(f"{where}.gateway: name is required")
                else:
                    dns_names.extend(
                        gateway_sans(gateway["name"], gateway.get("namespace") or cert_namespace, cluster_domain)
                    )
            ips = []
            for raw in entry.get("ip_addresses") or []:
                try:
                    ips.append(ipaddress.ip_address(str(raw).strip()).compressed)
                except ValueError:
                    problems.append(f"{where}: {raw!r} in ip_addresses is not an IP address")
            request = CertRequest(
                secret_name=entry["secret_name"],
                namespace=cert_namespace,
                common_name=entry.get("common_name") or entry["secret_name"],
                usage=usage,
                key_type=key_type,
                validity_days=_days(entry.get("validity_days"), 365),
                dns_names=tuple(_unique(dns_names)),
                ip_addresses=tuple(_unique(ips)),
            )
            _check_request(request, where, renew, problems)
            key = (request.namespace, request.secret_name)
            if key in seen:
                problems.append(f"{where}: Secret {key[0]}/{key[1]} is also {seen[key]}; give each Secret once")
            seen[key] = where
            certificates.append(request)
        if problems:
            raise OtelK8sError("the certificate options were refused, nothing was applied:\n- " + "\n- ".join(problems))
        return cls(
            namespace=namespace,
            ca=ca,
            certificates=certificates,
            renew_before_days=renew,
            backend=backend,
            prefix=prefix,
            ca_generation=generation,
            rotation_phase_seconds=phase_seconds,
        )


def _days(value, default: int) -> int:
    return default if value is None else int(value)


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))


def _check_request(request: CertRequest, where: str, renew_before_days: int, problems: list) -> None:
    if not _SECRET_NAME.match(request.secret_name) or len(request.secret_name) > 253:
        problems.append(
            f"{where}: secret_name {request.secret_name!r} is not a valid Secret name "
            "(lower-case letters, digits, '-' and '.')"
        )
    if not request.is_ca and request.usage not in USAGES:
        problems.append(f"{where}: usage must be one of {', '.join(USAGES)}, got {request.usage!r}")
    if not 0 < len(request.common_name) <= MAX_COMMON_NAME:
        problems.append(
            f"{where}: common_name must be 1 to {MAX_COMMON_NAME} characters, got {len(request.common_name)}"
        )
    if request.validity_days <= renew_before_days:
        problems.append(
            f"{where}: validity_days ({request.validity_days}) must be more than renew_before_days "
            f"({renew_before_days}), or the certificate would be renewed on every run"
        )
    for name in request.dns_names:
        if len(name) > 253 or not _DNS_NAME.match(name):
            problems.append(f"{where}: {name!r} is not a valid DNS name for a certificate")
    if request.usage in ("server", "both") and not request.sans:
        problems.append(
            f"{where}: a server certificate needs dns_names, services, gateway or ip_addresses; "
            "TLS clients check the subject alternative names, not the common name"
        )


def service_sans(service: str, namespace: str, cluster_domain: str = "cluster.local") -> list:
    """The names a Service is reached by inside the cluster, short to fully qualified."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.{cluster_domain}",
    ]


def gateway_sans(name: str, namespace: str, cluster_domain: str = "cluster.local") -> list:
    """SANs of a gateway collector's operator-made Services, ``<name>-collector`` and
    ``<name>-collector-headless``, in every form a client may dial."""
    sans = []
    for service in (f"{name}-collector", f"{name}-collector-headless"):
        sans.extend(service_sans(service, namespace, cluster_domain))
    return sans


# ---------------------------------------------------------------------------- x509 helpers
def _utc(cert, attribute: str) -> datetime.datetime:
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_forms(key_pem: bytes) -> set:
    """A private key as it could be printed: PEM text, PEM without its final newline, base64."""
    text = key_pem.decode("ascii", "replace")
    return {text, text.strip(), _b64(key_pem)}


# ---------------------------------------------------------------------------- stored material
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


# ---------------------------------------------------------------------------- the backend
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
        if not same_public_key(cert.public_key(), key.public_key()):
            return "its private key does not match the certificate"
        if request.is_ca:
            if not is_ca_cert(cert):
                return "the stored certificate is not a CA (basicConstraints CA:FALSE or missing)"
            if not issued_by(cert, cert):
                return "the stored CA certificate is not self-signed"
        elif not issued_by(cert, self.issuer.cert):
            return "it is not signed by the current CA"
        not_after = _utc(cert, "not_valid_after")
        if not_after <= self.now:
            return f"it expired on {iso(not_after)}"
        return None

    def outdated_reason(self) -> str | None:
        """Why a usable stored certificate is no longer what is asked, or None."""
        request = self.request
        cert, key = self.stored.material.cert, self.stored.material.key
        if key_type_of(key) != request.key_type:
            return f"its key type is {key_type_of(key)}, asked {request.key_type}"
        if common_name_of(cert) != request.common_name:
            return f"its common name is {common_name_of(cert)!r}, asked {request.common_name!r}"
        if not request.is_ca:
            usage = usage_of(cert)
            if usage != request.usage:
                return f"its usage is {usage}, asked {request.usage}"
            have, want = sans_of(cert), request.sans
            if set(have) != set(want):
                added = [s for s in want if s not in have]
                dropped = [s for s in have if s not in want]
                parts = ([f"adds {', '.join(added)}"] if added else []) + (
                    [f"drops {', '.join(dropped)}"] if dropped else []
                )
                return f"subject alternative names changed: {'; '.join(parts)}"
        not_after = _utc(cert, "not_valid_after")
        # A leaf that lasts as long as its CA would be issued again with the same expiry on every
        # run: only the CA's rotation (which re-issues it) can extend it.
        capped = not request.is_ca and not_after >= _utc(self.issuer.cert, "not_valid_after")
        if not_after - self.now <= self.renew_before and not capped:
            return f"it expires on {iso(not_after)}, within renew_before_days ({self.renew_before_days})"
        not_before = _utc(cert, "not_valid_before")
        if not_before > self.now + CLOCK_SKEW:
            return f"it is not valid before {iso(not_before)}"
        return None

    def generate(self) -> Material:
        """A new private key and certificate for the request (nothing is stored here)."""
        request = self.request
        key = new_private_key(request.key_type)
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
            not_after = min(not_after, _utc(self.issuer.cert, "not_valid_after"))
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


# ---------------------------------------------------------------------------- the plan
def describe(material: Material) -> dict:
    """Public facts of a certificate for results: never its key."""
    cert = material.cert
    return {
        "common_name": common_name_of(cert),
        "not_before": iso(_utc(cert, "not_valid_before")),
        "not_after": iso(_utc(cert, "not_valid_after")),
        "serial": format(cert.serial_number, "x"),
        "sans": sans_of(cert),
        "key_type": key_type_of(material.key),
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def tls_secret(
    request: CertRequest,
    material: Material,
    ca_pem: bytes,
    annotations: dict | None = None,
    next_ca: Material | None = None,
) -> dict:
    """The kubernetes.io/tls Secret holding a certificate, its key and the CA certificate(s)."""
    metadata = {
        "name": request.secret_name,
        "namespace": request.namespace,
        "labels": {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/component": "certificate-authority" if request.is_ca else "certificate",
        },
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    data = {"tls.crt": _b64(material.cert_pem), "tls.key": _b64(material.key_pem), "ca.crt": _b64(ca_pem)}
    if next_ca is not None:
        data[NEXT_CA_CERT], data[NEXT_CA_KEY] = _b64(next_ca.cert_pem), _b64(next_ca.key_pem)
    return {"apiVersion": "v1", "kind": "Secret", "type": TLS_SECRET_TYPE, "metadata": metadata, "data": data}


@dataclass
class Outcome:
    """What was decided for one certificate."""

    request: CertRequest
    action: str  # kept | issued | renewed | rotating | rotated
    reason: str
    material: Material
    ca_pem: bytes
    # The CA only: its Secret's annotations, and the incoming CA in phase 1 of a rotation.
    annotations: dict = field(default_factory=dict)
    next_ca: Material | None = None

    @property
    def changed(self) -> bool:
        return self.action != "kept"

    def secret(self) -> dict:
        return tls_secret(self.request, self.material, self.ca_pem, self.annotations, self.next_ca)

    def summary(self) -> dict:
        request = self.request
        result = {
            "secret_name": request.secret_name,
            "namespace": request.namespace,
            "usage": request.usage,
            "action": self.action,
            "reason": self.reason,
        }
        result.update(describe(self.material))
        return result


@dataclass
class CertPlan:
    """The CA and the leaves, each kept or newly made; what the module applies and returns."""

    ca: Outcome
    certificates: list

    @property
    def outcomes(self) -> list:
        return [self.ca, *self.certificates]

    @property
    def ca_pem(self) -> str:
        return self.ca.material.cert_pem.decode("ascii")

    @property
    def ca_bundle(self) -> str:
        """base64 of the trusted CA certificates' PEM (two during a rotation): the value of a
        webhook configuration's caBundle."""
        return _b64(self.ca.ca_pem)

    def secrets(self) -> list:
        return [outcome.secret() for outcome in self.outcomes]

    def sensitive_values(self) -> set:
        """Every private key, as PEM and as stored base64: for Ansible's no_log masking."""
        values = set()
        for outcome in self.outcomes:
            values.update(_key_forms(outcome.material.key_pem))
        if self.ca.next_ca is not None:
            values.update(_key_forms(self.ca.next_ca.key_pem))
        return values

    def summary(self) -> dict:
        ca = self.ca.summary()
        ca["certificate"] = self.ca_pem
        ca["ca_bundle"] = self.ca_bundle
        annotations = self.ca.annotations
        ca["generation"] = int(annotations.get(GENERATION_ANNOTATION, "1"))
        ca["rotation_phase"] = annotations.get(PHASE_ANNOTATION)
        ca["trusted_fingerprints_sha256"] = [
            cert.fingerprint(hashes.SHA256()).hex() for cert in x509.load_pem_x509_certificates(self.ca.ca_pem)
        ]
        return {"ca": ca, "certificates": [outcome.summary() for outcome in self.certificates]}


def _decide(backend: CertificateBackend, ca_pem: bytes | None = None) -> Outcome:
    reason = backend.needs_regeneration()
    stored = backend.stored
    if reason is None:
        material = stored.material
        ca_pem = ca_pem or material.cert_pem
        note = f"valid until {iso(_utc(material.cert, 'not_valid_after'))} and as asked"
        if stored.ca_pem != ca_pem:
            note += "; ca.crt set to the trusted CA certificates"
        return Outcome(backend.request, "kept", note, material, ca_pem)
    material = backend.generate()
    action = "issued" if stored is None else "renewed"
    return Outcome(backend.request, action, reason, material, ca_pem or material.cert_pem)


def check_secret_types(stored: list) -> None:
    """A Secret's type cannot change: one of another type must be removed by the user."""
    wrong = [s for s in stored if s is not None and s.secret_type not in (None, TLS_SECRET_TYPE)]
    if wrong:
        lines = [
            f"Secret {s.namespace}/{s.name} exists with type {s.secret_type}; a Secret's type cannot "
            f"change: delete it or choose another secret_name"
            for s in wrong
        ]
        raise OtelK8sError(
            f"certificates need {TLS_SECRET_TYPE} Secrets, nothing was applied:\n- " + "\n- ".join(lines)
        )


def _stored_generation(stored: Stored | None) -> int:
    """The CA generation a stored CA Secret records (1 when it records none)."""
    value = (stored.annotations if stored is not None else {}).get(GENERATION_ANNOTATION, "1")
    return int(value) if str(value).isdigit() and int(value) >= 1 else 1


def _since(stored: Stored) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.strptime(stored.annotations.get(SINCE_ANNOTATION, ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc)


@dataclass
class CaDecision:
    """The CA's outcome, and what the leaves must do about it."""

    outcome: Outcome
    reissue_leaves: str | None = None  # why every leaf is issued again, or None


def plan_ca(options: CertsOptions, stored: Stored | None, now: datetime.datetime) -> CaDecision:
    """The CA, kept, replaced, or one step further in a rotation.

    A usable CA that must change (due within renew_before_days, another common name or key type,
    or a higher ``ca.generation``) is rotated in three phases, one per run, each at least
    ``rotation_phase_seconds`` after the previous one, so that every party trusts the CA that
    signed what the other side presents at every moment:

    1. trust: a new CA is made and kept in the CA Secret (``next-ca.crt``/``next-ca.key``); every
       ``ca.crt`` holds old and new; the leaves stay signed by the old CA.
    2. switch: the new CA signs; every leaf is issued again by it; ``ca.crt`` still holds both.
    3. (done): the old CA leaves every ``ca.crt``.

    A CA that cannot be used at all (missing, unreadable, expired, not a CA) is replaced at once,
    with every leaf: there is no trust left to keep.
    """
    request = options.ca
    backend = CertificateBackend(request, stored, renew_before_days=options.renew_before_days, now=now)
    stored_generation = _stored_generation(stored)
    generation = options.ca_generation or stored_generation
    # Generation 1 is the default and goes unrecorded, so that Secrets made before this option stay as they are.
    base = {GENERATION_ANNOTATION: str(generation)} if generation != 1 or stored_generation != 1 else {}
    unusable = backend.unusable_reason()
    if unusable:
        material = backend.generate()
        action = "issued" if stored is None else "renewed"
        outcome = Outcome(request, action, unusable, material, material.cert_pem, base)
        return CaDecision(outcome, "the CA was regenerated")

    old = stored.material
    phase = stored.annotations.get(PHASE_ANNOTATION)
    since = _since(stored)
    ready = since is None or (now - since).total_seconds() >= options.rotation_phase_seconds
    after = iso(since + datetime.timedelta(seconds=options.rotation_phase_seconds)) if since else "now"
    # Rotation state is kept as recorded while a phase waits, so that a run changes nothing.
    recorded = {
        key: stored.annotations[key]
        for key in (GENERATION_ANNOTATION, PHASE_ANNOTATION, SINCE_ANNOTATION)
        if key in stored.annotations
    }

    if phase == "trust" and stored.next_material is not None:
        new = stored.next_material
        if not ready:
            reason = (
                "rotation phase 1 of 3: ca.crt holds the old and the new CA, the old CA still signs; "
                f"the new CA signs on a run after {after}"
            )
            return CaDecision(Outcome(request, "kept", reason, old, stored.ca_pem, recorded, new))
        annotations = {**recorded, PHASE_ANNOTATION: "switch", SINCE_ANNOTATION: iso(now)}
        reason = "rotation phase 2 of 3: the new CA signs every certificate again; ca.crt still holds the old CA"
        outcome = Outcome(request, "rotating", reason, new, new.cert_pem + old.cert_pem, annotations)
        return CaDecision(outcome, "the CA rotation switched to the new CA")

    if phase == "switch":
        if not ready:
            reason = (
                "rotation phase 2 of 3: the new CA signs, ca.crt still holds the old CA too; "
                f"the old CA is dropped on a run after {after}"
            )
            return CaDecision(Outcome(request, "kept", reason, old, stored.ca_pem, recorded))
        reason = "rotation phase 3 of 3: done, the old CA was dropped from every ca.crt"
        return CaDecision(Outcome(request, "rotated", reason, old, old.cert_pem, base))

    outdated = backend.outdated_reason()
    if phase == "trust":  # and its incoming CA is gone: phase 1 begins again
        outdated = f"the incoming CA ({NEXT_CA_CERT}, {NEXT_CA_KEY}) is missing or unreadable"
    if outdated is None and options.ca_generation and options.ca_generation != stored_generation:
        outdated = f"ca.generation is {options.ca_generation}, the stored CA is generation {stored_generation}"
    if outdated:
        new = CertificateBackend(request, None, renew_before_days=options.renew_before_days, now=now).generate()
        annotations = {**base, PHASE_ANNOTATION: "trust", SINCE_ANNOTATION: iso(now)}
        reason = (
            f"rotation phase 1 of 3 ({outdated}): a new CA was made and added to every ca.crt; the old CA still signs"
        )
        return CaDecision(Outcome(request, "rotating", reason, old, old.cert_pem + new.cert_pem, annotations, new))

    note = f"valid until {iso(_utc(old.cert, 'not_valid_after'))} and as asked"
    if stored.ca_pem != old.cert_pem:
        note += "; ca.crt set to the current CA certificate"
    if stored.annotations.get(GENERATION_ANNOTATION) != base.get(GENERATION_ANNOTATION) or phase:
        note += f"; generation {generation} recorded"
    return CaDecision(Outcome(request, "kept", note, old, old.cert_pem, base))


def plan_self_signed(options: CertsOptions, read, now: datetime.datetime | None = None) -> CertPlan:
    """Decide every certificate. ``read(namespace, name)`` returns the stored Secret or None."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stored_ca = Stored.from_secret(read(options.ca.namespace, options.ca.secret_name))
    stored_leaves = [Stored.from_secret(read(r.namespace, r.secret_name)) for r in options.certificates]
    check_secret_types([stored_ca, *stored_leaves])
    decision = plan_ca(options, stored_ca, now)
    ca = decision.outcome
    leaves = []
    for request, stored in zip(options.certificates, stored_leaves):
        backend = CertificateBackend(
            request,
            stored,
            issuer=ca.material,
            issuer_renewed=decision.reissue_leaves is not None,
            issuer_reason=decision.reissue_leaves or "",
            renew_before_days=options.renew_before_days,
            now=now,
        )
        leaves.append(_decide(backend, ca.ca_pem))
    return CertPlan(ca, leaves)


# ---------------------------------------------------------------------------- cert-manager
def _issuer_names(options: CertsOptions) -> tuple:
    return f"{options.prefix}-selfsigned", f"{options.prefix}-ca-issuer"


def _private_key_spec(key_type: str) -> dict:
    algorithm, size = ("ECDSA", 256) if key_type == "ecdsa-p256" else ("RSA", int(key_type[4:]))
    return {"algorithm": algorithm, "size": size, "rotationPolicy": "Always"}


def _cm_object(kind: str, name: str, namespace: str, spec: dict) -> dict:
    return {
        "apiVersion": CERT_MANAGER_API,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
        "spec": spec,
    }


def render_cert_manager(options: CertsOptions, render_only: bool = False) -> list:
    """Self-signed Issuer, CA Certificate, CA Issuer and one Certificate per leaf."""
    elsewhere = [r for r in options.certificates if r.namespace != options.namespace]
    if elsewhere:
        names = ", ".join(f"{r.namespace}/{r.secret_name}" for r in elsewhere)
        if render_only:
            raise OtelK8sError(
                f"render_only: {names} would be in another namespace than {options.namespace}, but render_only "
                "renders cert-manager objects (private keys are never rendered) and a cert-manager Issuer signs "
                f"only in its own namespace; put every certificate in {options.namespace}. Nothing was rendered"
            )
        raise OtelK8sError(
            f"backend cert_manager: {names} would be in another namespace than {options.namespace}, but a "
            "cert-manager Issuer signs only in its own namespace; put every certificate in "
            f"{options.namespace}, or use backend self_signed. Nothing was applied"
        )
    ns = options.namespace
    selfsigned, ca_issuer = _issuer_names(options)
    renew = {"renewBefore": f"{options.renew_before_days * 24}h"} if options.renew_before_days else {}
    ca = options.ca
    objects = [
        _cm_object("Issuer", selfsigned, ns, {"selfSigned": {}}),
        _cm_object(
            "Certificate",
            ca.secret_name,
            ns,
            {
                "isCA": True,
                "commonName": ca.common_name,
                "secretName": ca.secret_name,
                "duration": f"{ca.validity_days * 24}h",
                **renew,
                "privateKey": _private_key_spec(ca.key_type),
                "usages": ["cert sign", "crl sign", "digital signature"],
                "issuerRef": {"name": selfsigned, "kind": "Issuer", "group": "cert-manager.io"},
            },
        ),
        _cm_object("Issuer", ca_issuer, ns, {"ca": {"secretName": ca.secret_name}}),
    ]
    for request in options.certificates:
        usages = ["digital signature"]
        if request.key_type.startswith("rsa-"):
            usages.append("key encipherment")
        if request.usage in ("server", "both"):
            usages.append("server auth")
        if request.usage in ("client", "both"):
            usages.append("client auth")
        spec = {
            "commonName": request.common_name,
            "secretName": request.secret_name,
            "duration": f"{request.validity_days * 24}h",
            **renew,
            "privateKey": _private_key_spec(request.key_type),
            "usages": usages,
            "issuerRef": {"name": ca_issuer, "kind": "Issuer", "group": "cert-manager.io"},
        }
        if request.dns_names:
            spec["dnsNames"] = list(request.dns_names)
        if request.ip_addresses:
            spec["ipAddresses"] = list(request.ip_addresses)
        objects.append(_cm_object("Certificate", request.secret_name, ns, spec))
    return objects


_CM_ACTIONS = {
    "created": ("issued", "cert-manager Certificate created; cert-manager issues the Secret"),
    "updated": ("renewed", "cert-manager Certificate changed; cert-manager re-issues the Secret"),
    "unchanged": ("kept", "cert-manager Certificate unchanged; cert-manager renews it before it expires"),
}


def cert_manager_summary(options: CertsOptions, results: list, stored: dict) -> dict:
    """Per certificate: what happened to its Certificate, and the Secret as it was read."""
    by_name = {(r["namespace"], r["name"]): r for r in results if r.get("kind") == "Certificate"}

    def entry(request: CertRequest) -> dict:
        applied = by_name.get((request.namespace, request.secret_name)) or {}
        action, reason = _CM_ACTIONS.get(applied.get("action"), ("kept", "not applied"))
        result = {
            "secret_name": request.secret_name,
            "namespace": request.namespace,
            "usage": request.usage,
            "action": action,
            "reason": reason,
            "common_name": request.common_name,
            "not_before": None,
            "not_after": None,
            "serial": None,
            "sans": request.sans,
            "key_type": request.key_type,
            "fingerprint_sha256": None,
        }
        found = stored.get((request.namespace, request.secret_name))
        if found is not None and found.material is not None:
            result.update(describe(found.material))
        return result

    ca = entry(options.ca)
    ca_stored = stored.get((options.ca.namespace, options.ca.secret_name))
    ca_pem = ca_stored.material.cert_pem if ca_stored is not None and ca_stored.material is not None else None
    ca["certificate"] = ca_pem.decode("ascii") if ca_pem else None
    ca["ca_bundle"] = _b64(ca_pem) if ca_pem else None
    return {"ca": ca, "certificates": [entry(r) for r in options.certificates]}


RENDER_ONLY_NOTE = (
    "render_only renders cert-manager objects (backend cert_manager): a self-signed Issuer, the CA "
    "Certificate, a CA Issuer and one Certificate per leaf. Private keys are never written into "
    "rendered manifests; cert-manager makes them in the cluster, which therefore needs cert-manager"
)


def render_only_result(options: CertsOptions) -> tuple:
    """(objects, summary, warnings) for render_only: cert-manager objects instead of keys, read nothing."""
    objects = render_cert_manager(options, render_only=True)
    warnings = [] if options.backend == "cert_manager" else [RENDER_ONLY_NOTE]

    def entry(request: CertRequest) -> dict:
        return {
            "secret_name": request.secret_name,
            "namespace": request.namespace,
            "usage": request.usage,
            "action": "rendered",
            "reason": "rendered as a cert-manager Certificate; cert-manager issues the "
            "Secret where the objects are applied",
            "common_name": request.common_name,
            "not_before": None,
            "not_after": None,
            "serial": None,
            "sans": request.sans,
            "key_type": request.key_type,
            "fingerprint_sha256": None,
        }

    ca = entry(options.ca)
    ca.update(certificate=None, ca_bundle=None)
    return objects, {"ca": ca, "certificates": [entry(r) for r in options.certificates]}, warnings


def resolve_backend(asked: str, served, state: str = "present") -> str:
    """auto -> cert_manager when served() else self_signed; cert_manager asked but not served fails.

    ``served`` is a callable so that the API server is asked only when it matters.
    """
    if asked == "self_signed":
        return asked
    if state == "absent":
        return asked  # removal needs no cert-manager: unserved kinds are simply absent
    is_served = served()
    if asked == "auto":
        return "cert_manager" if is_served else "self_signed"
    if not is_served:
        raise OtelK8sError(
            f"backend cert_manager: this cluster does not serve {CERT_MANAGER_API} Issuer and Certificate "
            "(cert-manager is not installed, or not yet ready); install cert-manager first, or use backend "
            "self_signed or auto. Nothing was applied"
        )
    return asked


def removal_objects(options: CertsOptions, backend: str) -> list:
    """What state=absent deletes: the Secrets, and the cert-manager objects that may have made them."""
    requests = [options.ca, *options.certificates]
    objects = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": r.secret_name, "namespace": r.namespace}}
        for r in requests
    ]
    if backend in ("auto", "cert_manager"):
        for request in requests:
            objects.append(
                {
                    "apiVersion": CERT_MANAGER_API,
                    "kind": "Certificate",
                    "metadata": {"name": request.secret_name, "namespace": request.namespace},
                }
            )
        for name in _issuer_names(options):
            objects.append(
                {
                    "apiVersion": CERT_MANAGER_API,
                    "kind": "Issuer",
                    "metadata": {"name": name, "namespace": options.namespace},
                }
            )
    return objects


# ---------------------------------------------------------------------------- I/O
def _api_failure(error: ApiError, what: str) -> OtelK8sError:
    return OtelK8sError(describe_api_error(error, what) + ". Nothing was applied")


def read_secret(client, namespace: str, name: str) -> dict | None:
    """The stored Secret, or None when it does not exist."""
    try:
        return client.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}").data
    except ApiError as error:
        if error.status == 404:
            return None
        raise _api_failure(error, f"reading Secret {namespace}/{name}") from None


def cert_manager_served(client) -> bool:
    """Does the API server serve cert-manager's Issuer and Certificate? (One fresh request.)"""
    try:
        data = client.request("GET", f"/apis/{CERT_MANAGER_API}").data
    except ApiError as error:
        if error.status == 404:
            return False
        raise _api_failure(error, f"discovering {CERT_MANAGER_API}") from None
    kinds = {r.get("kind") for r in data.get("resources") or []}
    return all(kind in kinds for kind in CERT_MANAGER_KINDS)


def execute(options: CertsOptions, client, apply, protect, state: str = "present") -> dict:
    """Read, decide, apply. ``apply(objects, wait_condition)`` is the engine (returns its result);
    ``protect(values)`` registers secret values to mask before anything can be printed."""
    backend = resolve_backend(options.backend, lambda: cert_manager_served(client), state)
    if state == "absent":
        result = apply(removal_objects(options, backend), None)
        result["backend"] = backend
        return result
    secrets = {}
    for request in [options.ca, *options.certificates]:
        key = (request.namespace, request.secret_name)
        secrets[key] = read_secret(client, *key)
    stored = {key: Stored.from_secret(secret) for key, secret in secrets.items()}
    # Keys already stored are masked too: a kept certificate's key is applied again.
    protect(
        {
            value
            for s in stored.values()
            if s is not None
            for m in (s.material, s.next_material)
            if m is not None
            for value in _key_forms(m.key_pem)
        }
    )
    check_secret_types(list(stored.values()))
    if backend == "cert_manager":
        result = apply(render_cert_manager(options), {"type": "Ready", "status": "True"})
        result.update(cert_manager_summary(options, result["results"], stored))
    else:
        plan = plan_self_signed(options, lambda namespace, name: secrets[(namespace, name)])
        protect(plan.sensitive_values())
        result = apply(plan.secrets(), None)
        result.update(plan.summary())
    result["backend"] = backend
    return result
