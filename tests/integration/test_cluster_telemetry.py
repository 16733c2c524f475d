"""The cluster's own telemetry, end to end on the local node: container logs, the kubelet's and the host's
metrics, cluster state and events.

The roles deploy the certificates, the gateway (one replica), the agent with container logs and host metrics
on (their default placement: a separate host collector in a privileged namespace of its own, sending to the
agent on its node) and the cluster collector (k8s_cluster, k8s_objects on events), as site.yml does. The
collectors' Pods are made from the stored OpenTelemetryCollector resources as the operator would
(tests/support/operator_standin.py) and admitted by the API server's PodSecurity admission in their
namespaces. The backends are the stand-ins of test_pipeline_end_to_end.py: a real collector writing what
reaches "Loki" (OTLP/HTTP on /otlp) to a file; the gateway's Prometheus exporter is scraped.

The local node's kubelet writes the pod log files under its own state directory (its podLogsDir), which the
test passes as otel_agent_pod_logs_host_path; the checkpoints go to a folder of the test's own.
"""

from __future__ import annotations

import collections
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml
from certificates import self_signed
from localnode import promql
from localnode.build import BUSYBOX_IMAGE
from localnode.collector import build_collectors
from localnode.node import NODE_IP, NODE_NAME
from operator_standin import apply, rollout
from pipeline import (
    apps_namespace,
    deploy_pipeline,
    failing_collector_metrics,
    host_namespace,
    logs_at_the_backend,
    owned_namespace,
    pipeline_settings,
    scrape,
    wait_for,
)
from playbook import render_objects

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.pod_security import namespace_labels

ROLES = ("otel_certificates", "otel_gateway", "otel_agent", "otel_cluster")
SUMMARY_TASKS = Path(__file__).resolve().parents[2] / "playbooks" / "tasks" / "summary.yml"
SMALL = {"limits": {"memory": "400Mi"}, "requests": {"cpu": "50m", "memory": "100Mi"}}
LINES, INTERVAL = 400, 0.2  # the writer's lines, one every INTERVAL seconds (80 s)
WRITER = """
i=0
while [ $i -lt {lines} ]; do echo "telemetry-line {run} $i"; i=$((i+1)); sleep {interval}; done
touch /tmp/done
exec sleep 100000
"""


