# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node agent's settings (role otel_agent): see presets/settings.py; after a change run
``python tools/role_files.py``."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.presets.settings import (
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    GATEWAY_PORT,
    MEMORY_LIMITER,
    RBAC_NAME,
    SELF_MONITORING,
    TASK,
    TLS_RELOAD_INTERVAL,
    RoleSettings,
    Setting,
    connection_settings,
    pod_security_setting,
)

SETTINGS = RoleSettings(
    "otel_agent",
    Setting(
        "state",
        "str",
        "present",
        "V(present) applies the agent; V(absent) removes it.",
        choices=("present", "absent"),
        scope=TASK,
    ),
    Setting(
        "name",
        "str",
        "otel-agent",
        "Name of the OpenTelemetryCollector (the operator's DaemonSet is C(<name>-collector)).",
    ),
    Setting(
        "namespace", "str", "observability", "Namespace of the agent. Its client certificate Secret must be in it."
    ),
    Setting(
        "create_namespace",
        "bool",
        True,
        "Apply the namespace first. It is never deleted by O(otel_agent_state=absent).",
    ),
    pod_security_setting(
        "The agent's Pods meet V(restricted) unless O(otel_agent_host_ports) (or a C(hostPort) in "
        "O(otel_agent_extra_ports)) is on or the agent reads the host itself (O(otel_agent_host_collector=agent)), "
        "which needs V(privileged) - the role then refuses any other level before applying anything. Give such "
        "an agent a namespace of its own, so that only that namespace is lowered.",
    ),
    Setting("service_account", "str", "otel-agent", "Name of the agent's ServiceAccount."),
    RBAC_NAME,
    Setting(
        "image",
        "str",
        "",
        (
            "The collector image. Empty lets M(otel.kubernetes.collector) choose the smallest distribution that "
            "has every component (the built-in configuration needs C(otelcol-k8s))."
        ),
    ),
    Setting(
        "collector_version",
        "str",
        "",
        "Tag of the chosen image when O(otel_agent_image) is empty. Empty means the module's default.",
    ),
    Setting(
        "resources",
        "dict",
        {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
        (
            "Container resources. The memory limit is what C(memory_limiter)'s percentages and C(GOMEMLIMIT) are "
            "computed from."
        ),
    ),
    Setting(
        "tolerations",
        "list",
        [{"operator": "Exists"}],
        "Pod tolerations. The default tolerates every taint, so that every node has an agent.",
        elements="dict",
    ),
    Setting("node_selector", "dict", {}, "Pod node selector."),
    Setting("priority_class_name", "str", "", "Pod priority class; empty for none."),
    Setting(
        "env",
        "list",
        [],
        (
            "More environment variables of the collector container. C(K8S_NODE_NAME) and C(K8S_NODE_IP) (downward "
            "API) are always set."
        ),
        elements="dict",
    ),
    Setting("labels", "dict", {}, "Labels of the OpenTelemetryCollector (the operator copies them to its objects)."),
    Setting("otlp_grpc_port", "int", 4317, "Port of the OTLP gRPC receiver (and its hostPort)."),
    Setting("otlp_http_port", "int", 4318, "Port of the OTLP HTTP receiver (and its hostPort)."),
    Setting(
        "host_ports",
        "bool",
        False,
        (
            "Also open the OTLP ports on each node's IP (C(hostPort)). Off by default - applications reach the "
            "agent on their node through the operator's node-local Service C(<name>-collector) "
            "(C(internalTrafficPolicy Local) for a daemonset).",
            "Host ports need O(otel_agent_pod_security=privileged) (baseline and restricted forbid them); the "
            "role refuses anything else before applying anything. Give the agent a namespace of its own then (not "
            "the gateway's), so that only that namespace is lowered.",
        ),
    ),
    MEMORY_LIMITER,
    Setting(
        "k8sattributes_metadata",
        "list",
        [
            "k8s.namespace.name",
            "k8s.pod.name",
            "k8s.pod.uid",
            "k8s.deployment.name",
            "k8s.node.name",
            "k8s.container.name",
        ],
        "The metadata C(k8sattributes) adds (C(extract.metadata)).",
        elements="str",
    ),
    Setting("batch", "dict", {"timeout": "1s", "send_batch_size": 1024}, "Settings of the C(batch) processor."),
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    GATEWAY_PORT,
    Setting(
        "cluster_domain",
        "str",
        "cluster.local",
        "The cluster's DNS domain, for the gateway's fully qualified Service names.",
    ),
    Setting(
        "tls_enabled",
        "bool",
        True,
        "Send to the gateway over mTLS with the client certificate of O(otel_agent_tls_secret).",
    ),
    Setting(
        "tls_secret",
        "str",
        "otel-agent-tls",
        ("The C(kubernetes.io/tls) Secret with C(tls.crt), C(tls.key) and C(ca.crt) (otel_certificates makes it)."),
    ),
    Setting("tls_mount_path", "str", "/etc/otel/tls", "Where the Secret is mounted in the collector container."),
    Setting(
        "tls_server_name",
        "str",
        "",
        (
            "The name the gateway's certificate is checked against when the C(loadbalancing) exporter connects to "
            "a gateway pod's IP (C(server_name_override)). Empty means the headless Service's full name, "
            "C(<gateway>-collector-headless.<namespace>.svc.<cluster domain>), which the gateway certificate of "
            "otel_certificates holds."
        ),
    ),
    TLS_RELOAD_INTERVAL,
    Setting(
        "config",
        "dict",
        {},
        (
            "The whole collector configuration (a dictionary) instead of the built-in one. Empty uses the "
            "built-in one. Parse a file with C(lookup('ansible.builtin.file', 'agent.yaml') | from_yaml)."
        ),
    ),
    Setting(
        "config_extra",
        "dict",
        {},
        (
            "A dictionary merged recursively over the configuration (built-in, O(otel_agent_config) or the Helm "
            "values' C(config)). Mappings are merged, lists (such as a pipeline's processors) are replaced."
        ),
    ),
    Setting(
        "extra_ports",
        "list",
        [],
        "More ports of the agent (C(name), C(port), C(protocol), C(hostPort), ...).",
        elements="dict",
    ),
    Setting(
        "helm_values",
        "dict",
        {},
        (
            "A C(values.yaml) of the C(opentelemetry-collector) Helm chart, passed to the collector module's "
            "C(helm_values), which maps it onto its options and refuses what cannot be mapped.",
            "Every option the values set replaces the role's (C(config) or C(alternateConfig), C(resources), "
            "C(serviceAccount.name), C(image), C(ports), C(nodeSelector), C(tolerations), C(priorityClassName)); "
            "C(extraVolumes), C(extraVolumeMounts) and C(podSecurityContext) are added to the role's TLS volume "
            "and fsGroup. C(mode) is always C(daemonset).",
        ),
    ),
    SELF_MONITORING,
    Setting(
        "kubelet_metrics",
        "bool",
        True,
        (
            "Node and Pod metrics from the kubelet of the agent's own node (C(kubelet_stats) receiver, "
            "C(auth_type serviceAccount)) - CPU, memory, network and filesystem of the node, of every Pod and "
            "container (C(k8s.pod.cpu.usage), C(k8s.pod.memory.working_set)...), enriched by C(k8sattributes).",
            "The derived RBAC grants get on C(nodes/stats) and nothing more. Needs no host access (V(restricted)).",
        ),
    ),
    Setting(
        "kubelet_endpoint",
        "str",
        "https://${env:K8S_NODE_IP}:10250",
        (
            "The kubelet's address. The default is the node's IP from the downward API (C(K8S_NODE_IP), from "
            "C(status.hostIP)) - node names do not resolve in Pods on every cluster (CoreDNS without a forward to "
            "the nodes' resolver). The kubelet's serving certificate must hold that IP (kubeadm's with "
            "C(serverTLSBootstrap) do); else use C(https://${env:K8S_NODE_NAME}:10250) where node names resolve."
        ),
    ),
    Setting(
        "kubelet_ca_file",
        "str",
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        (
            "The CA file the kubelet's serving certificate is verified with - by default the service account's "
            "C(ca.crt) (the cluster CA, which signs the kubelets' certificates on clusters that have them "
            "signed)."
        ),
    ),
    Setting(
        "kubelet_insecure_skip_verify",
        "bool",
        False,
        (
            "Do not verify the kubelet's serving certificate. Many clusters have self-signed kubelet certificates "
            "(kubeadm's default); the agent then sends its token to whatever answers, so the module warns."
        ),
    ),
    Setting("kubelet_collection_interval", "str", "30s", "How often the kubelet's metrics are read."),
    Setting(
        "kubelet_metric_groups",
        "list",
        ["node", "pod", "container"],
        "The kubelet's metric groups (C(node), C(pod), C(container), C(volume)).",
        elements="str",
    ),
    Setting(
        "container_logs",
        "bool",
        False,
        (
            "Every container's log file (C(file_log) on C(/var/log/pods/*/*/*.log) with the C(container) parser, "
            "the Pod's identity from the file path, C(k8sattributes) enrichment) to the logs pipeline, the "
            "gateway and Loki; checkpoints in C(file_storage) on the node, so that a restart neither loses nor "
            "repeats lines. The collectors' own logs (container C(otc-container) in the agent's, the gateway's "
            "and the host collector's namespaces) are left out.",
            "Reads the host (hostPath) as root without capabilities, which only V(privileged) admits; see "
            "O(otel_agent_host_collector).",
        ),
    ),
    Setting(
        "pod_logs_host_path",
        "str",
        "/var/log/pods",
        "The kubelet's pod log directory on the nodes (its C(podLogsDir)), mounted at C(/var/log/pods).",
    ),
    Setting(
        "storage_host_path",
        "str",
        "/var/lib/otelcol",
        (
            "Where the log reader keeps its checkpoints (and its sending queue) on each node, in "
            "C(<path>/<namespace>/<collector name>) (made if missing)."
        ),
    ),
    Setting(
        "host_metrics",
        "bool",
        False,
        (
            "The node's own metrics (C(host_metrics) - cpu, memory, load, disk, filesystem with the usual "
            "excludes, network), read from the host's C(/) mounted read-only at C(/hostfs), with "
            "C(k8s.node.name).",
            "Reads the host (hostPath), which only V(privileged) admits; see O(otel_agent_host_collector).",
        ),
    ),
    Setting("host_metrics_collection_interval", "str", "30s", "How often the host metrics are read."),
    Setting(
        "host_collector",
        "str",
        "separate",
        (
            "Which collector reads the host when O(otel_agent_container_logs) or O(otel_agent_host_metrics) is on.",
            "V(separate) - a second DaemonSet C(<otel_agent_name>-host) in O(otel_agent_host_namespace), a "
            "namespace of its own labelled V(privileged); it sends over OTLP to the agent's node-local Service on "
            "its node, which enriches and forwards over mTLS. The agent stays at O(otel_agent_pod_security); the "
            "host collector has no API access and no service account token.",
            "V(agent) - the agent reads them itself; needs O(otel_agent_pod_security=privileged) (give the agent "
            "a namespace of its own). Anything else is refused before anything is applied.",
        ),
        choices=("separate", "agent"),
    ),
    Setting(
        "host_namespace",
        "str",
        "observability-host",
        ("The namespace of the separate host collector, labelled V(privileged); not the agent's nor the gateway's."),
    ),
    Setting(
        "host_resources",
        "dict",
        {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
        "Container resources of the separate host collector.",
    ),
    Setting(
        "wait",
        "bool",
        False,
        "Wait for the operator's DaemonSet to roll out. Needs a running operator and nodes that run pods.",
        scope=TASK,
    ),
    Setting("wait_timeout", "int", 300, "Seconds to wait with O(otel_agent_wait).", scope=TASK),
    *connection_settings(),
)
