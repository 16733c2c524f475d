"""Telemetry really flows: an application's traces, metrics and logs through the agent and the gateway to the backends.

The roles deploy the certificates, the gateway (two replicas, tail sampling, mTLS) and the agent
(DaemonSet, k8sattributes, load balancing by trace ID) as site.yml does, into a namespace the
roles put at the restricted Pod Security level; the collectors' Pods are made from the stored
resources as the operator would (the operator itself cannot be had here:
tests/support/operator_standin.py) and must be admitted there by the API server's PodSecurity
admission. The backends are real collectors built here: one OTLP/gRPC receiver standing in for
Tempo and one OTLP/HTTP receiver on Loki's `/otlp` path, both writing what arrives to files on
this machine (the node), which the tests read. The application is a Deployment that runs
telemetrygen against the agent's node-local Service (internalTrafficPolicy Local), as the
collection tells applications to. The backends and the application mount host directories (test
plumbing), so they run in a namespace of their own at the privileged level.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import pytest
from certificates import self_signed
from localnode.collector import build_collectors
from operator_standin import apply
from pipeline import (
    agent_service,
    application,
    apps_namespace,
    attributes,
    deploy_pipeline,
    metric_sum,
    owned_namespace,
    pipeline_settings,
    read_jsonl,
    scrape,
    served_certificate,
    talk_grpc_over_tls,
    tls_secret,
    traces_at_the_backend,
    wait_for,
)

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.pod_security import namespace_labels

ERRORS, SLOW, ORDINARY = 20, 20, 300  # traces sent of each kind
GATEWAY_REPLICAS = 2
SMALL = {"limits": {"memory": "400Mi"}, "requests": {"cpu": "50m", "memory": "100Mi"}}


# The pod IP goes along as a resource attribute (what OTEL_RESOURCE_ATTRIBUTES=k8s.pod.ip=$(POD_IP)
# does for an SDK), as the agent's pod_association expects first (on host ports, the CNI portmap
# plugin masquerades Pod-to-hostPort traffic, so the connection's address is the node's; seen here).
# It starts after 10 s: the kubelet publishes a new Pod's IP a second or two after its container
# starts, and k8sattributes cannot name a Pod before its informer has that IP (seen here: what was
# sent in the first two seconds went out without Kubernetes attributes).
SENDER = """
set -e
sleep 10
T=/tg/telemetrygen
G="--otlp-endpoint $AGENT:4317 --otlp-insecure --rate 0"
A="k8s.pod.ip=\\"$POD_IP\\""
$T traces $G --otlp-attributes "$A" --service shop-errors --status-code Error --traces {errors}
$T traces $G --otlp-attributes "$A" --service shop-slow --span-duration 600ms --traces {slow}
$T traces $G --otlp-attributes "$A" --service shop-ordinary --traces {ordinary}
$T metrics $G --otlp-attributes "$A" --service shop --metrics 20
$T logs $G --otlp-attributes "$A" --service shop --logs 20 --body "hello from the shop"
touch /tmp/sent
exec sleep 100000
"""
SHOP = SENDER.format(errors=ERRORS, slow=SLOW, ordinary=ORDINARY)


@pytest.fixture(scope="module")
def pipeline(cluster):
    namespace = "t-e2e-" + uuid.uuid4().hex[:6]
    apps = apps_namespace(namespace)
    out = Path(tempfile.mkdtemp(prefix="otel-e2e-backends-"))
    out.chmod(0o777)  # the backends run as user 10001
    with owned_namespace(cluster, namespace):
        settings = pipeline_settings(
            namespace,
            otel_gateway_replicas=GATEWAY_REPLICAS,
            otel_gateway_autoscaler={},
            otel_gateway_affinity={},
            otel_gateway_resources=SMALL,
            otel_agent_resources=SMALL,
            otel_gateway_tempo_endpoint=f"tempo.{apps}:4317",
            otel_gateway_loki_endpoint=f"http://loki.{apps}:3100/otlp",
            # The role's default policies (errors, > 500 ms, 10%), deciding sooner than 10 s.
            otel_gateway_tail_sampling={
                "decision_wait": "3s",
                "num_traces": 10000,
                "policies": [
                    {"name": "errors-policy", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                    {"name": "latency-slo-policy", "type": "latency", "latency": {"threshold_ms": 500}},
                    {
                        "name": "probabilistic-policy",
                        "type": "probabilistic",
                        "probabilistic": {"sampling_percentage": 10},
                    },
                ],
            },
            otel_gateway_batch={"timeout": "1s", "send_batch_size": 512},
            # Certificates re-read from the mounted Secrets every 5 s (the roles' default is 1h).
            otel_gateway_tls_reload_interval="5s",
            otel_agent_tls_reload_interval="5s",
        )
        collectors = deploy_pipeline(cluster, namespace, out, settings)
        agent = agent_service(namespace)
        apply(cluster.node, [application(apps, build_collectors()["binaries"]["telemetrygen"], SHOP, agent)])
        wait_for(cluster, apps, "deployment/shop", timeout=240)
        pods = [p for ns in (namespace, apps) for p in cluster.get(f"/api/v1/namespaces/{ns}/pods")["items"]]
        state = {
            "namespace": namespace,
            "apps": apps,
            "agent": agent,
            "out": out,
            "pods": pods,
            "collectors": collectors,
            "settings": settings,
        }
        # Wait for what must arrive: every error and slow trace, and the logs.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            traces = traces_at_the_backend(out)
            whole = [
                t
                for service in ("shop-errors", "shop-slow")
                for t in traces.get(service, {}).values()
                if len(t) == 2  # telemetrygen: a parent and one child span per trace
            ]
            if len(whole) >= ERRORS + SLOW and read_jsonl(out / "logs.jsonl"):
                break
            time.sleep(2)
        time.sleep(5)  # the probabilistic share and the last batches
        yield state


def pod_named(state: dict, prefix: str) -> list:
    return [p for p in state["pods"] if p["metadata"]["name"].startswith(prefix)]


def test_the_collectors_run_ready_in_a_restricted_namespace_and_are_reached_through_a_local_service(cluster, pipeline):
    namespace = pipeline["namespace"]
    labels = cluster.get(f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
    assert {k: v for k, v in labels.items() if k.startswith("pod-security.")} == namespace_labels("restricted")
    # Admitted by the API server's PodSecurity admission at enforce=restricted, and Ready.
    collectors = [p for p in pipeline["pods"] if p["metadata"]["namespace"] == namespace]
    assert len(pod_named(pipeline, "otel-gateway-collector-")) == GATEWAY_REPLICAS
    assert len(pod_named(pipeline, "otel-agent-collector-")) == 1
    for pod in collectors:
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert pod["status"]["phase"] == "Running" and ready == "True", pod["metadata"]["name"]
        assert not any(p.get("hostPort") for c in pod["spec"]["containers"] for p in c.get("ports", []))
    service = cluster.get(f"/api/v1/namespaces/{namespace}/services/otel-agent-collector")
    assert service["spec"]["internalTrafficPolicy"] == "Local"


def test_tail_sampling_keeps_every_error_and_slow_trace_whole_and_about_ten_percent_of_the_rest(pipeline):
    traces = traces_at_the_backend(pipeline["out"])
    counts = {service: len(ids) for service, ids in traces.items()}
    assert counts.get("shop-errors") == ERRORS, counts
    assert counts.get("shop-slow") == SLOW, counts
    for service in ("shop-errors", "shop-slow"):
        partial = {tid: len(spans) for tid, spans in traces[service].items() if len(spans) != 2}
        assert not partial, f"{service}: traces not whole at the backend: {partial}"
    # 10% of 300 is 30 (binomial sd ~5): a working probabilistic policy lands far inside 8..60;
    # a broken one keeps none, or all.
    ordinary = counts.get("shop-ordinary", 0)
    assert 8 <= ordinary <= 60, f"ordinary traces kept: {ordinary} of {ORDINARY} ({counts})"


def test_spans_carry_the_sending_pods_kubernetes_attributes(pipeline):
    shop = pod_named(pipeline, "shop-")
    assert len(shop) == 1
    expected = {
        "k8s.pod.name": shop[0]["metadata"]["name"],
        "k8s.namespace.name": pipeline["apps"],
        "k8s.node.name": shop[0]["spec"]["nodeName"],
        "k8s.deployment.name": "shop",
    }
    traces = traces_at_the_backend(pipeline["out"])
    resources = [r for ids in traces.values() for spans in ids.values() for _span, r in spans]
    assert resources
    for resource in resources:
        assert {k: resource.get(k) for k in expected} == expected, resource


def test_every_trace_is_decided_by_one_gateway_replica(pipeline):
    gateways = pod_named(pipeline, "otel-gateway-collector-")
    assert len(gateways) == GATEWAY_REPLICAS
    decided = {}
    for pod in gateways:
        text = scrape(pod["status"]["podIP"], 8888)
        decided[pod["metadata"]["name"]] = metric_sum(
            text, "otelcol_processor_tail_sampling_global_count_traces_sampled"
        )
    # Each replica decided some traces (the agents spread them), and no trace was decided twice:
    # the decisions add up to the traces sent.
    assert all(count > 0 for count in decided.values()), decided
    assert sum(decided.values()) == ERRORS + SLOW + ORDINARY, decided


def test_metrics_reach_the_prometheus_exporter(pipeline):
    # telemetrygen's gauge `gen` counts up from 0; the exporter names the job after service.name.
    scraped = {p["metadata"]["name"]: scrape(p["status"]["podIP"], 8889) for p in pod_named(pipeline, "otel-gateway-")}
    found = {name: metric_sum(text, "gen", job="shop") for name, text in scraped.items()}
    assert any(value > 0 for value in found.values()), scraped


def test_logs_reach_loki_over_otlp_http_on_its_otlp_path(pipeline):
    bodies = []
    for request in read_jsonl(pipeline["out"] / "logs.jsonl"):
        for resource_logs in request.get("resourceLogs", []):
            resource = attributes(resource_logs.get("resource", {}))
            for scope in resource_logs.get("scopeLogs", []):
                for record in scope.get("logRecords", []):
                    bodies.append((record.get("body", {}).get("stringValue"), resource.get("k8s.deployment.name")))
    assert len(bodies) == 20, bodies[:5]
    assert set(bodies) == {("hello from the shop", "shop")}


# ---------------------------------------------------------------- mTLS
def other_ca_certificate() -> tuple:
    """A client certificate from a CA the gateway does not trust."""
    return self_signed("otel-agent")


def test_the_gateway_refuses_clients_without_a_certificate_of_its_ca(cluster, pipeline):
    namespace = pipeline["namespace"]
    ip = pod_named(pipeline, "otel-gateway-collector-")[0]["status"]["podIP"]
    agent = tls_secret(cluster, namespace, "otel-agent-tls")
    ca = agent["ca.crt"]
    assert talk_grpc_over_tls(ip, ca, (agent["tls.crt"], agent["tls.key"])) == "accepted"
    without = talk_grpc_over_tls(ip, ca, None)
    assert without.startswith("refused") or without == "closed", without
    other = talk_grpc_over_tls(ip, ca, other_ca_certificate())
    assert other.startswith("refused") or other == "closed", other


def test_no_collector_restarted(cluster, pipeline):
    pods = cluster.get(f"/api/v1/namespaces/{pipeline['namespace']}/pods")["items"]
    restarts = {p["metadata"]["name"]: [s["restartCount"] for s in p["status"]["containerStatuses"]] for p in pods}
    assert all(count == 0 for counts in restarts.values() for count in counts), restarts


# ---------------------------------------------------------------- certificate renewal (last: it changes them)
def test_renewed_certificates_are_served_without_a_restart_and_data_keeps_flowing(cluster, pipeline):
    from cryptography import x509

    namespace = pipeline["namespace"]
    before = {p["metadata"]["name"] for p in cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]}
    gateway_ip = pod_named(pipeline, "otel-gateway-collector-")[0]["status"]["podIP"]
    old = tls_secret(cluster, namespace, "otel-gateway-tls")["tls.crt"]
    # Renew now: a renewal window longer than what is left of the certificates (365 days) makes
    # them due; the validity must stay above the window.
    settings = {
        **pipeline["settings"],
        "otel_certificates_validity_days": 400,
        "otel_certificates_renew_before_days": 399,
    }
    run = cluster.run([{"ansible.builtin.include_role": {"name": "otel.kubernetes.otel_certificates"}}], vars=settings)
    assert run.rc == 0, run.stdout[-3000:]
    new = tls_secret(cluster, namespace, "otel-gateway-tls")["tls.crt"]
    assert new != old, "the role renewed nothing"
    new_serial = x509.load_pem_x509_certificate(new).serial_number
    # The kubelet refreshes the mounted Secret (up to its sync period, about a minute), then the
    # collector's reload_interval picks it up.
    deadline, served = time.monotonic() + 180, None
    agent = tls_secret(cluster, namespace, "otel-agent-tls")
    while time.monotonic() < deadline:
        served = x509.load_der_x509_certificate(
            served_certificate(gateway_ip, agent["ca.crt"], (agent["tls.crt"], agent["tls.key"]))
        ).serial_number
        if served == new_serial:
            break
        time.sleep(5)
    assert served == new_serial, "the gateway still serves the old certificate after 3 minutes"
    # Data still flows end to end through the renewed mTLS: the application sends again.
    cluster.node.kubectl_run("-n", pipeline["apps"], "delete", "pod", "-l", "app=shop", "--wait=false")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(traces_at_the_backend(pipeline["out"]).get("shop-errors", {})) >= 2 * ERRORS:
            break
        time.sleep(3)
    assert len(traces_at_the_backend(pipeline["out"]).get("shop-errors", {})) == 2 * ERRORS
    pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    collectors = [p for p in pods if "-collector-" in p["metadata"]["name"]]
    assert {p["metadata"]["name"] for p in collectors} <= before, "a collector Pod was replaced"
    assert all(s["restartCount"] == 0 for p in collectors for s in p["status"]["containerStatuses"])


# ---------------------------------------------------------------- memory (last: it stops the gateways)
BURST = """
T=/tg/telemetrygen
$T traces --otlp-endpoint "$AGENT:4317" --otlp-insecure --rate 0 --batch=false --size 1 --workers 4 \\
   --traces 150 --service burst --timeout 5s > /dev/null 2>&1 || true
