"""render_only through ansible-playbook: every module renders its objects and contacts no cluster.

No control plane is needed here, and none is used: the tasks run with no kubeconfig at all
(HOME is empty, KUBECONFIG and K8S_AUTH_KUBECONFIG are unset), and with K8S_AUTH_HOST and
K8S_AUTH_API_KEY pointing at a listening socket that counts every connection it gets. A
module that tried to reach the API server would either fail for lack of credentials or be
counted; the same task without render_only shows that it would indeed have connected.
"""

from __future__ import annotations

import copy
import socket
import threading

import pytest
import yaml
from collector_configs import AGENT_CONFIG
from playbook import run_tasks

SECRET_VALUE = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"  # base64 of a made-up password


HELM_VALUES = {
    "mode": "deployment",
    "replicaCount": 2,
    "resources": {"limits": {"memory": "1Gi"}},
    "config": {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
        },
        "exporters": {"debug": {}},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["debug"]}
            }
        },
    },
    "serviceAccount": {"create": True, "name": "otel-collector"},
    "ingress": {
        "enabled": True,
        "ingressClassName": "nginx",
        "hosts": [{"host": "otlp.example.com", "paths": [{"path": "/", "pathType": "Prefix", "port": 4318}]}],
    },
}


class CountingListener:
    """A TCP socket that accepts and counts connections: a stand-in API server that must stay unused."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = CountingListener()
    yield server
    server.close()


@pytest.fixture
def no_kubeconfig(tmp_path, monkeypatch):
    """An environment without any kubeconfig: empty HOME, no KUBECONFIG, no K8S_AUTH_* of the caller."""
    home = tmp_path / "home"
    home.mkdir()
    for name in (
        "KUBECONFIG",
        "K8S_AUTH_KUBECONFIG",
        "K8S_AUTH_HOST",
        "K8S_AUTH_API_KEY",
        "K8S_AUTH_CONTEXT",
        "KUBERNETES_SERVICE_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    return {"HOME": str(home), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def task(module: str, **arguments) -> dict:
    return {"name": module, f"otel.kubernetes.{module}": arguments}


def tasks() -> list:
    """One render_only task per module, with no namespace or target that exists anywhere."""
    definition = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"level": "info"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "data": {"token": SECRET_VALUE}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader"},
            "rules": [],
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}},
    ]
    return [
        task("apply", definition=definition, namespace="observability", render_only=True),
        task(
            "collector",
            name="gateway",
            namespace="observability",
            helm_values=copy.deepcopy(HELM_VALUES),
            render_only=True,
            wait=True,
        ),
        task("rbac", name="otel-agent", namespace="observability", config=AGENT_CONFIG, render_only=True),
        task(
            "certs",
            namespace="observability",
            certificates=[{"secret_name": "gateway-tls", "gateway": {"name": "gateway"}}],
            render_only=True,
        ),
        task(
            "instrumentation",
            name="default",
            namespace="observability",
            sampler_type="parentbased_traceidratio",
            sampler_argument="0.1",
            namespaces=[{"name": "shop", "languages": ["java"]}],
            workloads=[{"kind": "Deployment", "name": "web", "namespace": "shop", "languages": ["python"]}],
            render_only=True,
        ),
    ]


def kinds(result: dict) -> list:
    return [(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in result["objects"]]


def test_every_module_renders_without_contacting_a_cluster(listener, no_kubeconfig):
    env = {**no_kubeconfig, "K8S_AUTH_HOST": listener.url, "K8S_AUTH_API_KEY": "not-a-real-token"}
    run = run_tasks(tasks(), env=env)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert listener.connections == 0
    for result in run.tasks:
        assert result["changed"] is False, result["task"]
        assert result["api_requests"] == 0 and result["results"] == [], result["task"]

    applied = run.task("apply")
    assert kinds(applied) == [
        ("Namespace", "observability", None),
        ("Secret", "token", "observability"),
        ("ConfigMap", "settings", "observability"),
        ("ClusterRole", "reader", None),
    ]
    assert SECRET_VALUE not in run.stdout  # Secret values stay masked in the output

    collector = run.task("collector")
    assert kinds(collector) == [
        ("Ingress", "gateway-collector", "observability"),
        ("OpenTelemetryCollector", "gateway", "observability"),
    ]
    spec = collector["objects"][1]["spec"]
    assert spec["replicas"] == 2 and spec["serviceAccount"] == "otel-collector" and spec["mode"] == "deployment"
    assert "workload" not in collector  # wait is ignored
    assert any("otel.kubernetes.rbac" in w for w in collector["lint_warnings"])

    rbac = run.task("rbac")
    assert kinds(rbac)[0] == ("ServiceAccount", "otel-agent", "observability")
    assert ("ClusterRole", "otel-agent", None) in kinds(rbac)

    certs = run.task("certs")
    assert certs["backend"] == "cert_manager"
    assert [k for k, _n, _ns in kinds(certs)] == ["Issuer", "Certificate", "Issuer", "Certificate"]
    assert "PRIVATE KEY" not in run.stdout
    assert any("render_only renders cert-manager objects" in w for w in certs.get("warnings", []))
    assert [c["action"] for c in certs["certificates"]] == ["rendered"]

    instrumentation = run.task("instrumentation")
    assert kinds(instrumentation) == [
        ("Instrumentation", "default", "observability"),
        ("Namespace", "shop", None),
        ("Deployment", "web", "shop"),
    ]
    stored = instrumentation["objects"][0]["spec"]
    assert stored["sampler"] == {"type": "parentbased_traceidratio", "argument": "0.1"}
    assert stored["exporter"] == {"endpoint": "http://otel-agent-collector.observability.svc.cluster.local:4317"}

    # The rendered objects are YAML-serialisable as they are (what a render playbook writes out).
    assert list(yaml.safe_load_all(yaml.safe_dump_all(instrumentation["objects"]))) == instrumentation["objects"]

    # Check mode changes nothing either, and still contacts nothing.
    check = run_tasks(tasks(), "--check", env=env)
    assert check.rc == 0, check.stdout[-3000:]
    assert listener.connections == 0 and not any(t["changed"] for t in check.tasks)

    # Without render_only the same task does go to the API server (the listener counts it).
    real = run_tasks(
        [
            task(
                "apply",
                definition={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}},
                retry_timeout=1,
            )
        ],
        env=env,
    )
    assert real.rc != 0
    assert listener.connections > 0


def test_render_only_needs_no_credentials_at_all(no_kubeconfig):
    run = run_tasks(tasks(), env=no_kubeconfig)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert all(len(t["objects"]) > 0 for t in run.tasks)

    # The environment really has none: without render_only the task fails before any request.
    real = run_tasks(
        [task("rbac", name="otel-agent", namespace="observability", config=AGENT_CONFIG)], env=no_kubeconfig
    )
    assert real.rc != 0
    assert "no Kubernetes credentials found" in real.last["msg"]


def test_render_only_refuses_state_absent_and_still_validates(no_kubeconfig):
    seed_ingress = {
        **HELM_VALUES,
        "ingress": {"enabled": True, "className": "nginx", "hosts": ["prometheus-gateway.observability.example.com"]},
    }
    failing = [
        task(
            "rbac", name="otel-agent", namespace="observability", config=AGENT_CONFIG, render_only=True, state="absent"
        ),
        # The seed's ingress fails the collector task, naming the chart's schema.
        task("collector", name="gateway", helm_values=seed_ingress, render_only=True),
        # Certificates in another namespace cannot be rendered as cert-manager objects.
        task(
            "certs",
            namespace="observability",
            render_only=True,
            certificates=[{"secret_name": "agent-tls", "usage": "client", "namespace": "agents"}],
        ),
        task("certs", render_only=True, certificates=[]),
    ]
    for entry in failing:
        entry["ignore_errors"] = True
    run = run_tasks(failing, env=no_kubeconfig)
    absent, seed, elsewhere, no_namespace = run.tasks
    assert all(t.get("failed") for t in run.tasks), run.stdout[-3000:]
    assert "with state=absent there is nothing to render" in absent["msg"]
    assert "ingress.className" in seed["msg"] and "nothing was applied" in seed["msg"]
    assert "render_only renders cert-manager objects" in elsewhere["msg"]
    assert "render_only: give namespace" in no_namespace["msg"]


def test_the_telemetry_presets_render_every_part_without_contacting_a_cluster(listener, no_kubeconfig):
    env = {**no_kubeconfig, "K8S_AUTH_HOST": listener.url, "K8S_AUTH_API_KEY": "not-a-real-token"}
    presets = [
        {
            "name": "agent",
            "otel.kubernetes.collector": {
                "preset": "agent",
                "preset_settings": {"container_logs": True, "host_metrics": True},
                "render_only": True,
            },
        },
        {"name": "cluster", "otel.kubernetes.collector": {"preset": "cluster", "render_only": True}},
        {
            "name": "certificates",
            "otel.kubernetes.certs": {"preset": "pipeline", "render_only": True},
        },
    ]
    run = run_tasks(presets, env=env)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert listener.connections == 0
    agent = run.task("agent")
    assert kinds(agent) == [
        ("Namespace", "observability", None),
        ("Namespace", "observability-host", None),
        ("ServiceAccount", "otel-agent", "observability"),
        ("ServiceAccount", "otel-agent-host", "observability-host"),
        ("ClusterRole", "otel-agent", None),
        ("ClusterRoleBinding", "otel-agent", None),
        ("OpenTelemetryCollector", "otel-agent", "observability"),
        ("OpenTelemetryCollector", "otel-agent-host", "observability-host"),
    ]
    assert agent["objects"][1]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert agent["status"]["host_collector"] == {"name": "otel-agent-host", "namespace": "observability-host"}
    cluster = run.task("cluster")
    assert kinds(cluster) == [
        ("Namespace", "observability", None),
        ("ServiceAccount", "otel-cluster", "observability"),
        ("ClusterRole", "otel-cluster", None),
        ("ClusterRoleBinding", "otel-cluster", None),
        ("OpenTelemetryCollector", "otel-cluster", "observability"),
    ]
    assert cluster["objects"][-1]["spec"]["replicas"] == 1
    assert any(
        reason.startswith("receivers.k8s_objects: list/watch events.events.k8s.io") for reason in cluster["permissions"]
    )
    certificates = run.task("certificates")
    assert ("Certificate", "otel-cluster-tls", "observability") in kinds(certificates)
