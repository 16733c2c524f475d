# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""The self-signed plan: CA decision (three-phase rotation), leaves, the Secrets to apply."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import _x509
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._backend import CertificateBackend
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import (
    GENERATION_ANNOTATION,
    MANAGED_BY,
    NEXT_CA_CERT,
    NEXT_CA_KEY,
    PHASE_ANNOTATION,
    SINCE_ANNOTATION,
    TLS_SECRET_TYPE,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._options import CertRequest, CertsOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._stored import Material, Stored
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:  # pragma: no cover - _x509.HAS_CRYPTOGRAPHY says so; the module reports it
    pass


def describe(material: Material) -> dict:
    """Public facts of a certificate for results: never its key."""
    cert = material.cert
    return {
        "common_name": _x509.common_name_of(cert),
        "not_before": _x509.iso(_x509.utc(cert, "not_valid_before")),
        "not_after": _x509.iso(_x509.utc(cert, "not_valid_after")),
        "serial": format(cert.serial_number, "x"),
        "sans": _x509.sans_of(cert),
        "key_type": _x509.key_type_of(material.key),
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
    data = {
        "tls.crt": _x509.b64(material.cert_pem),
        "tls.key": _x509.b64(material.key_pem),
        "ca.crt": _x509.b64(ca_pem),
    }
    if next_ca is not None:
        data[NEXT_CA_CERT], data[NEXT_CA_KEY] = _x509.b64(next_ca.cert_pem), _x509.b64(next_ca.key_pem)
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
        return _x509.b64(self.ca.ca_pem)

    def secrets(self) -> list:
        return [outcome.secret() for outcome in self.outcomes]

    def sensitive_values(self) -> set:
        """Every private key, as PEM and as stored base64: for Ansible's no_log masking."""
        values = set()
        for outcome in self.outcomes:
            values.update(_x509.key_forms(outcome.material.key_pem))
        if self.ca.next_ca is not None:
            values.update(_x509.key_forms(self.ca.next_ca.key_pem))
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
        note = f"valid until {_x509.iso(_x509.utc(material.cert, 'not_valid_after'))} and as asked"
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


def _rotation_step(options: CertsOptions, stored: Stored, now: datetime.datetime, base: dict) -> CaDecision | None:
    """The next step of a rotation under way (phase trust or switch), or None when none is."""
    request = options.ca
    old = stored.material
    phase = stored.annotations.get(PHASE_ANNOTATION)
    since = _since(stored)
    ready = since is None or (now - since).total_seconds() >= options.rotation_phase_seconds
    after = _x509.iso(since + datetime.timedelta(seconds=options.rotation_phase_seconds)) if since else "now"
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
        annotations = {**recorded, PHASE_ANNOTATION: "switch", SINCE_ANNOTATION: _x509.iso(now)}
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
    return None


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

    step = _rotation_step(options, stored, now, base)
    if step is not None:
        return step
    old = stored.material
    phase = stored.annotations.get(PHASE_ANNOTATION)
    outdated = backend.outdated_reason()
    if phase == "trust":  # and its incoming CA is gone: phase 1 begins again
        outdated = f"the incoming CA ({NEXT_CA_CERT}, {NEXT_CA_KEY}) is missing or unreadable"
    if outdated is None and options.ca_generation and options.ca_generation != stored_generation:
        outdated = f"ca.generation is {options.ca_generation}, the stored CA is generation {stored_generation}"
    if outdated:
        new = CertificateBackend(request, None, renew_before_days=options.renew_before_days, now=now).generate()
        annotations = {**base, PHASE_ANNOTATION: "trust", SINCE_ANNOTATION: _x509.iso(now)}
        reason = (
            f"rotation phase 1 of 3 ({outdated}): a new CA was made and added to every ca.crt; the old CA still signs"
        )
        return CaDecision(Outcome(request, "rotating", reason, old, old.cert_pem + new.cert_pem, annotations, new))

    note = f"valid until {_x509.iso(_x509.utc(old.cert, 'not_valid_after'))} and as asked"
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