def busybox_deployment(namespace: str, name: str, script: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": name, "image": BUSYBOX_IMAGE, "command": ["sh", "-c", script]}],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }


def crasher(namespace: str) -> dict:
    """A Pod whose container exits at once, again and again: CrashLoopBackOff."""
    container = {"name": "crasher", "image": BUSYBOX_IMAGE, "command": ["sh", "-c", "echo crashing; exit 1"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "crasher", "namespace": namespace},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
    }


def pods(cluster, namespace: str, prefix: str = "") -> list:
    items = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    return [p for p in items if p["metadata"]["name"].startswith(prefix)]


def lines_of(out: Path, pod_name: str) -> list:
    return [
        (resource, record, body)
        for resource, record, body in logs_at_the_backend(out)
        if resource.get("k8s.pod.name") == pod_name
    ]


def restart(cluster, namespace: str, collector: str) -> None:
    """Delete the collector's Pod (a graceful stop, as a rollout or a node drain makes) and wait for the new one."""
    selector = f"app.kubernetes.io/instance={namespace}.{collector}"
    cluster.node.kubectl_run("-n", namespace, "delete", "pod", "-l", selector, "--wait=true")
    wait_for(cluster, namespace, f"daemonset/{collector}-collector")


@pytest.fixture(scope="module")
def telemetry(cluster, tmp_path_factory):
    namespace = "t-tel-" + uuid.uuid4().hex[:6]
    apps, host = apps_namespace(namespace), host_namespace(namespace)
    out = Path(tempfile.mkdtemp(prefix="otel-telemetry-backends-"))
    out.chmod(0o777)  # the backends run as user 10001
    storage = tmp_path_factory.mktemp("checkpoints")
    run = uuid.uuid4().hex[:8]
    with owned_namespace(cluster, namespace):
        settings = pipeline_settings(
            namespace,
            otel_gateway_replicas=1,
            otel_gateway_autoscaler={},
            otel_gateway_affinity={},
            otel_gateway_resources=SMALL,
            otel_gateway_batch={"timeout": "1s", "send_batch_size": 512},
            otel_gateway_tempo_endpoint=f"tempo.{apps}:4317",
            otel_gateway_loki_endpoint=f"http://loki.{apps}:3100/otlp",
            otel_agent_resources=SMALL,
            otel_agent_host_resources=SMALL,
            otel_agent_container_logs=True,
            otel_agent_host_metrics=True,
            # The local node's kubelet keeps the pod logs in its own state directory (its podLogsDir).
            otel_agent_pod_logs_host_path=str(cluster.node.dir / "pod-logs"),
            otel_agent_storage_host_path=str(storage),
            otel_agent_kubelet_collection_interval="10s",
            otel_agent_host_metrics_collection_interval="10s",
            otel_cluster_collection_interval="10s",
            otel_cluster_batch={"timeout": "1s", "send_batch_size": 512},
            otel_cluster_resources=SMALL,
        )
        collectors = deploy_pipeline(
            cluster,
            namespace,
            out,
            settings,
            roles=ROLES,
            collectors=(
                (None, "otel-gateway"),
                (None, "otel-agent"),
                (host, "otel-agent-host"),
                (None, "otel-cluster"),
            ),
        )
        script = WRITER.format(lines=LINES, run=run, interval=INTERVAL)
        apply(cluster.node, [busybox_deployment(apps, "writer", script), crasher(apps)])
        wait_for(cluster, apps, "deployment/writer")
        writer = pods(cluster, apps, "writer-")[0]["metadata"]["name"]
        state = {
            "namespace": namespace,
            "apps": apps,
            "host": host,
            "out": out,
            "run": run,
            "writer": writer,
            "collectors": collectors,
            "settings": settings,
            "restarted": {},
        }
        # Lines before the restarts ...
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(lines_of(out, writer)) < 20:
            time.sleep(2)
        assert lines_of(out, writer), "no line of the writer reached the Loki stand-in in 2 minutes"
        # ... during them (the writer goes on) ...
        restart(cluster, host, "otel-agent-host")
        state["restarted"]["host collector"] = len(lines_of(out, writer))
        time.sleep(5)
        restart(cluster, namespace, "otel-agent")
        state["restarted"]["agent"] = len(lines_of(out, writer))
        # ... and after: every line, and a while longer for any repeat to show.
        deadline = time.monotonic() + LINES * INTERVAL + 150
        while time.monotonic() < deadline and len(lines_of(out, writer)) < LINES:
            time.sleep(3)
        time.sleep(15)
        yield state


# ---------------------------------------------------------------- Pod Security
def test_every_namespace_states_its_level_and_every_collector_was_admitted_and_runs(cluster, telemetry):
    namespace, host = telemetry["namespace"], telemetry["host"]
    for name, level in ((namespace, "restricted"), (host, "privileged")):
        labels = cluster.get(f"/api/v1/namespaces/{name}")["metadata"]["labels"]
        assert {k: v for k, v in labels.items() if k.startswith("pod-security.")} == namespace_labels(level)
    running = {
        p["metadata"]["name"].rsplit("-", 1)[0]: p for ns in (namespace, host) for p in pods(cluster, ns, "otel-")
    }
    for prefix in ("otel-gateway-collector", "otel-agent-collector", "otel-agent-host-collector"):
        assert any(name.startswith(prefix) for name in running), (prefix, sorted(running))
    cluster_pods = pods(cluster, namespace, "otel-cluster-collector-")
    assert len(cluster_pods) == 1  # one replica, never one per node
    for pod in [*running.values(), *cluster_pods]:
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert pod["status"]["phase"] == "Running" and ready == "True", pod["metadata"]["name"]
    # The host collector: root without capabilities, and no service account token at all.
    host_pod = pods(cluster, host, "otel-agent-host-collector-")[0]
    container = host_pod["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 0
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert not any("projected" in v for v in host_pod["spec"]["volumes"]), host_pod["spec"]["volumes"]
    assert not any(m["mountPath"].startswith("/var/run/secrets") for m in container["volumeMounts"])


# ---------------------------------------------------------------- container logs
def test_the_writers_lines_arrive_exactly_once_with_their_pod_across_both_restarts(telemetry):
    found = lines_of(telemetry["out"], telemetry["writer"])
    expected = collections.Counter(f"telemetry-line {telemetry['run']} {i}" for i in range(LINES))
    bodies = collections.Counter(body for _resource, _record, body in found)
    missing, repeated = expected - bodies, {b: n for b, n in bodies.items() if n > 1}
    assert not missing and not repeated and bodies == expected, (
        f"{len(missing)} lines missing (first: {sorted(missing)[:3]}), repeated: {list(repeated.items())[:3]}; "
        f"lines there at the host collector's restart {telemetry['restarted']}"
    )
    # Lines were still to come at each restart: the restarts happened while the writer wrote.
    assert 0 < telemetry["restarted"]["host collector"] < telemetry["restarted"]["agent"] < LINES
    for resource, record, _body in found:
        assert resource["k8s.pod.name"] == telemetry["writer"]
        assert resource["k8s.namespace.name"] == telemetry["apps"]
        assert resource["k8s.container.name"] == "writer"
        # The agent's k8sattributes found the Pod by the uid the file path gives.
        assert resource["k8s.deployment.name"] == "writer"
        assert resource["k8s.node.name"] == NODE_NAME
        assert record["log.file.path"].endswith("/writer/0.log")


def test_the_collectors_own_logs_are_not_collected(telemetry):
    ours = {telemetry["namespace"], telemetry["host"]}
    collected = {
        (resource.get("k8s.namespace.name"), resource.get("k8s.container.name"))
        for resource, _record, _body in logs_at_the_backend(telemetry["out"])
        if resource.get("k8s.namespace.name") in ours
    }
    assert "otc-container" not in {container for _ns, container in collected}, collected


# ---------------------------------------------------------------- metrics
def gateway_metrics(cluster, telemetry) -> str:
    gateway = pods(cluster, telemetry["namespace"], "otel-gateway-collector-")[0]
    return scrape(gateway["status"]["podIP"], 8889)


def series(text: str, name: str, **labels) -> list:
    """The lines of `name` whose labels include `labels`."""
    return [
        line
        for line in text.splitlines()
        if re.match(rf"^{re.escape(name)}[{{ ]", line) and all(f'{k}="{v}"' in line for k, v in labels.items())
    ]


def test_the_writers_cpu_and_memory_reach_the_gateways_prometheus_endpoint(cluster, telemetry):
    text = gateway_metrics(cluster, telemetry)
    writer = {"k8s_pod_name": telemetry["writer"], "k8s_namespace_name": telemetry["apps"]}
    for name in ("k8s_pod_cpu_usage", "k8s_pod_memory_working_set_bytes", "container_memory_working_set_bytes"):
        assert series(text, name, **writer), (name, sorted({line.split("{")[0] for line in text.splitlines()}))
    # The node's own, read from its kubelet with the certificate verified.
    assert series(text, "k8s_node_memory_working_set_bytes", k8s_node_name=NODE_NAME)


def test_the_host_metrics_of_the_node_are_there_and_name_the_node_not_a_pod(cluster, telemetry):
    text = gateway_metrics(cluster, telemetry)
    for name in ("system_memory_usage_bytes", "system_cpu_load_average_1m", "system_filesystem_usage_bytes"):
        found = series(text, name, k8s_node_name=NODE_NAME)
        assert found, (name, sorted({line.split("{")[0] for line in text.splitlines() if line.startswith("system")}))
        # The agent does not attribute them to the host collector's Pod (it sends them over its connection).
        assert not any("k8s_pod_name" in line for line in found), found[:2]


def test_a_crash_looping_pod_shows_in_the_cluster_metrics_and_its_events_reach_the_logs_backend(cluster, telemetry):
    apps = telemetry["apps"]
    deadline, restarts, backoff = time.monotonic() + 180, [], []
    while time.monotonic() < deadline and not (restarts and backoff):
        text = gateway_metrics(cluster, telemetry)
        restarts = [
            line
            for line in series(text, "k8s_container_restarts", k8s_pod_name="crasher", k8s_namespace_name=apps)
            if float(line.rsplit(" ", 1)[1]) >= 1
        ]
        backoff = [
            body
            for resource, record, body in logs_at_the_backend(telemetry["out"])
            if record.get("k8s.resource.name") == "events"
            and isinstance(body, dict)
            and (body.get("object") or {}).get("reason") == "BackOff"
            and ((body.get("object") or {}).get("regarding") or {}).get("name") == "crasher"
            and resource.get("k8s.namespace.name") == apps
        ]
        time.sleep(5)
    assert restarts, series(gateway_metrics(cluster, telemetry), "k8s_container_restarts", k8s_namespace_name=apps)
    assert backoff, "no BackOff event of the crasher Pod at the Loki stand-in"
    assert backoff[0]["type"] in ("ADDED", "MODIFIED")  # watch mode, DELETED left out
    # The phases and the node's conditions too.
    text = gateway_metrics(cluster, telemetry)
    assert series(text, "k8s_pod_phase", k8s_pod_name=telemetry["writer"])
    assert [line for line in series(text, "k8s_node_condition_ready", k8s_node_name=NODE_NAME) if line.endswith(" 1")]


# ---------------------------------------------------------------- RBAC, by SubjectAccessReview
def service_account_can(cluster, home: str, account: str, verb: str, resource: str, **kwargs) -> bool:
    """SubjectAccessReview for service account `account` of namespace `home` (kwargs: namespace, name...)."""
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{home}", "system:authenticated"]
    return cluster.can(f"system:serviceaccount:{home}:{account}", verb, resource, groups=groups, **kwargs)


def refused(cluster, home, account, requests) -> list:
    """The requests the service account may make, of those it must not."""
    return [r for r in requests if service_account_can(cluster, home, account, r[0], r[1], **r[2])]


def granted(cluster, home, account, requests) -> list:
    """The requests the service account may not make, of those it needs."""
    return [r for r in requests if not service_account_can(cluster, home, account, r[0], r[1], **r[2])]


def test_each_collector_may_read_exactly_what_its_configuration_needs(cluster, telemetry):
    ns, host = telemetry["namespace"], telemetry["host"]
    node = {"name": NODE_NAME}
    # The agent: k8sattributes' reads and the kubelet's /stats/summary, nothing more of the node.
    assert (
        granted(
            cluster,
            ns,
            "otel-agent",
            [
                ("get", "nodes", {"subresource": "stats", **node}),
                ("list", "pods", {}),
                ("watch", "namespaces", {}),
                ("list", "replicasets", {"group": "apps"}),
            ],
        )
        == []
    )
    assert (
        refused(
            cluster,
            ns,
            "otel-agent",
            [
                ("get", "nodes", {"subresource": "proxy", **node}),
                ("get", "nodes", {"subresource": "log", **node}),
                ("get", "nodes", {"subresource": "pods", **node}),
                ("get", "nodes", {"subresource": "metrics", **node}),
                ("list", "nodes", {}),
                ("get", "secrets", {"namespace": ns}),
                ("create", "pods", {"namespace": ns}),
            ],
        )
        == []
    )
    # The cluster collector: list and watch of what its informers and the events watch read; no get, no write.
    assert (
        granted(
            cluster,
            ns,
            "otel-cluster",
            [
                ("list", "pods", {}),
                ("watch", "nodes", {}),
                ("list", "namespaces", {}),
                ("watch", "deployments", {"group": "apps"}),
                ("list", "statefulsets", {"group": "apps"}),
                ("watch", "daemonsets", {"group": "apps"}),
                ("list", "jobs", {"group": "batch"}),
                ("watch", "cronjobs", {"group": "batch"}),
                ("list", "horizontalpodautoscalers", {"group": "autoscaling"}),
                ("list", "events", {"group": "events.k8s.io"}),
                ("watch", "events", {"group": "events.k8s.io"}),
            ],
        )
        == []
    )
    assert (
        refused(
            cluster,
            ns,
            "otel-cluster",
            [
                ("get", "pods", {"namespace": "default"}),
                ("get", "nodes", {}),
                ("list", "secrets", {}),
                ("get", "secrets", {"namespace": ns}),
                ("list", "configmaps", {}),
                ("list", "events", {}),
                ("create", "events", {"group": "events.k8s.io", "namespace": ns}),
                ("delete", "pods", {"namespace": "default"}),
                ("patch", "deployments", {"group": "apps", "namespace": "default"}),
                ("get", "nodes", {"subresource": "stats", **node}),
                ("get", "nodes", {"subresource": "proxy", **node}),
            ],
        )
        == []
    )
    # The host collector: nothing at all (and no token to use it with), the gateway nothing either.
    nothing = [
        ("list", "pods", {}),
        ("get", "nodes", {"subresource": "stats", **node}),
        ("get", "secrets", {"namespace": host}),
        ("list", "events", {"group": "events.k8s.io"}),
    ]
    assert refused(cluster, host, "otel-agent-host", nothing) == []
    assert refused(cluster, ns, "otel-gateway", nothing) == []
    assert (
        cluster.get(f"/api/v1/namespaces/{host}/serviceaccounts/otel-agent-host")["automountServiceAccountToken"]
        is False
    )


# ---------------------------------------------------------------- the kubelet's certificate is verified
def kubelet_stats_run(cluster, token: str, ca: bytes, seconds: float = 8) -> str:
    """What the agent's own kubelet_stats receiver (its rendered settings) logs against the node's kubelet, run
    with the given service account token and CA in the files a Pod has (a mount namespace of its own)."""
    agent = next(
        c
        for c in render_objects("local")
        if c["kind"] == "OpenTelemetryCollector" and c["metadata"]["name"] == "otel-agent"
    )
    receiver = dict(agent["spec"]["config"]["receivers"]["kubelet_stats"], collection_interval="1s")
    config = {
        "receivers": {"kubelet_stats": receiver},
        "exporters": {"debug": {"verbosity": "basic"}},
        "service": {
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {"metrics": {"receivers": ["kubelet_stats"], "exporters": ["debug"]}},
        },
    }
    binary = build_collectors()["binaries"]["k8s"]
    with tempfile.TemporaryDirectory() as folder:
        files = Path(folder)
        (files / "config.yaml").write_text(yaml.safe_dump(config))
        (files / "token").write_text(token)
        (files / "ca.crt").write_bytes(ca)
        account = "/run/secrets/kubernetes.io/serviceaccount"
        script = (
            f"mount -t tmpfs none /run && mkdir -p {account} && cp {folder}/token {folder}/ca.crt {account}/ && "
            f"exec timeout {seconds} {binary} --config=file:{folder}/config.yaml"
        )
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "K8S_NODE_IP": NODE_IP, "K8S_NODE_NAME": NODE_NAME}
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            env=env,
            check=False,
        )
    return done.stderr