"""


def test_the_agents_memory_limiter_refuses_a_burst_instead_of_the_pod_being_oom_killed(cluster, pipeline):
    namespace = pipeline["namespace"]
    # With no gateway to send to, the agent holds what it receives (queue and retry): memory grows
    # with every span of 1 MB until its memory_limiter (80% of the 400Mi limit, 100 MiB spike)
    # refuses data.
    cluster.node.kubectl_run("-n", namespace, "scale", "deployment/otel-gateway-collector", "--replicas=0")
    job = application(pipeline["apps"], build_collectors()["binaries"]["telemetrygen"], SHOP, pipeline["agent"])
    job["apiVersion"], job["kind"], job["metadata"]["name"] = "batch/v1", "Job", "burst"
    pod = job["spec"]["template"]["spec"]
    pod["restartPolicy"] = "Never"
    pod["containers"][0]["command"] = ["sh", "-c", BURST]
    pod["containers"][0].pop("readinessProbe")
    job["spec"] = {"backoffLimit": 0, "template": job["spec"]["template"]}
    job["spec"]["template"]["metadata"]["labels"] = {"app": "burst"}
    apply(cluster.node, [job])

    def agent() -> dict:
        pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
        return next(p for p in pods if p["metadata"]["name"].startswith("otel-agent-collector-"))

    # The sender retries what is refused, so it does not end by itself: watch the agent instead.
    deadline, refused, metrics = time.monotonic() + 180, 0.0, ""
    while time.monotonic() < deadline and not refused:
        time.sleep(5)
        metrics = scrape(agent()["status"]["podIP"], 8888)
        refused = metric_sum(metrics, "otelcol_processor_memory_limiter_refused_spans")
    time.sleep(15)  # pressure held a while longer
    status = agent()["status"]["containerStatuses"][0]
    cluster.node.kubectl_run("-n", pipeline["apps"], "delete", "job", "burst", "--wait=false")
    assert refused > 0, [line for line in metrics.splitlines() if "refused" in line or "memory" in line]
    assert metric_sum(metrics, "otelcol_receiver_refused_spans") > 0  # the sender was told, and retries
    assert status["restartCount"] == 0, status
    assert not status.get("lastState", {}).get("terminated"), status  # not OOM-killed, not at all
