"""The whole pipeline, as the tests that send real telemetry through it deploy it.

The roles deploy the certificates, the gateway and the agent into one namespace, which they put
at the restricted Pod Security level, after the operator (its real release manifest, whose CRDs
and webhooks judge the collectors; operator_install). The collectors' Pods are made from the
stored resources as the operator would (operator_standin: its manager is a stand-in here that
reconciles nothing) and must be admitted there.
The backends are one real collector standing in for Tempo (OTLP/gRPC) and Loki (OTLP/HTTP on
`/otlp`), writing what arrives to files in a folder of this machine; they and the applications
mount host directories (test plumbing), so they run in a second namespace, `<namespace>-apps`, at
the privileged level. Applications send to the agent's node-local Service, as the collection
tells them to.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from localnode.build import BUSYBOX_IMAGE
from localnode.collector import CLUSTER_VERSION, IMAGES, build_collectors
from operator_install import ensure_operator
from operator_standin import apply, as_the_operator_runs_it, rollout

ROLES = ("otel_certificates", "otel_gateway", "otel_agent")


def pipeline_settings(namespace: str, **more) -> dict:
    """Role variables that put the certificates, the gateway, the agent and the cluster collector into
    `namespace` (the agent's host collector, when there is one, into `<namespace>-host`)."""
    return {
        "otel_certificates_namespace": namespace,
        "otel_gateway_namespace": namespace,
        "otel_agent_namespace": namespace,
        "otel_agent_gateway_namespace": namespace,
        "otel_agent_rbac_name": f"{namespace}-otel-agent",
        "otel_agent_host_namespace": host_namespace(namespace),
        "otel_cluster_namespace": namespace,
        "otel_cluster_gateway_namespace": namespace,
        "otel_cluster_rbac_name": f"{namespace}-otel-cluster",
        # The local node's cluster collector build (tools/localnode/collector.py: the Go module proxy serves
        # no k8s_cluster, k8s_events or k8s_objects receiver at 0.159.0).
        "otel_cluster_collector_version": CLUSTER_VERSION,
        **more,
    }


def host_namespace(namespace: str) -> str:
    """Where the agent's host collector of the pipeline in `namespace` runs (privileged)."""
    return namespace + "-host"


def backend_config() -> dict:
    return {
        "receivers": {
            "otlp/tempo": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}},
            "otlp/loki": {"protocols": {"http": {"endpoint": "0.0.0.0:3100", "logs_url_path": "/otlp/v1/logs"}}},
        },
        "exporters": {
            "file/traces": {"path": "/out/traces.jsonl", "flush_interval": "1s"},
            "file/logs": {"path": "/out/logs.jsonl", "flush_interval": "1s"},
        },
        "extensions": {"health_check": {"endpoint": "0.0.0.0:13133"}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {
                "traces": {"receivers": ["otlp/tempo"], "exporters": ["file/traces"]},
                "logs": {"receivers": ["otlp/loki"], "exporters": ["file/logs"]},
            },
        },
    }


def apps_namespace(namespace: str) -> str:
    """Where the backends and the applications of the pipeline in `namespace` run."""
    return namespace + "-apps"


def agent_service(namespace: str) -> str:
    """The DNS name of the node-local Service the operator makes for the agent in `namespace`."""
    return f"otel-agent-collector.{namespace}.svc.cluster.local"


def backends(namespace: str, out: Path, config: dict | None = None) -> list:
    """The Tempo and Loki stand-ins: one collector, two Services, files in `out` on this machine
    (`config`: another configuration than backend_config(), with the same receivers)."""
    collector = {
        "metadata": {"name": "backends", "namespace": namespace},
        "spec": {
            "mode": "deployment",
            "image": IMAGES["k8s"],
            "config": config or backend_config(),
            "volumes": [{"name": "out", "hostPath": {"path": str(out), "type": "Directory"}}],
            "volumeMounts": [{"name": "out", "mountPath": "/out"}],
            "securityContext": {"runAsUser": 10001},
        },
    }
    objects = [o for o in as_the_operator_runs_it(collector) if o["kind"] != "Service"]
    (workload,) = [o for o in objects if o["kind"] == "Deployment"]
    selector = workload["spec"]["selector"]["matchLabels"]
    for name, port in (("tempo", 4317), ("loki", 3100)):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"selector": selector, "ports": [{"name": name, "port": port}]},
            }
        )
    return objects


