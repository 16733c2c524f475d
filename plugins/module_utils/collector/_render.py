# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render an OpenTelemetryCollector (opentelemetry.io/v1beta1) from options. Pure.

The configuration is always the structured v1beta1 ``spec.config`` (a YAML string is
parsed; the deprecated v1alpha1 string form is never written). Options are checked
against the operator's API (autoscaler field names, sidecar limits, port protocol), the
configuration gets the defaults a production collector needs (memory_limiter limits,
GOMEMLIMIT, node environment for agents, self-monitoring on the pod IP), and the result
goes through the lint (``_lint``). Errors mean nothing may be applied.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _lint as lint
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import model
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import (
    DEFAULT_MODE,
    MODES,
    RESOURCE_METRICS_API,
    UPGRADE_STRATEGIES,
    CollectorOptions,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import readiness

API_VERSION = "opentelemetry.io/v1beta1"
KIND = "OpenTelemetryCollector"
PLURAL = "opentelemetrycollectors"
AUTOSCALER_FIELDS = (
    "minReplicas",
    "maxReplicas",
    "targetCPUUtilization",
    "targetMemoryUtilization",
    "behavior",
    "metrics",
)
# Names from the Helm chart's `autoscaling` values or the HPA API, mapped to the operator's.
AUTOSCALER_RENAMES = {
    "targetCPUUtilizationPercentage": "targetCPUUtilization",
    "targetMemoryUtilizationPercentage": "targetMemoryUtilization",
    "minReplicaCount": "minReplicas",
    "maxReplicaCount": "maxReplicas",
}
PORT_FIELDS = ("name", "port", "protocol", "targetPort", "nodePort", "appProtocol", "hostPort")
PROTOCOLS = ("TCP", "UDP", "SCTP")
SELF_METRICS_PORT = 8888
RUN_AS_USER = 10001
DEFAULT_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
DEFAULT_POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "seccompProfile": {"type": "RuntimeDefault"},
}
POD_LEVEL_ONLY = ("fsGroup", "fsGroupChangePolicy", "supplementalGroups", "sysctls")
NODE_ENV = (
    {"name": "K8S_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    {"name": "K8S_NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
)
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# checkov (an IaC scanner) skips a check on an object whose annotations say `checkov.io/skipN:
# CKV_ID=reason`. The operator copies a collector's annotations to its workload and the workload's
# pod template, so these reach the Deployment/DaemonSet the operator generates. Each is a check
# that cannot pass for a collector, with why; reasons must not contain "=" (checkov splits on it).
SCAN_SUPPRESSIONS = {
    "digest": (
        "CKV_K8S_43",
        "the image is pinned to a collector release tag chosen by the collection; give `image` with a "
        "digest to pin it by content",
    ),
    "pull": (
        "CKV_K8S_15",
        "the image is a fixed release tag, so IfNotPresent (the default for it) runs the same image and "
        "lets pods restart while the registry is unreachable",
    ),
    "token": (
        "CKV_K8S_38",
        "the OpenTelemetryCollector API has no automountServiceAccountToken field; the collector's "
        "ServiceAccount holds only what its configuration needs (otel.kubernetes.rbac)",
    ),
    "network_policy": (
        "CKV2_K8S_6",
        "the operator makes the collector's NetworkPolicy itself (feature gate operand.networkpolicy, "
        "on by default since v0.132.0), from the ports of its configuration",
    ),
    "root": (
        "CKV_K8S_23",
        "it reads the host's files as root (user 0) - the kubelet's pod log files are root's, mode 0640, and so "
        "is its checkpoint directory - with every capability dropped, no privilege escalation and a read-only "
        "root filesystem, in a privileged namespace of its own",
    ),
    "root_uid": (
        "CKV_K8S_40",
        "user 0 is what reading the kubelet's pod log files needs (root's, mode 0640); no other user id would",
    ),
    "host_port": (
        "CKV_K8S_26",
        "node-local OTLP: applications send to their node's IP on this host port (status.hostIP), so "
        "that telemetry stays on the node and k8sattributes sees the sending pod",
    ),
}


@dataclass
class Rendered:
    object: dict
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    image: str | None = None
    distribution: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors


def collector_ref(name: str, namespace: str | None = None) -> dict:
    """The collector's identity only: enough for deletion."""
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta}


