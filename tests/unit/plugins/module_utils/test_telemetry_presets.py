"""Cluster telemetry from the presets, with no cluster: the agent's kubelet metrics, container logs and host
metrics (in a separate host collector or in the agent), the cluster collector, the gateway's resource labels
and alerts; every configuration rendered and linted; the RBAC derived for each."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as collector_render
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import runner as collector_runner
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent, cluster, gateway
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import render as rbac_render

from .test_rbac_render import K8S_CLUSTER_DEFAULT

LOGS_AND_HOST = {"container_logs": True, "host_metrics": True}
IN_AGENT = {**LOGS_AND_HOST, "host_collector": "agent", "pod_security": "privileged", "namespace": "node-agents"}


def rendered(part) -> dict:
    """The part's collector as otel.kubernetes.collector renders it; it must pass the lint."""
    result = collector_render.render(part.name, CollectorOptions(**part.options, collector_version=part.version))
    assert result.errors == [], result.errors
    return result.object


def permissions(part) -> dict:
    perms = rbac_render.derive_permissions(part.options["config"], part.namespace)
    return dict(perms.cluster), perms.namespaced


# ---------------------------------------------------------------- kubelet metrics (on by default)
def test_the_agent_reads_its_own_kubelet_by_node_ip_verifying_its_certificate():
    built = agent.build({})
    assert built.errors == [] and built.warnings == []
    receiver = built.options["config"]["receivers"]["kubelet_stats"]
    assert receiver == {
        "auth_type": "serviceAccount",
        "endpoint": "https://${env:K8S_NODE_IP}:10250",
        "collection_interval": "30s",
        "metric_groups": ["node", "pod", "container"],
        "node": "${env:K8S_NODE_NAME}",
        "insecure_skip_verify": False,
        "ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    }
    pipeline = built.options["config"]["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["otlp", "kubelet_stats"]
    assert pipeline["processors"] == ["memory_limiter", "k8sattributes", "batch"]
    env = {
        e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in rendered(built)["spec"]["env"] if "valueFrom" in e
    }
    assert env == {"K8S_NODE_NAME": "spec.nodeName", "K8S_NODE_IP": "status.hostIP"}
    assert built.status["kubelet_metrics"] is True and built.status["host_collector"] is None


def test_the_kubelet_metrics_need_nodes_stats_and_nothing_more():
    cluster_rules, namespaced = permissions(agent.build({}))
    assert cluster_rules == {
        ("", "nodes/stats"): {"get"},
        ("", "pods"): {"get", "list", "watch"},
        ("", "namespaces"): {"get", "list", "watch"},
        ("apps", "replicasets"): {"get", "list", "watch"},
    }
    assert namespaced == {}
    without = permissions(agent.build({"kubelet_metrics": False}))[0]
    assert ("", "nodes/stats") not in without
    assert "kubelet_stats" not in agent.build({"kubelet_metrics": False}).options["config"]["receivers"]


def test_skipping_the_kubelets_certificate_check_is_explicit_and_warned():
    built = agent.build({"kubelet_insecure_skip_verify": True})
    receiver = built.options["config"]["receivers"]["kubelet_stats"]
    assert receiver["insecure_skip_verify"] is True and "ca_file" not in receiver
    assert len(built.warnings) == 1 and "otel_agent_kubelet_insecure_skip_verify is true" in built.warnings[0]
    assert "otel_agent_kubelet_ca_file" in built.warnings[0]
    # The endpoint and the CA are settings.
    named = agent.build({"kubelet_endpoint": "https://${env:K8S_NODE_NAME}:10250", "kubelet_ca_file": "/ca/k.pem"})
    assert named.options["config"]["receivers"]["kubelet_stats"]["endpoint"] == "https://${env:K8S_NODE_NAME}:10250"
    assert named.options["config"]["receivers"]["kubelet_stats"]["ca_file"] == "/ca/k.pem"


@pytest.mark.parametrize("groups", [["node", "pods"], [], "node"])
def test_unknown_kubelet_metric_groups_name_the_variable(groups):
    errors = agent.build({"kubelet_metric_groups": groups}).errors
    assert len(errors) == 1 and errors[0].startswith("otel_agent_kubelet_metric_groups is ")
    assert "container, pod, node, volume" in errors[0]


# ---------------------------------------------------------------- container logs and host metrics: separate
def test_container_logs_and_host_metrics_go_to_a_separate_privileged_host_collector_by_default():
    built = agent.build(LOGS_AND_HOST)
    assert built.errors == []
    assert built.pod_security == "restricted"  # the agent stays restricted
    assert built.options["volumes"] == [agent.presets.tls_volume("otel-agent-tls")]
    (host,) = built.companions
    assert (host.name, host.namespace, host.pod_security) == ("otel-agent-host", "observability-host", "privileged")
    assert host.automount_token is False and host.service_account == "otel-agent-host"
    assert built.status["host_collector"] == {"name": "otel-agent-host", "namespace": "observability-host"}
    config = host.options["config"]
    logs = config["receivers"]["file_log"]
    assert logs["include"] == ["/var/log/pods/*/*/*.log"]
    assert logs["exclude"] == [
        "/var/log/pods/observability_*/otc-container/*.log",
        "/var/log/pods/observability-host_*/otc-container/*.log",
    ]
    assert logs["operators"] == [{"type": "container", "id": "container-parser"}]
    assert logs["include_file_path"] is True and logs["storage"] == "file_storage"
    assert logs["retry_on_failure"] == {"enabled": True} and logs["start_at"] == "beginning"
    assert config["extensions"]["file_storage"] == {
        "directory": "/var/lib/otelcol/file_storage",
        "create_directory": True,
    }
    exporter = config["exporters"]["otlp/agent"]
    assert exporter["endpoint"] == "otel-agent-collector.observability.svc.cluster.local:4317"
    assert exporter["sending_queue"] == {"enabled": True, "storage": "file_storage"}
    metrics = config["receivers"]["host_metrics"]
    assert metrics["root_path"] == "/hostfs" and set(metrics["scrapers"]) == {
        "cpu",
        "load",
        "memory",
        "disk",
        "filesystem",
        "network",
    }
    assert config["processors"]["resource/node"]["attributes"] == [
        {"key": "k8s.node.name", "value": "${env:K8S_NODE_NAME}", "action": "upsert"}
    ]
    assert config["service"]["pipelines"]["metrics"]["processors"] == ["memory_limiter", "resource/node", "batch"]
    spec = rendered(host)["spec"]
    assert spec["mode"] == "daemonset" and spec["tolerations"] == [{"operator": "Exists"}]
    assert {v["name"]: v["hostPath"] for v in spec["volumes"]} == {
        "pod-logs": {"path": "/var/log/pods", "type": "Directory"},
        "otel-storage": {"path": "/var/lib/otelcol/observability-host/otel-agent-host", "type": "DirectoryOrCreate"},
        "hostfs": {"path": "/", "type": "Directory"},
    }
    mounts = {m["name"]: m for m in spec["volumeMounts"]}
    assert mounts["hostfs"] == {
        "name": "hostfs",
        "mountPath": "/hostfs",
        "readOnly": True,
        "mountPropagation": "HostToContainer",
    }
    assert mounts["pod-logs"]["readOnly"] is True
    # Root (the pod log files are root's, 0640) without any capability, read-only root filesystem.
    context = spec["securityContext"]
    assert context["runAsUser"] == 0 and context["runAsNonRoot"] is False
    assert context["capabilities"] == {"drop": ["ALL"]} and context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    # The agent does not attribute what the host collector sends about the host to the host collector's Pod.
    fields = built.options["config"]["processors"]["k8sattributes"]["filter"]["fields"]
    assert fields == [{"key": "metadata.namespace", "value": "observability-host", "op": "not-equals"}]
    # No API access at all: a ServiceAccount without a token, no role.
    objects = rbac_render.render_rbac(
        host.rbac_name,
        host.namespace,
        service_account=host.service_account,
        config=host.options["config"],
        automount_token=host.automount_token,
    )
    assert objects == [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "otel-agent-host",
                "namespace": "observability-host",
                "labels": {"app.kubernetes.io/managed-by": "otel.kubernetes"},
            },
            "automountServiceAccountToken": False,
        }
    ]


