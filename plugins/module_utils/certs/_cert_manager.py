# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""The cert_manager backend: Issuers and Certificates, render_only, backend choice, removal."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import CERT_MANAGER_API, MANAGED_BY
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._options import CertRequest, CertsOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._self_signed import describe
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._x509 import b64
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError


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


def _unissued(request: CertRequest, action: str, reason: str) -> dict:
    """A certificate's summary before cert-manager has written its Secret: the request, no material."""
    return {
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


def cert_manager_summary(options: CertsOptions, results: list, stored: dict) -> dict:
    """Per certificate: what happened to its Certificate, and the Secret as it was read."""
    by_name = {(r["namespace"], r["name"]): r for r in results if r.get("kind") == "Certificate"}

    def entry(request: CertRequest) -> dict:
        applied = by_name.get((request.namespace, request.secret_name)) or {}
        result = _unissued(request, *_CM_ACTIONS.get(applied.get("action"), ("kept", "not applied")))
        found = stored.get((request.namespace, request.secret_name))
        if found is not None and found.material is not None:
            result.update(describe(found.material))
        return result

    ca = entry(options.ca)
    ca_stored = stored.get((options.ca.namespace, options.ca.secret_name))
    ca_pem = ca_stored.material.cert_pem if ca_stored is not None and ca_stored.material is not None else None
    ca["certificate"] = ca_pem.decode("ascii") if ca_pem else None
    ca["ca_bundle"] = b64(ca_pem) if ca_pem else None
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
        reason = "rendered as a cert-manager Certificate; cert-manager issues the Secret where the objects are applied"
        return _unissued(request, "rendered", reason)

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
