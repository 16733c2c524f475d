# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.rbac module's flow: derive the permissions, render, apply.

The module file holds its documentation and a main() that hands the AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    apply_objects,
    fail,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import render as rbac_render

ARGUMENT_SPEC = with_apply_options(
    {
        "name": {"type": "str", "required": True},
        "namespace": {"type": "str", "required": True},
        "config": {"type": "raw"},
        "service_account": {"type": "str"},
        "extra_rules": {"type": "list", "elements": "dict", "default": []},
        "kubelet_fine_grained_authz": {"type": "bool", "default": True},
    }
)
MODULE_OPTIONS = {}


class RbacRunner:
    """One task: the ServiceAccount and (Cluster)Role(Binding)s the collector config needs."""

    def __init__(self, module):
        self.module = module
        self.objects = []  # the rendered objects, returned on failure too

    def run(self) -> dict:
        """The module result; raises OtelK8sError."""
        params = self.module.params
        permissions = rbac_render.derive_permissions(
            params["config"], params["namespace"], params["kubelet_fine_grained_authz"]
        )
        self.objects = rbac_render.render_rbac(
            params["name"],
            params["namespace"],
            service_account=params["service_account"],
            extra_rules=params["extra_rules"],
            permissions=permissions,
        )
        for warning in rbac_render.rbac_warnings(permissions, params["extra_rules"]):
            self.module.warn(warning)
        checked = manifests.check_objects([("rendered", obj) for obj in self.objects])  # copies for the engine
        result = apply_objects(self.module, checked, namespace=params["namespace"])
        # With render_only, the result's objects (ordered, namespaced) replace the rendered ones.
        return {"objects": self.objects, "permissions": permissions.reasons, **result}


def run_module(module) -> None:
    runner = RbacRunner(module)
    try:
        result = runner.run()
    except OtelK8sError as error:
        fail(module, error, objects=runner.objects)
    module.exit_json(**result)
