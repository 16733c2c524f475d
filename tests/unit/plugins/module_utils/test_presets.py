"""presets: the agent and the gateway from their roles' settings, with no cluster."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as collector_render
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _common as presets
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent, gateway


def test_the_agent_defaults_the_seed_corrected():
    built = agent.build({})
    assert built.errors == []
    config = built.options["config"]
    headless = "otel-gateway-collector-headless.observability.svc.cluster.local"
    assert config["exporters"]["loadbalancing"]["resolver"] == {"dns": {"hostname": headless, "port": "4317"}}
    assert config["exporters"]["loadbalancing"]["protocol"]["otlp"]["tls"]["server_name_override"] == headless
    assert config["exporters"]["otlp/gateway"]["endpoint"] == (
        "otel-gateway-collector.observability.svc.cluster.local:4317"
    )
    assert built.options["ports"] == [
        {"name": "otlp-grpc", "port": 4317, "protocol": "TCP"},
        {"name": "otlp-http", "port": 4318, "protocol": "TCP"},
    ]
    assert built.options["volumes"][0]["secret"] == {"secretName": "otel-agent-tls", "defaultMode": 0o440}
    assert built.options["pod_security_context"] == {"fsGroup": 10001}
    assert built.rbac_name == "otel-agent"
    assert built.status["service"] == "otel-agent-collector.observability.svc.cluster.local"
    assert built.status["gateway_traces"] == f"{headless}:4317"
    status = built.publish("img", ["why"], ["careful"])
    assert list(status)[:3] == ["name", "namespace", "image"]
    assert status["permissions"] == ["why"] and status["lint_warnings"] == ["careful"]


def test_the_agent_endpoints_follow_the_gateway_and_the_cluster_domain():
    built = agent.build(
        {
            "gateway_name": "gw",
            "gateway_namespace": "central",
            "gateway_port": 14317,
            "cluster_domain": "example.org",
            "tls_server_name": "gw.example",
        }
    )
    exporters = built.options["config"]["exporters"]
    assert exporters["otlp/gateway"]["endpoint"] == "gw-collector.central.svc.example.org:14317"
    assert exporters["loadbalancing"]["resolver"]["dns"]["port"] == "14317"
    assert exporters["loadbalancing"]["protocol"]["otlp"]["tls"]["server_name_override"] == "gw.example"
    assert built.status["gateway_metrics_logs"] == "gw-collector.central.svc.example.org:14317"


def test_tls_off_means_insecure_exporters_and_no_volume():
    built = agent.build({"tls_enabled": False})
    exporters = built.options["config"]["exporters"]
    assert exporters["otlp/gateway"]["tls"] == {"insecure": True}
    assert exporters["loadbalancing"]["protocol"]["otlp"]["tls"] == {"insecure": True}
    assert built.options["volumes"] is None and built.options["pod_security_context"] is None
    assert built.status["mtls"] is False
    server = gateway.build({"tls_enabled": False})
    assert "tls" not in server.options["config"]["receivers"]["otlp"]["protocols"]["grpc"]
    assert server.status["tls"] is False and server.status["mtls"] is False
    no_client_auth = gateway.build({"tls_client_auth": False, "tls_reload_interval": ""})
    tls = no_client_auth.options["config"]["receivers"]["otlp"]["protocols"]["http"]["tls"]
    assert tls == {"cert_file": "/etc/otel/tls/tls.crt", "key_file": "/etc/otel/tls/tls.key"}


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"host_ports": True}, "otel_agent_host_ports=true (hostPort 4317 and 4318)"),
        ({"extra_ports": [{"name": "syslog", "port": 5140, "hostPort": 5140}]}, "otel_agent_extra_ports syslog"),
        ({"helm_values": {"ports": {"otlp": {"hostPort": 4317}}}}, "otel_agent_helm_values ports.otlp.hostPort"),
        (
            {"helm_values": {"extraVolumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}]}},
            "otel_agent_helm_values extraVolumes varlog (hostPath)",
        ),
    ],
)
def test_host_features_need_the_privileged_level(settings, named):
    refused = agent.build(settings)
    assert len(refused.errors) == 1 and named in refused.errors[0]
    assert "otel_agent_pod_security is restricted" in refused.errors[0]
    assert agent.build({**settings, "pod_security": "privileged"}).errors == []
    assert agent.build(settings, state="absent").errors == []  # removing needs no admission


def test_host_ports_are_on_both_otlp_ports_when_privileged():
    built = agent.build({"host_ports": True, "pod_security": "privileged", "otlp_grpc_port": 14317})
    assert [p.get("hostPort") for p in built.options["ports"]] == [14317, 4318]
    assert built.options["config"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:14317"


@pytest.mark.parametrize("port", [0, 70000, "http", True, None])
def test_bad_ports_name_the_role_variable(port):
    for preset, key, variable in (
        (agent, "otlp_grpc_port", "otel_agent_otlp_grpc_port"),
        (agent, "gateway_port", "otel_agent_gateway_port"),
        (gateway, "otlp_http_port", "otel_gateway_otlp_http_port"),
        (gateway, "ingress_port", "otel_gateway_ingress_port"),
    ):
        errors = preset.build({key: port}).errors
        assert any(e.startswith(f"{variable} is ") and "1 to 65535" in e for e in errors), errors


def test_port_collisions_are_refused_by_the_collector_render():
    """The agent's OTLP ports and an extra port of the same number: the Service could not have both."""
    built = agent.build({"extra_ports": [{"name": "other", "port": 4317}]})
    rendered = collector_render.render(built.name, CollectorOptions(**built.options))
    assert any("4317" in e for e in rendered.errors), rendered.errors


