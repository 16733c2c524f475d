# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node agent (role otel_agent): a DaemonSet collector sending to the gateway over mTLS."""

from __future__ import annotations

import copy
import json

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _common as presets
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _node_telemetry as node
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.agent_settings import SETTINGS

HOST_COLLECTOR_CHOICES = SETTINGS["host_collector"].choices
KUBELET_METRIC_GROUPS = ("container", "pod", "node", "volume")
# The role variable of a setting, for messages.
var = SETTINGS.variable


def _endpoints(s: dict) -> dict:
    domain = s["cluster_domain"]
    return {
        "local_service": f"{s['name']}-collector.{s['namespace']}.svc.{domain}",
        "gateway_headless": f"{s['gateway_name']}-collector-headless.{s['gateway_namespace']}.svc.{domain}",
        "gateway_service": f"{s['gateway_name']}-collector.{s['gateway_namespace']}.svc.{domain}",
    }


def k8sattributes(s: dict, reads: dict) -> dict:
    """The agent's k8sattributes processor: its own node's Pods, by IP, UID or connection."""
    node_filter = {"node_from_env_var": "K8S_NODE_NAME"}
    if reads["separate"]:
        # Not the host collector's Pods: what it sends about the host would otherwise be attributed to its own
        # Pod (by the connection); the container logs it sends name their Pod by k8s.pod.uid.
        node_filter["fields"] = [{"key": "metadata.namespace", "value": s["host_namespace"], "op": "not-equals"}]
    return {
        "auth_type": "serviceAccount",
        "passthrough": False,
        "filter": node_filter,
        "extract": {"metadata": s["k8sattributes_metadata"]},
        "pod_association": [
            {"sources": [{"from": "resource_attribute", "name": "k8s.pod.ip"}]},
            {"sources": [{"from": "resource_attribute", "name": "k8s.pod.uid"}]},
            {"sources": [{"from": "connection"}]},
        ],
    }


def gateway_exporters(s: dict, gateway_port: int) -> dict:
    """Traces to the gateway Pods by trace ID (loadbalancing), metrics and logs to its Service; over mTLS."""
    ends = _endpoints(s)
    tls = presets.client_tls(s)
    loadbalancing_tls = dict(tls)
    if s["tls_enabled"]:
        # The loadbalancing exporter connects to pod IPs: check the certificate against the Service name.
        loadbalancing_tls["server_name_override"] = s["tls_server_name"] or ends["gateway_headless"]
    return {
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
    }


def builtin_config(s: dict, grpc_port: int, http_port: int, gateway_port: int, reads: dict) -> dict:
    """The seed's agent, corrected: memory_limiter first and batch last, k8sattributes filtered to its
    own node, traces routed by trace ID to the gateway pods, mTLS, internal metrics on the pod IP; with
    the kubelet's metrics, and what it reads of the host when it reads it itself (reads["agent"])."""
    processors = ["memory_limiter", "k8sattributes", "batch"]
    receivers = {
        "otlp": {
            "protocols": {
                "grpc": {"endpoint": f"0.0.0.0:{grpc_port}"},
                "http": {"endpoint": f"0.0.0.0:{http_port}"},
            }
        }
    }
    metrics_receivers, logs_receivers = ["otlp"], ["otlp"]
    if s["kubelet_metrics"]:
        receivers["kubelet_stats"] = node.kubelet_stats(s)
        metrics_receivers.append("kubelet_stats")
    in_agent = reads["agent"]
    if "logs" in in_agent:
        receivers["file_log"] = node.file_log([s["namespace"], s["gateway_namespace"]])
        logs_receivers.append("file_log")
    pipelines = {
        "traces": {"receivers": ["otlp"], "processors": processors, "exporters": ["loadbalancing"]},
        "metrics": {"receivers": metrics_receivers, "processors": processors, "exporters": ["otlp/gateway"]},
        "logs": {"receivers": logs_receivers, "processors": processors, "exporters": ["otlp/gateway"]},
    }
    extra_processors = {}
    if "metrics" in in_agent:
        receivers["host_metrics"] = node.host_metrics(s)
        extra_processors[node.NODE_RESOURCE] = node.node_resource()
        pipelines["metrics/host"] = node.host_metrics_pipeline("otlp/gateway")
    extensions = presets.health_check()
    if "logs" in in_agent:
        extensions[node.STORAGE] = node.storage()
    return {
        "receivers": receivers,
        "processors": {
            "memory_limiter": s["memory_limiter"],
            "k8sattributes": k8sattributes(s, reads),
            **extra_processors,
            "batch": s["batch"],
        },
        "exporters": gateway_exporters(s, gateway_port),
        "extensions": extensions,
        "service": {
            "extensions": list(extensions),
            "telemetry": presets.self_telemetry(),
            "pipelines": pipelines,
        },
    }


