"""The otel_certificates, otel_gateway and otel_agent roles through ansible-playbook, on the local
node (Kubernetes 1.34).

The OpenTelemetryCollector and Instrumentation CRDs are the operator's real ones, with its
webhooks, installed by the otel_operator role from the v0.158.0 release manifest (the
`operator` fixture); its manager is the local node's test stand-in, which reconciles nothing.
The ServiceMonitor and PrometheusRule CRDs are a test fixture
(tests/fixtures/crds/monitoring.coreos.com.yaml); no Prometheus Operator runs here. The tests
check what the roles store in the API server, and RBAC with SubjectAccessReviews. With no
reconciling operator no collector workload appears, so the roles' wait stays off (their default).

Every test uses namespaces of its own (never `observability`) and its own ClusterRole name,
so that the tests do not depend on each other.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from cryptography import x509
from pipeline import pipeline_settings

ROOT = Path(__file__).resolve().parents[2]
MONITORING_CRDS = ROOT / "tests" / "fixtures" / "crds" / "monitoring.coreos.com.yaml"
GHCR = "ghcr.io/open-telemetry/opentelemetry-collector-releases"
ROLES = ("otel_certificates", "otel_gateway", "otel_agent")
CURRENT_METRICS = (
    "otelcol_exporter_sent_spans",
    "otelcol_receiver_refused_spans",
    "otelcol_exporter_queue_size",
    "otelcol_exporter_queue_capacity",
    "otelcol_process_memory_rss",
)


def include(role: str, **role_vars) -> dict:
    task = {"name": f"include {role}", "ansible.builtin.include_role": {"name": f"otel.kubernetes.{role}"}}
    if role_vars:
        task["vars"] = role_vars
    return task


def converge() -> list:
    return [include(role) for role in ROLES]


def uninstall() -> list:
    return [include(role, **{f"{role}_state": "absent"}) for role in reversed(ROLES)]


def show(*names: str) -> list:
    return [{"name": f"show {name}", "ansible.builtin.debug": {"var": name}} for name in names]


settings = pipeline_settings


def fresh_namespace() -> str:
    return "t-gw-" + uuid.uuid4().hex[:8]


def collector_path(namespace: str, name: str) -> str:
    return f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/{name}"


def changed_tasks(run) -> list:
    """Names of the tasks that reported a change, without the `<role> : ` prefix."""
    return [t["task"].split(" : ", 1)[-1] for t in run.tasks if t.get("changed")]


def ok(run) -> str:
    return run.stdout[-4000:] + run.stderr[-3000:]


def service_account(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def test_converge_idempotence_check_mode_specs_rbac_and_uninstall(cluster, operator):
    ns = fresh_namespace()
    values = settings(ns)

    # Check mode on a cluster where nothing exists yet: no failure, nothing stored.
    check = cluster.run(converge(), "--check", vars=values)
    assert check.rc == 0, ok(check)
    assert cluster.get(f"/api/v1/namespaces/{ns}") is None
    assert cluster.get(collector_path(ns, "otel-gateway")) is None
    assert cluster.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{ns}-otel-agent") is None

    first = cluster.run(
        converge() + show("otel_certificates_status", "otel_gateway_status", "otel_agent_status"), vars=values
    )
    assert first.rc == 0, ok(first)
    assert "Apply or remove the gateway collector otel-gateway" in changed_tasks(first)

    # --- the gateway, as stored
    gateway = cluster.get(collector_path(ns, "otel-gateway"))["spec"]
    assert gateway["mode"] == "deployment"
    assert gateway["replicas"] == 3
    assert gateway["autoscaler"] == {
        "minReplicas": 2,
        "maxReplicas": 10,
        "targetCPUUtilization": 60,
        "targetMemoryUtilization": 80,
    }
    assert gateway["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert gateway["image"] == f"{GHCR}/opentelemetry-collector-contrib:0.159.0"  # tail_sampling + prometheus
    assert gateway["serviceAccount"] == "otel-gateway"
    assert gateway["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    config = gateway["config"]
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"] == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "tail_sampling", "batch"],
        "exporters": ["otlp/tempo"],
    }
    assert pipelines["metrics"] == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "batch"],
        "exporters": ["prometheus"],
    }
    assert pipelines["logs"] == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "batch"],
        "exporters": ["otlphttp/loki"],
    }
    assert config["processors"]["memory_limiter"] == {
        "check_interval": "1s",
        "limit_percentage": 80,
        "spike_limit_percentage": 25,
    }
    assert config["processors"]["batch"] == {"timeout": "1s", "send_batch_size": 1024, "send_batch_max_size": 1024}
    sampling = config["processors"]["tail_sampling"]
    assert sampling["decision_wait"] == "10s" and sampling["num_traces"] == 100000
    policies = {p["type"]: p for p in sampling["policies"]}
    assert policies["status_code"]["status_code"] == {"status_codes": ["ERROR"]}
    assert policies["latency"]["latency"] == {"threshold_ms": 500}
    assert policies["probabilistic"]["probabilistic"] == {"sampling_percentage": 10}
    assert set(config["exporters"]) == {"otlp/tempo", "prometheus", "otlphttp/loki"}  # never the removed `loki`
    assert config["exporters"]["otlp/tempo"] == {"endpoint": "tempo.observability:4317", "tls": {"insecure": True}}
    # Resource attributes as labels: the kubelet's and the cluster's metrics keep their Pod and node.
    assert config["exporters"]["prometheus"] == {
        "endpoint": "0.0.0.0:8889",
        "resource_to_telemetry_conversion": {"enabled": True},
    }
    assert config["exporters"]["otlphttp/loki"]["endpoint"].endswith("/otlp")
    for protocol in ("grpc", "http"):
        tls = config["receivers"]["otlp"]["protocols"][protocol]["tls"]
        assert tls["cert_file"] == "/etc/otel/tls/tls.crt" and tls["key_file"] == "/etc/otel/tls/tls.key"
        assert tls["client_ca_file"] == "/etc/otel/tls/ca.crt"  # mTLS
        assert tls["client_ca_file_reload"] is True  # a CA rotation's new CA is trusted without a restart
    assert config["service"]["telemetry"]["metrics"]["readers"] == [
        {"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}
    ]
    assert {"name": "prometheus", "port": 8889, "protocol": "TCP"} in gateway["ports"]
    assert gateway["volumes"] == [
        {"name": "otel-tls", "secret": {"secretName": "otel-gateway-tls", "defaultMode": 0o440}}
    ]
    assert gateway["volumeMounts"] == [{"name": "otel-tls", "mountPath": "/etc/otel/tls", "readOnly": True}]
    # No Prometheus Operator CRDs here: the operator is asked for its own ServiceMonitors.
    assert gateway["observability"] == {"metrics": {"enableMetrics": True}}

    # --- the agent, as stored
    agent = cluster.get(collector_path(ns, "otel-agent"))["spec"]
    assert agent["mode"] == "daemonset"
    assert agent["replicas"] == 1  # the operator's CRD default; the role writes no replicas for a daemonset
    assert agent["image"] == f"{GHCR}/opentelemetry-collector-k8s:0.159.0"  # k8sattributes + loadbalancing
    assert agent["serviceAccount"] == "otel-agent"
    assert agent["tolerations"] == [{"operator": "Exists"}]
    assert agent["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}
    # No host ports by default: applications reach the agent through its node-local Service.
    assert {"name": "otlp-grpc", "port": 4317, "protocol": "TCP"} in agent["ports"]
    assert {"name": "otlp-http", "port": 4318, "protocol": "TCP"} in agent["ports"]
    assert not [p for p in agent["ports"] if "hostPort" in p]
    env = {e["name"]: e for e in agent["env"]}
    assert env["K8S_NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["K8S_NODE_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.hostIP"}}
    config = agent["config"]
    k8sattributes = config["processors"]["k8sattributes"]
    assert k8sattributes["filter"] == {"node_from_env_var": "K8S_NODE_NAME"}
    assert k8sattributes["passthrough"] is False
    assert k8sattributes["extract"]["metadata"] == [
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.pod.uid",
        "k8s.deployment.name",
        "k8s.node.name",
        "k8s.container.name",
    ]
    for pipeline in config["service"]["pipelines"].values():
        assert pipeline["processors"] == ["memory_limiter", "k8sattributes", "batch"]
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["loadbalancing"]
    assert config["service"]["pipelines"]["metrics"]["exporters"] == ["otlp/gateway"]
    headless = f"otel-gateway-collector-headless.{ns}.svc.cluster.local"
    loadbalancing = config["exporters"]["loadbalancing"]
    assert loadbalancing["routing_key"] == "traceID"
    assert loadbalancing["resolver"] == {"dns": {"hostname": headless, "port": "4317"}}
    client_tls = {
        "ca_file": "/etc/otel/tls/ca.crt",
        "cert_file": "/etc/otel/tls/tls.crt",
        "key_file": "/etc/otel/tls/tls.key",
        "reload_interval": "1h",
    }
    assert loadbalancing["protocol"]["otlp"]["tls"] == {**client_tls, "server_name_override": headless}
    assert config["exporters"]["otlp/gateway"] == {
        "endpoint": f"otel-gateway-collector.{ns}.svc.cluster.local:4317",
        "tls": client_tls,
    }
    assert agent["volumes"][0]["secret"]["secretName"] == "otel-agent-tls"
    # The node's own kubelet, by the node's IP, its certificate verified with the cluster CA.
    assert config["receivers"]["kubelet_stats"]["endpoint"] == "https://${env:K8S_NODE_IP}:10250"
    assert config["receivers"]["kubelet_stats"]["insecure_skip_verify"] is False
    assert config["service"]["pipelines"]["metrics"]["receivers"] == ["otlp", "kubelet_stats"]

    # --- the certificates: kubernetes.io/tls Secrets, the gateway's valid for the names agents use
    secrets = {}
    for name in ("otel-ca", "otel-gateway-tls", "otel-agent-tls"):
        secret = cluster.get(f"/api/v1/namespaces/{ns}/secrets/{name}")
        assert secret["type"] == "kubernetes.io/tls"
        assert set(secret["data"]) >= {"tls.crt", "tls.key", "ca.crt"}
        secrets[name] = secret
    gateway_cert = x509.load_pem_x509_certificate(base64.b64decode(secrets["otel-gateway-tls"]["data"]["tls.crt"]))
    sans = gateway_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(sans.get_values_for_type(x509.DNSName))
    assert {
        headless,
        f"otel-gateway-collector.{ns}.svc.cluster.local",
        f"otel-gateway-collector-headless.{ns}",
        "otel-gateway-collector",
    } <= names
    status = first.task("show otel_certificates_status")["otel_certificates_status"]
    assert set(status["not_after"]) == {"otel-ca", "otel-gateway-tls", "otel-agent-tls", "otel-cluster-tls"}
    assert all(status["not_after"].values())
    assert status["backend"] == "self_signed"
    # No private key in the output, in PEM or as stored.
    assert "PRIVATE KEY" not in first.stdout + first.stderr
    for secret in secrets.values():
        assert secret["data"]["tls.key"] not in first.stdout + first.stderr
    agent_status = first.task("show otel_agent_status")["otel_agent_status"]
    assert agent_status["gateway_traces"] == f"{headless}:4317"
    assert first.task("show otel_gateway_status")["otel_gateway_status"]["mtls"] is True

    # --- RBAC: the agent reads pods (and what k8sattributes needs), never Secrets; the gateway reads nothing
    agent_sa = service_account(ns, "otel-agent")
    assert cluster.can(agent_sa, "list", "pods")
    assert cluster.can(agent_sa, "watch", "pods")
    assert cluster.can(agent_sa, "get", "namespaces")
    assert cluster.can(agent_sa, "list", "replicasets", group="apps")  # k8s.deployment.name
    assert cluster.can(agent_sa, "get", "nodes", subresource="stats")  # kubelet_stats
    assert not cluster.can(agent_sa, "get", "nodes", subresource="proxy")
    assert not cluster.can(agent_sa, "get", "secrets", namespace=ns)
    assert not cluster.can(agent_sa, "list", "secrets")
    assert not cluster.can(agent_sa, "create", "pods", namespace=ns)
    gateway_sa = service_account(ns, "otel-gateway")
    assert cluster.get(f"/api/v1/namespaces/{ns}/serviceaccounts/otel-gateway")
    assert not cluster.can(gateway_sa, "list", "pods")
    assert not cluster.can(gateway_sa, "get", "secrets", namespace=ns)

    # --- idempotence: a second run changes nothing, and so does check mode now
    second = cluster.run(converge(), vars=values)
    assert second.rc == 0, ok(second)
    assert changed_tasks(second) == []
    again = cluster.run(converge(), "--check", vars=values)
    assert again.rc == 0, ok(again)
    assert changed_tasks(again) == []

    # --- uninstall, reverse order; the namespace stays
    removal = cluster.run(uninstall(), vars=values)
    assert removal.rc == 0, ok(removal)
    assert cluster.get(collector_path(ns, "otel-gateway")) is None
    assert cluster.get(collector_path(ns, "otel-agent")) is None
    for name in ("otel-ca", "otel-gateway-tls", "otel-agent-tls"):
        assert cluster.get(f"/api/v1/namespaces/{ns}/secrets/{name}") is None
    for name in ("otel-gateway", "otel-agent"):
        assert cluster.get(f"/api/v1/namespaces/{ns}/serviceaccounts/{name}") is None
    for kind in ("clusterroles", "clusterrolebindings"):
        assert cluster.get(f"/apis/rbac.authorization.k8s.io/v1/{kind}/{ns}-otel-agent") is None
    assert not cluster.can(agent_sa, "list", "pods")
    assert cluster.get(f"/api/v1/namespaces/{ns}") is not None
    gone = cluster.run(uninstall(), vars=values)
    assert gone.rc == 0, ok(gone)
    assert changed_tasks(gone) == []


def test_prometheus_operator_objects_and_ingress(cluster, operator):
    install = cluster.run(
        [{"name": "install the monitoring CRDs", "otel.kubernetes.apply": {"src": str(MONITORING_CRDS)}}]
    )
    assert install.rc == 0, ok(install)
    ns = fresh_namespace()
    values = settings(ns, otel_gateway_ingress_enabled=True)
    monitoring = f"/apis/monitoring.coreos.com/v1/namespaces/{ns}"
    try:
        first = cluster.run(converge(), vars=values)
        assert first.rc == 0, ok(first)

        self_metrics = cluster.get(f"{monitoring}/servicemonitors/otel-gateway-collector-monitoring")
        assert self_metrics["spec"]["endpoints"][0]["port"] == "monitoring"
        selector = self_metrics["spec"]["selector"]["matchLabels"]
        assert selector["operator.opentelemetry.io/collector-service-type"] == "monitoring"
        assert selector["app.kubernetes.io/instance"] == f"{ns}.otel-gateway"
        assert self_metrics["spec"]["namespaceSelector"] == {"matchNames": [ns]}
        exporter = cluster.get(f"{monitoring}/servicemonitors/otel-gateway-collector-prometheus")
        assert exporter["spec"]["endpoints"][0]["port"] == "prometheus"
        assert exporter["spec"]["selector"]["matchLabels"]["operator.opentelemetry.io/collector-service-type"] == "base"

        rule = cluster.get(f"{monitoring}/prometheusrules/otel-gateway-collector-alerts")
        rules = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
        expressions = " ".join(r["expr"] for r in rules.values())
        for metric in CURRENT_METRICS:
            assert metric in expressions, metric
        assert "otelcol_processor_dropped_spans" not in expressions  # removed in collector v0.111.0
        assert "otelcol_exporter_sent_spans(_total)?" in rules["OtelGatewayExportStalled"]["expr"]
        assert "otelcol_receiver_refused_spans(_total)?" in rules["OtelCollectorRefusingData"]["expr"]
        assert "k8s_container_restarts" in rules["OtelPodCrashLooping"]["expr"]
        assert "otelcol_exporter_queue_capacity" in rules["OtelGatewayExporterQueueNearlyFull"]["expr"]
        assert "> 0.8" in rules["OtelGatewayExporterQueueNearlyFull"]["expr"]
        # 85% of the 2Gi container limit
        assert str(int(2 * 1024**3 * 0.85)) in rules["OtelGatewayMemoryNearLimit"]["expr"]
        # The gateway's own alerts scrape its own job; those on every collector and on the cluster do not.
        gateway_rules = [r for name, r in rules.items() if name.startswith("OtelGateway")]
        assert all(f'job="otel-gateway-collector-monitoring", namespace="{ns}"' in r["expr"] for r in gateway_rules)
        assert all(r["labels"]["severity"] in ("warning", "critical") for r in rules.values())

        # The role scrapes the collector itself: the operator's ServiceMonitors are not asked for too.
        gateway = cluster.get(collector_path(ns, "otel-gateway"))["spec"]
        assert "observability" not in gateway

        ingress = cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/otel-gateway-prometheus")
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "otel-gateway-collector", "port": {"number": 8889}}
        assert ingress["spec"]["tls"][0]["secretName"] != "otel-gateway-tls"  # the mTLS Secret stays ours

        second = cluster.run(converge(), vars=values)
        assert second.rc == 0, ok(second)
        assert changed_tasks(second) == []

        # Turning the Ingress off removes it.
        off = cluster.run(converge(), vars=settings(ns))
        assert off.rc == 0, ok(off)
        assert changed_tasks(off) == ["Apply or remove the gateway collector otel-gateway"]
        assert cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/otel-gateway-prometheus") is None

        removal = cluster.run(uninstall(), vars=values)
        assert removal.rc == 0, ok(removal)
        assert cluster.get(f"{monitoring}/servicemonitors/otel-gateway-collector-monitoring") is None
        assert cluster.get(f"{monitoring}/servicemonitors/otel-gateway-collector-prometheus") is None
        assert cluster.get(f"{monitoring}/prometheusrules/otel-gateway-collector-alerts") is None
        assert cluster.get(collector_path(ns, "otel-gateway")) is None
    finally:
        cluster.run(uninstall(), vars=values)
        cluster.run(
            [
                {
                    "name": "remove the monitoring CRDs",
                    "otel.kubernetes.apply": {"src": str(MONITORING_CRDS), "state": "absent", "wait": True},
                }
            ]
        )


def test_render_only_contacts_no_cluster(cluster, tmp_path):
    """Render mode: every object, validated by the modules, with no API server to talk to."""
    nowhere = {
        "K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig"),
        "KUBECONFIG": str(tmp_path / "none"),
        "HOME": str(tmp_path),
    }
    run = cluster.run(
        converge() + show("otel_rendered_objects"),
        env=nowhere,
        vars={
            "otel_render_only": True,
            "otel_rendered_objects": [],
            "otel_gateway_prometheus_monitoring": True,
            "otel_gateway_ingress_enabled": True,
        },
    )
    assert run.rc == 0, ok(run)
    assert changed_tasks(run) == []
    objects = run.task("show otel_rendered_objects")["otel_rendered_objects"]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds.count(("Namespace", "observability")) == 1
    assert "Secret" not in {kind for kind, _name in kinds}  # cert-manager makes the keys where this is applied
    assert {
        ("Certificate", "otel-ca"),
        ("Certificate", "otel-gateway-tls"),
        ("Certificate", "otel-agent-tls"),
        ("ServiceAccount", "otel-gateway"),
        ("ServiceAccount", "otel-agent"),
        ("ClusterRole", "otel-agent"),
        ("OpenTelemetryCollector", "otel-gateway"),
        ("OpenTelemetryCollector", "otel-agent"),
        ("ServiceMonitor", "otel-gateway-collector-monitoring"),
        ("PrometheusRule", "otel-gateway-collector-alerts"),
        ("Ingress", "otel-gateway-prometheus"),
    } <= set(kinds)
    assert kinds.index(("Namespace", "observability")) == 0
    collectors = {o["metadata"]["name"]: o for o in objects if o["kind"] == "OpenTelemetryCollector"}
    assert collectors["otel-gateway"]["spec"]["replicas"] == 3
    assert collectors["otel-agent"]["spec"]["mode"] == "daemonset"


def test_helm_values_replace_the_role_settings(cluster, operator):
    ns = fresh_namespace()
    values = settings(
        ns,
        otel_gateway_helm_values={
            "replicaCount": 5,
            "autoscaling": {"enabled": False},
            "podDisruptionBudget": {"enabled": True, "minAvailable": 2},
        },
    )
    run = cluster.run([include("otel_gateway")], vars=values)
    try:
        assert run.rc == 0, ok(run)
        spec = cluster.get(collector_path(ns, "otel-gateway"))["spec"]
        assert spec["replicas"] == 5
        assert "autoscaler" not in spec
        assert spec["podDisruptionBudget"] == {"minAvailable": 2}
        # What the values do not set is the role's.
        assert spec["config"]["processors"]["tail_sampling"]["num_traces"] == 100000
        assert spec["volumes"][0]["secret"]["secretName"] == "otel-gateway-tls"
        rerun = cluster.run([include("otel_gateway")], vars=values)
        assert rerun.rc == 0 and changed_tasks(rerun) == [], ok(rerun)
    finally:
        removal = cluster.run([include("otel_gateway", otel_gateway_state="absent")], vars=values)
        assert removal.rc == 0, ok(removal)
    assert cluster.get(collector_path(ns, "otel-gateway")) is None


def test_ingress_tls_secret_must_not_be_the_mtls_secret(cluster, tmp_path):
    """The seed's values file names the gateway's mTLS Secret as the Ingress TLS Secret: cert-manager would
    overwrite it. The role refuses that before anything is contacted."""
    run = cluster.run(
        [include("otel_gateway")],
        env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "none")},
        vars={
            "otel_gateway_ingress_enabled": True,
            "otel_gateway_ingress_tls": [
                {"secretName": "otel-gateway-tls", "hosts": ["prometheus-gateway.observability.example.com"]}
            ],
        },
    )
    assert run.rc != 0
    failure = next(t for t in run.tasks if t.get("failed"))
    # The gateway preset checks it, before it reads a kubeconfig (the task's only one).
    assert failure["task"].endswith("Apply or remove the gateway collector otel-gateway")
    assert "otel_gateway_ingress_tls names the Secret otel-gateway-tls" in failure["msg"]
    assert "give the Ingress a secretName of its own" in failure["msg"]