def test_helm_values_win_over_the_role_settings_they_set():
    values = {
        "image": {"repository": "example/otelcol", "tag": "1"},
        "resources": {"limits": {"memory": "1Gi"}},
        "tolerations": [],
        "ports": {"otlp": {"enabled": True, "containerPort": 4317, "servicePort": 4317}},
        "serviceAccount": {"name": "from-values"},
        "extraVolumes": [{"name": "extra", "emptyDir": {}}],
        "podSecurityContext": {"runAsGroup": 3000},
        "config": {"receivers": {"otlp": {}}},
    }
    built = agent.build({"helm_values": values, "config_extra": {"processors": {"batch": {}}}})
    options = built.options
    assert options["image"] is None and options["resources"] is None and options["tolerations"] is None
    assert options["ports"] is None
    assert built.service_account == options["service_account"] == "from-values"
    assert [v["name"] for v in options["volumes"]] == ["otel-tls", "extra"]  # the role's TLS volume stays
    assert options["pod_security_context"] == {"fsGroup": 10001, "runAsGroup": 3000}
    # The values' config replaces the built-in one; config_extra is merged over it.
    assert options["config"] == {"receivers": {"otlp": {}}, "processors": {"batch": {}}}
    gateway_built = gateway.build({"helm_values": {"replicaCount": 5, "autoscaling": {"enabled": False}}})
    assert gateway_built.options["replicas"] is None and gateway_built.options["autoscaler"] is None
    assert gateway_built.options["pod_disruption_budget"] == {"maxUnavailable": 1}
    assert gateway.build({"helm_values": {"resources": {"limits": {"memory": "1Gi"}}}}).resources == {
        "limits": {"memory": "1Gi"}
    }