def hpa_conflicts(objects: list, name: str) -> list:
    """Errors for HorizontalPodAutoscalers that target this collector or its workload."""
    problems = []
    for obj in objects or []:
        if not isinstance(obj, dict) or obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        if (target.get("kind") == KIND and target.get("name") == name) or target.get("name") == f"{name}-collector":
            hpa = (obj.get("metadata") or {}).get("name")
            problems.append(
                f"extra_objects: HorizontalPodAutoscaler {hpa} scales collector {name}, but the operator creates "
                f"and owns the HPA of a collector itself; two HPAs on one workload fight each other. Remove it and "
                f"set `autoscaler: {{minReplicas: 2, maxReplicas: 10, targetCPUUtilization: 60, "
                f"targetMemoryUtilization: 80}}` (maxReplicas turns autoscaling on)"
            )
    return problems


# ------------------------------------------------------------------ option checks
def _unusable(value, kind: type, error: str, errors: list, empty_ok: bool = True) -> bool:
    """Is the option not given (None), or not a `kind` (then `error` is added)? Its check stops there."""
    if value is None:
        return True
    if not isinstance(value, kind) or (not empty_ok and not value):
        errors.append(error)
        return True
    return False


def _check_autoscaler(autoscaler, mode: str, errors: list) -> dict | None:
    if _unusable(autoscaler, dict, f"autoscaler: expected a mapping with {', '.join(AUTOSCALER_FIELDS)}", errors):
        return None
    result = {}
    for key, value in autoscaler.items():
        if key == "enabled":
            errors.append(
                "autoscaler.enabled: the operator's autoscaler has no `enabled` field (that name belongs to "
                "the Helm chart's `autoscaling` values). Setting autoscaler.maxReplicas turns autoscaling "
                "on and the operator creates the HorizontalPodAutoscaler itself; remove `enabled`"
            )
        elif key in AUTOSCALER_RENAMES:
            errors.append(
                f"autoscaler.{key}: not a field of the operator's autoscaler (it is the Helm chart's name); "
                f"use `{AUTOSCALER_RENAMES[key]}`. maxReplicas turns autoscaling on"
            )
        elif key not in AUTOSCALER_FIELDS:
            errors.append(
                f"autoscaler.{key}: unknown field; the operator's autoscaler takes "
                f"{', '.join(AUTOSCALER_FIELDS)} (maxReplicas turns autoscaling on)"
            )
        else:
            result[key] = value
    if not autoscaler:
        return None
    for key in ("minReplicas", "maxReplicas", "targetCPUUtilization", "targetMemoryUtilization"):
        value = result.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            errors.append(f"autoscaler.{key}: expected a positive whole number, got {value!r}")
    for key in ("targetCPUUtilization", "targetMemoryUtilization"):
        value = result.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 99:
            errors.append(f"autoscaler.{key}: {value} is a percentage of the request and must be below 100")
    if "maxReplicas" not in autoscaler:
        errors.append(
            "autoscaler.maxReplicas: missing; maxReplicas is what turns autoscaling on "
            "(for example `autoscaler: {minReplicas: 2, maxReplicas: 10, targetCPUUtilization: 60}`)"
        )
    low, high = result.get("minReplicas"), result.get("maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.append(f"autoscaler.minReplicas: {low} is above maxReplicas ({high})")
    if mode not in ("deployment", "statefulset"):
        errors.append(f"autoscaler: a {mode} collector cannot be autoscaled; use mode deployment or statefulset")
    return result


def autoscaler_without_metrics(autoscaler: dict, replicas, setting: str, unset: str) -> str:
    """The warning for an autoscaler on a cluster that does not serve the resource metrics API
    (metrics.k8s.io, which metrics-server provides): its HorizontalPodAutoscaler reads no CPU or
    memory, reports FailedGetResourceMetric and never scales."""
    targets = [
        f"{what} {autoscaler[key]}%"
        for what, key in (("CPU", "targetCPUUtilization"), ("memory", "targetMemoryUtilization"))
        if autoscaler.get(key) is not None
    ]
    by = f" by {' and '.join(targets)}" if targets else ""
    minimum = autoscaler.get("minReplicas") or replicas or 1
    kept = max(minimum, replicas or 0)  # what the operator gives the Deployment
    return (
        f"{setting} asks for {minimum}..{autoscaler.get('maxReplicas')} replicas{by}, but this cluster does not "
        f"serve the resource metrics API ({RESOURCE_METRICS_API}): the HorizontalPodAutoscaler the operator makes "
        "cannot read the Pods' CPU and memory, reports FailedGetResourceMetric and never scales; the collector stays "
        f"at {kept} replicas. Install metrics-server, or {unset} to run a fixed number of replicas."
    )


def _check_ports(ports, mode: str, errors: list, warnings: list) -> list | None:
    if _unusable(ports, list, "ports: expected a list of ports (name, port, protocol, targetPort, hostPort)", errors):
        return None
    seen = {}  # (port, protocol) and name -> the first entry that used it
    checked = [_check_port(f"ports[{index}]", port, mode, seen, errors, warnings) for index, port in enumerate(ports)]
    return [entry for entry in checked if entry is not None]


def _check_port(where: str, port, mode: str, seen: dict, errors: list, warnings: list) -> dict | None:
    """One port as the operator takes it, or None when it is not a mapping."""
    if not isinstance(port, dict):
        errors.append(f"{where}: expected a mapping with name and port")
        return None
    unknown = [k for k in port if k not in PORT_FIELDS]
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(unknown)}; a port takes {', '.join(PORT_FIELDS)}")
    number = port.get("port")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
        errors.append(f"{where}.port: expected a port number between 1 and 65535, got {number!r}")
    if not port.get("name"):
        errors.append(
            f"{where}.name: required; the operator adds these ports to the collector's Service, "
            f"where every port needs a name (for example `otlp-grpc`)"
        )
    protocol = port.get("protocol") or "TCP"
    if protocol not in PROTOCOLS:
        errors.append(f"{where}.protocol: `{protocol}` is not one of {', '.join(PROTOCOLS)}")
    # A Service refuses two ports with one number and protocol, or one name twice.
    keys = []
    if isinstance(number, int) and isinstance(protocol, str):
        keys.append(((number, protocol), f"port {number}/{protocol}"))
    if isinstance(port.get("name"), str) and port["name"]:
        keys.append((port["name"], f"name `{port['name']}`"))
    for key, shown in keys:
        if key in seen:
            errors.append(f"{where}: {shown} is also {seen[key]}; give each port number and name once")
        seen.setdefault(key, where)
    entry = {k: port[k] for k in PORT_FIELDS if k in port and port[k] is not None}
    # Always explicit: server-side apply on Kubernetes 1.20 rejects ports without it.
    entry["protocol"] = protocol
    host_port = port.get("hostPort")
    if host_port is not None:
        if isinstance(host_port, bool) or not isinstance(host_port, int) or not 1 <= host_port <= 65535:
            errors.append(f"{where}.hostPort: expected a port number between 1 and 65535, got {host_port!r}")
        elif mode != "daemonset":
            warnings.append(
                f"{where}.hostPort: a hostPort on a {mode} collector ties its pods to free ports "
                f"on their nodes; hostPort is meant for daemonset agents reached on the node IP"
            )
    return entry


