# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.certs module's flow: render_only, or read, decide and apply (certs.execute).

The module file holds its documentation and a main() that hands the AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.otel.kubernetes.plugins.module_utils import certs
from ansible_collections.otel.kubernetes.plugins.module_utils.ansible_module import (
    apply_objects,
    connect,
    fail,
    render_only,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError

ARGUMENT_SPEC = {
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
            "rotation_phase_seconds": {"type": "int", "default": 3900},
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
            "usage": {"type": "str", "default": "server", "choices": list(certs.USAGES)},
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
    "key_type": {"type": "str", "default": "ecdsa-p256", "choices": list(certs.KEY_TYPES), "no_log": False},
    "renew_before_days": {"type": "int", "default": 30},
    "cluster_domain": {"type": "str", "default": "cluster.local"},
    "backend": {"type": "str", "default": "self_signed", "choices": list(certs.BACKENDS)},
}


RENDER_NEEDS_NAMESPACE = (
    "render_only: give namespace. Without a cluster there is no kubeconfig context to take it from, and the "
    "Issuers and Certificates must name the namespace they sign in"
)


def render(module) -> None:
    """render_only: cert-manager objects, whatever the backend; no key is made, nothing is read."""
    if not module.params["namespace"]:
        module.fail_json(msg=RENDER_NEEDS_NAMESPACE)
    try:
        options = certs.CertsOptions.from_params(module.params)
        objects, summary, warnings = certs.render_only_result(options)
        result = apply_objects(module, objects, namespace=options.namespace)
    except OtelK8sError as error:
        fail(module, error)
    for warning in warnings:
        module.warn(warning)
    result.update(summary)
    result["backend"] = "cert_manager"
    module.exit_json(**result)


def run_module(module) -> None:
    if render_only(module):
        render(module)
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        client = connect(module)
        options = certs.CertsOptions.from_params(module.params, client.conn.default_namespace)
        result = certs.execute(
            options,
            client,
            apply=lambda objects, condition: apply_objects(module, objects, wait_condition=condition, client=client),
            protect=module.no_log_values.update,
            state=module.params["state"],
        )
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(**result)