def test_the_host_collector_reads_only_what_is_turned_on():
    (logs_only,) = agent.build({"container_logs": True}).companions
    assert set(logs_only.options["config"]["receivers"]) == {"file_log"}
    assert [v["name"] for v in logs_only.options["volumes"]] == ["pod-logs", "otel-storage"]
    (metrics_only,) = agent.build({"host_metrics": True}).companions
    config = metrics_only.options["config"]
    assert set(config["receivers"]) == {"host_metrics"} and "file_storage" not in config["extensions"]
    assert "sending_queue" not in config["exporters"]["otlp/agent"]
    assert [v["name"] for v in metrics_only.options["volumes"]] == ["hostfs"]
    paths = agent.build({"container_logs": True, "pod_logs_host_path": "/srv/pods", "storage_host_path": "/srv/st"})
    volumes = {v["name"]: v["hostPath"]["path"] for v in paths.companions[0].options["volumes"]}
    assert volumes == {"pod-logs": "/srv/pods", "otel-storage": "/srv/st/observability-host/otel-agent-host"}


def test_a_host_collector_turned_off_is_removed_and_one_turned_on_is_not():
    stale = agent.build({}).stale_objects()
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in stale] == [
        ("OpenTelemetryCollector", "observability-host", "otel-agent-host"),
        ("ServiceAccount", "observability-host", "otel-agent-host"),
    ]
    assert agent.build(LOGS_AND_HOST).stale_objects() == []
    assert [c.name for c in agent.build({}, state="absent").companions] == ["otel-agent-host"]
    assert agent.build(IN_AGENT).companions == [] and len(agent.build(IN_AGENT).stale_objects()) == 2


