# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render an OpenTelemetryCollector (opentelemetry.io/v1beta1) from options. Pure.

The configuration is always the structured v1beta1 ``spec.config`` (a YAML string is
parsed; the deprecated v1alpha1 string form is never written). Options are checked
against the operator's API (autoscaler field names, sidecar limits, port protocol), the
configuration gets the defaults a production collector needs (memory_limiter limits,
GOMEMLIMIT, node environment for agents, self-monitoring on the pod IP), and the result
goes through collector_lint. Errors mean nothing may be applied.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils import collector_lint, readiness
from ansible_collections.otel.kubernetes.plugins.module_utils import distributions as dist

API_VERSION = "opentelemetry.io/v1beta1"
KIND = "OpenTelemetryCollector"
PLURAL = "opentelemetrycollectors"
# The resource metrics API an HPA's CPU and memory targets need (served by metrics-server).
RESOURCE_METRICS_API = "metrics.k8s.io/v1beta1"
RESOURCE_METRICS_KINDS = ("PodMetrics",)
MODES = collector_lint.MODES
WORKLOAD_KINDS = {
    "deployment": ("Deployment", "deployments"),
    "daemonset": ("DaemonSet", "daemonsets"),
    "statefulset": ("StatefulSet", "statefulsets"),
}
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


def workload(name: str, mode: str) -> tuple | None:
    """(apiVersion, kind, plural, name) of the workload the operator creates; None for sidecars."""
    if mode not in WORKLOAD_KINDS:
        return None
    kind, plural = WORKLOAD_KINDS[mode]
    return "apps/v1", kind, plural, f"{name}-collector"


def collector_ready(collector: dict | None, live_workload: dict | None, mode: str, name: str, namespace: str) -> tuple:
    """(ready, why-not) for a collector, from the stored collector and its workload."""
    target = workload(name, mode)
    if target is None:
        return True, ""
    _api, kind, _plural, workload_name = target
    if collector is not None:
        generation = (collector.get("metadata") or {}).get("generation")
        observed = (collector.get("status") or {}).get("observedGeneration")
        if generation is not None and observed is not None and observed < generation:
            return False, (
                f"the operator has not reconciled generation {generation} of {KIND} {namespace}/{name} yet "
                f"(observed {observed})"
            )
    if live_workload is None:
        return False, (
            f"{kind} {namespace}/{workload_name} does not exist yet. The OpenTelemetry Operator creates it "
            f"from {KIND} {namespace}/{name}; on a cluster where the operator is not running (or does not "
            f"watch this namespace) it never appears"
        )
    ok, why = readiness.is_ready(live_workload, "apps")
    return ok, ("" if ok else f"{kind} {namespace}/{workload_name}: {why}")


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
def _check_autoscaler(autoscaler, mode: str, errors: list) -> dict | None:
    if autoscaler is None:
        return None
    if not isinstance(autoscaler, dict):
        errors.append(f"autoscaler: expected a mapping with {', '.join(AUTOSCALER_FIELDS)}")
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
    if ports is None:
        return None
    if not isinstance(ports, list):
        errors.append("ports: expected a list of ports (name, port, protocol, targetPort, hostPort)")
        return None
    rendered = []
    seen = {}  # (port, protocol) and name -> the first entry that used it
    for index, port in enumerate(ports):
        where = f"ports[{index}]"
        if not isinstance(port, dict):
            errors.append(f"{where}: expected a mapping with name and port")
            continue
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
        rendered.append(entry)
    return rendered


def _check_pdb(pdb, mode: str, errors: list) -> dict | None:
    if pdb is None:
        return None
    if not isinstance(pdb, dict) or not pdb:
        errors.append("pod_disruption_budget: expected a mapping with maxUnavailable or minAvailable")
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
                collector_lint.parse_quantity(value)
            except ValueError as error:
                errors.append(f"resources.{section}.memory: {error}")
                if section == "limits":
                    limit = None
    return limit