def test_config_extra_merges_recursively_and_replaces_lists():
    built = gateway.build(
        {
            "config_extra": {
                "processors": {"batch": {"timeout": "1s"}},
                "service": {"pipelines": {"traces": {"exporters": ["debug"]}}},
            }
        }
    )
    config = built.options["config"]
    assert config["processors"]["batch"] == {"timeout": "1s", "send_batch_size": 1024, "send_batch_max_size": 1024}
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["debug"]
    assert config["service"]["pipelines"]["traces"]["processors"] == ["memory_limiter", "tail_sampling", "batch"]
    assert presets.combine({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_config_must_be_a_mapping():
    errors = agent.build({"config": "receivers: [otlp"}).errors
    assert errors and "otel_agent_config" in errors[0] and "must be dictionaries" in errors[0]
    assert agent.build({"nonsense": 1}).errors[0].startswith("preset_settings.nonsense: not a setting")


def test_gateway_monitoring_choice_and_ingress_checks():
    assert "set it to auto, true or false" in gateway.build({"prometheus_monitoring": "sometimes"}).errors[0]
    assert (
        "otel_gateway_ingress_hosts is empty" in gateway.build({"ingress_enabled": True, "ingress_hosts": []}).errors[0]
    )
    mtls = gateway.build({"ingress_tls": [{"secretName": "otel-gateway-tls"}]}).errors
    assert "otel-gateway-tls" in mtls[0] and "otel_gateway_tls_secret" in mtls[0]


class FakeDiscovery:
    def __init__(self, served):
        self.served, self.invalidated = served, []

    def invalidate(self, api_version):
        self.invalidated.append(api_version)

    def find(self, api_version, kind):
        return object() if kind in self.served else None


def test_gateway_monitoring_objects_follow_discovery_and_the_operator_is_not_asked_twice():
    built = gateway.build({})
    assert built.monitoring_kinds(None) == []  # rendering: auto means none
    discovery = FakeDiscovery({"ServiceMonitor"})
    assert built.monitoring_kinds(discovery) == ["ServiceMonitor"]
    assert discovery.invalidated == [presets.MONITORING_API]  # read again, not from the cache
    assert built.self_monitoring(["ServiceMonitor"]) is False and built.self_monitoring([]) is True
    names = [o["metadata"]["name"] for o in built.objects(["ServiceMonitor"])]
    assert names == ["otel-gateway-collector-monitoring", "otel-gateway-collector-prometheus"]
    forced = gateway.build({"prometheus_monitoring": True})
    assert forced.monitoring_kinds(FakeDiscovery(set())) == ["ServiceMonitor", "PrometheusRule"]
    assert gateway.build({"prometheus_monitoring": False}).monitoring_kinds(FakeDiscovery({"ServiceMonitor"})) == []
    # Removing looks at what is served whatever the setting says.
    assert gateway.build({"prometheus_monitoring": False}, "absent").monitoring_kinds(
        FakeDiscovery({"PrometheusRule"})
    ) == ["PrometheusRule"]


def test_gateway_alerts_use_the_memory_limit_and_the_ratios():
    built = gateway.build({"alert_queue_ratio": 0.5})
    rule = built.objects(["PrometheusRule"])[0]
    rules = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    assert str(int(2 * 1024**3 * 0.85)) in rules["OtelGatewayMemoryNearLimit"]["expr"]
    assert rules["OtelGatewayExporterQueueNearlyFull"]["expr"].endswith("> 0.5")
    assert "50%" in rules["OtelGatewayExporterQueueNearlyFull"]["annotations"]["description"]
    assert 'job="otel-gateway-collector-monitoring", namespace="observability"' in rules["OtelGatewayDown"]["expr"]
    no_limit = gateway.build({"resources": {"requests": {"memory": "1Gi"}}}).objects(["PrometheusRule"])[0]
    assert "OtelGatewayMemoryNearLimit" not in str(no_limit)
    assert gateway.memory_limit_bytes({"limits": {"memory": "1.5G"}}) == 1_500_000_000
    assert gateway.memory_limit_bytes({"limits": {"memory": "2Xi"}}) == 0


def test_gateway_ports_come_from_the_prometheus_exporter():
    assert gateway.build({}).options["ports"] == [{"name": "prometheus", "port": 8889, "protocol": "TCP"}]
    assert gateway.build({"prometheus_endpoint": "0.0.0.0"}).options["ports"] is None
    built = gateway.build({"ingress_enabled": True})
    ingress = built.objects([])[-1]
    assert ingress["kind"] == "Ingress"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": "otel-gateway-collector",
        "port": {"number": 8889},
    }
    assert gateway.build({}).objects([]) == []  # no Ingress unless enabled
    # Removed whatever the setting says.
    assert [o["kind"] for o in gateway.build({}, "absent").objects([], "absent")] == ["Ingress"]
    # Turned off: an Ingress an earlier apply made is removed by the same task.
    stale = gateway.build({"name": "gw", "namespace": "central"}).stale_objects()
    assert [(o["kind"], o["metadata"]["name"], o["metadata"]["namespace"]) for o in stale] == [
        ("Ingress", "gw-prometheus", "central")
    ]
    assert built.stale_objects() == []


def test_gateway_default_affinity_and_status():
    built = gateway.build({"name": "gw", "namespace": "central"})
    term = built.options["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "central.gw"
    assert built.service_account == "gw"
    built.monitoring_kinds(None)
    status = built.publish("img", ["unused"], [])
    assert status["service"] == "gw-collector.central.svc"
    assert status["headless_service"] == "gw-collector-headless.central.svc"
    assert status["monitoring_objects"] == [] and "permissions" not in status
    assert list(status)[-1] == "lint_warnings"
