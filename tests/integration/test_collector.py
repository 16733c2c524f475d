"""otel.kubernetes.collector and collector_config through ansible-playbook, against a real kube-apiserver 1.20.2.

The OpenTelemetryCollector CRD installed here is the test fixture
tests/fixtures/crds/opentelemetrycollectors.yaml (written for the operator's documented
API: the operator's own CRDs do not install on 1.20). No operator runs on this control
plane, so no collector workload ever appears by itself: the wait tests say how they
stand in for the operator.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CRD_FIXTURE = ROOT / "tests" / "fixtures" / "crds" / "opentelemetrycollectors.yaml"
GHCR = "ghcr.io/open-telemetry/opentelemetry-collector-releases"

GATEWAY_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"},
                                         "http": {"endpoint": "0.0.0.0:4318"}}}},
    "processors": {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
        "tail_sampling": {"decision_wait": "10s", "policies": [
            {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}]},
        "batch": {},
    },
    "exporters": {
        "otlp/tempo": {"endpoint": "tempo:4317", "tls": {"insecure": True}},
        "otlphttp/loki": {"endpoint": "http://loki:3100/otlp"},
    },
    "connectors": {},
    "service": {"pipelines": {
        "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "tail_sampling", "batch"],
                   "exporters": ["otlp/tempo"]},
        "logs": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["otlphttp/loki"]},
    }},
}

# The same configuration as YAML text, the way the seed's v1alpha1 `config: |` carried it.
GATEWAY_CONFIG_TEXT = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 25
  tail_sampling:
    decision_wait: 10s
    policies:
      - name: errors
        type: status_code
        status_code: {status_codes: [ERROR]}
  batch:
exporters:
  otlp/tempo:
    endpoint: tempo:4317
    tls:
      insecure: true
  otlphttp/loki:
    endpoint: http://loki:3100/otlp
connectors:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: [otlp/tempo]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlphttp/loki]
"""

# The seed's gateway: prometheus and loki exporters, wrong processor order, 3 replicas.
SEED_GATEWAY = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {"batch": {"timeout": "5s"}, "memory_limiter": {"limit_mib": 1024, "check_interval": "1s"},
                   "tail_sampling": {"decision_wait": "10s"}},
    "exporters": {"otlp/tempo": {"endpoint": "http://tempo:4317"}, "prometheus": {"endpoint": "0.0.0.0:8889"},
                  "loki": {"endpoint": "http://loki:3100/otlp"}},
    "service": {"pipelines": {
        "traces": {"receivers": ["otlp"], "processors": ["tail_sampling", "batch", "memory_limiter"],
                   "exporters": ["otlp/tempo"]},
        "metrics": {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["prometheus"]},
        "logs": {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["loki"]},
    }},
}

AGENT_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
        "k8sattributes": {"filter": {"node_from_env_var": "K8S_NODE_NAME"}},
        "batch": {},
    },
    "exporters": {"otlp": {"endpoint": "otel-gateway-collector:4317", "tls": {"insecure": True}}},
    "service": {"pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "k8sattributes",
                                                                               "batch"], "exporters": ["otlp"]}}},
}


def collector_path(namespace: str, name: str) -> str:
    return f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/{name}"


def collector(name: str, namespace: str, config=None, **options) -> dict:
    args = {"name": name, "namespace": namespace, **options}
    if config is not None:
        args["config"] = config
    return {"name": "collector", "otel.kubernetes.collector": args}


def gateway(name: str, namespace: str, config=None, **options) -> dict:
    options = {
        "replicas": 2,
        "traces_routed_by_trace_id": True,
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "200m", "memory": "512Mi"}},
        "ports": [{"name": "otlp-grpc", "port": 4317}, {"name": "otlp-http", "port": 4318, "targetPort": 4318}],
        "self_monitoring": True,
        "pod_disruption_budget": {"maxUnavailable": 1},
        **options,
    }
    return collector(name, namespace, copy.deepcopy(GATEWAY_CONFIG) if config is None else config, **options)


@pytest.fixture(scope="module")
def crd(cluster):
    run = cluster.run([{"name": "install the test CRD", "otel.kubernetes.apply": {"src": str(CRD_FIXTURE)}}])
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert cluster.get(f"{crds}/opentelemetrycollectors.opentelemetry.io")
    return run


