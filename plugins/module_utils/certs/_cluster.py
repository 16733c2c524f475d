# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""The certs module's reads from the cluster and its read-decide-apply flow (execute)."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._cert_manager import (
    cert_manager_summary,
    removal_objects,
    render_cert_manager,
    resolve_backend,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import (
    CERT_MANAGER_API,
    CERT_MANAGER_KINDS,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._options import CertsOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._self_signed import (
    check_secret_types,
    plan_self_signed,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._stored import Stored
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._x509 import key_forms
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import group_serves
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.engine import describe_api_error
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.info import read_object


def _api_failure(error: ApiError, what: str) -> OtelK8sError:
    return OtelK8sError(describe_api_error(error, what) + ". Nothing was applied")


def read_secret(client, namespace: str, name: str) -> dict | None:
    """The stored Secret, or None when it does not exist."""
    try:
        return read_object(client, f"/api/v1/namespaces/{namespace}/secrets/{name}")
    except ApiError as error:
        raise _api_failure(error, f"reading Secret {namespace}/{name}") from None


def cert_manager_served(client) -> bool:
    """Does the API server serve cert-manager's Issuer and Certificate? (One fresh request.)"""
    try:
        return group_serves(client, CERT_MANAGER_API, CERT_MANAGER_KINDS)
    except ApiError as error:
        raise _api_failure(error, f"discovering {CERT_MANAGER_API}") from None


def execute(options: CertsOptions, client, apply, protect, state: str = "present") -> dict:
    """Read, decide, apply. ``apply(objects, wait_condition, live=None)`` is the engine (returns its result);
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
            for value in key_forms(m.key_pem)
        }
    )
    check_secret_types(list(stored.values()))
    if backend == "cert_manager":
        result = apply(render_cert_manager(options), {"type": "Ready", "status": "True"})
        result.update(cert_manager_summary(options, result["results"], stored))
    else:
        plan = plan_self_signed(options, lambda namespace, name: secrets[(namespace, name)])
        protect(plan.sensitive_values())
        # The Secrets as read: one that already holds what is kept is not sent again.
        result = apply(plan.secrets(), None, [s for s in secrets.values() if s])
        result.update(plan.summary())
    result["backend"] = backend
    return result