@pytest.mark.parametrize("namespace", ["observability", "gateways"])
def test_the_host_namespace_must_be_one_of_its_own(namespace):
    errors = agent.build({**LOGS_AND_HOST, "host_namespace": namespace, "gateway_namespace": "gateways"}).errors
    assert len(errors) == 1 and f"otel_agent_host_namespace is {namespace}, also otel_agent_" in errors[0]
    assert "labelled privileged" in errors[0] and "Nothing was applied" in errors[0]


# ---------------------------------------------------------------- ... or in the agent
def test_in_the_agent_they_need_the_privileged_level_and_both_fixes_are_named():
    for level in ("restricted", "baseline"):
        errors = agent.build({**LOGS_AND_HOST, "host_collector": "agent", "pod_security": level}).errors
        assert len(errors) == 1, errors
        for words in (
            "otel_agent_container_logs=true (hostPath /var/log/pods and /var/lib/otelcol)",
            "otel_agent_host_metrics=true (hostPath / at /hostfs)",
            f"otel_agent_host_collector is agent and otel_agent_pod_security is {level}",
            "set otel_agent_host_collector to separate",
            "otel_agent_host_namespace (observability-host)",
            "set otel_agent_pod_security to privileged",
            "Nothing was applied",
        ):
            assert words in errors[0], errors[0]
    assert agent.build({**LOGS_AND_HOST, "host_collector": "agent"}, state="absent").errors == []