def token_of(cluster, namespace: str, name: str) -> str:
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}
    answer = cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", request)
    return answer["status"]["token"]


def other_ca() -> bytes:
    return self_signed("not-the-cluster-ca", ca=True)[0]


def test_the_kubelets_certificate_is_verified_and_its_authorization_is_the_derived_rbac(cluster, telemetry):
    ns = telemetry["namespace"]
    cluster_ca = cluster.node.pki.ca_cert.read_bytes()
    agent = token_of(cluster, ns, "otel-agent")
    ok = kubelet_stats_run(cluster, agent, cluster_ca)
    assert "x509" not in ok and re.search(r"Metrics.*\"resource metrics\": [1-9]", ok), ok[-2000:]
    # Another CA: the kubelet's certificate is refused, so the token is never sent.
    stranger = kubelet_stats_run(cluster, agent, other_ca())
    assert "x509: certificate signed by unknown authority" in stranger, stranger[-2000:]
    # The right CA but a service account without nodes/stats: the kubelet asks the API server and refuses.
    forbidden = kubelet_stats_run(cluster, token_of(cluster, ns, "otel-gateway"), cluster_ca)
    assert "403" in forbidden and "Forbidden" in forbidden, forbidden[-2000:]


# ---------------------------------------------------------------- the summary
def test_the_summary_reads_what_the_roles_published(cluster, telemetry):
    """site.yml's summary tasks after the roles (run again: nothing changes), reading only their status facts."""
    ns, host = telemetry["namespace"], telemetry["host"]
    roles = [{"name": role, "ansible.builtin.include_role": {"name": f"otel.kubernetes.{role}"}} for role in ROLES]
    summary = {"name": "summary", "ansible.builtin.import_tasks": str(SUMMARY_TASKS)}
    run = cluster.run([*roles, summary], vars=telemetry["settings"])
    assert run.rc == 0, run.stdout[-3000:]
    assert not any(t.get("changed") for t in run.tasks), [t["task"] for t in run.tasks if t.get("changed")]
    lines = run.task("Read back what is deployed")["lines"]
    for prefix in (f"pod {host}/otel-agent-host-collector-", f"pod {ns}/otel-cluster-collector-"):
        assert any(line.startswith(prefix) and ": Running, ready 1/1" in line for line in lines), (prefix, lines)
    assert f"collector {host}/otel-agent-host: mode daemonset, replicas one per node" in " ".join(lines)
    assert f"collector {ns}/otel-cluster: mode deployment, replicas 1" in " ".join(lines)
    assert f"certificate {ns}/otel-cluster-tls expires " in " ".join(lines)
    assert lines[-2] == (
        f"container logs and host metrics: host collector {host}/otel-agent-host (privileged) -> the agent on its "
        f"node, otel-agent-collector.{ns}.svc.cluster.local:4317"
    )
    assert lines[-1] == (
        f"cluster state and events: {ns}/otel-cluster (one replica) -> gateway: "
        f"otel-gateway-collector.{ns}.svc.cluster.local:4317, mTLS"
    )


