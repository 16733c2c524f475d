# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""The module's options as typed requests (CertRequest, CertsOptions), checked before anything is made."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import (
    BACKENDS,
    DEFAULT_ROTATION_PHASE_SECONDS,
    DNS_NAME,
    KEY_TYPES,
    MAX_COMMON_NAME,
    SECRET_NAME,
    USAGES,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

# The options of otel.kubernetes.certs, written once: its argument spec (certs/runner.py adds the
# preset and the connection and apply options), and the defaults CertsOptions.from_params gives
# callers that leave an option out (the operator's webhook certificate, the certificates preset).
OPTIONS = {
    "namespace": {"type": "str"},
    "prefix": {"type": "str", "default": "otel"},
    "ca": {
        "type": "dict",
        "default": {},
        "options": {
            "secret_name": {"type": "str"},
            "common_name": {"type": "str"},
            "validity_days": {"type": "int", "default": 3650},
            "generation": {"type": "int"},
            "rotation_phase_seconds": {"type": "int", "default": DEFAULT_ROTATION_PHASE_SECONDS},
        },
    },
    "certificates": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "secret_name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "common_name": {"type": "str"},
            "usage": {"type": "str", "default": "server", "choices": list(USAGES)},
            "dns_names": {"type": "list", "elements": "str", "default": []},
            "ip_addresses": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
            "gateway": {
                "type": "dict",
                "options": {"name": {"type": "str", "required": True}, "namespace": {"type": "str"}},
            },
            "validity_days": {"type": "int", "default": 365},
        },
    },
    "key_type": {"type": "str", "default": "ecdsa-p256", "choices": list(KEY_TYPES), "no_log": False},
    "renew_before_days": {"type": "int", "default": 30},
    "cluster_domain": {"type": "str", "default": "cluster.local"},
    "backend": {"type": "str", "default": "self_signed", "choices": list(BACKENDS)},
}
_CA = OPTIONS["ca"]["options"]
_LEAF = OPTIONS["certificates"]["options"]


def _default(options: dict, name: str):
    return options[name]["default"]


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


def _leaf_request(where: str, entry, namespace: str, key_type: str, cluster_domain: str, problems: list):
    """The CertRequest of one entry of the certificates option (its SANs from dns_names, services, gateway
    and ip_addresses), or None when it names no Secret."""
    if not isinstance(entry, dict) or not entry.get("secret_name"):
        problems.append(f"{where}: secret_name is required")
        return None
    cert_namespace = entry.get("namespace") or namespace
    dns_names = [str(n).strip().lower().rstrip(".") for n in entry.get("dns_names") or []]
    for service in entry.get("services") or []:
        dns_names.extend(service_sans(service, cert_namespace, cluster_domain))
    gateway = entry.get("gateway")
    if gateway:
        if not gateway.get("name"):
            problems.append(f"{where}.gateway: name is required")
        else:
            dns_names.extend(gateway_sans(gateway["name"], gateway.get("namespace") or cert_namespace, cluster_domain))
    ips = []
    for raw in entry.get("ip_addresses") or []:
        try:
            ips.append(ipaddress.ip_address(str(raw).strip()).compressed)
        except ValueError:
            problems.append(f"{where}: {raw!r} in ip_addresses is not an IP address")
    return CertRequest(
        secret_name=entry["secret_name"],
        namespace=cert_namespace,
        common_name=entry.get("common_name") or entry["secret_name"],
        usage=entry.get("usage") or _default(_LEAF, "usage"),
        key_type=key_type,
        validity_days=_days(entry.get("validity_days"), _default(_LEAF, "validity_days")),
        dns_names=tuple(_unique(dns_names)),
        ip_addresses=tuple(_unique(ips)),
    )


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
        prefix = params.get("prefix") or _default(OPTIONS, "prefix")
        key_type = params.get("key_type") or _default(OPTIONS, "key_type")
        renew = params.get("renew_before_days")
        renew = _default(OPTIONS, "renew_before_days") if renew is None else renew
        cluster_domain = (params.get("cluster_domain") or _default(OPTIONS, "cluster_domain")).strip(".")
        if renew < 0:
            problems.append(f"renew_before_days must be 0 or more, got {renew}")
        if key_type not in KEY_TYPES:
            problems.append(f"key_type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")
        backend = params.get("backend") or _default(OPTIONS, "backend")
        if backend not in BACKENDS:
            problems.append(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")

        ca_params = params.get("ca") or {}
        ca = CertRequest(
            secret_name=ca_params.get("secret_name") or f"{prefix}-ca",
            namespace=namespace,
            common_name=ca_params.get("common_name") or f"{prefix}-ca",
            usage="ca",
            key_type=key_type,
            validity_days=_days(ca_params.get("validity_days"), _default(_CA, "validity_days")),
        )
        _check_request(ca, "ca", renew, problems)
        generation = ca_params.get("generation")
        if generation is not None and (not isinstance(generation, int) or generation < 1):
            problems.append(
                f"ca.generation must be a whole number of 1 or more, got {generation!r}; "
                "raise it by one to rotate the CA"
            )
        phase_seconds = _days(ca_params.get("rotation_phase_seconds"), _default(_CA, "rotation_phase_seconds"))
        if phase_seconds < 0:
            problems.append(
                f"ca.rotation_phase_seconds must be 0 or more, got {phase_seconds}; give at least the kubelet's "
                "Secret refresh (about 60) plus the collectors' reload_interval"
            )

        certificates = []
        seen = {(ca.namespace, ca.secret_name): "ca"}
        for index, entry in enumerate(params.get("certificates") or []):
            where = f"certificates[{index}]"
            request = _leaf_request(where, entry, namespace, key_type, cluster_domain, problems)
            if request is None:
                continue
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
    if not SECRET_NAME.match(request.secret_name) or len(request.secret_name) > 253:
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
        if len(name) > 253 or not DNS_NAME.match(name):
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
