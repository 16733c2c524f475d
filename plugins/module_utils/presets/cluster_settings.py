# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster collector's settings (role otel_cluster): see presets/settings.py; after a change run
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
    RoleSettings,
    Setting,
    connection_settings,
    pod_security_setting,
)

SETTINGS = RoleSettings(
    "otel_cluster",
    Setting(
        "state",
        "str",
        "present",
        "V(present) applies the cluster collector; V(absent) removes it.",
        choices=("present", "absent"),
        scope=TASK,
    ),
    Setting(
        "name",
        "str",
        "otel-cluster",
        "Name of the OpenTelemetryCollector (the operator's Deployment is C(<name>-collector)).",
    ),
    Setting(
        "namespace",
        "str",
        "observability",
        "Namespace of the cluster collector. Its client certificate Secret must be in it.",
    ),
    Setting(
        "create_namespace",
        "bool",
        True,
        "Apply the namespace first. It is never deleted by O(otel_cluster_state=absent).",
    ),
    pod_security_setting(
        "The cluster collector's Pod meets V(restricted). Roles that apply the same namespace must give it the "
        "same level.",
    ),
    Setting("service_account", "str", "otel-cluster", "Name of the cluster collector's ServiceAccount."),
    RBAC_NAME,
    Setting(
        "image",
        "str",
        "",
        ("The collector image. Empty lets M(otel.kubernetes.collector) choose (C(otelcol-k8s) has both receivers)."),
    ),
    Setting(
        "collector_version",
        "str",
        "",
        "Tag of the chosen image when O(otel_cluster_image) is empty. Empty means the module's default.",
    ),
    Setting(
        "resources",
        "dict",
        {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
        "Container resources; C(memory_limiter)'s percentages and C(GOMEMLIMIT) follow the memory limit.",
    ),
    Setting("tolerations", "list", [], "Pod tolerations.", elements="dict"),
    Setting("node_selector", "dict", {}, "Pod node selector."),
    Setting("priority_class_name", "str", "", "Pod priority class; empty for none."),
    Setting("env", "list", [], "More environment variables of the collector container.", elements="dict"),
    Setting("labels", "dict", {}, "Labels of the OpenTelemetryCollector (the operator copies them to its objects)."),
    Setting(
        "metrics",
        "bool",
        True,
        (
            "The cluster's state as metrics (C(k8s_cluster)) - C(k8s.deployment.available), C(k8s.pod.phase), "
            "C(k8s.container.restarts), C(k8s.node.condition_ready), C(k8s.node.allocatable_cpu)..."
        ),
    ),
    Setting(
        "events",
        "bool",
        True,
        "The cluster's Events (C(events.k8s.io)) as logs (C(k8s_objects), watch mode, deletions left out).",
    ),
    Setting("collection_interval", "str", "30s", "How often C(k8s_cluster) reports."),
    Setting(
        "node_conditions",
        "list",
        ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"],
        "The node conditions reported, one metric each (C(k8s.node.condition_ready)...).",
        elements="str",
    ),
    Setting(
        "allocatable_types",
        "list",
        ["cpu", "memory", "ephemeral-storage", "pods"],
        "The node's allocatable resources reported (C(cpu), C(memory), C(ephemeral-storage), C(pods)).",
        elements="str",
    ),
    MEMORY_LIMITER,
    Setting("batch", "dict", {"timeout": "5s", "send_batch_size": 1024}, "Settings of the C(batch) processor."),
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    GATEWAY_PORT,
    Setting(
        "cluster_domain",
        "str",
        "cluster.local",
        "The cluster's DNS domain, for the gateway's fully qualified Service name.",
    ),
    Setting(
        "tls_enabled",
        "bool",
        True,
        "Send to the gateway over mTLS with the client certificate of O(otel_cluster_tls_secret).",
    ),
    Setting(
        "tls_secret",
        "str",
        "otel-cluster-tls",
        (
            "The C(kubernetes.io/tls) Secret with C(tls.crt), C(tls.key) and C(ca.crt); otel_certificates issues "
            "it (C(otel_certificates_cluster_secret))."
        ),
    ),
    Setting("tls_mount_path", "str", "/etc/otel/tls", "Where the Secret is mounted in the collector container."),
    Setting(
        "tls_reload_interval",
        "str",
        "1h",
        "How often the certificate files are re-read (C(reload_interval)); empty turns it off.",
    ),
    Setting(
        "config",
        "dict",
        {},
        ("The whole collector configuration (a dictionary) instead of the built-in one. Empty uses the built-in one."),
    ),
    Setting(
        "config_extra",
        "dict",
        {},
        "A dictionary merged recursively over the configuration. Mappings are merged, lists are replaced.",
    ),
    SELF_MONITORING,
    Setting(
        "wait", "bool", False, "Wait for the operator's Deployment to roll out. Needs a running operator.", scope=TASK
    ),
    Setting("wait_timeout", "int", 300, "Seconds to wait with O(otel_cluster_wait).", scope=TASK),
    *connection_settings(),
)
