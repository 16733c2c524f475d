"""The collector images built here run what the collection renders, as real Pods on the node.

The operator's release manifest is real here (the `operator` fixture: its CRDs and webhooks
judge the resources the roles store), but its manager is a test stand-in that reconciles
nothing: the Go module proxy refuses the operator's module. So this test stands in for that
one step, the operator's: it takes the gateway and agent resources the roles stored and runs
each the way the operator does (tests/support/operator_standin.py, held to what the real
operator made by tests/unit/support/test_operator_standin.py). What it proves is the
collection's part: the images it names exist with exactly those names, the real collector
accepts its configuration, and the agent reaches the gateway over mTLS.
"""

from __future__ import annotations

import json
import time
import uuid

from operator_standin import apply, as_the_operator_runs_it, rollout
from pipeline import pipeline_settings

ROLES = ("otel_certificates", "otel_gateway", "otel_agent")


def role_tasks() -> list:
    return [{"name": role, "ansible.builtin.include_role": {"name": f"otel.kubernetes.{role}"}} for role in ROLES]


def settings(namespace: str) -> dict:
    return pipeline_settings(
        namespace,
        # One gateway replica and small requests: the node has two cores for everything.
        otel_gateway_replicas=1,
        otel_gateway_autoscaler={},
        otel_gateway_resources={"limits": {"memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
        otel_agent_resources={"limits": {"memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
    )


def pods_of(cluster, namespace: str) -> list:
    return cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]


def test_gateway_and_agent_run_on_the_images_the_collection_names(cluster, operator):
    namespace = "t-pods-" + uuid.uuid4().hex[:6]
    run = cluster.run(role_tasks(), vars=settings(namespace))
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    collectors = {
        name: cluster.get(f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/{name}")
        for name in ("otel-gateway", "otel-agent")
    }
    images = {name: c["spec"]["image"] for name, c in collectors.items()}
    assert images["otel-gateway"].endswith("/opentelemetry-collector-contrib:0.159.0"), images
    assert images["otel-agent"].endswith("/opentelemetry-collector-k8s:0.159.0"), images
    objects = [o for c in collectors.values() for o in as_the_operator_runs_it(c)]
    apply(cluster.node, objects)
    not_done = rollout(cluster.node, namespace, "deployment/otel-gateway-collector", "daemonset/otel-agent-collector")
    pods = pods_of(cluster, namespace)
    report = {
        p["metadata"]["name"]: [
            (s["image"], s["ready"], s["restartCount"], s.get("state"))
            for s in p["status"].get("containerStatuses", [])
        ]
        for p in pods
    }
    assert not not_done, f"{not_done}\n{json.dumps(report, indent=1)}"
    assert len(pods) == 2
    running = {s["image"] for p in pods for s in p["status"]["containerStatuses"] if s["ready"]}
    assert running == set(images.values())
    # The agent reaches the gateway over mTLS: the gateway's OTLP receiver logs no TLS refusal
    # while the agent resolves its headless Service and holds a connection.
    time.sleep(5)
    gateway_pod = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("otel-gateway"))
    logs = cluster.node.kubectl_run("-n", namespace, "logs", gateway_pod).stdout
    assert "Everything is ready" in logs, logs[-3000:]
    assert "tls: " not in logs.lower(), logs[-3000:]
    assert all(s["restartCount"] == 0 for p in pods_of(cluster, namespace) for s in p["status"]["containerStatuses"])
    cluster.node.kubectl_run("delete", "namespace", namespace, "--wait=false")
