# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway (role otel_gateway): the central tail-sampling collector, its Prometheus Operator
objects and its optional Ingress."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _common as presets
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _sizing as sizing
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.gateway_settings import SETTINGS

MONITORING_KINDS = ("ServiceMonitor", "PrometheusRule")
MONITORING_CHOICES = ("auto", "true", "false")
MEMORY_UNITS = {
    "": 1,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}
# The role variable of a setting, for messages.
var = SETTINGS.variable


def server_tls(s: dict) -> dict:
    """TLS of both OTLP protocols, from the mounted Secret. The client CA file is re-read when it changes:
    a CA rotation adds the new CA to ca.crt before any agent presents a certificate it signed."""
    path = s["tls_mount_path"]
    tls = {"cert_file": f"{path}/tls.crt", "key_file": f"{path}/tls.key"}
    if s["tls_client_auth"]:
        tls.update(client_ca_file=f"{path}/ca.crt", client_ca_file_reload=True)
    if s["tls_reload_interval"]:
        tls["reload_interval"] = s["tls_reload_interval"]
    return tls


def prometheus_exporter(s: dict) -> dict:
    """Resource attributes become labels: without them every metric of the cluster collector and the kubelet
    would arrive without k8s_pod_name, k8s_namespace_name, k8s_node_name... (only job and instance)."""
    exporter = {"endpoint": s["prometheus_endpoint"]}
    if s["prometheus_resource_labels"]:
        exporter["resource_to_telemetry_conversion"] = {"enabled": True}
    return exporter


def builtin_config(s: dict, grpc_port: int, http_port: int) -> dict:
    """The seed's gateway, corrected: memory_limiter first and batch last, otlphttp to Loki's OTLP
    endpoint (the loki exporter was removed), internal metrics on the pod IP, health_check for the
    operator's probes, TLS on the receivers."""
    protocol_tls = {"tls": server_tls(s)} if s["tls_enabled"] else {}
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{grpc_port}", **protocol_tls},
                    "http": {"endpoint": f"0.0.0.0:{http_port}", **protocol_tls},
                }
            }
        },
        "processors": {
            "memory_limiter": s["memory_limiter"],
            "tail_sampling": s["tail_sampling"],
            "batch": s["batch"],
        },
        "exporters": {
            "otlp/tempo": {"endpoint": s["tempo_endpoint"], "tls": {"insecure": bool(s["tempo_insecure"])}},
            "prometheus": prometheus_exporter(s),
            "otlphttp/loki": {"endpoint": s["loki_endpoint"]},
        },
        "extensions": presets.health_check(),
        "service": {
            "extensions": list(presets.health_check()),
            "telemetry": presets.self_telemetry(),
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "tail_sampling", "batch"],
                    "exporters": ["otlp/tempo"],
                },
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["prometheus"],
                },
                "logs": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["otlphttp/loki"],
                },
            },
        },
    }


def prometheus_port(config: dict) -> int:
    """The prometheus exporter's port (named prometheus, for the ServiceMonitor and the Ingress); 0 without one."""
    endpoint = str(((config.get("exporters") or {}).get("prometheus") or {}).get("endpoint") or "")
    found = re.search(r":([0-9]+)$", endpoint)
    return int(found.group(1)) if found else 0


def memory_limit_bytes(resources: dict | None) -> int:
    """The container memory limit in bytes, for the memory alert (0 when there is none or it is not understood)."""
    text = str(((resources or {}).get("limits") or {}).get("memory") or "")
    found = re.match(r"^[0-9]+([.][0-9]+)?", text)
    unit = text[found.end() :] if found else ""
    if not found or unit not in MEMORY_UNITS:
        return 0
    return int(float(found.group(0)) * MEMORY_UNITS[unit])


def service_labels(namespace: str, name: str) -> dict:
    """The labels the operator puts on the Services of this collector."""
    return {
        "app.kubernetes.io/managed-by": "opentelemetry-operator",
        "app.kubernetes.io/part-of": "opentelemetry",
        "app.kubernetes.io/component": "opentelemetry-collector",
        "app.kubernetes.io/instance": f"{namespace}.{name}",
    }