def _check_pdb(pdb, mode: str, errors: list) -> dict | None:
    error = "pod_disruption_budget: expected a mapping with maxUnavailable or minAvailable"
    if _unusable(pdb, dict, error, errors, empty_ok=False):
        return None
    unknown = [k for k in pdb if k not in ("maxUnavailable", "minAvailable")]
    if unknown:
        errors.append(
            f"pod_disruption_budget: unknown field(s) {', '.join(unknown)}; the operator's "
            f"podDisruptionBudget takes maxUnavailable or minAvailable"
        )
    if "maxUnavailable" in pdb and "minAvailable" in pdb:
        errors.append("pod_disruption_budget: give maxUnavailable or minAvailable, not both")
    if mode == "sidecar":
        errors.append("pod_disruption_budget: a sidecar collector has no pods of its own to protect")
    return {k: v for k, v in pdb.items() if k in ("maxUnavailable", "minAvailable")}


def _security_context(given, defaults: dict, option: str, errors: list) -> dict:
    if given is None:
        return copy.deepcopy(defaults)
    if not isinstance(given, dict):
        errors.append(f"{option}: expected a mapping")
        return copy.deepcopy(defaults)
    if option == "security_context":
        misplaced = [k for k in given if k in POD_LEVEL_ONLY]
        if misplaced:
            errors.append(
                f"security_context: {', '.join(misplaced)} is a pod-level field; put it in pod_security_context"
            )
    merged = copy.deepcopy(defaults)
    merged.update(copy.deepcopy(given))
    return merged


