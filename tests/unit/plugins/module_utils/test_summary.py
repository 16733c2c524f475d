"""SummaryRunner's reads and lines, with a fake client (site.yml runs it on the real node)."""

from __future__ import annotations

import base64
import datetime

import pytest
from certificates import self_signed

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.summary import (
    SummaryRunner,
    certificate_expiry,
    collector_line,
    pod_line,
)

from .test_info import SERVED, FakeClient, FakeDiscovery

SERVED_HERE = {**SERVED, ("v1", "Pod"): ("pods", True)}
# The status facts as the roles publish them (the parts the summary reads, and some it does not).
OPERATOR = {"version": "0.158.0", "namespace": "opentelemetry-operator-system", "deployment": "x", "not_after": {}}
CERTIFICATES = {"backend": "self_signed", "namespace": "observability", "not_after": {"otel-ca": "2035-01-01"}}
GATEWAY = {"name": "otel-gateway", "namespace": "observability", "otlp_grpc_port": 4317, "mtls": True}
AGENT = {
    "name": "otel-agent",
    "namespace": "observability",
    "image": "otelcol-k8s:0.159.0",
    "otlp_grpc_port": 4317,
    "otlp_http_port": 4318,
    "service": "otel-agent-collector.observability.svc.cluster.local",
    "gateway_traces": "otel-gateway-collector-headless.observability.svc.cluster.local:4317",
    "gateway_metrics_logs": "otel-gateway-collector.observability.svc.cluster.local:4317",
    "mtls": True,
    "host_collector": None,
}
STATUSES = {"operator": OPERATOR, "certificates": CERTIFICATES, "gateway": GATEWAY, "agent": AGENT}


def pem_certificate(not_after: datetime.datetime) -> bytes:
    return self_signed("summary-test", not_before=not_after - datetime.timedelta(days=1), not_after=not_after)[0]