def _rule(alert: str, expr: str, duration: str, severity: str, summary: str, description: str) -> dict:
    return {
        "alert": alert,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    }


def monitoring_objects(s: dict, kinds: list, port: int, resources: dict | None) -> list:
    """ServiceMonitors and PrometheusRule of the gateway, for the kinds asked for."""
    name, ns = s["name"], s["namespace"]
    labels = {
        "app.kubernetes.io/part-of": "opentelemetry",
        "app.kubernetes.io/managed-by": "otel.kubernetes",
        "app.kubernetes.io/instance": f"{ns}.{name}",
        **(s["monitoring_labels"] or {}),
    }

    def meta(object_name: str) -> dict:
        return {"name": object_name, "namespace": ns, "labels": {**labels, "app.kubernetes.io/name": object_name}}

    def service_monitor(object_name: str, service_type: str, endpoint: dict) -> dict:
        return {
            "apiVersion": presets.MONITORING_API,
            "kind": "ServiceMonitor",
            "metadata": meta(object_name),
            "spec": {
                "namespaceSelector": {"matchNames": [ns]},
                "selector": {
                    "matchLabels": {
                        **service_labels(ns, name),
                        "operator.opentelemetry.io/collector-service-type": service_type,
                    }
                },
                "endpoints": [{**endpoint, "interval": s["scrape_interval"]}],
            },
        }

    objects = []
    if "ServiceMonitor" in kinds:
        # The collector's own metrics (service.telemetry, port 8888), on the operator's monitoring Service.
        objects.append(service_monitor(f"{name}-collector-monitoring", "monitoring", {"port": "monitoring"}))
        if port > 0:
            # What the prometheus exporter serves, on the base Service only: the headless Service has the
            # same ports, and selecting it too would scrape every pod twice.
            objects.append(service_monitor(f"{name}-collector-prometheus", "base", {"port": "prometheus"}))
            objects[-1]["spec"]["endpoints"][0]["honorLabels"] = True
    if "PrometheusRule" in kinds:
        objects.append(
            {
                "apiVersion": presets.MONITORING_API,
                "kind": "PrometheusRule",
                "metadata": meta(f"{name}-collector-alerts"),
                "spec": {"groups": [{"name": f"{name}.collector", "rules": alert_rules(s, resources)}]},
            }
        )
    return objects


def alert_rules(s: dict, resources: dict | None) -> list:
    """Alerts on the collector's current internal metric names. Counters may be exposed with a _total
    suffix and the memory gauge with _bytes, so names are matched with and without them."""
    job = f'job="{s["name"]}-collector-monitoring", namespace="{s["namespace"]}"'
    queue_ratio = float(s["alert_queue_ratio"])
    memory_ratio = float(s["alert_memory_ratio"])
    rules = [
        _rule(
            "OtelGatewayDown",
            f"up{{{job}}} == 0",
            "5m",
            "critical",
            "A gateway collector does not answer its metrics scrape.",
            "{{ $labels.namespace }}/{{ $labels.pod }} has not been scraped for 5 minutes.",
        ),
        _rule(
            "OtelGatewayExportStalled",
            f'sum by (namespace, job) (rate({{__name__=~"otelcol_receiver_accepted_spans(_total)?", {job}}}[10m])) > 0'
            " unless on (namespace, job) "
            f'sum by (namespace, job) (rate({{__name__=~"otelcol_exporter_sent_spans(_total)?", {job}}}[10m])) > 0',
            "10m",
            "critical",
            "The gateway receives spans but exports none.",
            "otelcol_exporter_sent_spans has not increased for 10 minutes while spans are accepted in "
            "{{ $labels.namespace }}: the trace backend is unreachable or refusing.",
        ),
        _rule(
            "OtelGatewayExporterQueueNearlyFull",
            f"max by (namespace, job, pod, exporter) (otelcol_exporter_queue_size{{{job}}})"
            " / on (namespace, job, pod, exporter) "
            f"max by (namespace, job, pod, exporter) (otelcol_exporter_queue_capacity{{{job}}})"
            f" > {queue_ratio}",
            "5m",
            "warning",
            "An exporter queue of the gateway is nearly full.",
            "The sending queue of {{ $labels.exporter }} on {{ $labels.pod }} is above "
            f"{int(queue_ratio * 100)}% of its capacity: data is dropped when it is full.",
        ),
    ]
    rules += collector_rules() + cluster_rules()
    limit = memory_limit_bytes(resources)
    if limit > 0:
        rules.append(
            _rule(
                "OtelGatewayMemoryNearLimit",
                f'max by (namespace, job, pod) ({{__name__=~"otelcol_process_memory_rss(_bytes)?", {job}}})'
                f" > {int(limit * memory_ratio)}",
                "5m",
                "warning",
                "A gateway collector is close to its memory limit.",
                f"{{{{ $labels.pod }}}} uses more than {int(memory_ratio * 100)}% of its container memory limit "
                f"({resources['limits']['memory']}): it is refusing data and may be OOM-killed.",
            )
        )
    return rules


