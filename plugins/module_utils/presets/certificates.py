# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline's certificates (role otel_certificates): the CA, the gateway's server and the agents'
client certificate, as otel.kubernetes.certs' ``preset: pipeline`` takes them.

Pure: settings in, the certs module's parameters, the namespace to apply and the errors out
(each naming the role variable, since that is what the user sets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _common as presets
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.certificates_settings import SETTINGS

# The role variable of a setting, for messages.
var = SETTINGS.variable
NUMBERS = ("ca_validity_days", "ca_generation", "ca_rotation_phase_seconds", "validity_days", "renew_before_days")


@dataclass
class Pipeline:
    """What the certs module issues for the pipeline, and what the role publishes."""

    namespace: str
    create_namespace: bool
    pod_security: str
    # The role's backend setting (auto unresolved): published as-is when nothing was sent.
    backend: str
    # Parameters of otel.kubernetes.certs (CertsOptions.from_params).
    params: dict
    errors: list = field(default_factory=list)

    def namespace_object(self) -> dict:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}

    def pending_message(self) -> str:
        """Check mode, namespace not there yet: a dry-run Secret cannot be sent into it."""
        names = [c["secret_name"] for c in self.params["certificates"]]
        return (
            f"Namespace {self.namespace} does not exist yet, so the CA {self.params['ca']['secret_name']} and the "
            f"certificates {', '.join(names[:-1])} and {names[-1]} would be issued on a real run (not sent to the "
            "server in check mode)."
        )

    def status(self, result: dict | None) -> dict:
        """otel_certificates_status: the backend, namespace, CA, certificates and secret name -> expiry
        (UTC, ISO 8601; null while cert-manager has not written a Secret yet)."""
        result = result or {}
        ca = result.get("ca") or {}
        certificates = result.get("certificates") or []
        everything = ([ca] if ca else []) + certificates
        return {
            "backend": result.get("backend", self.backend),
            "namespace": self.namespace,
            "ca": ca,
            "certificates": certificates,
            "not_after": {c["secret_name"]: c["not_after"] for c in everything},
        }


def _number(settings: dict, key: str, errors: list) -> int:
    value = settings.get(key)
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit():
        errors.append(f"{var(key)} is {json.dumps(value)}; give a whole number.")
        return 0
    return int(text)


def _check(settings: dict, numbers: dict, errors: list) -> None:
    renew, leaf, ca = numbers["renew_before_days"], numbers["validity_days"], numbers["ca_validity_days"]
    if not (0 <= renew < leaf and renew < ca):
        errors.append(
            f"{var('renew_before_days')} ({settings['renew_before_days']}) must be at least 0 and less than "
            f"{var('validity_days')} ({settings['validity_days']}) and {var('ca_validity_days')} "
            f"({settings['ca_validity_days']}), or every run would renew."
        )
    if numbers["ca_generation"] < 1 or numbers["ca_rotation_phase_seconds"] < 0:
        errors.append(
            f"{var('ca_generation')} ({settings['ca_generation']}) must be 1 or more (raise it by one to rotate "
            f"the CA) and {var('ca_rotation_phase_seconds')} ({settings['ca_rotation_phase_seconds']}) must be "
            "0 or more."
        )
    for key in ("key_type", "backend", "pod_security"):
        allowed = SETTINGS[key].choices
        if settings[key] not in allowed:
            errors.append(f"{var(key)} is {json.dumps(settings[key])}; use one of {', '.join(allowed)}.")
    if not isinstance(settings["gateway_extra_dns_names"], list):
        errors.append(
            f"{var('gateway_extra_dns_names')} ({str(settings['gateway_extra_dns_names'])[:80]}) must be a list "
            "of DNS names."
        )


def build(given: dict | None, rendering: bool = False) -> Pipeline:
    """The pipeline's certificates from the role's settings. Rendering always uses cert-manager
    objects: a rendered manifest must never carry a private key."""
    settings = SETTINGS.merged(given)
    errors = SETTINGS.unknown(given)
    numbers = {key: _number(settings, key, errors) for key in NUMBERS}
    if not errors:
        _check(settings, numbers, errors)
    s = settings
    params = {
        "namespace": s["namespace"],
        "backend": "cert_manager" if rendering else s["backend"],
        "ca": {
            "secret_name": s["ca_secret"],
            "common_name": s["ca_common_name"],
            "validity_days": numbers["ca_validity_days"],
            "generation": numbers["ca_generation"],
            "rotation_phase_seconds": numbers["ca_rotation_phase_seconds"],
        },
        "certificates": [
            {
                "secret_name": s["gateway_secret"],
                "usage": "server",
                "common_name": f"{s['gateway_name']}-collector",
                "gateway": {"name": s["gateway_name"]},
                "dns_names": s["gateway_extra_dns_names"] if isinstance(s["gateway_extra_dns_names"], list) else [],
                "validity_days": numbers["validity_days"],
            },
            {
                "secret_name": s["agent_secret"],
                "usage": "client",
                "common_name": s["agent_common_name"],
                "validity_days": numbers["validity_days"],
            },
        ]
        + (
            [
                {
                    "secret_name": s["cluster_secret"],
                    "usage": "client",
                    "common_name": s["cluster_common_name"],
                    "validity_days": numbers["validity_days"],
                }
            ]
            if s["cluster_secret"]
            else []
        ),
        "key_type": s["key_type"],
        "renew_before_days": numbers["renew_before_days"],
        "cluster_domain": s["cluster_domain"],
    }
    return Pipeline(
        namespace=s["namespace"],
        create_namespace=presets.as_bool(s["create_namespace"]),
        pod_security=s["pod_security"],
        backend=params["backend"],
        params=params,
        errors=errors,
    )
