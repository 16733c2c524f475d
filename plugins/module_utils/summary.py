# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml leaves on the cluster, read back and described in one call.

The summary was eight playbook tasks (reads in loops, a certificate-info task per TLS Secret,
Jinja building each line), about a third of a no-op site.yml. It is now three or four list
reads through InfoRunner (the collection's client, retries and discovery cache) and plain
Python. What it reads and describes comes from the status facts the roles publish
(``otel_<role>_status``), nothing else. Only the public certificate of each TLS Secret is looked
at; nothing of a Secret is returned but its name and the certificate's expiry.
"""

from __future__ import annotations

import base64
import datetime
import time

from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import (
    RESOURCE_METRICS_API,
    RESOURCE_METRICS_KINDS,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    connect,
    fail,
    with_connection_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Discovery, group_serves
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.info import InfoRunner
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.gateway_settings import (
    SETTINGS as GATEWAY_SETTINGS,
)

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
    # A DaemonSet's spec still holds replicas: the CRD defaults it to 1 whatever the mode.
    replicas = "one per node" if mode == "daemonset" else spec.get("replicas", 1)
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


ROLES = ("operator", "certificates", "gateway", "agent", "cluster", "instrumentation")
# The summary module's options: each role's published status, and the connection.
ARGUMENT_SPEC = with_connection_options({role: {"type": "dict", "default": {}} for role in ROLES})
MODULE_OPTIONS = {}


def _field(statuses: dict, role: str, key: str):
    """A field of a role's status; a clear error when the status is not what the role publishes."""
    try:
        return statuses[role][key]
    except (KeyError, TypeError):
        raise OtelK8sError(
            f"{role}: the status has no {key}; give otel_{role}_status as the role otel_{role} publishes it "
            "(playbooks/tasks/summary.yml)"
        ) from None


class SummaryRunner:
    """Reads the operator's and the collectors' Pods, the collectors and the TLS Secrets; describes them."""

    def __init__(self, client, discovery):
        self.info = InfoRunner(client, discovery)
        self.client = client

    def run(self, statuses: dict) -> dict:
        """statuses: role (ROLES) -> the status fact the role published (otel_<role>_status). A role whose status
        is empty (not run, or removed) is left out."""
        statuses = {role: statuses.get(role) or {} for role in ROLES}
        endpoints = endpoint_lines(statuses)  # before any read: a status that is not the role's fails first
        host = statuses["agent"].get("host_collector") or None
        collector_namespaces = _unique(
            ([_field(statuses, "gateway", "namespace")] if statuses["gateway"] else [])
            + ([_field(statuses, "agent", "namespace")] if statuses["agent"] else [])
            + ([host["namespace"]] if host else [])
            + ([_field(statuses, "cluster", "namespace")] if statuses["cluster"] else [])
        )
        collectors = []
        for namespace in collector_namespaces:
            collectors += self.info.run(*COLLECTOR_API, namespace=namespace)["resources"]
        pods = []
        operator = [_field(statuses, "operator", "namespace")] if statuses["operator"] else []
        for namespace in _unique([*operator, *collector_namespaces]):
            pods += self.info.run("v1", "Pod", namespace=namespace)["resources"]
        certificates = []
        if statuses["certificates"]:
            namespace = _field(statuses, "certificates", "namespace")
            secrets = self.info.run("v1", "Secret", namespace=namespace, field_selectors=["type=kubernetes.io/tls"])
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
        lines += [
            collector_line(collector, metrics_served, _unset(collector, statuses["gateway"]))
            for collector in collectors
        ]
        lines += [
            f"certificate {cert['namespace']}/{cert['name']} expires {cert['not_after'] or 'unknown'}"
            for cert in certificates
        ]
        lines += endpoints
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
        return f"set {GATEWAY_SETTINGS.variable('autoscaler')}: {{}}"
    return "remove its autoscaler"


def _security(mtls) -> str:
    return "mTLS" if mtls else "plaintext"


def endpoint_lines(statuses: dict) -> list:
    """Where applications send and where each collector sends, as the roles' statuses say."""
    lines = []
    if statuses.get("agent"):
        service = _field(statuses, "agent", "service")
        grpc, http = _field(statuses, "agent", "otlp_grpc_port"), _field(statuses, "agent", "otlp_http_port")
        security = _security(_field(statuses, "agent", "mtls"))
        lines += [
            f"endpoint for applications: the node-local agent, Service {service} (internalTrafficPolicy Local), "
            f"OTLP gRPC :{grpc} and HTTP :{http}",
            f"traces agent -> gateway: loadbalancing by trace ID via {_field(statuses, 'agent', 'gateway_traces')}, "
            f"{security}",
            f"metrics and logs agent -> gateway: {_field(statuses, 'agent', 'gateway_metrics_logs')}, {security}",
        ]
        host = statuses["agent"].get("host_collector")
        if host:
            lines.append(
                f"container logs and host metrics: host collector {host['namespace']}/{host['name']} (privileged) -> "
                f"the agent on its node, {service}:{grpc}"
            )
    if statuses.get("cluster"):
        where = f"{_field(statuses, 'cluster', 'namespace')}/{_field(statuses, 'cluster', 'name')}"
        lines.append(
            f"cluster state and events: {where} (one replica) -> gateway: {_field(statuses, 'cluster', 'gateway')}, "
            f"{_security(_field(statuses, 'cluster', 'mtls'))}"
        )
    if statuses.get("instrumentation"):
        where = f"{_field(statuses, 'instrumentation', 'namespace')}/{_field(statuses, 'instrumentation', 'name')}"
        targets = [
            f"{t['kind']} {t['namespace'] + '/' if t.get('namespace') else ''}{t['name']} "
            f"({', '.join(t['languages']) or 'no language'})"
            for t in _field(statuses, "instrumentation", "targets")
        ]
        lines.append(
            f"auto-instrumentation: Instrumentation {where}, the SDKs send to "
            f"{_field(statuses, 'instrumentation', 'exporter_endpoint')}; injected into "
            + (", ".join(targets) or "no namespace or workload")
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


def run_module(module) -> None:
    try:
        client = connect(module)
        result = SummaryRunner(client, Discovery(client)).run({role: module.params[role] for role in ROLES})
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(changed=False, **result)
