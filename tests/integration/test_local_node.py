"""The local node itself (tools/local_node.py): a real Kubernetes node with real Pods.

What the collection relies on, each checked from a real Pod or from the host: the node is
Ready at the version named, cluster DNS resolves Services (and nothing outside the cluster),
ClusterIP Services and hostPorts answer, nothing leaves the machine (no route out of a Pod,
image pulls fail at once and locally), and the components run as their own identities.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from localnode.kubernetes import KUBERNETES_VERSION
from localnode.node import NODE_IP, NODE_NAME

BUSYBOX = "otel-local.test/busybox:1.35"
WAIT_FOREVER = ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do /bin/busybox sleep 1; done"]
SERVE_HELLO = ["/bin/busybox", "sh", "-c", "while true; do echo hello | /bin/busybox nc -l -p 8080; done"]


def kubectl(cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return cluster.node.kubectl_run(*args, check=check)


def wait_ready(cluster, namespace: str, *pods: str) -> None:
    kubectl(cluster, "-n", namespace, "wait", "--for=condition=Ready", "--timeout=90s", *(f"pod/{p}" for p in pods))


def in_pod(cluster, namespace: str, pod: str, script: str) -> subprocess.CompletedProcess:
    return kubectl(cluster, "-n", namespace, "exec", pod, "--", "/bin/busybox", "sh", "-c", script, check=False)


def pod(namespace: str, name: str, command: list, labels: dict | None = None, ports: list | None = None) -> dict:
    container = {"name": name, "image": BUSYBOX, "imagePullPolicy": "IfNotPresent", "command": command}
    if ports:
        container["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
    }


@pytest.fixture(scope="module")
def workloads(cluster):
    """A server Pod (hostPort 18080, Service 'hello') and a client Pod, in a namespace of their own."""
    namespace = "node-" + str(int(time.time()))
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        pod(namespace, "server", SERVE_HELLO, {"app": "hello"}, [{"containerPort": 8080, "hostPort": 18080}]),
        pod(namespace, "client", WAIT_FOREVER),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "hello", "namespace": namespace},
            "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    ]
    cluster.node.kubectl_run(
        "apply", "-f", "-", input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    )
    wait_ready(cluster, namespace, "server", "client")
    yield namespace
    kubectl(cluster, "delete", "namespace", namespace, "--wait=false")


def test_node_is_ready_at_the_version_named(cluster):
    node = cluster.get(f"/api/v1/nodes/{NODE_NAME}")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == f"v{KUBERNETES_VERSION}"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True", ready
    assert {"type": "InternalIP", "address": NODE_IP} in node["status"]["addresses"]
    assert cluster.get("/version")["gitVersion"] == f"v{KUBERNETES_VERSION}"


def test_cluster_dns_resolves_services_and_nothing_outside(cluster, workloads):
    found = in_pod(cluster, workloads, "client", f"/bin/busybox nslookup hello.{workloads}.svc.cluster.local")
    assert found.returncode == 0, found.stdout + found.stderr
    service_ip = cluster.get(f"/api/v1/namespaces/{workloads}/services/hello")["spec"]["clusterIP"]
    assert service_ip in found.stdout
    outside = in_pod(cluster, workloads, "client", "/bin/busybox nslookup example.com")
    assert outside.returncode != 0, outside.stdout


def test_cluster_ip_and_host_port_answer_from_pods_and_from_the_host(cluster, workloads):
    service_ip = cluster.get(f"/api/v1/namespaces/{workloads}/services/hello")["spec"]["clusterIP"]
    for target in (f"hello.{workloads}.svc.cluster.local 80", f"{NODE_IP} 18080"):
        answer = ""
        for _attempt in range(5):  # the server answers one connection at a time
            answer = in_pod(cluster, workloads, "client", f"/bin/busybox nc {target} </dev/null").stdout
            if "hello" in answer:
                break
            time.sleep(0.5)
        assert "hello" in answer, f"no answer from {target} in a Pod"
    for host, port in ((service_ip, 80), (NODE_IP, 18080)):
        answer = b""
        for _attempt in range(5):
            try:
                with socket.create_connection((host, port), timeout=3) as connection:
                    answer = connection.recv(16)
            except OSError:
                answer = b""
            if b"hello" in answer:
                break
            time.sleep(0.5)
        assert b"hello" in answer, f"no answer from {host}:{port} on the host"


def test_nothing_leaves_the_machine(cluster, workloads):
    # No route out of a Pod: any address outside the node's ranges is unreachable at once.
    started = time.monotonic()
    dialed = in_pod(cluster, workloads, "client", "/bin/busybox nc -w 3 192.0.2.1 80 </dev/null")
    assert dialed.returncode != 0
    assert "unreachable" in (dialed.stdout + dialed.stderr).lower()
    assert time.monotonic() - started < 10
    # An image that was not imported fails to pull locally, fast, without dialing the registry.
    name = "pull-" + str(int(time.time()))
    image = "ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-java:2.30.0"
    kubectl(cluster, "-n", workloads, "run", name, f"--image={image}", "--restart=Never")
    deadline = time.monotonic() + 30
    waiting = {}
    while time.monotonic() < deadline:
        status = cluster.get(f"/api/v1/namespaces/{workloads}/pods/{name}").get("status", {})
        waiting = ((status.get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
            break
        time.sleep(0.5)
    assert waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"), waiting
    events = kubectl(cluster, "-n", workloads, "get", "events", f"--field-selector=involvedObject.name={name}").stdout
    assert "127.0.0.1:9" in events and "connection refused" in events, events


def test_components_run_as_their_own_identities(cluster, node, tmp_path):
    # The kubelet's serving certificate is the node's; the API server verifies it (logs work).
    context = ssl.create_default_context(cafile=str(node.pki.ca_cert))
    context.check_hostname = False
    with socket.create_connection((NODE_IP, 10250), timeout=5) as raw, context.wrap_socket(raw) as tls:
        subject = dict(part[0] for part in tls.getpeercert()["subject"])
    assert subject["commonName"] == f"system:node:{NODE_NAME}"
    # Anonymous requests to the kubelet are refused.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"https://{NODE_IP}:10250/pods", context=context, timeout=5)
    assert refused.value.code == 401
    # The Node authorizer: the kubelet's identity reads only what its Pods need.
    kubelet = str(node.dir / "kubelet.kubeconfig")
    secrets = node.kubectl_run(f"--kubeconfig={kubelet}", "-n", "kube-system", "get", "secrets", check=False)
    assert secrets.returncode != 0 and "forbidden" in secrets.stderr.lower(), secrets.stderr
    assert 'User "system:node:otel-node"' in secrets.stderr
    # Listeners are on loopback or the node's bridge address only.
    listening = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True, check=True).stdout
    ours = [line for line in listening.splitlines() if any(c in line for c in ("kube", "etcd", "containerd"))]
    assert ours
    for line in ours:
        address = line.split()[3].rsplit(":", 1)[0]
        assert address.startswith("127.") or address in {NODE_IP, "[::1]"}, line