def pod(namespace, name, ready=True, restarts=0):
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"containers": [{"name": "c", "image": "collector:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"ready": ready, "restartCount": restarts}]},
    }


def test_pod_line_counts_ready_containers_and_restarts():
    assert (
        pod_line(pod("ns", "p", ready=False, restarts=3))
        == "pod ns/p: Running, ready 0/1, restarts 3, image collector:1"
    )


def test_pod_line_of_a_pod_without_status():
    assert pod_line({"metadata": {"namespace": "ns", "name": "p"}, "spec": {"containers": []}}) == (
        "pod ns/p: Unknown, ready 0/0, restarts 0, image "
    )


def test_collector_lines_by_mode():
    agent = {"metadata": {"namespace": "o", "name": "a"}, "spec": {"mode": "daemonset", "image": "i:1"}}
    gateway = {
        "metadata": {"namespace": "o", "name": "g"},
        "spec": {"mode": "deployment", "autoscaler": {"minReplicas": 2, "maxReplicas": 5}},
    }
    assert collector_line(agent) == "collector o/a: mode daemonset, replicas one per node, image i:1"
    # As the operator's CRD stores it: replicas defaulted to 1 in every mode.
    stored = {**agent, "spec": {**agent["spec"], "replicas": 1}}
    assert collector_line(stored) == "collector o/a: mode daemonset, replicas one per node, image i:1"
    assert (
        collector_line(gateway) == "collector o/g: mode deployment, replicas 1, autoscaler 2..5, image operator default"
    )


def test_certificate_expiry_reads_only_the_certificate():
    expiry = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    secret = {"data": {"tls.crt": base64.b64encode(pem_certificate(expiry)).decode(), "tls.key": "c2VjcmV0"}}
    assert certificate_expiry(secret) == "2030-01-02T03:04:05Z"
    assert certificate_expiry({"data": {"tls.crt": base64.b64encode(b"not a certificate").decode()}}) is None
    assert certificate_expiry({"data": {}}) is None


def test_the_runner_reads_each_namespace_once_and_returns_no_key_material():
    expiry = datetime.datetime(2031, 6, 1, tzinfo=datetime.timezone.utc)
    secret = {
        "metadata": {"namespace": "observability", "name": "otel-gateway-tls"},
        "data": {"tls.crt": base64.b64encode(pem_certificate(expiry)).decode(), "tls.key": "UFJJVkFURQ=="},
    }
    answers = {
        "/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors": {
            "items": [
                {"metadata": {"namespace": "observability", "name": "otel-gateway"}, "spec": {"mode": "deployment"}}
            ]
        },
        "/api/v1/namespaces/opentelemetry-operator-system/pods": {
            "items": [pod("opentelemetry-operator-system", "op")]
        },
        "/api/v1/namespaces/observability/pods": {"items": [pod("observability", "gw", restarts=1)]},
        "/api/v1/namespaces/observability/secrets": {"items": [secret]},
    }
    client = FakeClient(answers)
    result = SummaryRunner(client, FakeDiscovery(SERVED_HERE)).run(STATUSES)
    # gateway and agent share a namespace: one list of collectors, one of Pods there.
    assert [call[1] for call in client.calls] == list(answers)
    assert client.calls[-1][2] == {"fieldSelector": "type=kubernetes.io/tls"}
    assert result["certificates"] == [
        {"namespace": "observability", "name": "otel-gateway-tls", "not_after": "2031-06-01T00:00:00Z"}
    ]
    assert result["lines"][:4] == [
        "pod opentelemetry-operator-system/op: Running, ready 1/1, restarts 0, image collector:1",
        "pod observability/gw: Running, ready 1/1, restarts 1, image collector:1",
        "collector observability/otel-gateway: mode deployment, replicas 1, image operator default",
        "certificate observability/otel-gateway-tls expires 2031-06-01T00:00:00Z",
    ]
    assert result["lines"][4:] == [
        "endpoint for applications: the node-local agent, Service otel-agent-collector.observability.svc.cluster.local "
        "(internalTrafficPolicy Local), OTLP gRPC :4317 and HTTP :4318",
        "traces agent -> gateway: loadbalancing by trace ID via "
        "otel-gateway-collector-headless.observability.svc.cluster.local:4317, mTLS",
        "metrics and logs agent -> gateway: otel-gateway-collector.observability.svc.cluster.local:4317, mTLS",
    ]
    assert "UFJJVkFURQ==" not in repr(result) and "PRIVATE" not in repr(result)
    assert result["pods"][1] == {
        "namespace": "observability",
        "name": "gw",
        "phase": "Running",
        "ready": True,
        "restarts": 1,
    }
    assert result["api_requests"] == 4


def test_without_the_operator_crd_there_are_no_collector_lines():
    served = {key: value for key, value in SERVED_HERE.items() if key[1] != "OpenTelemetryCollector"}
    client = FakeClient(
        {
            "/api/v1/namespaces/x/pods": {"items": []},
            "/api/v1/namespaces/g/pods": {"items": []},
            "/api/v1/namespaces/y/pods": {"items": []},
            "/api/v1/namespaces/c/secrets": {"items": []},
        }
    )
    statuses = {
        "operator": dict(OPERATOR, namespace="x"),
        "certificates": dict(CERTIFICATES, namespace="c"),
        "gateway": {"name": "gw", "namespace": "g"},
        "agent": dict(AGENT, namespace="y", mtls=False),
    }
    result = SummaryRunner(client, FakeDiscovery(served)).run(statuses)
    assert [call[1] for call in client.calls] == list(client.answers)
    assert result["collectors"] == [] and result["certificates"] == []
    assert result["lines"][-1].endswith(":4317, plaintext")


def test_the_host_and_cluster_collectors_namespaces_are_read_and_their_paths_described():
    answers = {
        "/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors": {"items": []},
        "/apis/opentelemetry.io/v1beta1/namespaces/observability-host/opentelemetrycollectors": {
            "items": [
                {
                    "metadata": {"namespace": "observability-host", "name": "otel-agent-host"},
                    "spec": {"mode": "daemonset"},
                }
            ]
        },
        "/apis/opentelemetry.io/v1beta1/namespaces/cluster-ns/opentelemetrycollectors": {"items": []},
        "/api/v1/namespaces/op/pods": {"items": []},
        "/api/v1/namespaces/observability/pods": {"items": []},
        "/api/v1/namespaces/observability-host/pods": {"items": [pod("observability-host", "otel-agent-host-x")]},
        "/api/v1/namespaces/cluster-ns/pods": {"items": []},
        "/api/v1/namespaces/observability/secrets": {"items": []},
    }
    client = FakeClient(answers)
    host = {"name": "otel-agent-host", "namespace": "observability-host"}
    cluster = {
        "name": "otel-cluster",
        "namespace": "cluster-ns",
        "gateway": "otel-gateway-collector.observability.svc.cluster.local:4317",
        "mtls": True,
    }
    statuses = dict(STATUSES, operator=dict(OPERATOR, namespace="op"), agent=dict(AGENT, host_collector=host))
    result = SummaryRunner(client, FakeDiscovery(SERVED_HERE)).run(dict(statuses, cluster=cluster))
    assert [call[1] for call in client.calls] == list(answers)
    assert (
        "pod observability-host/otel-agent-host-x: Running, ready 1/1, restarts 0, image collector:1" in result["lines"]
    )
    assert result["lines"][-2] == (
        "container logs and host metrics: host collector observability-host/otel-agent-host (privileged) -> the agent "
        "on its node, otel-agent-collector.observability.svc.cluster.local:4317"
    )
    assert result["lines"][-1] == (
        "cluster state and events: cluster-ns/otel-cluster (one replica) -> gateway: "
        "otel-gateway-collector.observability.svc.cluster.local:4317, mTLS"
    )
    # Not deployed (the roles published {}): neither read nor described.
    quiet = FakeClient({k: v for k, v in answers.items() if "host" not in k and "cluster-ns" not in k})
    lines = SummaryRunner(quiet, FakeDiscovery(SERVED_HERE)).run(dict(statuses, agent=AGENT, cluster={}))
    assert [call[1] for call in quiet.calls] == list(quiet.answers)
    assert not any("cluster state" in line or "host collector" in line for line in lines["lines"])


def test_the_instrumentation_is_described_and_nothing_is_read_for_it():
    client = FakeClient({})
    status = {
        "name": "otel-instrumentation",
        "namespace": "observability",
        "exporter_endpoint": "http://otel-agent-collector.observability.svc.cluster.local:4317",
        "targets": [
            {"kind": "Namespace", "namespace": None, "name": "shop", "languages": ["java", "python"]},
            {"kind": "Deployment", "namespace": "shop", "name": "checkout", "languages": []},
        ],
    }
    result = SummaryRunner(client, FakeDiscovery(SERVED_HERE)).run({"instrumentation": status})
    assert client.calls == []
    assert result["lines"] == [
        "auto-instrumentation: Instrumentation observability/otel-instrumentation, the SDKs send to "
        "http://otel-agent-collector.observability.svc.cluster.local:4317; injected into Namespace shop (java, "
        "python), Deployment shop/checkout (no language)"
    ]


def test_a_status_that_is_not_the_roles_is_refused_with_its_name():
    with pytest.raises(OtelK8sError, match="agent: the status has no service; give otel_agent_status as the role"):
        SummaryRunner(FakeClient({}), FakeDiscovery(SERVED_HERE)).run({"agent": {"namespace": "x"}})