def application(namespace: str, telemetrygen: Path, script: str, agent: str, name: str = "shop") -> dict:
    """A Deployment that runs `script` (telemetrygen in /tg, the agent's Service name in AGENT, its pod
    IP in POD_IP) to send to the node-local agent; Ready once the script touched /tmp/sent."""
    labels = {"app": name}
    container = {
        "name": name,
        "image": BUSYBOX_IMAGE,
        "command": ["sh", "-c", script],
        "env": [
            {"name": "AGENT", "value": agent},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        "volumeMounts": [{"name": "tg", "mountPath": "/tg", "readOnly": True}],
        "readinessProbe": {"exec": {"command": ["sh", "-c", "test -f /tmp/sent"]}, "periodSeconds": 2},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "tg", "hostPath": {"path": str(telemetrygen.parent), "type": "Directory"}}],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }


def wait_for(cluster, namespace: str, *targets: str, timeout: int = 180) -> None:
    not_done = rollout(cluster.node, namespace, *targets, timeout=timeout)
    if not_done:
        pytest.fail(not_done)


def read_jsonl(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def attributes(resource: dict) -> dict:
    return {a["key"]: next(iter(a["value"].values()), None) for a in resource.get("attributes", [])}


def plain(value: dict):
    """An OTLP JSON AnyValue as Python (kvlistValue as a dict, arrayValue as a list)."""
    if "kvlistValue" in value:
        return {v["key"]: plain(v.get("value", {})) for v in value["kvlistValue"].get("values", [])}
    if "arrayValue" in value:
        return [plain(v) for v in value["arrayValue"].get("values", [])]
    return next(iter(value.values()), None)


def logs_at_the_backend(out: Path) -> list:
    """(resource attributes, log record attributes, body as Python) of every log record at the Loki stand-in."""
    found = []
    for request in read_jsonl(out / "logs.jsonl"):
        for resource_logs in request.get("resourceLogs", []):
            resource = attributes(resource_logs.get("resource", {}))
            for scope in resource_logs.get("scopeLogs", []):
                for record in scope.get("logRecords", []):
                    found.append((resource, attributes(record), plain(record.get("body", {}))))
    return found


def traces_at_the_backend(out: Path) -> dict:
    """service.name -> {trace id: [(span, resource attributes)]}."""
    found = {}
    for request in read_jsonl(out / "traces.jsonl"):
        for resource_spans in request.get("resourceSpans", []):
            resource = attributes(resource_spans.get("resource", {}))
            service = resource.get("service.name")
            for scope in resource_spans.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    found.setdefault(service, {}).setdefault(span["traceId"], []).append((span, resource))
    return found


def scrape(ip: str, port: int) -> str:
    with urllib.request.urlopen(f"http://{ip}:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def metric_sum(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def tls_secret(cluster, namespace: str, name: str) -> dict:
    data = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")["data"]
    return {key: base64.b64decode(value) for key, value in data.items()}


def talk_grpc_over_tls(ip: str, ca: bytes, cert: tuple | None) -> str:
    """'accepted' when the gateway answers an HTTP/2 preface over TLS, else why not."""
    with tempfile.TemporaryDirectory() as folder:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        (Path(folder) / "ca.crt").write_bytes(ca)
        context.load_verify_locations(str(Path(folder) / "ca.crt"))
        context.set_alpn_protocols(["h2"])
        if cert:
            (Path(folder) / "tls.crt").write_bytes(cert[0])
            (Path(folder) / "tls.key").write_bytes(cert[1])
            context.load_cert_chain(str(Path(folder) / "tls.crt"), str(Path(folder) / "tls.key"))
        try:
            with socket.create_connection((ip, 4317), timeout=10) as raw, context.wrap_socket(raw) as tls:
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                answer = tls.recv(64)
                return "accepted" if answer else "closed"
        except (ssl.SSLError, ConnectionError, OSError) as error:
            return f"refused: {error}"


def served_certificate(ip: str, ca: bytes, cert: tuple) -> bytes:
    """The DER certificate the gateway presents."""
    with tempfile.TemporaryDirectory() as folder:
        files = {name: Path(folder) / name for name in ("ca.crt", "tls.crt", "tls.key")}
        for path, data in zip(files.values(), (ca, *cert)):
            path.write_bytes(data)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(str(files["ca.crt"]))
        context.load_cert_chain(str(files["tls.crt"]), str(files["tls.key"]))
        with socket.create_connection((ip, 4317), timeout=10) as raw, context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def deploy_pipeline(
    cluster,
    namespace: str,
    out: Path,
    settings: dict,
    roles: tuple = ROLES,
    collectors: tuple = ((None, "otel-gateway"), (None, "otel-agent")),
    backend: dict | None = None,
) -> list:
    """The roles with `settings`, then the backends' and the collectors' Pods, rolled out; the collectors.

    collectors: (namespace or None for `namespace`, name) of each OpenTelemetryCollector the roles store.
    backend: the backends' configuration (default backend_config()).
    """
    ensure_operator(cluster)
    run = cluster.run(
        [{"name": role, "ansible.builtin.include_role": {"name": f"otel.kubernetes.{role}"}} for role in roles],
        vars=settings,
    )
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    stored = [
        cluster.get(f"/apis/opentelemetry.io/v1beta1/namespaces/{where or namespace}/opentelemetrycollectors/{name}")
        for where, name in collectors
    ]
    apps = apps_namespace(namespace)
    labels = {"pod-security.kubernetes.io/enforce": "privileged"}
    apply(cluster.node, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": apps, "labels": labels}}])
    apply(cluster.node, backends(apps, out, backend) + [o for c in stored for o in as_the_operator_runs_it(c)])
    wait_for(cluster, apps, "deployment/backends-collector")
    for collector in stored:
        kind = "daemonset" if collector["spec"]["mode"] == "daemonset" else "deployment"
        wait_for(cluster, collector["metadata"]["namespace"], f"{kind}/{collector['metadata']['name']}-collector")
    return stored


@contextlib.contextmanager
def owned_namespace(cluster, namespace: str):
    """Deletes `namespace` and its apps namespace when the block ends, failed set-up included;
    OTEL_TEST_KEEP keeps them to look into a failure."""
    try:
        yield namespace
    finally:
        if not os.environ.get("OTEL_TEST_KEEP"):
            names = (namespace, apps_namespace(namespace), host_namespace(namespace))
            delete = ("delete", "namespace", *names, "--wait=false", "--ignore-not-found")
            cluster.node.kubectl_run(*delete, check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


FAILURES = tuple(
    f"otelcol_{what}_{signal}"
    for what in ("exporter_send_failed", "exporter_enqueue_failed")
    for signal in ("spans", "metric_points", "log_records")
)


def failing_collector_metrics(timeout: float = 90) -> str:
    """The :8888 metrics of the gateway's collector binary (contrib) failing every signal: its exporter waits on
    a backend that accepts connections and never answers (send failures), with a queue of one request (enqueue
    failures), fed spans, metric points and log records until every failure counter shows."""
    built = build_collectors()["binaries"]
    receiver, metrics = free_port(), free_port()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts (the kernel does) and never answers
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{receiver}"}}}},
        "exporters": {
            "otlp": {
                "endpoint": f"127.0.0.1:{silent.getsockname()[1]}",
                "tls": {"insecure": True},
                "timeout": "1s",
                "retry_on_failure": {"enabled": False},
                "sending_queue": {"enabled": True, "queue_size": 1, "num_consumers": 1},
            }
        },
        "service": {
            "telemetry": {
                "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": metrics}}}}]}
            },
            "pipelines": {
                signal: {"receivers": ["otlp"], "exporters": ["otlp"]} for signal in ("traces", "metrics", "logs")
            },
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        collector = subprocess.Popen(
            [built["contrib"], f"--config=file:{path}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(2)
            deadline, text = time.monotonic() + timeout, ""
            while time.monotonic() < deadline:
                senders = [
                    subprocess.Popen(
                        [built["telemetrygen"], signal, "--otlp-endpoint", f"127.0.0.1:{receiver}", "--otlp-insecure"]
                        + ["--rate", "50", "--workers", "4", "--duration", "3s"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for signal in ("traces", "metrics", "logs")
                ]
                for sender in senders:
                    sender.wait(timeout=60)
                text = scrape("127.0.0.1", metrics)
                if all(re.search(rf"^{name}(_total)?[{{ ]", text, re.MULTILINE) for name in FAILURES):
                    break
            return text
        finally:
            collector.terminate()
            collector.wait(timeout=30)
            silent.close()
