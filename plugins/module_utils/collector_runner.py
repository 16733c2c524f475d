# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What otel.kubernetes.collector does: render, check and apply one collector, or a whole preset component.

A preset (module_utils.presets: agent, gateway, cluster) turns its role's settings into the namespace,
the collector's options, its RBAC and the objects it adds (the agent also a second collector, its host
collector); this runner renders and validates all of them before anything is contacted, then applies
them in one engine run.
"""

from __future__ import annotations

import time

from ansible_collections.otel.kubernetes.plugins.module_utils import (
    collector_render,
    collector_validate,
    helm_values,
    manifests,
    pod_security,
    rbac_render,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.ansible_module import (
    apply_objects,
    connect,
    fail,
    not_rendered_before,
    redacted_params,
    render_only,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import Discovery, group_serves
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.info import read_object
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent, cluster, gateway

PRESETS = {"agent": agent, "gateway": gateway, "cluster": cluster}
RENDER_OPTIONS = (
    "namespace",
    "config",
    "mode",
    "image",
    "distribution",
    "replicas",
    "autoscaler",
    "resources",
    "env",
    "node_env",
    "volumes",
    "volume_mounts",
    "ports",
    "service_account",
    "tolerations",
    "node_selector",
    "affinity",
    "priority_class_name",
    "pod_disruption_budget",
    "upgrade_strategy",
    "self_monitoring",
    "labels",
    "annotations",
    "security_context",
    "pod_security_context",
    "traces_routed_by_trace_id",
    "extra_objects",
)
INGRESS_API = "networking.k8s.io/v1"
# A preset computes these itself.
NOT_WITH_PRESET = ("name", "collector_version", "helm_values") + tuple(
    key for key in RENDER_OPTIONS if key not in ("upgrade_strategy", "self_monitoring", "traces_routed_by_trace_id")
)
# How long the resource metrics API may take to answer (an aggregated API whose server is down
# answers 503, which the client would otherwise retry for the whole retry_timeout).
METRICS_CHECK_SECONDS = 10
OPERATOR_MISSING = (
    "This cluster does not serve OpenTelemetryCollector (CRD opentelemetrycollectors.opentelemetry.io): "
    "the OpenTelemetry Operator is not installed. Install it first (role otel.kubernetes.otel_operator). "
    "Nothing of the {what} was applied."
)


def _get(client, path):
    try:
        return read_object(client, path)
    except ApiError as error:
        raise OtelK8sError(f"reading {path}: {error.message}") from None


def wait_for_collector(client, name: str, namespace: str, mode: str, timeout: float, sleep: float) -> dict | None:
    """Poll the operator-created workload until it has rolled out; raises OtelK8sError on timeout."""
    target = collector_render.workload(name, mode)
    if target is None:
        return None
    api_version, kind, plural, workload_name = target
    from ansible_collections.otel.kubernetes.plugins.module_utils.connection import resource_path

    collector_path = resource_path(collector_render.API_VERSION, collector_render.PLURAL, namespace, name)
    workload_path = resource_path(api_version, plural, namespace, workload_name)
    deadline = time.monotonic() + timeout
    while True:
        ready, why = collector_render.collector_ready(
            _get(client, collector_path), _get(client, workload_path), mode, name, namespace
        )
        if ready:
            return {"apiVersion": api_version, "kind": kind, "name": workload_name, "namespace": namespace}
        if time.monotonic() + sleep > deadline:
            raise OtelK8sError(
                f"timed out after {timeout}s waiting for collector "
                f"{namespace}/{name} to roll out: {why}. The collector itself was applied"
            )
        time.sleep(sleep)


def autoscaler_fix(declared, from_values: bool) -> tuple:
    """(the setting, how to turn it off) of a preset's autoscaler, naming its role's variables (declared: the
    preset's RoleSettings); from_values: the Helm values' autoscaling."""
    if from_values:
        values = declared.variable("helm_values")
        return f"{values} autoscaling", f"set autoscaling.enabled: false in {values}"
    return declared.variable("autoscaler"), f"set {declared.variable('autoscaler')}: {{}}"


def options_with_values(options: dict, values, notes: list) -> tuple:
    """(render options, errors): the given options over what helm_values maps to (None: not given)."""
    options = dict(options)
    errors = []
    if values is not None:
        from_values, errors = helm_values.collector_options_from_helm_values(values, mode=options["mode"], notes=notes)
        for key, value in from_values.items():
            if options.get(key) is None:
                options[key] = value
    options["mode"] = options["mode"] or "deployment"
    return options, errors


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

    def _render(self, name: str, version, options: dict, values, errors: list, warn: bool = True) -> tuple:
        """(object, ingresses, errors): the collector rendered, linted and validated."""
        notes = []
        options, found = options_with_values(options, values, notes)
        errors = list(errors) + found
        ingresses, ingress_errors = helm_values.ingress_from_helm_values(values, name, options["namespace"])
        errors += ingress_errors
        if ingresses and options["mode"] == "sidecar":
            errors.append("helm_values.ingress: a sidecar collector has no Service to route an Ingress to")
        if options["config"] is None:
            errors.append("config: required with state=present; give config, or helm_values with config")
            options["config"] = {}
        rendered = collector_render.render(name, version=version, **options)
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
            mode = p["mode"] or "deployment"
        else:
            options = {key: p[key] for key in RENDER_OPTIONS}
            obj, ingresses, errors = self._render(p["name"], p["collector_version"], options, values, [])
            mode = obj["spec"]["mode"]
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
        self._wait(client, p["name"], namespace, mode)
        self.result["api_requests"] = client.requests
        module.exit_json(object=obj, invocation=self.invocation, **self.result)

    def _check_resource_metrics(self, client, obj: dict, setting: str, unset: str) -> None:
        """An autoscaler needs the resource metrics API: warn when the cluster does not serve it."""
        autoscaler = obj["spec"].get("autoscaler") or {}
        if autoscaler.get("maxReplicas") is None:
            return
        deadline = time.monotonic() + METRICS_CHECK_SECONDS
        api = collector_render.RESOURCE_METRICS_API
        try:
            served = group_serves(client, api, collector_render.RESOURCE_METRICS_KINDS, deadline=deadline)
        except ApiError as error:  # registered (an APIService) but its server does not answer
            served = False
            self.module.warn(f"{api} is registered but did not answer: HTTP {error.status} {error.message}")
        self.result["resource_metrics_served"] = served
        if not served:
            replicas = obj["spec"].get("replicas")
            self.module.warn(collector_render.autoscaler_without_metrics(autoscaler, replicas, setting, unset))

    def _wait(self, client, name: str, namespace: str, mode: str) -> None:
        p = self.p
        if p["wait"] and p["state"] == "present" and not self.module.check_mode:
            workload = wait_for_collector(client, name, namespace, mode, p["wait_timeout"], p["wait_sleep"])
            if workload:
                self.result["workload"] = workload

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
        namespaces, rbac, collectors, reasons, warnings = [], [], [], [], []
        for part in parts:
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
                module.warn(warning)
        groups = [namespaces, rbac, collectors, component.objects(kinds, p["state"])]
        groups = [manifests.check_objects([("preset", o) for o in group]) for group in groups]
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
        for part in parts:
            self._wait(client, part.name, part.namespace, part.options["mode"] if present else "deployment")
        self.result["api_requests"] = client.requests
        module.exit_json(invocation=self.invocation, **self.result)

    def _render_parts(self, component, values, kinds: list) -> dict:
        """{id(part): (collector, Ingresses of the Helm values)} of the component and its companions, or
        fail_json with every error. The component is rendered last: its image and distribution are the task's;
        the companions' lint warnings are kept, named."""
        rendered, warnings = {}, []
        for part in [*component.companions, component]:
            options = dict(part.options, self_monitoring=part.self_monitoring(kinds if part is component else []))
            given = values if part is component else None
            obj, ingresses, errors = self._render(part.name, part.version, options, given, [], warn=False)
            if errors:
                self._refuse(part.name, errors, obj)
            rendered[id(part)] = (obj, ingresses)
            mine = "" if part is component else f"{part.name}: "
            warnings += [mine + warning for warning in self.result["lint_warnings"]]
        self.result["lint_warnings"] = list(component.warnings) + warnings
        return rendered
