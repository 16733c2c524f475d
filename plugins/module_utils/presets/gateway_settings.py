# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway's settings (role otel_gateway): see presets/settings.py; after a change run
``python tools/role_files.py``."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.presets.settings import (
    MEMORY_LIMITER,
    TASK,
    TLS_RELOAD_INTERVAL,
    RoleSettings,
    Setting,
    connection_settings,
    pod_security_setting,
)


def default_affinity(namespace: str, name: str) -> dict:
    """Spread the replicas over nodes where it can."""
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {
                            "matchLabels": {
                                "app.kubernetes.io/component": "opentelemetry-collector",
                                "app.kubernetes.io/instance": f"{namespace}.{name}",
                            }
                        },
                    },
                }
            ]
        }
    }


SETTINGS = RoleSettings(
    "otel_gateway",
    Setting(
        "state",
        "str",
        "present",
        "V(present) applies the gateway; V(absent) removes it.",
        choices=("present", "absent"),
        scope=TASK,
    ),
    Setting(
        "name",
        "str",
        "otel-gateway",
        (
            "Name of the OpenTelemetryCollector. The operator names its Deployment and Service "
            "C(<name>-collector), and makes C(<name>-collector-headless) and C(<name>-collector-monitoring)."
        ),
    ),
    Setting("namespace", "str", "observability", "Namespace of the gateway."),
    Setting(
        "create_namespace",
        "bool",
        True,
        "Apply the namespace first. It is never deleted by O(otel_gateway_state=absent).",
    ),
    pod_security_setting(
        "The gateway's Pods meet V(restricted). Roles that apply the same namespace must give it the same level.",
    ),
    Setting(
        "service_account",
        "str",
        None,
        ("Name of the gateway's ServiceAccount (made with the collector; its configuration needs no permission)."),
        derived=lambda value: value("name"),
    ),
    Setting(
        "image",
        "str",
        "",
        (
            "The collector image. Empty lets M(otel.kubernetes.collector) choose the smallest distribution that "
            "has every component (the built-in configuration needs C(otelcol-contrib))."
        ),
    ),
    Setting(
        "collector_version",
        "str",
        "",
        "Tag of the chosen image when O(otel_gateway_image) is empty. Empty means the module's default.",
    ),
    Setting("replicas", "int", 3, "Replicas at creation; the operator's autoscaler then decides."),
    Setting(
        "autoscaler",
        "dict",
        {"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60, "targetMemoryUtilization": 80},
        (
            "The operator's C(spec.autoscaler) - C(minReplicas), C(maxReplicas), C(targetCPUUtilization), "
            "C(targetMemoryUtilization), C(behavior), C(metrics). C(maxReplicas) turns it on. Empty turns it off.",
            "The operator makes the HorizontalPodAutoscaler from it: never add one of your own.",
            "The Helm chart's names (C(enabled), C(targetCPUUtilizationPercentage)) are refused.",
        ),
    ),
    Setting(
        "pod_disruption_budget",
        "dict",
        {"maxUnavailable": 1},
        "The operator's C(spec.podDisruptionBudget) (C(maxUnavailable) or C(minAvailable)).",
    ),
    Setting(
        "expected_load",
        "dict",
        {},
        (
            "The load the gateway is expected to carry - C(spans_per_second), C(log_records_per_second) and "
            "C(spans_per_trace) (default 5). Empty keeps the role's sizes.",
            "When given, each of O(otel_gateway_replicas), the autoscaler's C(minReplicas) and C(maxReplicas) "
            "(O(otel_gateway_autoscaler)), C(num_traces) (O(otel_gateway_tail_sampling)) and the memory request "
            "and limit (O(otel_gateway_resources)) that is left at its default is derived from it with the rule of "
            "the README's Benchmark section; the arithmetic is in C(otel_gateway_status.sizing). A value of your own "
            "is kept, and a C(num_traces) below the new traces/s of a replica times C(decision_wait) is warned about.",
        ),
    ),
    Setting(
        "resources",
        "dict",
        {"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"cpu": "200m", "memory": "512Mi"}},
        (
            "Container resources. The memory limit is what C(memory_limiter)'s percentages, C(GOMEMLIMIT) and the "
            "memory alert are computed from."
        ),
    ),
    Setting(
        "affinity",
        "dict",
        None,
        "Pod affinity. The default prefers one gateway pod per node.",
        derived=lambda value: default_affinity(value("namespace"), value("name")),
    ),
    Setting("node_selector", "dict", {}, "Pod node selector."),
    Setting("tolerations", "list", [], "Pod tolerations.", elements="dict"),
    Setting("priority_class_name", "str", "", "Pod priority class; empty for none."),
    Setting(
        "env",
        "list",
        [],
        "More environment variables of the collector container (Kubernetes EnvVar list).",
        elements="dict",
    ),
    Setting("labels", "dict", {}, "Labels of the OpenTelemetryCollector (the operator copies them to its objects)."),
    Setting("otlp_grpc_port", "int", 4317, "Port of the OTLP gRPC receiver."),
    Setting("otlp_http_port", "int", 4318, "Port of the OTLP HTTP receiver."),
    Setting("tls_enabled", "bool", True, "Serve OTLP over TLS with the certificate of O(otel_gateway_tls_secret)."),
    Setting(
        "tls_client_auth",
        "bool",
        True,
        "Require client certificates signed by the Secret's C(ca.crt) (mTLS, C(client_ca_file)).",
    ),
    Setting(
        "tls_secret",
        "str",
        "otel-gateway-tls",
        ("The C(kubernetes.io/tls) Secret with C(tls.crt), C(tls.key) and C(ca.crt) (otel_certificates makes it)."),
    ),
    Setting("tls_mount_path", "str", "/etc/otel/tls", "Where the Secret is mounted in the collector container."),
    TLS_RELOAD_INTERVAL,
    MEMORY_LIMITER,
    Setting(
        "tail_sampling",
        "dict",
        {
            "decision_wait": "10s",
            "num_traces": 100000,
            "policies": [
                {"name": "errors-policy", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                {"name": "latency-slo-policy", "type": "latency", "latency": {"threshold_ms": 500}},
                {"name": "probabilistic-policy", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}},
            ],
        },
        "Settings of the C(tail_sampling) processor (the seed's three policies by default).",
    ),
    # At most 1,024 spans a request: under gRPC's default 4 MiB message limit of the trace backend for spans of up
    # to 4 KB (8,192 spans of ~1.3 KB were refused: README, Benchmark); 1s adds less latency than 5s.
    Setting(
        "batch",
        "dict",
        {"timeout": "1s", "send_batch_size": 1024, "send_batch_max_size": 1024},
        (
            "Settings of the C(batch) processor.",
            "C(send_batch_max_size) keeps a request to Tempo under gRPC's default 4 MiB message limit.",
        ),
    ),
    Setting(
        "tempo_endpoint",
        "str",
        "tempo.observability:4317",
        "OTLP gRPC endpoint of Tempo (host:port) for the C(otlp/tempo) exporter.",
    ),
    Setting("tempo_insecure", "bool", True, "Send to Tempo without TLS (C(tls.insecure))."),
    Setting(
        "prometheus_endpoint",
        "str",
        "0.0.0.0:8889",
        "Where the C(prometheus) exporter serves the metrics pipeline for Prometheus to scrape.",
    ),
    Setting(
        "prometheus_resource_labels",
        "bool",
        True,
        (
            "Every resource attribute of a metric becomes a label of it on the C(prometheus) exporter "
            "(C(resource_to_telemetry_conversion)) - C(k8s_pod_name), C(k8s_namespace_name), C(k8s_node_name), "
            "C(k8s_container_name)... Without them the metrics of the cluster collector and of the kubelet carry "
            "only C(job) and C(instance), and the alerts on them cannot name the Pod or the node.",
            "Each attribute is a label, so each distinct value a series - see the README's note on cardinality.",
        ),
    ),
    Setting(
        "loki_endpoint",
        "str",
        "http://loki.observability:3100/otlp",
        "Loki's OTLP endpoint for the C(otlphttp/loki) exporter (Loki 3 takes OTLP natively).",
    ),
    Setting(
        "config",
        "dict",
        {},
        (
            "The whole collector configuration (a dictionary) instead of the built-in one. Empty uses the "
            "built-in one. Parse a file with C(lookup('ansible.builtin.file', 'gateway.yaml') | from_yaml)."
        ),
    ),
    Setting(
        "config_extra",
        "dict",
        {},
        (
            "A dictionary merged recursively over the configuration (built-in, O(otel_gateway_config) or the Helm "
            "values' C(config)). Mappings are merged, lists (such as a pipeline's processors) are replaced."
        ),
    ),
    Setting(
        "extra_ports",
        "list",
        [],
        (
            "More ports of the collector's Services (C(name), C(port), C(protocol), C(targetPort), "
            "C(appProtocol)). The prometheus exporter's port is added from the configuration as C(prometheus)."
        ),
        elements="dict",
    ),
    Setting(
        "helm_values",
        "dict",
        {},
        (
            "A C(values.yaml) of the C(opentelemetry-collector) Helm chart, passed to the collector module's "
            "C(helm_values), which maps it onto its options and refuses what cannot be mapped.",
            "Every option the values set replaces the role's (C(config) or C(alternateConfig), C(replicaCount), "
            "C(autoscaling), C(resources), C(podDisruptionBudget), C(serviceAccount.name), C(image), C(ports), "
            "C(affinity), C(nodeSelector), C(tolerations), C(priorityClassName)); C(extraVolumes), "
            "C(extraVolumeMounts) and C(podSecurityContext) are added to the role's TLS volume and fsGroup. "
            "C(mode) is always C(deployment).",
        ),
    ),
    Setting(
        "traces_routed_by_trace_id",
        "bool",
        True,
        (
            "The senders route all spans of a trace to one gateway replica (the agents' C(loadbalancing) exporter "
            "with C(routing_key=traceID)), which tail sampling behind several replicas needs."
        ),
    ),
    Setting(
        "self_monitoring",
        "bool",
        True,
        (
            "Ask the operator for ServiceMonitors of the collector (C(spec.observability.metrics.enableMetrics)) "
            "when this role makes none of its own. The internal metrics are always served on C(0.0.0.0:8888)."
        ),
    ),
    Setting(
        "prometheus_monitoring",
        "raw",
        "auto",
        (
            "The role's ServiceMonitors and PrometheusRule. V(auto) applies them when the cluster serves the "
            "Prometheus Operator's CRDs (and never in render mode); V(true) always; V(false) never."
        ),
    ),
    Setting(
        "monitoring_labels",
        "dict",
        {},
        (
            "More labels of the ServiceMonitors and the PrometheusRule, for the selectors of a Prometheus (for "
            "example C(release) of kube-prometheus-stack)."
        ),
    ),
    Setting("scrape_interval", "str", "30s", "Scrape interval of the ServiceMonitors."),
    Setting(
        "alert_queue_ratio",
        "float",
        0.8,
        "An exporter's queue size over its capacity above which C(OtelGatewayExporterQueueNearlyFull) fires.",
    ),
    Setting(
        "alert_memory_ratio",
        "float",
        0.85,
        (
            "The share of the container memory limit above which C(OtelGatewayMemoryNearLimit) fires (on "
            "C(otelcol_process_memory_rss)). No such alert without a memory limit."
        ),
    ),
    Setting(
        "ingress_enabled",
        "bool",
        False,
        (
            "Apply an Ingress to the prometheus exporter (Service C(<name>-collector), port "
            "O(otel_gateway_ingress_port)), as in the seed's values file. The OTLP ports are not exposed this way "
            "(with mTLS, an Ingress controller cannot present the agents' client certificates)."
        ),
    ),
    Setting(
        "ingress_class_name",
        "str",
        "nginx",
        "C(ingressClassName) of the Ingress; empty for the cluster's default class.",
    ),
    Setting(
        "ingress_annotations",
        "dict",
        {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        "Annotations of the Ingress.",
    ),
    Setting(
        "ingress_hosts",
        "list",
        ["prometheus-gateway.observability.example.com"],
        "Host names of the Ingress, each routing C(/) to the exporter port.",
        elements="str",
    ),
    Setting(
        "ingress_tls",
        "list",
        [{"secretName": "otel-gateway-ingress-tls", "hosts": ["prometheus-gateway.observability.example.com"]}],
        (
            "The Ingress C(tls) list. Its Secret must not be O(otel_gateway_tls_secret) (cert-manager would "
            "overwrite the gateway's mTLS certificate)."
        ),
        elements="dict",
    ),
    Setting("ingress_port", "int", 8889, "The Service port the Ingress routes to."),
    Setting(
        "wait",
        "bool",
        False,
        "Wait for the operator's Deployment to roll out. Needs a running operator and nodes that run pods.",
        scope=TASK,
    ),
    Setting("wait_timeout", "int", 300, "Seconds to wait with O(otel_gateway_wait).", scope=TASK),
    *connection_settings(),
)