def _memory_limit(resources, errors: list):
    if resources is None:
        return None
    if not isinstance(resources, dict):
        errors.append("resources: expected a mapping with limits and requests")
        return None
    limit = (resources.get("limits") or {}).get("memory") if isinstance(resources.get("limits"), dict) else None
    for section in ("limits", "requests"):
        value = (resources.get(section) or {}).get("memory") if isinstance(resources.get(section), dict) else None
        if value is not None:
            try:
                model.parse_quantity(value)
            except ValueError as error:
                errors.append(f"resources.{section}.memory: {error}")
                if section == "limits":
                    limit = None
    return limit


def _gomemlimit(memory_limit) -> str:
    """About 80% of the container limit, in MiB, the form Go reads."""
    return f"{int(model.parse_quantity(memory_limit) * 0.8) // model.MIB}MiB"


# ------------------------------------------------------------------ config defaults
def _memory_limiter_defaults(config: dict, warnings: list) -> None:
    for cid, settings in model.components_of_type(config, "processors", "memory_limiter"):
        if not isinstance(settings, dict):
            continue
        added = []
        if settings.get("limit_mib") is None and settings.get("limit_percentage") is None:
            settings["limit_percentage"] = 80
            added.append("limit_percentage: 80")
            if settings.get("spike_limit_mib") is None and settings.get("spike_limit_percentage") is None:
                settings["spike_limit_percentage"] = 25
                added.append("spike_limit_percentage: 25")
        if settings.get("check_interval") is None:
            settings["check_interval"] = "1s"
            added.append("check_interval: 1s")
        if added:
            warnings.append(
                f"processors.{cid}: set {', '.join(added)} (relative to the container memory limit), "
                f"since the configuration did not say; give the values to silence this"
            )


def _self_monitoring(config: dict, warnings: list) -> None:
    """service.telemetry.metrics serves the collector's own metrics on 0.0.0.0:8888."""
    service = config.setdefault("service", {})
    if not isinstance(service, dict):
        return
    telemetry = service.setdefault("telemetry", {})
    if telemetry is None:
        telemetry = service["telemetry"] = {}
    metrics = telemetry.setdefault("metrics", {}) if isinstance(telemetry, dict) else None
    if metrics is None and isinstance(telemetry, dict):
        metrics = telemetry["metrics"] = {}
    if not isinstance(metrics, dict):
        return
    if "address" in metrics:
        warnings.append(
            f"service.telemetry.metrics.address: removed `{metrics.pop('address')}` (ignored by the "
            f"collector since v0.128.0) for a reader on 0.0.0.0:{SELF_METRICS_PORT}"
        )
    readers = metrics.get("readers")
    if not isinstance(readers, list):
        readers = metrics["readers"] = []
    for index, reader in enumerate(readers):
        prom = (
            (((reader or {}).get("pull") or {}).get("exporter") or {}).get("prometheus")
            if isinstance(reader, dict)
            else None
        )
        if isinstance(prom, dict):
            if str(prom.get("host", "")).strip() in lint.LOCALHOST:
                warnings.append(
                    f"service.telemetry.metrics.readers[{index}].pull.exporter.prometheus.host: changed "
                    f"`{prom['host']}` to 0.0.0.0 so that self_monitoring can scrape it"
                )
                prom["host"] = "0.0.0.0"  # nosec B104 - the pod's own metrics port, scraped from outside
            return
    readers.append({"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": SELF_METRICS_PORT}}}})  # nosec B104


def _merge_env(env, additions: list) -> list:
    names = {e.get("name") for e in env if isinstance(e, dict)}
    return list(env) + [e for e in additions if e["name"] not in names]


def scan_suppressions(mode: str, image: str, ports: list | None, user: int | None = None) -> dict:
    """The checkov skip annotations for a collector's workload: only the checks that apply to it (user: the
    container's user id)."""
    if mode not in readiness.COLLECTOR_WORKLOADS:
        return {}
    reasons = ["pull", "token", "network_policy"]
    if "@sha256:" not in image:
        reasons.insert(0, "digest")
    if any(isinstance(p, dict) and p.get("hostPort") for p in ports or []):
        reasons.append("host_port")
    if user == 0:
        reasons += ["root", "root_uid"]
    return {
        f"checkov.io/skip{index}": "=".join(SCAN_SUPPRESSIONS[reason]) for index, reason in enumerate(reasons, start=1)
    }


