# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.operator module's entry: its argument spec (OperatorOptions' fields and the
connection and apply options) and the hand-off to manifest.execute().

The module file holds its documentation and a main() that hands the AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import api as certs
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    connect,
    fail,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.option_spec import argument_spec
from ansible_collections.otel.kubernetes.plugins.module_utils.operator import manifest

ARGUMENT_SPEC = with_apply_options(argument_spec(manifest.OperatorOptions))
MODULE_OPTIONS = {}


def run_module(module) -> None:
    if not (module.params["render_only"] or certs.HAS_CRYPTOGRAPHY):
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        result = manifest.execute(
            module.params, module.check_mode, module._diff, lambda: connect(module), module.no_log_values.update
        )
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(**result)