def host_collector_name(s: dict) -> str:
    return f"{s['name']}-host"


def host_collector_config(s: dict, reads: set, grpc_port: int) -> dict:
    """The separate host collector: container logs and host metrics, over OTLP to the agent on its own node
    (the agent's node-local Service), which enriches them and forwards them to the gateway over mTLS."""
    ends = _endpoints(s)
    receivers, pipelines, processors = {}, {}, {"memory_limiter": s["memory_limiter"]}
    exporter = {"endpoint": f"{ends['local_service']}:{grpc_port}", "tls": {"insecure": True}}
    extensions = presets.health_check()
    if "logs" in reads:
        receivers["file_log"] = node.file_log([s["namespace"], s["gateway_namespace"], s["host_namespace"]])
        pipelines["logs"] = {
            "receivers": ["file_log"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["otlp/agent"],
        }
        extensions[node.STORAGE] = node.storage()
        # Read lines wait on disk while the agent is away (a restart): neither lost nor read twice.
        exporter["sending_queue"] = {"enabled": True, "storage": node.STORAGE}
    exporter["retry_on_failure"] = {"enabled": True}
    if "metrics" in reads:
        receivers["host_metrics"] = node.host_metrics(s)
        processors[node.NODE_RESOURCE] = node.node_resource()
        pipelines["metrics"] = node.host_metrics_pipeline("otlp/agent")
    processors["batch"] = s["batch"]
    return {
        "receivers": receivers,
        "processors": processors,
        "exporters": {"otlp/agent": exporter},
        "extensions": extensions,
        "service": {
            "extensions": list(extensions),
            "telemetry": presets.self_telemetry(),
            "pipelines": pipelines,
        },
    }


def host_features(s: dict, values: dict, grpc_port, http_port) -> list:
    """What of the settings only the privileged Pod Security level admits, each naming its variable."""
    found = []
    if s["host_ports"] and "ports" not in values:
        found.append(f"{var('host_ports')}=true (hostPort {grpc_port} and {http_port})")
    found += [
        f"{var('extra_ports')} {port.get('name')} (hostPort)"
        for port in s["extra_ports"] or []
        if isinstance(port, dict) and port.get("hostPort")
    ]
    found += [
        f"{var('helm_values')} ports.{name}.hostPort"
        for name, port in (values.get("ports") or {}).items()
        if isinstance(port, dict) and port.get("hostPort") and port.get("enabled") is not False
    ]
    found += [
        f"{var('helm_values')} extraVolumes {volume.get('name')} (hostPath)"
        for volume in values.get("extraVolumes") or []
        if isinstance(volume, dict) and "hostPath" in volume
    ]
    return found


def host_reads(s: dict) -> dict:
    """What of the host is read ({"logs", "metrics"}), and by which collector: reads["agent"] or reads["separate"]."""
    wanted = {"logs"} if s["container_logs"] else set()
    wanted |= {"metrics"} if s["host_metrics"] else set()
    placement = s["host_collector"] if s["host_collector"] in HOST_COLLECTOR_CHOICES else "separate"
    return {
        "wanted": wanted,
        "agent": wanted if placement == "agent" else set(),
        "separate": wanted if placement == "separate" else set(),
    }


def describe_reads(s: dict, wanted: set) -> list:
    found = []
    if "logs" in wanted:
        found.append(f"{var('container_logs')}=true (hostPath {s['pod_logs_host_path']} and {s['storage_host_path']})")
    if "metrics" in wanted:
        found.append(f"{var('host_metrics')}=true (hostPath / at /hostfs)")
    return found


def check_node_telemetry(s: dict, reads: dict, state: str, errors: list, warnings: list) -> None:
    """The settings of the kubelet's metrics, the container logs and the host metrics, and where they run."""
    name = host_collector_name(s)
    if s["host_collector"] not in HOST_COLLECTOR_CHOICES:
        errors.append(
            f"{var('host_collector')} is {json.dumps(s['host_collector'])}; set it to separate (a second "
            f"DaemonSet {name} in a namespace of its own, {var('host_namespace')} ({s['host_namespace']}), "
            "labelled privileged, reads container logs and host metrics and sends them to the agent on its node) or "
            f"agent (the agent reads them itself, which needs {var('pod_security')}: privileged). Nothing was "
            "applied."
        )
    groups = s["kubelet_metric_groups"]
    if not isinstance(groups, list) or not groups or any(g not in KUBELET_METRIC_GROUPS for g in groups):
        errors.append(
            f"{var('kubelet_metric_groups')} is {json.dumps(groups)}; give a list of "
            f"{', '.join(KUBELET_METRIC_GROUPS)} (default [node, pod, container]), or set {var('kubelet_metrics')} "
            "to false."
        )
    if s["kubelet_metrics"] and s["kubelet_insecure_skip_verify"] and state == "present":
        warnings.append(
            f"{var('kubelet_insecure_skip_verify')} is true: the agent sends its service account token to whatever "
            f"answers at {s['kubelet_endpoint']} without checking the kubelet's certificate. Give the CA that signs "
            f"the kubelets' serving certificates ({var('kubelet_ca_file')}) instead where you can."
        )
    if reads["separate"] and s["host_namespace"] in (s["namespace"], s["gateway_namespace"]):
        which = var("namespace") if s["host_namespace"] == s["namespace"] else var("gateway_namespace")
        errors.append(
            f"{var('host_namespace')} is {s['host_namespace']}, also {which}: the host collector's namespace is "
            "labelled privileged, so it must be a namespace of its own (default observability-host). Nothing was "
            "applied."
        )


def ports(s: dict, grpc_port: int, http_port: int) -> list:
    result = []
    for name, port in (("otlp-grpc", grpc_port), ("otlp-http", http_port)):
        entry = {"name": name, "port": port, "protocol": "TCP"}
        if s["host_ports"]:
            entry["hostPort"] = port
        result.append(entry)
    return result + list(s["extra_ports"] or [])


def host_collector(s: dict, reads: set, grpc_port: int, state: str) -> presets.Component:
    """The separate host collector: a DaemonSet in the privileged namespace of the host_namespace setting, root without
    capabilities, no API access and no service account token."""
    name, namespace = host_collector_name(s), s["host_namespace"]
    config = host_collector_config(s, reads, grpc_port) if state == "present" else {}
    volumes, mounts = node.volumes(s, namespace, name, "logs" in reads, "metrics" in reads)
    options = {
        "namespace": namespace,
        "config": config,
        "mode": "daemonset",
        "image": s["image"] or None,
        "resources": s["host_resources"] or None,
        "service_account": name,
        "node_env": True,
        "ports": None,
        "tolerations": presets.unless_in_values({}, "tolerations", s["tolerations"]),
        "node_selector": presets.unless_in_values({}, "nodeSelector", s["node_selector"]),
        "priority_class_name": presets.unless_in_values({}, "priorityClassName", s["priority_class_name"]),
        "env": s["env"] or None,
        "labels": s["labels"] or None,
        "self_monitoring": bool(s["self_monitoring"]),
        "volumes": volumes or None,
        "volume_mounts": mounts or None,
        "security_context": dict(node.HOST_READER_SECURITY_CONTEXT),
        "pod_security_context": dict(node.HOST_READER_SECURITY_CONTEXT),
    }
    return presets.Component(
        what="host collector",
        name=name,
        namespace=namespace,
        create_namespace=bool(s["create_namespace"]),
        pod_security="privileged",
        options=options,
        rbac_name=name,
        service_account=name,
        helm_values=None,
        version=s["collector_version"] or None,
        automount_token=False,
    )


def collector_options(s: dict, values: dict, config: dict, account: str, grpc_port, http_port, reads: dict) -> dict:
    """The agent collector's options (collector.options.CollectorOptions' names)."""
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
    if reads["agent"]:
        reader_volumes(options, s, values, reads["agent"])
    return options


def published_status(s: dict, grpc_port, http_port, gateway_port, reads: dict, host) -> dict:
    """What the role publishes as otel_agent_status (besides the image, permissions and lint warnings)."""
    ends = _endpoints(s)
    return {
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
        "kubelet_metrics": bool(s["kubelet_metrics"]),
        "container_logs": bool(s["container_logs"]),
        "host_metrics": bool(s["host_metrics"]),
        "host_collector": {"name": host.name, "namespace": host.namespace} if reads["separate"] else None,
    }


def build(given: dict | None, state: str = "present") -> presets.Component:
    """The agent from its role's settings; errors name the role variables and the fix."""
    s = SETTINGS.merged(given)
    errors = SETTINGS.unknown(given)
    warnings = []
    for switch in ("kubelet_metrics", "kubelet_insecure_skip_verify", "container_logs", "host_metrics"):
        s[switch] = presets.as_bool(s[switch])
    presets.check_mappings(s, ("config", "config_extra"), SETTINGS, "agent.yaml", errors)
    grpc_port = presets.check_port(s, "otlp_grpc_port", SETTINGS, errors)
    http_port = presets.check_port(s, "otlp_http_port", SETTINGS, errors)
    gateway_port = presets.check_port(s, "gateway_port", SETTINGS, errors)
    values = presets.helm_values_mapping(s)
    ends = _endpoints(s)
    reads = host_reads(s)
    check_node_telemetry(s, reads, state, errors, warnings)
    features = host_features(s, values, s["otlp_grpc_port"], s["otlp_http_port"])
    if state == "present" and s["pod_security"] != "privileged" and features:
        errors.append(
            f"{', '.join(features)}: only the privileged Pod Security level admits host ports and hostPath volumes, "
            f"but {var('pod_security')} is {s['pod_security']} for namespace {s['namespace']}, so the API server "
            f"would refuse every agent Pod. Either drop them (set {var('host_ports')} to false: applications reach "
            f"the agent on their own node through the node-local Service {ends['local_service']}, ports "
            f"{s['otlp_grpc_port']} and {s['otlp_http_port']}), or give the agent a namespace of its own "
            f"({var('namespace')}) with {var('pod_security')} set to privileged, so that only that namespace is "
            "lowered. Nothing was applied."
        )
    if state == "present" and s["pod_security"] != "privileged" and reads["agent"]:
        errors.append(
            f"{' and '.join(describe_reads(s, reads['agent']))} read the host, which only the privileged Pod Security "
            f"level admits, but {var('host_collector')} is agent and {var('pod_security')} is {s['pod_security']} "
            f"(namespace {s['namespace']}), so the API server would refuse every agent Pod. Either set "
            f"{var('host_collector')} to separate (the default: a second DaemonSet "
            f"{host_collector_name(s)} in a namespace of its own, {var('host_namespace')} ({s['host_namespace']}), "
            "labelled privileged, reads them and sends them to the agent on its node, which stays "
            f"{s['pod_security']}), or set {var('pod_security')} to privileged and give the agent a namespace of its "
            f"own ({var('namespace')}), so that only that namespace is lowered. Nothing was applied."
        )
    config = {}
    if not errors:
        base = (
            presets.helm_config(values) or s["config"] or builtin_config(s, grpc_port, http_port, gateway_port, reads)
        )
        config = presets.combine(base, s["config_extra"])
    account = presets.service_account(values, s["service_account"])
    options = collector_options(s, values, config, account, grpc_port, http_port, reads)
    companions, stale = [], []
    host = host_collector(s, reads["separate"], grpc_port, state)
    if reads["separate"] or state == "absent":
        companions.append(host)
    else:
        # Turned off (or moved into the agent): an earlier run's host collector goes.
        stale = host.references()
    status = published_status(s, grpc_port, http_port, gateway_port, reads, host)
    return presets.Component.from_settings(
        "agent",
        s,
        options,
        rbac_name=s["rbac_name"],
        service_account=account,
        helm_values=s["helm_values"] or None,
        errors=errors,
        warnings=warnings,
        status=status,
        published=("permissions", "lint_warnings"),
        companions=companions,
        stale=stale,
    )


def reader_volumes(options: dict, s: dict, values: dict, reads: set) -> None:
    """The agent that reads the host itself: its host volumes beside the TLS volume, and root without capabilities."""
    volumes, mounts = node.volumes(s, s["namespace"], s["name"], "logs" in reads, "metrics" in reads)
    base_volumes = options["volumes"] if options["volumes"] is not None else list(values.get("extraVolumes") or [])
    base_mounts = (
        options["volume_mounts"]
        if options["volume_mounts"] is not None
        else list(values.get("extraVolumeMounts") or [])
    )
    options["volumes"] = base_volumes + volumes
    options["volume_mounts"] = base_mounts + mounts
    options["security_context"] = dict(node.HOST_READER_SECURITY_CONTEXT)
    pod = options["pod_security_context"]
    if pod is None:
        pod = copy.deepcopy(values.get("podSecurityContext") or {})
    options["pod_security_context"] = {**pod, **node.HOST_READER_SECURITY_CONTEXT}