def test_in_the_agent_it_reads_them_itself_as_root_without_capabilities():
    built = agent.build(IN_AGENT)
    assert built.errors == [] and built.companions == []
    config = built.options["config"]
    assert config["service"]["pipelines"]["logs"]["receivers"] == ["otlp", "file_log"]
    assert config["service"]["pipelines"]["metrics/host"] == {
        "receivers": ["host_metrics"],
        "processors": ["memory_limiter", "resource/node", "batch"],
        "exporters": ["otlp/gateway"],
    }
    assert "fields" not in config["processors"]["k8sattributes"]["filter"]
    assert config["receivers"]["file_log"]["exclude"] == [
        "/var/log/pods/node-agents_*/otc-container/*.log",
        "/var/log/pods/observability_*/otc-container/*.log",
    ]
    spec = rendered(built)["spec"]
    assert [v["name"] for v in spec["volumes"]] == ["otel-tls", "pod-logs", "otel-storage", "hostfs"]
    assert spec["podSecurityContext"]["fsGroup"] == 10001  # the TLS Secret's files stay readable
    assert spec["podSecurityContext"]["runAsUser"] == 0 and spec["securityContext"]["runAsUser"] == 0
    assert spec["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_an_unknown_placement_names_both_choices():
    errors = agent.build({**LOGS_AND_HOST, "host_collector": "sidecar"}).errors
    assert len(errors) == 1 and errors[0].startswith('otel_agent_host_collector is "sidecar"; set it to separate')
    assert "or agent (the agent reads them itself, which needs otel_agent_pod_security: privileged)" in errors[0]


def test_switches_given_as_text_are_read_as_ansible_reads_them():
    # -e otel_agent_container_logs=false on the command line gives the text "false".
    off = agent.build({"container_logs": "false", "host_metrics": "no", "kubelet_metrics": "False"})
    assert off.companions == [] and "kubelet_stats" not in off.options["config"]["receivers"]
    on = agent.build({"container_logs": "true"})
    assert [c.name for c in on.companions] == ["otel-agent-host"]
    assert cluster.build({"events": "false"}).options["config"]["service"]["pipelines"].keys() == {"metrics"}


def test_a_typo_in_a_preset_variable_names_it():
    errors = agent.build({"container_log": True}).errors
    assert errors == [
        "preset_settings.container_log: not a setting of this preset (role variable otel_agent_container_log does "
        "not exist); use one of " + ", ".join(sorted(agent.SETTINGS.defaults()))
    ]
    assert "role variable otel_cluster_event does not exist" in cluster.build({"event": False}).errors[0]


# ---------------------------------------------------------------- the cluster collector
def test_the_cluster_collector_is_one_replica_reading_state_and_events_to_the_gateway_over_mtls():
    built = cluster.build({})
    assert built.errors == []
    assert (built.options["mode"], built.options["replicas"]) == ("deployment", 1)
    config = built.options["config"]
    assert config["receivers"]["k8s_cluster"] == {
        "auth_type": "serviceAccount",
        "collection_interval": "30s",
        "node_conditions_to_report": ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"],
        "allocatable_types_to_report": ["cpu", "memory", "ephemeral-storage", "pods"],
    }
    assert config["receivers"]["k8s_objects"]["objects"] == [
        {"name": "events", "group": "events.k8s.io", "mode": "watch", "exclude_watch_type": ["DELETED"]}
    ]
    assert config["service"]["pipelines"] == {
        "metrics": {
            "receivers": ["k8s_cluster"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["otlp/gateway"],
        },
        "logs": {
            "receivers": ["k8s_objects"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["otlp/gateway"],
        },
    }
    exporter = config["exporters"]["otlp/gateway"]
    assert exporter["endpoint"] == "otel-gateway-collector.observability.svc.cluster.local:4317"
    assert exporter["tls"]["cert_file"] == "/etc/otel/tls/tls.crt"
    spec = rendered(built)["spec"]
    assert spec["image"].endswith("/opentelemetry-collector-k8s:0.159.0")
    assert spec["volumes"][0]["secret"]["secretName"] == "otel-cluster-tls"
    assert spec["securityContext"]["runAsNonRoot"] is True  # restricted
    pinned = rendered(cluster.build({"collector_version": "0.152.0"}))["spec"]["image"]
    assert pinned == "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.152.0"
    assert built.status == {
        "name": "otel-cluster",
        "namespace": "observability",
        "metrics": True,
        "events": True,
        "gateway": "otel-gateway-collector.observability.svc.cluster.local:4317",
        "mtls": True,
    }


def test_the_cluster_collector_lists_and_watches_what_it_reads_and_nothing_else():
    rules, namespaced = permissions(cluster.build({}))
    watch = {"list", "watch"}
    assert rules == {
        # What the k8s_cluster receiver's informers watch (test_rbac_render holds the list from its source).
        **{key: watch for key in K8S_CLUSTER_DEFAULT},
        ("events.k8s.io", "events"): watch,
    }
    assert namespaced == {}
    events_only = permissions(cluster.build({"metrics": False}))[0]
    assert events_only == {("events.k8s.io", "events"): watch}


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"metrics": False, "events": False}, "otel_cluster_metrics and otel_cluster_events are both false"),
        ({"node_conditions": ["ready"]}, 'otel_cluster_node_conditions is ["ready"]'),
        ({"allocatable_types": ["gpu"]}, 'otel_cluster_allocatable_types is ["gpu"]; give a list of cpu, memory'),
        ({"gateway_port": 0}, "otel_cluster_gateway_port is 0; give a port number"),
    ],
)
def test_bad_cluster_settings_name_the_variable(settings, named):
    errors = cluster.build(settings).errors
    assert any(named in e for e in errors), errors