# ------------------------------------------------------------------ render
def _node_env_missing(config: dict, env_list: list) -> list:
    """k8sattributes reading its node from a variable the container does not have: the collector
    refuses to start (`node_from_env_var` is configured but envvar "..." is not set)."""
    names = {e.get("name") for e in env_list if isinstance(e, dict)}
    errors = []
    for cid, settings in model.components_of_type(config, "processors", "k8s_attributes"):
        node_filter = settings.get("filter") if isinstance(settings, dict) else None
        variable = node_filter.get("node_from_env_var") if isinstance(node_filter, dict) else None
        if isinstance(variable, str) and variable and variable not in names:
            errors.append(
                f"processors.{cid}.filter.node_from_env_var: `{variable}` is not in the collector's env, and the "
                f"collector refuses to start without it; set node_env: true (adds K8S_NODE_NAME from spec.nodeName) "
                f"or add `{{name: {variable}, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}` to env"
            )
    return errors


def render(name: str, options: CollectorOptions) -> Rendered:
    """An OpenTelemetryCollector v1beta1 object, with every error and warning found on the way.

    The object is rendered even when there are errors (to show it); apply it only when
    ``Rendered.valid``. The image defaults to the smallest distribution that has every
    component of the configuration (tag ``collector_version``, default distributions.COLLECTOR_VERSION).
    """
    mode = options.mode or DEFAULT_MODE
    errors, warnings = [], []
    _check_options(name, options, mode, errors)
    scaler = _check_autoscaler(options.autoscaler, mode, errors)
    ports = _check_ports(options.ports, mode, errors, warnings)
    pdb = _check_pdb(options.pod_disruption_budget, mode, errors)
    errors.extend(hpa_conflicts(options.extra_objects, name))
    memory_limit = _memory_limit(options.resources, errors)
    parsed, problem = _config(options, mode, memory_limit, warnings)
    if problem:
        errors.append(problem)
        report = lint.LintReport(valid=False, config=parsed, distribution=options.distribution, image=options.image)
    else:
        report = _lint(parsed, options, mode, memory_limit, scaler)
    errors.extend(report.errors)
    warnings.extend(report.warnings)
    image = report.image or options.image or dist.DISTRIBUTIONS["contrib"].image(options.collector_version)
    env = _env(options, mode, memory_limit, errors)
    errors.extend(_node_env_missing(report.config, env))
    warnings.extend(_unmounted(options.volumes, options.volume_mounts))
    container_context = _security_context(
        options.security_context, DEFAULT_SECURITY_CONTEXT, "security_context", errors
    )
    meta = _metadata(name, options, mode, image, ports, container_context)
    spec = {"mode": mode, "image": image}
    if options.replicas is not None:
        spec["replicas"] = options.replicas
    if scaler:
        spec["autoscaler"] = scaler
    spec["upgradeStrategy"] = options.upgrade_strategy
    spec.update(_pod_spec(options, env, ports, container_context, pdb, errors))
    spec["config"] = report.config or parsed
    obj = {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}
    return Rendered(object=obj, errors=errors, warnings=warnings, image=image, distribution=report.distribution)


