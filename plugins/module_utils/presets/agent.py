# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node agent (role otel_agent): a DaemonSet collector sending to the gateway over mTLS."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils import presets

PREFIX = "otel_agent_"
# The role's defaults (roles/otel_agent/defaults/main.yml; a unit test keeps them equal). None:
# derived from other settings (rbac_name from name).
DEFAULTS = {
    "name": "otel-agent",
    "namespace": "observability",
    "create_namespace": True,
    "pod_security": "restricted",
    "service_account": "otel-agent",
    "rbac_name": None,
    "image": "",
    "collector_version": "",
    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
    "tolerations": [{"operator": "Exists"}],
    "node_selector": {},
    "priority_class_name": "",
    "env": [],
    "labels": {},
    "otlp_grpc_port": 4317,
    "otlp_http_port": 4318,
    "host_ports": False,
    "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
    "k8sattributes_metadata": [
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.pod.uid",
        "k8s.deployment.name",
        "k8s.node.name",
        "k8s.container.name",
    ],
    "batch": {"timeout": "1s", "send_batch_size": 1024},
    "gateway_name": "otel-gateway",
    "gateway_namespace": "observability",
    "gateway_port": 4317,
    "cluster_domain": "cluster.local",
    "tls_enabled": True,
    "tls_secret": "otel-agent-tls",
    "tls_mount_path": "/etc/otel/tls",
    "tls_server_name": "",
    "tls_reload_interval": "1h",
    "config": {},
    "config_extra": {},
    "extra_ports": [],
    "helm_values": {},
    "self_monitoring": True,
}


def _endpoints(s: dict) -> dict:
    domain = s["cluster_domain"]
    return {
        "local_service": f"{s['name']}-collector.{s['namespace']}.svc.{domain}",
        "gateway_headless": f"{s['gateway_name']}-collector-headless.{s['gateway_namespace']}.svc.{domain}",
        "gateway_service": f"{s['gateway_name']}-collector.{s['gateway_namespace']}.svc.{domain}",
    }


def client_tls(s: dict) -> dict:
    """TLS settings of the exporters towards the gateway."""
    if not s["tls_enabled"]:
        return {"insecure": True}
    path = s["tls_mount_path"]
    tls = {"ca_file": f"{path}/ca.crt", "cert_file": f"{path}/tls.crt", "key_file": f"{path}/tls.key"}
    if s["tls_reload_interval"]:
        tls["reload_interval"] = s["tls_reload_interval"]
    return tls


def builtin_config(s: dict, grpc_port: int, http_port: int, gateway_port: int) -> dict:
    """The seed's agent, corrected: memory_limiter first and batch last, k8sattributes filtered to its
    own node, traces routed by trace ID to the gateway pods, mTLS, internal metrics on the pod IP."""
    ends = _endpoints(s)
    tls = client_tls(s)
    loadbalancing_tls = dict(tls)
    if s["tls_enabled"]:
        # The loadbalancing exporter connects to pod IPs: check the certificate against the Service name.
        loadbalancing_tls["server_name_override"] = s["tls_server_name"] or ends["gateway_headless"]
    pipeline = {"receivers": ["otlp"], "processors": ["memory_limiter", "k8sattributes", "batch"]}
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{grpc_port}"},
                    "http": {"endpoint": f"0.0.0.0:{http_port}"},
                }
            }
        },
        "processors": {
            "memory_limiter": s["memory_limiter"],
            "k8sattributes": {
                "auth_type": "serviceAccount",
                "passthrough": False,
                "filter": {"node_from_env_var": "K8S_NODE_NAME"},
                "extract": {"metadata": s["k8sattributes_metadata"]},
                "pod_association": [
                    {"sources": [{"from": "resource_attribute", "name": "k8s.pod.ip"}]},
                    {"sources": [{"from": "resource_attribute", "name": "k8s.pod.uid"}]},
                    {"sources": [{"from": "connection"}]},
                ],
            },
            "batch": s["batch"],
        },
        "exporters": {
            "loadbalancing": {
                "routing_key": "traceID",
                # Until the resolver knows a gateway (the agent starting before it, a rollout), queue and
                # retry: without these the exporter rejects every span ("couldn't find the exporter for
                # the endpoint"), seen on the local node.
                "retry_on_failure": {"enabled": True},
                "sending_queue": {"enabled": True},
                # No queue and no retry of their own in the per-gateway exporters: what a gateway that went
                # away did not take comes back to the queue above and is routed again to one that is there.
                # With their own queue, it was dropped with the exporter of the gone gateway (upstream issue
                # 35378; the pipeline benchmark lost about 3% of spans for a deleted gateway Pod that way).
                "protocol": {
                    "otlp": {
                        "tls": loadbalancing_tls,
                        "sending_queue": {"enabled": False},
                        "retry_on_failure": {"enabled": False},
                    }
                },
                "resolver": {"dns": {"hostname": ends["gateway_headless"], "port": str(gateway_port)}},
            },
            "otlp/gateway": {"endpoint": f"{ends['gateway_service']}:{gateway_port}", "tls": tls},
        },
        "extensions": presets.health_check(),
        "service": {
            "extensions": list(presets.health_check()),
            "telemetry": presets.self_telemetry(),
            "pipelines": {
                "traces": {**pipeline, "exporters": ["loadbalancing"]},
                "metrics": {**pipeline, "exporters": ["otlp/gateway"]},
                "logs": {**pipeline, "exporters": ["otlp/gateway"]},
            },
        },
    }