SIGNALS = ("spans", "metric_points", "log_records")


def _any_rate(metric: str, labels: str) -> str:
    """`sum by (labels) (rate(<metric>, for each signal)) > 0`, joined with `or`; counters may carry _total."""
    return " or ".join(
        f'sum by ({labels}) (rate({{__name__=~"otelcol_{metric}_{signal}(_total)?"}}[5m])) > 0' for signal in SIGNALS
    )


def collector_rules() -> list:
    """Every collector of the pipeline (the gateway, the agents, the host and cluster collectors) that loses or
    refuses data, for spans, metric points and log records alike: the current internal metric names."""
    exporter, receiver = "namespace, job, pod, exporter", "namespace, job, pod, receiver"
    return [
        _rule(
            "OtelCollectorDroppingData",
            " or ".join(
                f"({_any_rate(metric, labels)})"
                for metric, labels in (
                    ("exporter_send_failed", exporter),
                    ("exporter_enqueue_failed", exporter),
                    ("receiver_failed", receiver),
                )
            ),
            "10m",
            "critical",
            "A collector drops data it could not send.",
            "{{ $labels.namespace }}/{{ $labels.pod }}: exporter {{ $labels.exporter }} has failed to send, or to "
            "queue, spans, metric points or log records for 10 minutes, or receiver {{ $labels.receiver }} failed "
            "on them (otelcol_exporter_send_failed_*, otelcol_exporter_enqueue_failed_*, otelcol_receiver_failed_*): "
            "a backend is unreachable or refusing, or a queue is full; the data is lost.",
        ),
        _rule(
            "OtelCollectorRefusingData",
            _any_rate("receiver_refused", receiver),
            "5m",
            "warning",
            "A collector refuses data.",
            "{{ $labels.namespace }}/{{ $labels.pod }}: receiver {{ $labels.receiver }} refuses spans, metric "
            "points or log records (otelcol_receiver_refused_*; usually the memory_limiter pushing back): the "
            "senders retry, or drop them when they cannot.",
        ),
    ]


def cluster_rules() -> list:
    """What the cluster collector (k8s_cluster) reports, as the gateway's Prometheus exporter names it: the
    resource attributes as labels (prometheus_resource_labels)."""
    container = "k8s_namespace_name, k8s_pod_name, k8s_container_name"
    return [
        _rule(
            "OtelPodCrashLooping",
            f"max by ({container}) (delta(k8s_container_restarts[10m])) > 0",
            "15m",
            "warning",
            "A container keeps restarting.",
            "{{ $labels.k8s_namespace_name }}/{{ $labels.k8s_pod_name }} container {{ $labels.k8s_container_name }} "
            "has restarted in every 10 minutes for 15 minutes (k8s.container.restarts): it is crash-looping.",
        ),
        _rule(
            "OtelNodeNotReady",
            "max by (k8s_node_name) (k8s_node_condition_ready) < 1",
            "5m",
            "critical",
            "A node is not Ready.",
            "Node {{ $labels.k8s_node_name }} has not been Ready for 5 minutes (k8s.node.condition_ready is "
            "0 for false, -1 for unknown): its Pods are not running or not reachable.",
        ),
    ]