def test_apply_rerun_change_check_mode_and_absent(cluster, crd, namespace):
    path = collector_path(namespace, "gateway")

    # Check mode first: the server validates the object (dry run), nothing is stored.
    check = cluster.run([gateway("gateway", namespace, GATEWAY_CONFIG_TEXT)], "--check")
    assert check.rc == 0, check.stdout[-3000:]
    assert check.last["changed"] is True
    assert check.last["results"][0]["action"] == "created"
    assert cluster.get(path) is None

    # The YAML text (v1alpha1 style) is stored as the structured v1beta1 config.
    first = cluster.run([gateway("gateway", namespace, GATEWAY_CONFIG_TEXT)])
    assert first.rc == 0, first.stdout[-3000:]
    result = first.last
    assert result["changed"] is True
    assert result["results"][0] == {"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector",
                                    "name": "gateway", "namespace": namespace, "action": "created", "changed": True}
    assert result["image"] == f"{GHCR}/opentelemetry-collector-k8s:0.159.0"  # tail_sampling: not core
    assert result["distribution"] == "k8s"
    assert result["lint_warnings"] == []

    stored = cluster.get(path)
    assert stored["apiVersion"] == "opentelemetry.io/v1beta1"
    spec = stored["spec"]
    assert isinstance(spec["config"], dict)
    expected_config = copy.deepcopy(GATEWAY_CONFIG)
    expected_config["service"]["telemetry"] = {
        "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}}
    assert spec["config"] == expected_config
    assert spec["config"]["processors"]["batch"] == {}  # empty maps are {}, not null
    assert spec["mode"] == "deployment"
    assert spec["replicas"] == 2
    assert spec["image"] == result["image"]
    assert spec["upgradeStrategy"] == "automatic"
    assert spec["observability"] == {"metrics": {"enableMetrics": True}}
    assert spec["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert spec["ports"] == [{"name": "otlp-grpc", "port": 4317, "protocol": "TCP"},
                             {"name": "otlp-http", "port": 4318, "targetPort": 4318, "protocol": "TCP"}]
    assert spec["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["podSecurityContext"]["runAsNonRoot"] is True
    assert {"name": "GOMEMLIMIT", "value": "819MiB"} in spec["env"]
    assert result["object"]["spec"]["config"] == spec["config"]

    # Idempotent re-run, this time with the configuration as a dictionary: same object.
    rerun = cluster.run([gateway("gateway", namespace)])
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.last["changed"] is False
    assert rerun.last["results"][0]["action"] == "unchanged"

    # Change one option.
    update = cluster.run([gateway("gateway", namespace, replicas=3)], "--diff")
    assert update.rc == 0, update.stdout[-3000:]
    assert update.last["changed"] is True
    assert update.last["results"][0]["action"] == "updated"
    assert "replicas: 3" in update.last["diff"][0]["after"]
    assert cluster.get(path)["spec"]["replicas"] == 3

    # Check mode of a change: reported, not stored.
    check_change = cluster.run([gateway("gateway", namespace, replicas=5)], "--check")
    assert check_change.rc == 0, check_change.stdout[-3000:]
    assert check_change.last["changed"] is True
    assert cluster.get(path)["spec"]["replicas"] == 3

    # Absent, twice.
    gone = cluster.run([collector("gateway", namespace, state="absent")])
    assert gone.rc == 0, gone.stdout[-3000:]
    assert gone.last["changed"] is True
    assert gone.last["results"][0]["action"] == "deleted"
    assert cluster.get(path) is None
    again = cluster.run([collector("gateway", namespace, state="absent")])
    assert again.rc == 0
    assert again.last["changed"] is False


def test_lint_errors_fail_before_anything_is_applied(cluster, crd, namespace):
    run = cluster.run([collector("seed-gateway", namespace, SEED_GATEWAY, replicas=3, distribution="k8s",
                                 resources={"limits": {"memory": "1Gi"}})])
    assert run.rc != 0
    result = run.last
    assert result["failed"] is True
    assert "nothing was applied" in result["msg"]
    errors = result["errors"]
    assert any(e.startswith("exporters.prometheus: the `prometheus` exporter is not in the k8s distribution")
               for e in errors)
    assert any(e.startswith("exporters.loki:") and "otlphttp" in e for e in errors)
    assert any(e.startswith("processors.memory_limiter.limit_mib: 1024 MiB") for e in errors)
    assert any("memory_limiter is at position 3" in w for w in result["lint_warnings"])
    assert "results" not in result  # the cluster was never written to
    assert cluster.get(collector_path(namespace, "seed-gateway")) is None


def test_seed_autoscaler_and_separate_hpa_are_refused(cluster, crd, namespace):
    hpa = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "otel-gateway-hpa", "namespace": namespace},
           "spec": {"scaleTargetRef": {"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector",
                                       "name": "gw"}, "minReplicas": 2, "maxReplicas": 10}}
    seed_autoscaler = {"enabled": True, "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 60}
    run = cluster.run([gateway("gw", namespace, autoscaler=seed_autoscaler, extra_objects=[hpa])])
    assert run.rc != 0
    errors = run.last["errors"]
    assert any(e.startswith("autoscaler.enabled:") for e in errors)
    assert any(e.startswith("autoscaler.targetCPUUtilizationPercentage:") and "`targetCPUUtilization`" in e
               for e in errors)
    assert any(e.startswith("extra_objects: HorizontalPodAutoscaler otel-gateway-hpa") for e in errors)
    assert cluster.get(collector_path(namespace, "gw")) is None
    assert cluster.get(f"/apis/autoscaling/v2beta2/namespaces/{namespace}/horizontalpodautoscalers/otel-gateway-hpa") \
        is None

    # With the operator's field names it is applied.
    operator_autoscaler = {"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60}
    good = cluster.run([gateway("gw", namespace, autoscaler=operator_autoscaler)])
    assert good.rc == 0, good.stdout[-3000:]
    assert cluster.get(collector_path(namespace, "gw"))["spec"]["autoscaler"] == {
        "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60}


def test_agent_daemonset_host_ports_and_node_env(cluster, crd, namespace):
    run = cluster.run([collector("agent", namespace, AGENT_CONFIG, mode="daemonset",
                                 resources={"limits": {"memory": "512Mi"}},
                                 ports=[{"name": "otlp-grpc", "port": 4317, "hostPort": 4317}])])
    assert run.rc == 0, run.stdout[-3000:]
    spec = cluster.get(collector_path(namespace, "agent"))["spec"]
    assert spec["mode"] == "daemonset"
    assert spec["ports"] == [{"name": "otlp-grpc", "port": 4317, "hostPort": 4317, "protocol": "TCP"}]
    env = {e["name"]: e for e in spec["env"]}
    assert env["K8S_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["K8S_NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert env["GOMEMLIMIT"]["value"] == "409MiB"
    assert "replicas" not in spec


def test_wait_times_out_naming_the_workload_without_an_operator(cluster, crd, namespace):
    run = cluster.run([gateway("waiting", namespace, wait=True, wait_timeout=2)])
    assert run.rc != 0
    msg = run.last["msg"]
    assert f"Deployment {namespace}/waiting-collector does not exist" in msg
    assert "operator is not running" in msg
    assert "timed out after 2s" in msg
    # The collector itself was applied before the wait.
    assert cluster.get(collector_path(namespace, "waiting")) is not None
    assert run.last["results"][0]["action"] == "created"


def test_wait_for_the_operator_workload(cluster, crd, namespace):
    """Test double of the operator: this test creates the DaemonSet the operator would create.

    With no nodes in this control plane the DaemonSet controller reports it rolled out
    (0 of 0 pods) once it has observed it; that is the readiness this wait needs.
    """
    labels = {"app.kubernetes.io/name": "agent-collector"}
    daemonset = {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent-collector", "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
            "containers": [{"name": "otc-container", "image": f"{GHCR}/opentelemetry-collector-k8s:0.159.0"}]}}},
    }
    cluster.request("POST", f"/apis/apps/v1/namespaces/{namespace}/daemonsets", daemonset)
    run = cluster.run([collector("agent", namespace, AGENT_CONFIG, mode="daemonset", wait=True, wait_timeout=60,
                                 resources={"limits": {"memory": "512Mi"}})])
    assert run.rc == 0, run.stdout[-3000:]
    assert run.last["workload"] == {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent-collector",
                                    "namespace": namespace}


def test_collector_config_alone(cluster):
    ok = cluster.run([{"name": "lint", "otel.kubernetes.collector_config": {
        "config": AGENT_CONFIG, "mode": "daemonset", "memory_limit": "512Mi"}}])
    assert ok.rc == 0, ok.stdout[-3000:]
    result = ok.last
    assert result["changed"] is False
    assert result["valid"] is True
    assert result["errors"] == [] and result["lint_warnings"] == []
    assert result["distribution"] == "k8s"
    assert result["image"] == f"{GHCR}/opentelemetry-collector-k8s:0.159.0"

    seed = cluster.run([{"name": "lint", "otel.kubernetes.collector_config": {
        "config": SEED_GATEWAY, "distribution": "k8s", "memory_limit": "1Gi", "replicas": 3}}])
    assert seed.rc != 0
    result = seed.last
    assert result["valid"] is False
    assert "error(s)" in result["msg"] and "exporters.prometheus" in result["msg"]
    assert any(w.startswith("processors.tail_sampling:") for w in result["lint_warnings"])
    assert "tail sampling with several collectors" in seed.stdout  # shown as a task warning too

    strict = cluster.run([{"name": "lint", "otel.kubernetes.collector_config": {
        "config": GATEWAY_CONFIG, "replicas": 3, "fail_on_warnings": True}}])
    assert strict.rc != 0
    assert "fail_on_warnings" in strict.last["msg"]
