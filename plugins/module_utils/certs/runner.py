# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.certs module's flow: render_only, or read, decide and apply (certs.execute).

With ``preset: pipeline`` (module_utils.presets.certificates) the certificates come from the
otel_certificates role's settings, and the task also applies their namespace and returns the
role's ``status``. The module file holds its documentation and a main() that hands the
AnsibleModule to run_module().
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import api as certs
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import pod_security
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    apply_objects,
    connect,
    fail,
    render_only,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import certificates as pipeline_preset

ARGUMENT_SPEC = with_apply_options(
    {
        **certs.OPTIONS,
        "preset": {"type": "str", "choices": ["pipeline"]},
        "preset_settings": {"type": "dict", "default": {}},
    }
)
MODULE_OPTIONS = {}
# The preset computes these itself.
NOT_WITH_PRESET = (
    "namespace",
    "prefix",
    "ca",
    "certificates",
    "key_type",
    "renew_before_days",
    "cluster_domain",
    "backend",
)


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


def _certs_result(module, options, client) -> dict:
    return certs.execute(
        options,
        client,
        apply=lambda objects, condition, live=None: apply_objects(
            module, objects, wait_condition=condition, client=client, live=live
        ),
        protect=module.no_log_values.update,
        state=module.params["state"],
    )


def _given(params: dict, key: str) -> bool:
    """Was the option set? A dict option left at ``{}`` may come with its suboptions' defaults filled in."""
    spec = ARGUMENT_SPEC[key]
    unset = [spec.get("default")]
    if spec["type"] == "dict" and "options" in spec:
        unset.append({name: sub.get("default") for name, sub in spec["options"].items()})
    return params[key] not in unset


def run_preset(module) -> None:
    """The pipeline's namespace and certificates in one task; everything is checked before anything is read."""
    params = module.params
    given = [key for key in NOT_WITH_PRESET if _given(params, key)]
    if given:
        module.fail_json(
            msg=f"preset={params['preset']}: {', '.join(given)} cannot be given with a preset; put the settings "
            "into preset_settings (the otel_certificates role's variables without the prefix)"
        )
    pipeline = pipeline_preset.build(params["preset_settings"], rendering=render_only(module))
    present = params["state"] == "present"
    try:
        if pipeline.errors:
            raise OtelK8sError(
                "the otel_certificates settings were refused, nothing was applied:\n- " + "\n- ".join(pipeline.errors)
            )
        options = certs.CertsOptions.from_params(pipeline.params)
        namespace = []
        if pipeline.create_namespace and present:
            namespace = pod_security.label_namespaces([pipeline.namespace_object()], pipeline.pod_security)
        if render_only(module):
            objects, summary, warnings = certs.render_only_result(options)
            rendered = apply_objects(module, namespace)["objects"] if namespace else []
            result = apply_objects(module, objects, namespace=options.namespace)
            result["objects"] = rendered + result["objects"]
            for warning in warnings:
                module.warn(warning)
            result.update(summary, backend="cert_manager")
            module.exit_json(status=pipeline.status(result), **result)
        if present and not certs.HAS_CRYPTOGRAPHY:
            module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
        client = connect(module)
        applied = apply_objects(module, namespace, client=client) if namespace else {"changed": False, "results": []}
        created = any(r.get("action") == "created" for r in applied["results"])
        if module.check_mode and created:
            # A namespace that does not exist yet cannot hold even a dry-run Secret: nothing is sent.
            applied.update(msg=pipeline.pending_message(), api_requests=client.requests)
            module.exit_json(status=pipeline.status({"backend": pipeline.backend}), **applied)
        result = _certs_result(module, options, client)
        result["results"] = applied["results"] + result["results"]
        result["changed"] = bool(applied["changed"] or result.get("changed"))
        result["api_requests"] = client.requests
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(status=pipeline.status(result) if present else {}, **result)


def run_module(module) -> None:
    if module.params["preset"]:
        run_preset(module)
    if render_only(module):
        render(module)
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        client = connect(module)
        options = certs.CertsOptions.from_params(module.params, client.conn.default_namespace)
        result = _certs_result(module, options, client)
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(**result)