def ingress_object(s: dict) -> dict:
    """The optional Ingress to the prometheus exporter port of <name>-collector."""
    metadata = {
        "name": f"{s['name']}-prometheus",
        "namespace": s["namespace"],
        "labels": {
            "app.kubernetes.io/part-of": "opentelemetry",
            "app.kubernetes.io/managed-by": "otel.kubernetes",
            "app.kubernetes.io/instance": f"{s['namespace']}.{s['name']}",
        },
    }
    if s["ingress_annotations"]:
        metadata["annotations"] = s["ingress_annotations"]
    spec = {}
    if s["ingress_class_name"]:
        spec["ingressClassName"] = s["ingress_class_name"]
    backend = {"service": {"name": f"{s['name']}-collector", "port": {"number": int(s["ingress_port"])}}}
    spec["rules"] = [
        {"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
        for host in s["ingress_hosts"] or []
    ]
    if s["ingress_tls"]:
        spec["tls"] = s["ingress_tls"]
    return {"apiVersion": presets.INGRESS_API, "kind": "Ingress", "metadata": metadata, "spec": spec}


@dataclass
class Gateway(presets.Component):
    settings: dict = field(default_factory=dict)
    resources: dict | None = None
    prometheus_port: int = 0
    kinds: list = field(default_factory=list)

    def monitoring_kinds(self, discovery) -> list:
        """auto: the kinds the cluster serves (read again, not from a cached discovery; none when rendering)."""
        choice = str(self.settings["prometheus_monitoring"]).lower()
        if self.settings.get("state") == "absent" or choice == "auto":
            if discovery is None:
                self.kinds = []
            else:
                discovery.invalidate(presets.MONITORING_API)
                self.kinds = [k for k in MONITORING_KINDS if discovery.find(presets.MONITORING_API, k)]
        else:
            self.kinds = list(MONITORING_KINDS) if choice == "true" else []
        return self.kinds

    def self_monitoring(self, kinds: list) -> bool:
        # The operator's ServiceMonitors only when this role makes none (never both).
        return bool(self.settings["self_monitoring"]) and "ServiceMonitor" not in kinds

    def objects(self, kinds: list, state: str = "present") -> list:
        objects = monitoring_objects(self.settings, kinds, self.prometheus_port, self.resources)
        if state == "absent" or self.settings["ingress_enabled"]:
            objects.append(ingress_object(self.settings))
        return objects

    def stale_objects(self) -> list:
        return [] if self.settings["ingress_enabled"] else [ingress_object(self.settings)]

    def publish(self, image, permissions: list, lint_warnings: list) -> dict:
        status = super().publish(image, permissions, [])
        status.pop("lint_warnings")
        status.update(monitoring_objects=self.kinds, lint_warnings=lint_warnings)
        return status


def apply_sizing(s: dict) -> sizing.Sizing:
    """Replicas, autoscaler bounds, num_traces and memory from the expected load, for each of them that
    is left at its default (a value of the user's own is kept; the lint checks its num_traces)."""
    tail = s["tail_sampling"] if isinstance(s["tail_sampling"], dict) else {}
    resources = s["resources"] if isinstance(s["resources"], dict) else {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    sized = sizing.size(
        s["expected_load"],
        sizing.decision_wait(tail),
        sizing.cpu_cores(limits.get("cpu")),
    )
    defaults = SETTINGS["resources"].default
    if s["replicas"] == SETTINGS["replicas"].default:
        s["replicas"] = sized.replicas
    if s["autoscaler"] == SETTINGS["autoscaler"].default:
        s["autoscaler"] = dict(s["autoscaler"], minReplicas=sized.replicas, maxReplicas=sized.max_replicas)
    if tail and tail.get("num_traces") == SETTINGS["tail_sampling"].default["num_traces"]:
        s["tail_sampling"] = dict(tail, num_traces=sized.num_traces)
    if (
        limits.get("memory") == defaults["limits"]["memory"]
        and requests.get("memory") == defaults["requests"]["memory"]
    ):
        s["resources"] = dict(
            resources,
            limits=dict(limits, memory=f"{sized.memory_limit_mib}Mi"),
            requests=dict(requests, memory=f"{sized.memory_request_mib}Mi"),
        )
    return sized


def build(given: dict | None, state: str = "present") -> Gateway:
    """The gateway from its role's settings; errors name the role variables and the fix."""
    s = SETTINGS.merged(given)
    errors = SETTINGS.unknown(given)
    s["state"] = state
    if str(s["prometheus_monitoring"]).lower() not in MONITORING_CHOICES:
        errors.append(
            f"{var('prometheus_monitoring')} is {json.dumps(s['prometheus_monitoring'])}; "
            "set it to auto, true or false."
        )
    presets.check_mappings(s, ("config", "config_extra"), SETTINGS, "gateway.yaml", errors)
    grpc_port = presets.check_port(s, "otlp_grpc_port", SETTINGS, errors)
    http_port = presets.check_port(s, "otlp_http_port", SETTINGS, errors)
    presets.check_port(s, "ingress_port", SETTINGS, errors)
    if s["ingress_enabled"] and not s["ingress_hosts"]:
        errors.append(
            f"{var('ingress_enabled')} is true and {var('ingress_hosts')} is empty; list the host names the "
            f"Ingress routes, or set {var('ingress_enabled')} to false."
        )
    if any(isinstance(t, dict) and t.get("secretName") == s["tls_secret"] for t in s["ingress_tls"] or []):
        errors.append(
            f"{var('ingress_tls')} names the Secret {s['tls_secret']}, the gateway's mTLS Secret "
            f"({var('tls_secret')}), which cert-manager would overwrite; give the Ingress a secretName of its own."
        )
    errors += sizing.check(s["expected_load"])
    sized = apply_sizing(s) if s["expected_load"] and not errors else None
    values = presets.helm_values_mapping(s)
    config = {}
    if not errors:
        base = presets.helm_config(values) or s["config"] or builtin_config(s, grpc_port, http_port)
        config = presets.combine(base, s["config_extra"])
    account = presets.service_account(values, s["service_account"])
    resources = values.get("resources") or s["resources"] or None
    port = prometheus_port(config)
    ports = ([{"name": "prometheus", "port": port, "protocol": "TCP"}] if port > 0 else []) + list(
        s["extra_ports"] or []
    )
    options = {
        "namespace": s["namespace"],
        "config": config,
        "mode": "deployment",
        "image": presets.unless_in_values(values, "image", s["image"]),
        "replicas": None if "replicaCount" in values else s["replicas"],
        "autoscaler": presets.unless_in_values(values, "autoscaling", s["autoscaler"]),
        "pod_disruption_budget": presets.unless_in_values(values, "podDisruptionBudget", s["pod_disruption_budget"]),
        "resources": resources,
        "service_account": account,
        "ports": None if "ports" in values else (ports or None),
        "affinity": presets.unless_in_values(values, "affinity", s["affinity"]),
        "traces_routed_by_trace_id": bool(s["traces_routed_by_trace_id"]),
        "expected_new_traces_per_second": sized.new_traces_per_second if sized else None,
        **presets.pod_options(s, values),
    }
    status = {
        "service": f"{s['name']}-collector.{s['namespace']}.svc",
        "headless_service": f"{s['name']}-collector-headless.{s['namespace']}.svc",
        "otlp_grpc_port": grpc_port,
        "otlp_http_port": http_port,
        "tls": bool(s["tls_enabled"]),
        "mtls": bool(s["tls_enabled"]) and bool(s["tls_client_auth"]),
        "sizing": sized.arithmetic() if sized else [],
    }
    return Gateway.from_settings(
        "gateway",
        s,
        options,
        rbac_name=account,
        service_account=account,
        helm_values=s["helm_values"] or None,
        errors=errors,
        status=status,
        settings=s,
        resources=resources,
        prometheus_port=port,
    )