def _check_options(name: str, options: CollectorOptions, mode: str, errors: list) -> None:
    """The name, the mode and the options a mode rules out."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 63:
        errors.append(
            f"name: `{name}` is not a valid collector name (lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most 63 characters)"
        )
    if mode not in MODES:
        errors.append(f"mode: `{mode}` is not one of {', '.join(MODES)}")
    if options.upgrade_strategy not in UPGRADE_STRATEGIES:
        errors.append(f"upgrade_strategy: `{options.upgrade_strategy}` is not one of {', '.join(UPGRADE_STRATEGIES)}")
    replicas = options.replicas
    if replicas is not None and mode in ("daemonset", "sidecar"):
        errors.append(
            f"replicas: a {mode} collector runs one collector per "
            f"{'node' if mode == 'daemonset' else 'pod'}; replicas applies to deployment and statefulset"
        )
    if replicas is not None and (isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1):
        errors.append(
            f"replicas: expected a whole number of at least 1, got {replicas!r}; "
            "to remove the collector use state: absent"
        )
    if mode == "sidecar":
        for option in ("tolerations", "priority_class_name", "affinity"):
            if getattr(options, option):
                errors.append(
                    f"{option}: a sidecar collector runs in the application's pod, which decides "
                    f"{option}; the operator rejects it for mode sidecar"
                )


def _config(options: CollectorOptions, mode: str, memory_limit, warnings: list) -> tuple:
    """(the configuration parsed, with the defaults a production collector needs; a parse error or None)."""
    parsed, problem = model.parse_config(options.config)
    if problem:
        parsed = {}
    parsed = model.normalise(parsed)
    _memory_limiter_defaults(parsed, warnings)
    if options.self_monitoring:
        _self_monitoring(parsed, warnings)
    uses_percentage = any(
        isinstance(s, dict) and s.get("limit_percentage") is not None and s.get("limit_mib") is None
        for _cid, s in model.components_of_type(parsed, "processors", "memory_limiter")
    )
    if memory_limit is None and mode != "sidecar":
        warnings.append(
            "resources.limits.memory: not set; the memory_limiter "
            + (
                "percentages then apply to the whole node's memory"
                if uses_percentage
                else "cannot be checked against it"
            )
            + " and GOMEMLIMIT is not set. Give the collector a memory limit"
        )
    return parsed, problem


def _lint(parsed: dict, options: CollectorOptions, mode: str, memory_limit, scaler) -> lint.LintReport:
    """The configuration's lint with this collector's mode, replicas, autoscaler and memory limit."""
    return lint.lint(
        parsed,
        distribution=options.distribution,
        image=options.image,
        memory_limit=memory_limit,
        mode=mode if mode in MODES else DEFAULT_MODE,
        replicas=options.replicas,
        autoscaler=scaler,
        traces_routed_by_trace_id=options.traces_routed_by_trace_id,
        expected_new_traces_per_second=options.expected_new_traces_per_second,
        version=options.collector_version,
    )


def _env(options: CollectorOptions, mode: str, memory_limit, errors: list) -> list:
    """The container's environment: the given one, the node's for agents, GOMEMLIMIT under a memory limit."""
    env = options.env
    env_list = list(env) if isinstance(env, list) else []
    if env is not None and not isinstance(env, list):
        errors.append("env: expected a list of environment variables (name with value or valueFrom)")
    if options.node_env if options.node_env is not None else mode == "daemonset":
        env_list = _merge_env(env_list, [copy.deepcopy(e) for e in NODE_ENV])
    if memory_limit is not None and "GOMEMLIMIT" not in {e.get("name") for e in env_list if isinstance(e, dict)}:
        env_list = _merge_env(env_list, [{"name": "GOMEMLIMIT", "value": _gomemlimit(memory_limit)}])
    return env_list


def _unmounted(volumes, volume_mounts) -> list:
    """Warnings for mounts of volumes the pod does not have."""
    volume_names = {v.get("name") for v in volumes or [] if isinstance(v, dict)}
    return [
        f"volume_mounts[{index}]: volume `{mount.get('name')}` is not in volumes; add it (for "
        f"example a Secret volume with the certificates) or the pod will not start"
        for index, mount in enumerate(volume_mounts or [])
        if isinstance(mount, dict) and mount.get("name") not in volume_names
    ]


def _metadata(name: str, options: CollectorOptions, mode: str, image: str, ports, container_context: dict) -> dict:
    meta = {"name": name}
    if options.namespace:
        meta["namespace"] = options.namespace
    if options.labels:
        meta["labels"] = dict(options.labels)
    # The caller's annotations win over the scanner's, key by key.
    suppressions = scan_suppressions(mode, image, ports, container_context.get("runAsUser"))
    annotations = {**suppressions, **(options.annotations or {})}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _pod_spec(options: CollectorOptions, env: list, ports, container_context: dict, pdb, errors: list) -> dict:
    """The spec fields of the collector's pods, in the order the object has always had them."""
    spec = {}
    if options.service_account:
        spec["serviceAccount"] = options.service_account
    if options.resources:
        spec["resources"] = copy.deepcopy(options.resources)
    if env:
        spec["env"] = env
    if options.volumes:
        spec["volumes"] = copy.deepcopy(options.volumes)
    if options.volume_mounts:
        spec["volumeMounts"] = copy.deepcopy(options.volume_mounts)
    if ports:
        spec["ports"] = ports
    spec["securityContext"] = container_context
    spec["podSecurityContext"] = _security_context(
        options.pod_security_context, DEFAULT_POD_SECURITY_CONTEXT, "pod_security_context", errors
    )
    if options.tolerations:
        spec["tolerations"] = copy.deepcopy(options.tolerations)
    if options.node_selector:
        spec["nodeSelector"] = dict(options.node_selector)
    if options.affinity:
        spec["affinity"] = copy.deepcopy(options.affinity)
    if options.priority_class_name:
        spec["priorityClassName"] = options.priority_class_name
    if pdb:
        spec["podDisruptionBudget"] = pdb
    if options.self_monitoring:
        spec["observability"] = {"metrics": {"enableMetrics": True}}
    return spec
