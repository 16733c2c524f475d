# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.apply module's flow: load and check the objects, label namespaces, apply.

The module file holds its documentation and a main() that hands the AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests, pod_security
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    apply_objects,
    fail,
    redacted_params,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

ARGUMENT_SPEC = with_apply_options(
    {
        "definition": {"type": "raw"},
        "src": {"type": "path"},
        "namespace": {"type": "str"},
        "pod_security": {"type": "str", "choices": list(pod_security.LEVELS)},
        "wait_condition": {
            "type": "dict",
            "options": {
                "type": {"type": "str", "required": True},
                "status": {"type": "str", "default": "True", "choices": ["True", "False", "Unknown"]},
                "reason": {"type": "str"},
            },
        },
    }
)
MODULE_OPTIONS = {"mutually_exclusive": [("definition", "src")], "required_one_of": [("definition", "src")]}


def run(module) -> dict:
    """The engine's result for the module's objects; raises OtelK8sError before anything is applied
    when the input is wrong."""
    params = module.params
    objects = manifests.check_objects(manifests.load_documents(params["definition"], params["src"]))
    objects = pod_security.label_namespaces(objects, params["pod_security"])
    module.no_log_values.update(manifests.secret_values(objects))  # Secret values never shown
    return apply_objects(module, objects, params["namespace"], params["wait_condition"])


def run_module(module) -> None:
    # Large inputs are summarised and Secrets redacted in the echoed arguments.
    invocation = {"module_args": redacted_params(module)}
    try:
        result = run(module)
    except OtelK8sError as error:
        fail(module, error, invocation=invocation)
    module.exit_json(invocation=invocation, **result)