# ---------------------------------------------------------------- the gateway
def test_the_gateways_prometheus_exporter_carries_the_resource_attributes_as_labels():
    exporter = gateway.build({}).options["config"]["exporters"]["prometheus"]
    assert exporter == {"endpoint": "0.0.0.0:8889", "resource_to_telemetry_conversion": {"enabled": True}}
    off = gateway.build({"prometheus_resource_labels": False}).options["config"]["exporters"]["prometheus"]
    assert off == {"endpoint": "0.0.0.0:8889"}


def test_the_gateways_alerts_cover_crash_loops_not_ready_nodes_and_every_signal_dropped():
    rules = {r["alert"]: r for r in gateway.build({}).objects(["PrometheusRule"])[0]["spec"]["groups"][0]["rules"]}
    assert "k8s_container_restarts" in rules["OtelPodCrashLooping"]["expr"]
    assert "k8s_namespace_name, k8s_pod_name, k8s_container_name" in rules["OtelPodCrashLooping"]["expr"]
    assert rules["OtelNodeNotReady"]["expr"] == "max by (k8s_node_name) (k8s_node_condition_ready) < 1"
    dropping = rules["OtelCollectorDroppingData"]["expr"]
    refusing = rules["OtelCollectorRefusingData"]["expr"]
    for signal in ("spans", "metric_points", "log_records"):
        for metric in ("exporter_send_failed", "exporter_enqueue_failed", "receiver_failed"):
            assert f"otelcol_{metric}_{signal}(_total)?" in dropping
        assert f"otelcol_receiver_refused_{signal}(_total)?" in refusing
    assert rules["OtelCollectorDroppingData"]["labels"] == {"severity": "critical"}


# ---------------------------------------------------------------- one task renders the agent and its host collector
class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = {
            "preset": "agent",
            "preset_settings": {},
            "state": "present",
            "render_only": True,
            "rendered_before": [],
            "collector_binary": None,
            "extra_objects": None,
            **{key: None for key in collector_runner.NOT_WITH_PRESET},
            "upgrade_strategy": "automatic",
            "self_monitoring": False,
            "traces_routed_by_trace_id": False,
            **params,
        }
        self.check_mode = False
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Exited(dict(result, failed=True))


def run(module) -> dict:
    with pytest.raises(Exited) as exited:
        collector_runner.CollectorRunner(module).run()
    return exited.value.args[0]


def test_one_agent_task_renders_the_host_collector_too_namespaces_first(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no collector binary: the lint alone
    module = FakeModule(preset_settings=LOGS_AND_HOST)
    result = run(module)
    assert not result.get("failed"), result
    kinds = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in result["objects"]]
    assert kinds == [
        ("Namespace", None, "observability"),
        ("Namespace", None, "observability-host"),
        ("ServiceAccount", "observability", "otel-agent"),
        ("ServiceAccount", "observability-host", "otel-agent-host"),
        ("ClusterRole", None, "otel-agent"),
        ("ClusterRoleBinding", None, "otel-agent"),
        ("OpenTelemetryCollector", "observability", "otel-agent"),
        ("OpenTelemetryCollector", "observability-host", "otel-agent-host"),
    ]
    levels = {
        o["metadata"]["name"]: o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for o in result["objects"]
        if o["kind"] == "Namespace"
    }
    assert levels == {"observability": "restricted", "observability-host": "privileged"}
    assert result["status"]["host_collector"] == {"name": "otel-agent-host", "namespace": "observability-host"}
    assert any(reason.startswith("receivers.kubelet_stats: get nodes/stats") for reason in result["permissions"])
    assert module.warnings == []


def test_one_agent_task_refuses_host_reads_in_a_restricted_agent_with_nothing_rendered(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run(FakeModule(preset_settings={**LOGS_AND_HOST, "host_collector": "agent"}))
    assert result["failed"] and "objects" not in result
    assert "otel_agent_host_collector is agent and otel_agent_pod_security is restricted" in result["msg"]