def _gomemlimit(memory_limit) -> str:
    """About 80% of the container limit, in MiB, the form Go reads."""
    return f"{int(collector_lint.parse_quantity(memory_limit) * 0.8) // collector_lint.MIB}MiB"


# ------------------------------------------------------------------ config defaults
def _memory_limiter_defaults(config: dict, warnings: list) -> None:
    for cid, settings in collector_lint.components_of_type(config, "processors", "memory_limiter"):
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
            if str(prom.get("host", "")).strip() in collector_lint.LOCALHOST:
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
    if mode not in WORKLOAD_KINDS:
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
    for cid, settings in collector_lint.components_of_type(config, "processors", "k8s_attributes"):
        node_filter = settings.get("filter") if isinstance(settings, dict) else None
        variable = node_filter.get("node_from_env_var") if isinstance(node_filter, dict) else None
        if isinstance(variable, str) and variable and variable not in names:
            errors.append(
                f"processors.{cid}.filter.node_from_env_var: `{variable}` is not in the collector's env, and the "
                f"collector refuses to start without it; set node_env: true (adds K8S_NODE_NAME from spec.nodeName) "
                f"or add `{{name: {variable}, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}` to env"
            )
    return errors


def render(
    name: str,
    *,
    config,
    namespace: str | None = None,
    mode: str = "deployment",
    image: str | None = None,
    distribution: str | None = None,
    version: str | None = None,
    replicas: int | None = None,
    autoscaler: dict | None = None,
    resources: dict | None = None,
    env: list | None = None,
    node_env: bool | None = None,
    volumes: list | None = None,
    volume_mounts: list | None = None,
    ports: list | None = None,
    service_account: str | None = None,
    tolerations: list | None = None,
    node_selector: dict | None = None,
    affinity: dict | None = None,
    priority_class_name: str | None = None,
    pod_disruption_budget: dict | None = None,
    upgrade_strategy: str = "automatic",
    self_monitoring: bool = False,
    labels: dict | None = None,
    annotations: dict | None = None,
    security_context: dict | None = None,
    pod_security_context: dict | None = None,
    traces_routed_by_trace_id: bool = False,
    expected_new_traces_per_second: float | None = None,
    extra_objects: list | None = None,
) -> Rendered:
    """An OpenTelemetryCollector v1beta1 object, with every error and warning found on the way.

    The object is rendered even when there are errors (to show it); apply it only when
    ``Rendered.valid``. ``image`` defaults to the smallest distribution that has every
    component of the configuration (tag ``version``, default distributions.COLLECTOR_VERSION).
    """
    errors, warnings = [], []
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 63:
        errors.append(
            f"name: `{name}` is not a valid collector name (lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most 63 characters)"
        )
    if mode not in MODES:
        errors.append(f"mode: `{mode}` is not one of {', '.join(MODES)}")
    if upgrade_strategy not in ("automatic", "none"):
        errors.append(f"upgrade_strategy: `{upgrade_strategy}` is not one of automatic, none")
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
        for option, value in (
            ("tolerations", tolerations),
            ("priority_class_name", priority_class_name),
            ("affinity", affinity),
        ):
            if value:
                errors.append(
                    f"{option}: a sidecar collector runs in the application's pod, which decides "
                    f"{option}; the operator rejects it for mode sidecar"
                )
    scaler = _check_autoscaler(autoscaler, mode, errors)
    rendered_ports = _check_ports(ports, mode, errors, warnings)
    pdb = _check_pdb(pod_disruption_budget, mode, errors)
    errors.extend(hpa_conflicts(extra_objects, name))
    memory_limit = _memory_limit(resources, errors)

    parsed, problem = collector_lint.parse_config(config)
    if problem:
        errors.append(problem)
        parsed = {}
    parsed = collector_lint.normalise(parsed)
    _memory_limiter_defaults(parsed, warnings)
    if self_monitoring:
        _self_monitoring(parsed, warnings)
    uses_percentage = any(
        isinstance(s, dict) and s.get("limit_percentage") is not None and s.get("limit_mib") is None
        for _cid, s in collector_lint.components_of_type(parsed, "processors", "memory_limiter")
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

    report = (
        collector_lint.lint(
            parsed,
            distribution=distribution,
            image=image,
            memory_limit=memory_limit,
            mode=mode if mode in MODES else "deployment",
            replicas=replicas,
            autoscaler=scaler,
            traces_routed_by_trace_id=traces_routed_by_trace_id,
            expected_new_traces_per_second=expected_new_traces_per_second,
            version=version,
        )
        if not problem
        else collector_lint.LintReport(valid=False, config=parsed, distribution=distribution, image=image)
    )
    errors.extend(report.errors)
    warnings.extend(report.warnings)
    chosen_image = report.image or image or dist.DISTRIBUTIONS["contrib"].image(version)

    env_list = list(env) if isinstance(env, list) else []
    if env is not None and not isinstance(env, list):
        errors.append("env: expected a list of environment variables (name with value or valueFrom)")
    if node_env if node_env is not None else mode == "daemonset":
        env_list = _merge_env(env_list, [copy.deepcopy(e) for e in NODE_ENV])
    if memory_limit is not None and "GOMEMLIMIT" not in {e.get("name") for e in env_list if isinstance(e, dict)}:
        env_list = _merge_env(env_list, [{"name": "GOMEMLIMIT", "value": _gomemlimit(memory_limit)}])
    errors.extend(_node_env_missing(report.config, env_list))

    mounts = volume_mounts or []
    volume_names = {v.get("name") for v in volumes or [] if isinstance(v, dict)}
    for index, mount in enumerate(mounts):
        if isinstance(mount, dict) and mount.get("name") not in volume_names:
            warnings.append(
                f"volume_mounts[{index}]: volume `{mount.get('name')}` is not in volumes; add it (for "
                f"example a Secret volume with the certificates) or the pod will not start"
            )

    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    container_context = _security_context(security_context, DEFAULT_SECURITY_CONTEXT, "security_context", [])
    # The caller's annotations win over the scanner's, key by key.
    suppressions = scan_suppressions(mode, chosen_image, rendered_ports, container_context.get("runAsUser"))
    all_annotations = {**suppressions, **(annotations or {})}
    if all_annotations:
        meta["annotations"] = all_annotations
    spec = {"mode": mode, "image": chosen_image}
    if replicas is not None:
        spec["replicas"] = replicas
    if scaler:
        spec["autoscaler"] = scaler
    spec["upgradeStrategy"] = upgrade_strategy
    if service_account:
        spec["serviceAccount"] = service_account
    if resources:
        spec["resources"] = copy.deepcopy(resources)
    if env_list:
        spec["env"] = env_list
    if volumes:
        spec["volumes"] = copy.deepcopy(volumes)
    if mounts:
        spec["volumeMounts"] = copy.deepcopy(mounts)
    if rendered_ports:
        spec["ports"] = rendered_ports
    spec["securityContext"] = _security_context(security_context, DEFAULT_SECURITY_CONTEXT, "security_context", errors)
    spec["podSecurityContext"] = _security_context(
        pod_security_context, DEFAULT_POD_SECURITY_CONTEXT, "pod_security_context", errors
    )
    if tolerations:
        spec["tolerations"] = copy.deepcopy(tolerations)
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if affinity:
        spec["affinity"] = copy.deepcopy(affinity)
    if priority_class_name:
        spec["priorityClassName"] = priority_class_name
    if pdb:
        spec["podDisruptionBudget"] = pdb
    if self_monitoring:
        spec["observability"] = {"metrics": {"enableMetrics": True}}
    spec["config"] = report.config or parsed
    obj = {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}
    return Rendered(object=obj, errors=errors, warnings=warnings, image=chosen_image, distribution=report.distribution)