# ---------------------------------------------------------------- the gateway's alerts
def alert_rules() -> list:
    """The gateway's PrometheusRule as the role renders it (inventories/local, monitoring on)."""
    found = [
        o for o in render_objects("local", "otel_gateway_prometheus_monitoring=true") if o["kind"] == "PrometheusRule"
    ]
    assert len(found) == 1, "render.yml with monitoring on renders one PrometheusRule"
    return [rule for group in found[0]["spec"]["groups"] for rule in group["rules"]]


def test_the_alerts_parse_and_use_metrics_the_real_collectors_expose(cluster, telemetry):
    rules = alert_rules()
    checked = promql.check([rule["expr"] for rule in rules])
    errors = {rule["alert"]: c["error"] for rule, c in zip(rules, checked) if "error" in c}
    assert not errors, f"Prometheus' parser refuses: {errors}"
    # Names as the rules write them, with the optional suffixes of other exporters' naming.
    used = {re.sub(r"\((_total|_bytes)\)\?$", "", name) for c in checked for name in c["metrics"]} - {"up"}
    gateway = pods(cluster, telemetry["namespace"], "otel-gateway-collector-")[0]["status"]["podIP"]
    # The collectors' own metrics (:8888) and what the cluster collector reports through the gateway (:8889).
    exposed = scrape(gateway, 8888) + gateway_metrics(cluster, telemetry)
    # A counter of failures appears once something failed; nothing failed above, so the gateway's collector
    # binary, made to fail every signal, shows those.
    exposed += failing_collector_metrics()
    missing = sorted(n for n in used if not re.search(rf"^{re.escape(n)}[{{ ]", exposed, re.MULTILINE))
    assert not missing, f"alert rules use metrics the real collectors do not expose: {missing}"
    assert {"k8s_container_restarts", "k8s_node_condition_ready", "otelcol_exporter_enqueue_failed_log_records"} <= used
    assert len(used) >= 15, used


def test_no_collector_restarted(cluster, telemetry):
    found = [p for ns in (telemetry["namespace"], telemetry["host"]) for p in pods(cluster, ns, "otel-")]
    restarts = {p["metadata"]["name"]: [s["restartCount"] for s in p["status"]["containerStatuses"]] for p in found}
    assert all(count == 0 for counts in restarts.values() for count in counts), restarts
    not_done = rollout(cluster.node, telemetry["host"], "daemonset/otel-agent-host-collector", timeout=5)
    assert not_done == "", not_done
