# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml leaves on the cluster, read back and described in one call.

The summary was eight playbook tasks (reads in loops, a certificate-info task per TLS Secret,
Jinja building each line), about a third of a no-op site.yml. It is now three or four list
reads through InfoRunner (the collection's client, retries and discovery cache) and plain
Python. Only the public certificate of each TLS Secret is looked at; nothing of a Secret is
returned but its name and the certificate's expiry.
"""

from __future__ import annotations

import base64
import datetime
import time

from ansible_collections.otel.kubernetes.plugins.module_utils.collector_render import (
    RESOURCE_METRICS_API,
    RESOURCE_METRICS_KINDS,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import group_serves
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError
from ansible_collections.otel.kubernetes.plugins.module_utils.info import InfoRunner

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - the collection's requirements include cryptography
    x509 = None

COLLECTOR_API = ("opentelemetry.io/v1beta1", "OpenTelemetryCollector")
METRICS_GROUP = RESOURCE_METRICS_API.split("/", maxsplit=1)[0]
# An unavailable aggregated API answers 503, which the client retries: not for the whole retry_timeout.
METRICS_CHECK_SECONDS = 10


def _unique(names) -> list:
    """Names in first-seen order, without repeats (the roles may share a namespace)."""
    return list(dict.fromkeys(name for name in names if name))


def pod_line(pod: dict) -> str:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    statuses = status.get("containerStatuses") or []
    containers = spec.get("containers") or []
    ready = sum(1 for entry in statuses if entry.get("ready"))
    restarts = sum(entry.get("restartCount", 0) for entry in statuses)
    images = ", ".join(container.get("image", "") for container in containers)
    return (
        f"pod {meta.get('namespace')}/{meta.get('name')}: {status.get('phase') or 'Unknown'}, "
        f"ready {ready}/{len(containers)}, restarts {restarts}, image {images}"
    )


def collector_line(collector: dict, metrics_served: bool = True, unset: str = "remove its autoscaler") -> str:
    """One line per collector; an autoscaler the cluster cannot serve (no metrics.k8s.io) says so and the fix."""
    meta, spec = collector.get("metadata", {}), collector.get("spec", {})
    mode = spec.get("mode", "deployment")
    replicas = spec.get("replicas", "one per node" if mode == "daemonset" else 1)
    autoscaler = spec.get("autoscaler") or {}
    scaling = ""
    if "maxReplicas" in autoscaler:
        scaling = f", autoscaler {autoscaler.get('minReplicas', 1)}..{autoscaler['maxReplicas']}"
        if not metrics_served:
            scaling += (
                f" INACTIVE (the cluster does not serve {METRICS_GROUP}, so it never scales: "
                f"install metrics-server, or {unset})"
            )
    image = spec.get("image") or "operator default"
    where = f"{meta.get('namespace')}/{meta.get('name')}"
    return f"collector {where}: mode {mode}, replicas {replicas}{scaling}, image {image}"


def certificate_expiry(secret: dict) -> str | None:
    """The expiry (UTC, ISO 8601) of a TLS Secret's certificate; None when it holds none that parses."""
    encoded = (secret.get("data") or {}).get("tls.crt")
    if not encoded or x509 is None:
        return None
    try:
        cert = x509.load_pem_x509_certificate(base64.b64decode(encoded))
    except ValueError:
        return None
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


class SummaryRunner:
    """Reads the operator's and the collectors' Pods, the collectors and the TLS Secrets; describes them."""

    def __init__(self, client, discovery):
        self.info = InfoRunner(client, discovery)
        self.client = client

    def run(self, operator_namespace: str, gateway: dict, agent: dict, cluster: dict | None = None) -> dict:
        """cluster: the cluster collector (None or enabled false: not deployed); agent["host_collector"]: the
        agent's host collector ({name, namespace}; None when the agent has none)."""
        cluster = cluster if cluster and cluster.get("enabled", True) else None
        host = agent.get("host_collector") or None
        collector_namespaces = _unique(
            [gateway["namespace"], agent["namespace"]]
            + ([host["namespace"]] if host else [])
            + ([cluster["namespace"]] if cluster else [])
        )
        collectors = []
        for namespace in collector_namespaces:
            collectors += self.info.run(*COLLECTOR_API, namespace=namespace)["resources"]
        pods = []
        for namespace in _unique([operator_namespace, *collector_namespaces]):
            pods += self.info.run("v1", "Pod", namespace=namespace)["resources"]
        secrets = self.info.run(
            "v1", "Secret", namespace=gateway["namespace"], field_selectors=["type=kubernetes.io/tls"]
        )
        certificates = [
            {
                "namespace": secret["metadata"].get("namespace"),
                "name": secret["metadata"]["name"],
                "not_after": certificate_expiry(secret),
            }
            for secret in secrets["resources"]
        ]
        metrics_served = self.resource_metrics_served(collectors)
        lines = [pod_line(pod) for pod in pods]
        lines += [collector_line(collector, metrics_served, _unset(collector, gateway)) for collector in collectors]
        lines += [
            f"certificate {cert['namespace']}/{cert['name']} expires {cert['not_after'] or 'unknown'}"
            for cert in certificates
        ]
        lines += endpoint_lines(gateway, agent, cluster)
        return {
            "lines": lines,
            "pods": [_pod_facts(pod) for pod in pods],
            "collectors": [_collector_facts(collector, metrics_served) for collector in collectors],
            "certificates": certificates,
            "api_requests": self.client.requests,
        }

    def resource_metrics_served(self, collectors: list) -> bool:
        """Is metrics.k8s.io served? Asked only when a collector has an autoscaler (True otherwise)."""
        if not any("maxReplicas" in (c.get("spec", {}).get("autoscaler") or {}) for c in collectors):
            return True
        deadline = time.monotonic() + METRICS_CHECK_SECONDS
        try:
            return group_serves(self.client, RESOURCE_METRICS_API, RESOURCE_METRICS_KINDS, deadline=deadline)
        except ApiError:  # registered but not answering: no more use to an autoscaler than absent
            return False


def _unset(collector: dict, gateway: dict) -> str:
    """How to turn a collector's autoscaler off: the gateway role's variable for the gateway."""
    meta = collector.get("metadata", {})
    if (meta.get("name"), meta.get("namespace")) == (gateway.get("name"), gateway.get("namespace")):
        return "set otel_gateway_autoscaler: {}"
    return "remove its autoscaler"


def endpoint_lines(gateway: dict, agent: dict, cluster: dict | None = None) -> list:
    security = "mTLS" if agent.get("mtls", True) else "plaintext"
    port = agent.get("gateway_port", 4317)
    agent_service = f"{agent['name']}-collector.{agent['namespace']}"
    grpc, http = agent.get("otlp_grpc_port", 4317), agent.get("otlp_http_port", 4318)
    gateway_service = f"{gateway['name']}-collector.{gateway['namespace']}"
    headless = f"{gateway['name']}-collector-headless.{gateway['namespace']}"
    lines = [
        f"endpoint for applications: the node-local agent, Service {agent_service} (internalTrafficPolicy Local), "
        f"OTLP gRPC :{grpc} and HTTP :{http}",
        f"traces agent -> gateway: loadbalancing by trace ID via {headless}:{port}, {security}",
        f"metrics and logs agent -> gateway: {gateway_service}:{port}, {security}",
    ]
    host = agent.get("host_collector")
    if host:
        lines.append(
            f"container logs and host metrics: host collector {host['namespace']}/{host['name']} (privileged) -> "
            f"the agent on its node, {agent_service}:{grpc}"
        )
    if cluster:
        cluster_security = "mTLS" if cluster.get("mtls", True) else "plaintext"
        lines.append(
            f"cluster state and events: {cluster['namespace']}/{cluster['name']} (one replica) -> gateway: "
            f"{gateway_service}:{cluster.get('gateway_port', 4317)}, {cluster_security}"
        )
    return lines


def _pod_facts(pod: dict) -> dict:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return {
        "namespace": pod["metadata"].get("namespace"),
        "name": pod["metadata"]["name"],
        "phase": pod.get("status", {}).get("phase") or "Unknown",
        "ready": all(entry.get("ready") for entry in statuses) and bool(statuses),
        "restarts": sum(entry.get("restartCount", 0) for entry in statuses),
    }


def _collector_facts(collector: dict, metrics_served: bool) -> dict:
    spec = collector.get("spec", {})
    facts = {
        "namespace": collector["metadata"].get("namespace"),
        "name": collector["metadata"]["name"],
        "mode": spec.get("mode", "deployment"),
        "image": spec.get("image"),
    }
    autoscaler = spec.get("autoscaler") or {}
    if "maxReplicas" in autoscaler:
        facts["autoscaler"] = {
            "min_replicas": autoscaler.get("minReplicas", 1),
            "max_replicas": autoscaler["maxReplicas"],
            "active": metrics_served,
        }
    return facts