def host_features(s: dict, values: dict, grpc_port, http_port) -> list:
    """What of the settings only the privileged Pod Security level admits, each naming its variable."""
    found = []
    if s["host_ports"] and "ports" not in values:
        found.append(f"otel_agent_host_ports=true (hostPort {grpc_port} and {http_port})")
    found += [
        f"otel_agent_extra_ports {port.get('name')} (hostPort)"
        for port in s["extra_ports"] or []
        if isinstance(port, dict) and port.get("hostPort")
    ]
    found += [
        f"otel_agent_helm_values ports.{name}.hostPort"
        for name, port in (values.get("ports") or {}).items()
        if isinstance(port, dict) and port.get("hostPort") and port.get("enabled") is not False
    ]
    found += [
        f"otel_agent_helm_values extraVolumes {volume.get('name')} (hostPath)"
        for volume in values.get("extraVolumes") or []
        if isinstance(volume, dict) and "hostPath" in volume
    ]
    return found


def ports(s: dict, grpc_port: int, http_port: int) -> list:
    result = []
    for name, port in (("otlp-grpc", grpc_port), ("otlp-http", http_port)):
        entry = {"name": name, "port": port, "protocol": "TCP"}
        if s["host_ports"]:
            entry["hostPort"] = port
        result.append(entry)
    return result + list(s["extra_ports"] or [])


def build(given: dict | None, state: str = "present") -> presets.Component:
    """The agent from its role's settings; errors name the role variables and the fix."""
    s = presets.merged_settings(DEFAULTS, given)
    errors = presets.unknown_settings(DEFAULTS, given, PREFIX)
    s["rbac_name"] = s["rbac_name"] or s["name"]
    presets.check_mappings(s, ("config", "config_extra"), PREFIX, "agent.yaml", errors)
    grpc_port = presets.check_port(s, "otlp_grpc_port", PREFIX, errors)
    http_port = presets.check_port(s, "otlp_http_port", PREFIX, errors)
    gateway_port = presets.check_port(s, "gateway_port", PREFIX, errors)
    values = presets.helm_values_mapping(s)
    ends = _endpoints(s)
    features = host_features(s, values, s["otlp_grpc_port"], s["otlp_http_port"])
    if state == "present" and s["pod_security"] != "privileged" and features:
        errors.append(
            f"{', '.join(features)}: only the privileged Pod Security level admits host ports and hostPath volumes, "
            f"but otel_agent_pod_security is {s['pod_security']} for namespace {s['namespace']}, so the API server "
            "would refuse every agent Pod. Either drop them (set otel_agent_host_ports to false: applications reach "
            f"the agent on their own node through the node-local Service {ends['local_service']}, ports "
            f"{s['otlp_grpc_port']} and {s['otlp_http_port']}), or give the agent a namespace of its own "
            "(otel_agent_namespace) with otel_agent_pod_security set to privileged, so that only that namespace is "
            "lowered. Nothing was applied."
        )
    config = {}
    if not errors:
        base = presets.helm_config(values) or s["config"] or builtin_config(s, grpc_port, http_port, gateway_port)
        config = presets.combine(base, s["config_extra"])
    account = presets.service_account(values, s["service_account"])
    options = {
        "namespace": s["namespace"],
        "config": config,
        "mode": "daemonset",
        "image": presets.unless_in_values(values, "image", s["image"]),
        "resources": presets.unless_in_values(values, "resources", s["resources"]),
        "service_account": account,
        "node_env": True,
        "ports": None if "ports" in values else ports(s, grpc_port, http_port),
        **presets.pod_options(s, values),
    }
    status = {
        "name": s["name"],
        "namespace": s["namespace"],
        "otlp_grpc_port": grpc_port,
        "otlp_http_port": http_port,
        "host_ports": bool(s["host_ports"]),
        # Node-local for a daemonset: the operator gives it internalTrafficPolicy Local.
        "service": ends["local_service"],
        "gateway_traces": f"{ends['gateway_headless']}:{gateway_port}",
        "gateway_metrics_logs": f"{ends['gateway_service']}:{gateway_port}",
        "mtls": bool(s["tls_enabled"]),
    }
    return presets.Component(
        what="agent",
        name=s["name"],
        namespace=s["namespace"],
        create_namespace=bool(s["create_namespace"]),
        pod_security=s["pod_security"],
        options=options,
        rbac_name=s["rbac_name"],
        service_account=account,
        helm_values=s["helm_values"] or None,
        errors=errors,
        status=status,
        version=s["collector_version"] or None,
        published=("permissions", "lint_warnings"),
    )
