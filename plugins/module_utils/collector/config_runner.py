# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.collector_config module's flow: lint, then the collector's own validate.

No cluster is contacted. The module file holds its documentation and a main() that hands
the AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _validate as collector_validate
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions
from ansible_collections.otel.kubernetes.plugins.module_utils.collector._lint import lint
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import MODES

ARGUMENT_SPEC = {
    "config": {"type": "raw", "required": True},
    "distribution": {"type": "str", "choices": list(distributions.ORDER)},
    "image": {"type": "str"},
    "memory_limit": {"type": "str"},
    "mode": {"type": "str", "default": "deployment", "choices": list(MODES)},
    "replicas": {"type": "int"},
    "autoscaler": {"type": "dict"},
    "traces_routed_by_trace_id": {"type": "bool", "default": False},
    "fail_on_warnings": {"type": "bool", "default": False},
    "collector_binary": {"type": "str"},
}
MODULE_OPTIONS = {}


def check(params: dict) -> tuple:
    """(module result, failure message or None) for the module's parameters."""
    report = lint(
        params["config"],
        distribution=params["distribution"],
        image=params["image"],
        memory_limit=params["memory_limit"],
        mode=params["mode"],
        replicas=params["replicas"],
        autoscaler=params["autoscaler"],
        traces_routed_by_trace_id=params["traces_routed_by_trace_id"],
    )
    validated_with = None
    if report.valid:
        errors, warnings, validated_with = collector_validate.second_opinion(
            report.config, params["collector_binary"], report.distribution
        )
        report.errors.extend(errors)
        report.warnings.extend(warnings)
    result = {
        "changed": False,
        "valid": not report.errors,
        "errors": report.errors,
        "lint_warnings": report.warnings,
        "validated_with": validated_with,
        "distribution": report.distribution,
        "image": report.image,
        "collector_version": distributions.COLLECTOR_VERSION,
        "config": report.config,
    }
    failure = None
    if report.errors:
        failure = f"the collector configuration has {len(report.errors)} error(s):\n- " + "\n- ".join(report.errors)
    elif params["fail_on_warnings"] and report.warnings:
        failure = (
            f"the collector configuration has {len(report.warnings)} warning(s) and "
            f"fail_on_warnings is set:\n- " + "\n- ".join(report.warnings)
        )
    return result, failure


def run_module(module) -> None:
    result, failure = check(module.params)
    for warning in result["lint_warnings"]:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)
