# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What otel.kubernetes.collector does: render, check and apply one collector, or a whole preset component.

A preset (module_utils.presets: agent, gateway, cluster) turns its role's settings into the namespace,
the collector's options, its RBAC and the objects it adds (the agent also a second collector, its host
collector); this runner renders and validates all of them before anything is contacted, then applies
them in one engine run.
"""

from __future__ import annotations

import dataclasses
import time

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _helm_values as helm_values
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as collector_render
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _validate as collector_validate
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import (
    DEFAULT_MODE,
    RESOURCE_METRICS_API,
    RESOURCE_METRICS_KINDS,
    CollectorOptions,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests, pod_security, readiness
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    apply_objects,
    connect,
    fail,
    not_rendered_before,
    redacted_params,
    render_only,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Discovery, group_serves
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.option_spec import (
    argument_spec,
    from_params,
    unset_by_default,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent, cluster, gateway
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import render as rbac_render

PRESETS = {"agent": agent, "gateway": gateway, "cluster": cluster}
# The module's options: the collector's (one definition, collector.options) and what picks them.
ARGUMENT_SPEC = with_apply_options(
    {
        "name": {"type": "str"},
        "preset": {"type": "str", "choices": sorted(PRESETS)},
        "preset_settings": {"type": "dict", "default": {}},
        **argument_spec(CollectorOptions),
        "helm_values": {"type": "raw"},
        "collector_binary": {"type": "str"},
    }
)
MODULE_OPTIONS = {"required_one_of": [("name", "preset")]}
INGRESS_API = "networking.k8s.io/v1"
# A preset computes the collector's options itself: those that default to None are refused when given
# (upgrade_strategy, self_monitoring and traces_routed_by_trace_id have defaults; a preset sets its own).
NOT_WITH_PRESET = ("name", "helm_values", *unset_by_default(CollectorOptions))
# How long the resource metrics API may take to answer (an aggregated API whose server is down
# answers 503, which the client would otherwise retry for the whole retry_timeout).
METRICS_CHECK_SECONDS = 10
OPERATOR_MISSING = (
    "This cluster does not serve OpenTelemetryCollector (CRD opentelemetrycollectors.opentelemetry.io): "
    "the OpenTelemetry Operator is not installed. Install it first (role otel.kubernetes.otel_operator). "
    "Nothing of the {what} was applied."
)


def autoscaler_fix(declared, from_values: bool) -> tuple:
    """(the setting, how to turn it off) of a preset's autoscaler, naming its role's variables (declared: the
    preset's RoleSettings); from_values: the Helm values' autoscaling."""
    if from_values:
        values = declared.variable("helm_values")
        return f"{values} autoscaling", f"set autoscaling.enabled: false in {values}"
    return declared.variable("autoscaler"), f"set {declared.variable('autoscaler')}: {{}}"


def options_with_values(options: CollectorOptions, values, notes: list) -> tuple:
    """(options, errors): the given options over what helm_values maps to (None: not given)."""
    errors = []
    if values is not None:
        from_values, errors = helm_values.collector_options_from_helm_values(values, mode=options.mode, notes=notes)
        unset = {key: value for key, value in from_values.items() if getattr(options, key) is None}
        options = dataclasses.replace(options, **unset)
    return dataclasses.replace(options, mode=options.mode or DEFAULT_MODE), errors


class CollectorRunner:
    """One run of the collector module: `run()` ends in exit_json or fail_json."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.invocation = {"module_args": redacted_params(module, "extra_objects")}
        self.result = {"lint_warnings": []}
        self.rendering = render_only(module)

    # ------------------------------------------------------------------ shared
    def _parse_values(self, given, name: str):
        values, problem = helm_values.parse_values(given)
        if problem:
            self.module.fail_json(msg=f"collector {name}: {problem}; nothing was applied", invocation=self.invocation)
        return values

    def _render(self, name: str, options: CollectorOptions, values, warn: bool = True) -> tuple:
        """(object, ingresses, errors): the collector rendered, linted and validated."""
        notes = []
        options, errors = options_with_values(options, values, notes)
        ingresses, ingress_errors = helm_values.ingress_from_helm_values(values, name, options.namespace)
        errors += ingress_errors
        if ingresses and options.mode == "sidecar":
            errors.append("helm_values.ingress: a sidecar collector has no Service to route an Ingress to")
        if options.config is None:
            errors.append("config: required with state=present; give config, or helm_values with config")
            options = dataclasses.replace(options, config={})
        rendered = collector_render.render(name, options)
        errors += rendered.errors
        warnings = notes + rendered.warnings
        if not errors:
            found, cautions, self.result["validated_with"] = collector_validate.second_opinion(
                rendered.object["spec"]["config"],
                self.p["collector_binary"],
                rendered.distribution,
                rendered.object["spec"].get("env"),
            )
            errors += found
            warnings += cautions
        self.result.update(image=rendered.image, distribution=rendered.distribution, lint_warnings=warnings)
        for warning in warnings if warn else []:
            self.module.warn(warning)
        return rendered.object, ingresses, errors

    def _refuse(self, name: str, errors: list, obj=None) -> None:
        self.module.fail_json(
            msg=f"collector {name}: {len(errors)} error(s), nothing was applied:\n- " + "\n- ".join(errors),
            errors=errors,
            object=obj,
            invocation=self.invocation,
            **self.result,
        )

    def run(self) -> None:
        try:
            if self.p["preset"]:
                given = [key for key in NOT_WITH_PRESET if self.p[key] is not None]
                if given:
                    self.module.fail_json(
                        msg=f"preset={self.p['preset']}: {', '.join(given)} cannot be given with a preset; put "
                        "the component's settings into preset_settings (its role's variables without the prefix)",
                        invocation=self.invocation,
                    )
                self._run_preset()
            else:
                self._run_options()
        except OtelK8sError as error:
            fail(self.module, error, invocation=self.invocation, **self.result)

    # ------------------------------------------------------------------ one collector from options
    def _run_options(self) -> None:
        p, module = self.p, self.module
        if not p["name"]:
            module.fail_json(msg="name: required unless preset is given", invocation=self.invocation)
        module.no_log_values.update(manifests.secret_values(p["extra_objects"] or []))
        values = self._parse_values(p["helm_values"], p["name"])
        documents = [("extra_objects", o) for o in p["extra_objects"] or []]
        if p["state"] == "absent":
            obj = collector_render.collector_ref(p["name"], p["namespace"])
            where = {"namespace": p["namespace"]} if p["namespace"] else {}
            documents += [
                (
                    "helm_values.ingress",
                    {"apiVersion": INGRESS_API, "kind": "Ingress", "metadata": {"name": n, **where}},
                )
                for n in helm_values.ingress_names(values, p["name"])
            ]
        else:
            obj, ingresses, errors = self._render(p["name"], from_params(CollectorOptions, p), values)
            documents += [("helm_values.ingress", o) for o in ingresses]
            if errors:
                self._refuse(p["name"], errors, obj)
        extras = manifests.check_objects(documents) if documents else []
        module.no_log_values.update(manifests.secret_values(extras))
        if self.rendering:
            self.result.update(apply_objects(module, [obj] + extras, p["namespace"]))
            module.exit_json(object=obj, invocation=self.invocation, **self.result)
        client = connect(module)
        self.result.update(apply_objects(module, [obj] + extras, p["namespace"], client=client))
        namespace = next(
            (r["namespace"] for r in self.result["results"] if r["kind"] == collector_render.KIND), p["namespace"]
        )
        if p["state"] == "present":
            self._check_resource_metrics(client, obj, "autoscaler", "remove autoscaler")
        self._report_workload(obj, namespace)
        self.result["api_requests"] = client.requests
        module.exit_json(object=obj, invocation=self.invocation, **self.result)

    def _check_resource_metrics(self, client, obj: dict, setting: str, unset: str) -> None:
        """An autoscaler needs the resource metrics API: warn when the cluster does not serve it."""
        autoscaler = obj["spec"].get("autoscaler") or {}
        if autoscaler.get("maxReplicas") is None:
            return
        deadline = time.monotonic() + METRICS_CHECK_SECONDS
        api = RESOURCE_METRICS_API
        try:
            served = group_serves(client, api, RESOURCE_METRICS_KINDS, deadline=deadline)
        except ApiError as error:  # registered (an APIService) but its server does not answer
            served = False
            self.module.warn(f"{api} is registered but did not answer: HTTP {error.status} {error.message}")
        self.result["resource_metrics_served"] = served
        if not served:
            replicas = obj["spec"].get("replicas")
            self.module.warn(collector_render.autoscaler_without_metrics(autoscaler, replicas, setting, unset))

    def _report_workload(self, obj: dict, namespace: str) -> None:
        """The workload the engine waited for (the operator's, readiness.collector_workload), in the result."""
        workload = readiness.collector_workload(obj)
        if workload and self.p["wait"] and self.p["state"] == "present" and not self.module.check_mode:
            self.result["workload"] = {
                "apiVersion": workload["apiVersion"],
                "kind": workload["kind"],
                "name": workload["name"],
                "namespace": namespace,
            }

    # ------------------------------------------------------------------ a preset component
    def _run_preset(self) -> None:
        p, module = self.p, self.module
        component = PRESETS[p["preset"]].build(p["preset_settings"], p["state"])
        parts = [component, *component.companions]
        errors = [error for part in parts for error in part.errors]
        if errors:
            self._refuse(component.name, errors)
        values = self._parse_values(component.helm_values, component.name)
        present = p["state"] == "present"
        rendered = {}
        if present:
            # Rendered and validated before the cluster is contacted: bad input fails with nothing read.
            rendered = self._render_parts(component, values, [])
        client = discovery = None
        if not self.rendering:
            client = connect(module)
            discovery = Discovery(client)
        kinds = component.monitoring_kinds(discovery)
        if present and component.self_monitoring(kinds) != component.self_monitoring([]):
            # The component makes the ServiceMonitors itself: the operator must not make its own too.
            rendered = self._render_parts(component, values, kinds)
        groups, collectors, reasons = self._preset_objects(component, rendered, kinds)
        obj = collectors[0]
        status = {}
        if present:
            status = component.publish(self.result.get("image"), reasons, self.result["lint_warnings"])
        self.result.update(object=obj, permissions=reasons, status=status)
        if self.rendering:
            # Each group in its own apply order, as the role's tasks rendered them one after the other.
            objects = [
                o
                for group in groups
                for o in manifests.rendered(not_rendered_before(module, group), component.namespace)
            ]
            self.result.update(changed=False, objects=objects, results=[], api_requests=0)
            module.exit_json(invocation=self.invocation, **self.result)
        # In check mode the operator role may have installed nothing yet: the collector was validated
        # offline above and the engine reports it as not validated by the server.
        served = present and discovery.find(collector_render.API_VERSION, collector_render.KIND) is not None
        if present and not served and not module.check_mode:
            raise OtelK8sError(OPERATOR_MISSING.format(what=component.what))
        everything = [o for group in groups for o in group]
        self.result.update(apply_objects(module, everything, component.namespace, client=client))
        stale = manifests.check_objects([("preset", o) for o in component.stale_objects()]) if present else []
        if stale:
            removed = apply_objects(module, stale, component.namespace, client=client, state="absent")
            for key in ("results", "diff"):
                if key in removed:
                    self.result[key] = self.result.get(key, []) + removed[key]
            self.result["changed"] = self.result["changed"] or removed["changed"]
        if present and (obj["spec"].get("autoscaler") or {}).get("maxReplicas") is not None:
            from_values = component.options.get("autoscaler") is None  # helm_values' autoscaling
            self._check_resource_metrics(client, obj, *autoscaler_fix(PRESETS[p["preset"]].SETTINGS, from_values))
        self._report_workload(obj, component.namespace)
        self.result["api_requests"] = client.requests
        module.exit_json(invocation=self.invocation, **self.result)

    def _preset_objects(self, component, rendered: dict, kinds: list) -> tuple:
        """(groups of checked objects in apply order: namespaces, RBAC, collectors and their Ingresses, the
        component's other objects; the collectors and Ingresses; the permissions' reasons) of a preset, its
        companions' named. The lint's and RBAC's warnings are shown."""
        present = self.p["state"] == "present"
        namespaces, rbac, collectors, reasons, warnings = [], [], [], [], []
        for part in [component, *component.companions]:
            obj, ingresses = rendered.get(id(part), (collector_render.collector_ref(part.name, part.namespace), []))
            config = obj["spec"]["config"] if present else part.options["config"]
            permissions = rbac_render.derive_permissions(config, part.namespace)
            rbac += rbac_render.render_rbac(
                part.rbac_name,
                part.namespace,
                service_account=part.service_account,
                permissions=permissions,
                automount_token=part.automount_token,
            )
            if component.create_namespace and present:
                namespaces += pod_security.label_namespaces([part.namespace_object()], part.pod_security)
            collectors += [obj] + ingresses
            mine = "" if part is component else f"{part.name}: "
            reasons += [mine + reason for reason in permissions.reasons]
            warnings += [mine + warning for warning in rbac_render.rbac_warnings(permissions)]
        if present:
            for warning in self.result["lint_warnings"] + warnings:
                self.module.warn(warning)
        groups = [namespaces, rbac, collectors, component.objects(kinds, self.p["state"])]
        return [manifests.check_objects([("preset", o) for o in group]) for group in groups], collectors, reasons

    def _render_parts(self, component, values, kinds: list) -> dict:
        """{id(part): (collector, Ingresses of the Helm values)} of the component and its companions, or
        fail_json with every error. The component is rendered last: its image and distribution are the task's;
        the companions' lint warnings are kept, named."""
        rendered, warnings = {}, []
        for part in [*component.companions, component]:
            options = dataclasses.replace(
                CollectorOptions(**part.options),
                collector_version=part.version,
                self_monitoring=part.self_monitoring(kinds if part is component else []),
            )
            given = values if part is component else None
            obj, ingresses, errors = self._render(part.name, options, given, warn=False)
            if errors:
                self._refuse(part.name, errors, obj)
            rendered[id(part)] = (obj, ingresses)
            mine = "" if part is component else f"{part.name}: "
            warnings += [mine + warning for warning in self.result["lint_warnings"]]
        self.result["lint_warnings"] = list(component.warnings) + warnings
        return rendered


def run_module(module) -> None:
    CollectorRunner(module).run()
