"""collector_render: the OpenTelemetryCollector v1beta1 object, its defaults and refusals."""

from __future__ import annotations

import copy

import pytest
import yaml
from collector_configs import AGENT_CONFIG

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as cr
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions

# The seed's agent, as its v1alpha1 `config: |` string.
SEED_V1ALPHA1_AGENT = """\
apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: otel-agent
spec:
  mode: daemonset
  config: |
    receivers:
      otlp:
        protocols:
          grpc:
            endpoint: 0.0.0.0:4317
          http:
            endpoint: 0.0.0.0:4318
    processors:
      batch:
        timeout: 1s
        send_batch_size: 1024
      memory_limiter:
        limit_mib: 512
        check_interval: 1s
      k8sattributes:
        extract:
          metadata:
            - k8s.namespace.name
            - k8s.pod.name
    exporters:
      otlp:
        endpoint: otel-gateway:4317
        tls:
          insecure: true
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [k8sattributes, batch, memory_limiter]
          exporters: [otlp]
"""

# The seed's gateway scaling block.
SEED_AUTOSCALER = {
    "enabled": True,
    "minReplicas": 2,
    "maxReplicas": 10,
    "targetCPUUtilizationPercentage": 60,
    "targetMemoryUtilizationPercentage": 60,
}

# The seed's separate HPA for the gateway.
SEED_HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "otel-gateway-hpa"},
    "spec": {
        "scaleTargetRef": {
            "apiVersion": "opentelemetry.io/v1alpha1",
            "kind": "OpenTelemetryCollector",
            "name": "otel-gateway",
        },
        "minReplicas": 2,
        "maxReplicas": 10,
    },
}

GATEWAY_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
        "tail_sampling": {
            "decision_wait": "10s",
            "policies": [{"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}],
        },
        "batch": {},
    },
    "exporters": {"otlp/tempo": {"endpoint": "tempo:4317", "tls": {"insecure": True}}},
    "service": {
        "pipelines": {
            "traces": {
                "receivers": ["otlp"],
                "processors": ["memory_limiter", "tail_sampling", "batch"],
                "exporters": ["otlp/tempo"],
            }
        }
    },
}


MEMORY = {"limits": {"memory": "1Gi"}, "requests": {"memory": "512Mi"}}


def render(**options):
    options.setdefault("config", copy.deepcopy(GATEWAY_CONFIG))
    options.setdefault("namespace", "observability")
    options.setdefault("resources", copy.deepcopy(MEMORY))
    if "version" in options:
        options["collector_version"] = options.pop("version")
    return cr.render(options.pop("name", "otel-gateway"), CollectorOptions(**options))


def matching(messages: list, *needles: str) -> list:
    return [m for m in messages if all(n in m for n in needles)]


def env_of(rendered) -> dict:
    return {e["name"]: e for e in rendered.object["spec"].get("env", [])}


# ---------------------------------------------------------------- the object
def test_v1beta1_object_with_structured_config():
    rendered = render()
    assert rendered.valid, rendered.errors
    obj = rendered.object
    assert obj["apiVersion"] == "opentelemetry.io/v1beta1"
    assert obj["kind"] == "OpenTelemetryCollector"
    assert {k: v for k, v in obj["metadata"].items() if k != "annotations"} == {
        "name": "otel-gateway",
        "namespace": "observability",
    }
    assert obj["spec"]["mode"] == "deployment"
    assert obj["spec"]["upgradeStrategy"] == "automatic"
    assert obj["spec"]["config"] == GATEWAY_CONFIG


def test_seed_v1alpha1_string_config_renders_as_v1beta1_structured():
    seed = yaml.safe_load(SEED_V1ALPHA1_AGENT)
    assert isinstance(seed["spec"]["config"], str)
    rendered = cr.render(
        "otel-agent",
        CollectorOptions(config=seed["spec"]["config"], mode="daemonset", resources={"limits": {"memory": "1Gi"}}),
    )
    obj = rendered.object
    assert obj["apiVersion"] == "opentelemetry.io/v1beta1"
    config = obj["spec"]["config"]
    assert isinstance(config, dict)
    assert config["exporters"]["otlp"]["endpoint"] == "otel-gateway:4317"
    assert config["service"]["pipelines"]["traces"]["processors"] == ["k8sattributes", "batch", "memory_limiter"]
    # ... and the seed's mistakes in it are still reported.
    assert matching(rendered.warnings, "service.pipelines.traces.processors", "memory_limiter is at position 3")
    assert matching(rendered.warnings, "processors.k8sattributes.filter")


def test_the_callers_config_is_not_changed():
    config = copy.deepcopy(GATEWAY_CONFIG)
    del config["processors"]["memory_limiter"]["limit_percentage"]
    before = copy.deepcopy(config)
    render(config=config, self_monitoring=True)
    assert config == before


def test_labels_and_annotations():
    obj = render(labels={"team": "obs"}, annotations={"owner": "sre"}).object
    assert obj["metadata"]["labels"] == {"team": "obs"}
    assert obj["metadata"]["annotations"]["owner"] == "sre"


def skipped_checks(obj: dict) -> dict:
    annotations = obj["metadata"].get("annotations") or {}
    return dict(v.split("=") for k, v in annotations.items() if k.startswith("checkov.io/skip"))


def test_checks_a_collector_cannot_pass_are_skipped_with_their_reason():
    gateway = render().object
    assert set(skipped_checks(gateway)) == {"CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_38", "CKV2_K8S_6"}
    assert all(len(reason) > 40 for reason in skipped_checks(gateway).values())
    # numbered from 1, as checkov reads them (checkov.io/skip1, skip2, ...)
    assert sorted(gateway["metadata"]["annotations"]) == [f"checkov.io/skip{i}" for i in range(1, 5)]
    agent = render(mode="daemonset", ports=[{"name": "otlp-grpc", "port": 4317, "hostPort": 4317}]).object
    assert "CKV_K8S_26" in skipped_checks(agent)  # the host port only where there is one
    pinned = render(image=f"{dist.GHCR}/opentelemetry-collector-k8s@sha256:{'0' * 64}").object
    assert "CKV_K8S_43" not in skipped_checks(pinned)
    assert "annotations" not in render(mode="sidecar").object["metadata"]  # no workload of its own


def test_the_callers_annotations_win_over_the_scanners():
    obj = render(annotations={"checkov.io/skip1": "CKV_K8S_43=our own reason"}).object
    assert skipped_checks(obj)["CKV_K8S_43"] == "our own reason"


@pytest.mark.parametrize("name", ["Otel", "otel_gw", "-otel", "x" * 64])
def test_invalid_names_are_refused(name):
    assert matching(render(name=name).errors, "name:", "not a valid collector name")


# ---------------------------------------------------------------- image
def test_image_is_chosen_from_the_components():
    assert render().image == f"{dist.GHCR}/opentelemetry-collector-k8s:{dist.COLLECTOR_VERSION}"  # tail_sampling
    core = copy.deepcopy(GATEWAY_CONFIG)
    del core["processors"]["tail_sampling"]
    core["service"]["pipelines"]["traces"]["processors"] = ["memory_limiter", "batch"]
    rendered = render(config=core, version="0.158.0")
    assert rendered.object["spec"]["image"] == f"{dist.GHCR}/opentelemetry-collector:0.158.0"
    assert rendered.distribution == "core"


def test_given_image_is_kept_and_checked():
    rendered = render(image="otel/opentelemetry-collector:0.159.0")
    assert rendered.object["spec"]["image"] == "otel/opentelemetry-collector:0.159.0"
    assert matching(rendered.errors, "processors.tail_sampling", "not in the core distribution")


def test_distribution_option_picks_its_image():
    rendered = render(distribution="contrib")
    assert rendered.object["spec"]["image"].startswith(f"{dist.GHCR}/opentelemetry-collector-contrib:")


# ---------------------------------------------------------------- lint inside render
def test_lint_errors_stop_the_render():
    config = copy.deepcopy(GATEWAY_CONFIG)
    config["processors"]["memory_limiter"] = {"check_interval": "1s", "limit_mib": 768, "spike_limit_mib": 256}
    rendered = render(config=config, resources={"limits": {"memory": "512Mi"}})
    assert not rendered.valid
    assert matching(rendered.errors, "processors.memory_limiter.limit_mib", "768 MiB", "512Mi")


def test_seed_tail_sampling_with_three_replicas_warns():
    rendered = render(replicas=3)
    assert matching(rendered.warnings, "processors.tail_sampling", "replicas: 3")
    assert not matching(render(replicas=3, traces_routed_by_trace_id=True).warnings, "tail_sampling")


def test_yaml_errors_in_config_are_errors():
    assert matching(render(config="receivers: [").errors, "config: not valid YAML")


# ---------------------------------------------------------------- autoscaler
def test_seed_autoscaler_enabled_and_percentage_names_are_refused():
    rendered = render(replicas=3, autoscaler=dict(SEED_AUTOSCALER))
    enabled = matching(rendered.errors, "autoscaler.enabled")
    assert enabled and "no `enabled` field" in enabled[0] and "Helm chart" in enabled[0]
    assert "maxReplicas turns autoscaling on" in enabled[0] and "creates the HorizontalPodAutoscaler" in enabled[0]
    cpu = matching(rendered.errors, "autoscaler.targetCPUUtilizationPercentage", "`targetCPUUtilization`")
    memory = matching(rendered.errors, "autoscaler.targetMemoryUtilizationPercentage", "`targetMemoryUtilization`")
    assert cpu and memory
    assert "maxReplicas turns autoscaling on" in cpu[0]
    assert "enabled" not in rendered.object["spec"]["autoscaler"]


def test_operator_autoscaler_is_rendered():
    scaler = {
        "minReplicas": 3,
        "maxReplicas": 10,
        "targetCPUUtilization": 60,
        "targetMemoryUtilization": 80,
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
    }
    rendered = render(replicas=3, autoscaler=scaler, traces_routed_by_trace_id=True)
    assert rendered.valid, rendered.errors
    assert rendered.object["spec"]["autoscaler"] == scaler


def test_autoscaler_needs_max_replicas_and_a_scalable_mode():
    assert matching(
        render(autoscaler={"minReplicas": 2}).errors, "autoscaler.maxReplicas: missing", "turns autoscaling on"
    )
    assert matching(
        render(autoscaler={"maxReplicas": 3}, mode="daemonset", config=AGENT_CONFIG).errors,
        "autoscaler:",
        "cannot be autoscaled",
    )
    assert matching(
        render(autoscaler={"minReplicas": 5, "maxReplicas": 3}).errors, "autoscaler.minReplicas", "above maxReplicas"
    )


def test_separate_hpa_for_the_collector_is_refused():
    rendered = render(extra_objects=[SEED_HPA])
    found = matching(rendered.errors, "extra_objects", "otel-gateway-hpa", "operator creates")
    assert found and "maxReplicas" in found[0]
    other = copy.deepcopy(SEED_HPA)
    other["spec"]["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert not matching(render(extra_objects=[other]).errors, "extra_objects")


def test_hpa_on_the_operator_workload_is_refused_too():
    hpa = copy.deepcopy(SEED_HPA)
    hpa["spec"]["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "otel-gateway-collector"}
    assert cr.hpa_conflicts([hpa], "otel-gateway")


# ---------------------------------------------------------------- replicas and modes
def test_replicas_for_a_daemonset_is_an_error():
    assert matching(render(mode="daemonset", replicas=2, config=AGENT_CONFIG).errors, "replicas:", "one collector")


def test_sidecar_refuses_tolerations_affinity_priority():
    rendered = render(
        mode="sidecar",
        config=AGENT_CONFIG,
        tolerations=[{"operator": "Exists"}],
        priority_class_name="high",
        affinity={"nodeAffinity": {}},
    )
    for option in ("tolerations", "priority_class_name", "affinity"):
        assert matching(rendered.errors, f"{option}:", "sidecar")


# ---------------------------------------------------------------- ports
def test_ports_always_carry_a_protocol():
    rendered = render(ports=[{"name": "otlp-grpc", "port": 4317}, {"name": "statsd", "port": 8125, "protocol": "UDP"}])
    assert rendered.valid, rendered.errors
    assert rendered.object["spec"]["ports"] == [
        {"name": "otlp-grpc", "port": 4317, "protocol": "TCP"},
        {"name": "statsd", "port": 8125, "protocol": "UDP"},
    ]


def test_host_port_for_agents_and_a_warning_elsewhere():
    port = {"name": "otlp-grpc", "port": 4317, "hostPort": 4317}
    agent = render(mode="daemonset", config=AGENT_CONFIG, ports=[dict(port)])
    assert agent.valid, agent.errors
    assert agent.object["spec"]["ports"][0]["hostPort"] == 4317
    assert not matching(agent.warnings, "hostPort")
    assert matching(render(ports=[dict(port)]).warnings, "ports[0].hostPort", "daemonset")


@pytest.mark.parametrize(
    "port, needle",
    [
        ({"port": 4317}, "ports[0].name: required"),
        ({"name": "x", "port": 70000}, "ports[0].port"),
        ({"name": "x", "port": 4317, "protocol": "HTTP"}, "ports[0].protocol"),
        ({"name": "x", "port": 4317, "containerPort": 4317}, "unknown field(s) containerPort"),
    ],
)
def test_bad_ports(port, needle):
    assert matching(render(ports=[port]).errors, needle)


# ---------------------------------------------------------------- environment
def test_daemonset_gets_the_node_environment():
    env = env_of(render(mode="daemonset", config=AGENT_CONFIG))
    assert env["K8S_NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["K8S_NODE_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.hostIP"}}


def test_node_environment_is_optional():
    assert "K8S_NODE_NAME" not in env_of(render())
    assert "K8S_NODE_NAME" in env_of(render(node_env=True))
    assert "K8S_NODE_NAME" not in env_of(render(mode="daemonset", config=AGENT_CONFIG, node_env=False))


def test_k8sattributes_node_variable_missing_from_the_env_is_an_error():
    # The collector refuses to start: "`node_from_env_var` is configured but envvar ... is not set".
    rendered = render(mode="daemonset", config=AGENT_CONFIG, node_env=False)
    assert matching(
        rendered.errors, "processors.k8sattributes.filter.node_from_env_var: `K8S_NODE_NAME`", "node_env: true"
    )
    assert not matching(render(mode="daemonset", config=AGENT_CONFIG).errors, "node_from_env_var")
    own = [{"name": "K8S_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert not matching(render(config=AGENT_CONFIG, env=own).errors, "node_from_env_var")


def test_user_env_wins_over_added_variables():
    mine = [{"name": "K8S_NODE_NAME", "value": "fixed"}, {"name": "GOMEMLIMIT", "value": "700MiB"}]
    env = env_of(render(mode="daemonset", config=AGENT_CONFIG, env=mine))
    assert env["K8S_NODE_NAME"] == {"name": "K8S_NODE_NAME", "value": "fixed"}
    assert env["GOMEMLIMIT"]["value"] == "700MiB"
    assert list(env) == ["K8S_NODE_NAME", "GOMEMLIMIT", "K8S_NODE_IP"]


@pytest.mark.parametrize("limit, expected", [("1Gi", "819MiB"), ("512Mi", "409MiB"), ("2G", "1525MiB")])
def test_gomemlimit_is_about_80_percent_of_the_memory_limit(limit, expected):
    assert env_of(render(resources={"limits": {"memory": limit}}))["GOMEMLIMIT"]["value"] == expected


def test_no_memory_limit_no_gomemlimit_and_a_warning():
    rendered = render(resources=None)
    assert "GOMEMLIMIT" not in env_of(rendered)
    assert matching(rendered.warnings, "resources.limits.memory: not set", "whole node")


def test_invalid_memory_quantity_in_resources():
    assert matching(render(resources={"limits": {"memory": "1 gig"}}).errors, "resources.limits.memory")


# ---------------------------------------------------------------- memory_limiter defaults
def test_memory_limiter_without_limits_gets_80_and_25_percent():
    config = copy.deepcopy(GATEWAY_CONFIG)
    config["processors"]["memory_limiter"] = {}
    rendered = render(config=config)
    assert rendered.valid, rendered.errors
    assert rendered.object["spec"]["config"]["processors"]["memory_limiter"] == {
        "limit_percentage": 80,
        "spike_limit_percentage": 25,
        "check_interval": "1s",
    }
    assert matching(
        rendered.warnings, "processors.memory_limiter", "limit_percentage: 80", "spike_limit_percentage: 25"
    )


def test_memory_limiter_with_limits_is_left_alone():
    rendered = render()
    assert (
        rendered.object["spec"]["config"]["processors"]["memory_limiter"]
        == GATEWAY_CONFIG["processors"]["memory_limiter"]
    )
    assert not matching(rendered.warnings, "processors.memory_limiter")


# ---------------------------------------------------------------- security
def test_secure_defaults():
    spec = render().object["spec"]
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["podSecurityContext"]["runAsNonRoot"] is True
    assert spec["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_security_context_is_merged_over_the_defaults():
    spec = render(security_context={"runAsUser": 1000}, pod_security_context={"fsGroup": 1000}).object["spec"]
    assert spec["securityContext"]["runAsUser"] == 1000
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["podSecurityContext"]["fsGroup"] == 1000


def test_seed_fs_group_in_the_container_security_context_is_an_error():
    rendered = render(security_context={"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000})
    assert matching(rendered.errors, "security_context", "fsGroup", "pod_security_context")


# ---------------------------------------------------------------- self-monitoring
def test_self_monitoring_serves_internal_metrics_on_all_interfaces():
    rendered = render(self_monitoring=True)
    spec = rendered.object["spec"]
    assert spec["observability"] == {"metrics": {"enableMetrics": True}}
    readers = spec["config"]["service"]["telemetry"]["metrics"]["readers"]
    assert readers == [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]
    assert rendered.valid and not matching(rendered.warnings, "telemetry")


def test_self_monitoring_moves_a_localhost_reader():
    config = copy.deepcopy(GATEWAY_CONFIG)
    config["service"]["telemetry"] = {
        "metrics": {
            "level": "detailed",
            "readers": [{"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": 8888}}}}],
        }
    }
    rendered = render(config=config, self_monitoring=True)
    metrics = rendered.object["spec"]["config"]["service"]["telemetry"]["metrics"]
    assert metrics["readers"][0]["pull"]["exporter"]["prometheus"]["host"] == "0.0.0.0"
    assert metrics["level"] == "detailed"
    assert len(metrics["readers"]) == 1
    assert matching(rendered.warnings, "readers[0]", "changed `127.0.0.1` to 0.0.0.0")


def test_self_monitoring_replaces_the_ignored_address():
    config = copy.deepcopy(GATEWAY_CONFIG)
    config["service"]["telemetry"] = {"metrics": {"address": "localhost:8888"}}
    metrics = render(config=config, self_monitoring=True).object["spec"]["config"]["service"]["telemetry"]["metrics"]
    assert "address" not in metrics
    assert metrics["readers"][0]["pull"]["exporter"]["prometheus"] == {"host": "0.0.0.0", "port": 8888}


def test_without_self_monitoring_the_localhost_reader_is_a_warning_only():
    config = copy.deepcopy(GATEWAY_CONFIG)
    config["service"]["telemetry"] = {
        "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "localhost", "port": 8888}}}}]}
    }
    rendered = render(config=config)
    assert "observability" not in rendered.object["spec"]
    assert matching(rendered.warnings, "readers[0].pull.exporter.prometheus.host")


# ---------------------------------------------------------------- other spec fields
def test_pass_through_fields():
    volumes = [{"name": "otel-certs", "secret": {"secretName": "otel-certs"}}]
    mounts = [{"name": "otel-certs", "mountPath": "/etc/otel/certs", "readOnly": True}]
    spec = render(
        service_account="otel-collector",
        volumes=volumes,
        volume_mounts=mounts,
        node_selector={"a": "b"},
        priority_class_name="system-cluster-critical",
        tolerations=[{"operator": "Exists"}],
        pod_disruption_budget={"maxUnavailable": 1},
        upgrade_strategy="none",
    ).object["spec"]
    assert spec["serviceAccount"] == "otel-collector"
    assert spec["volumes"] == volumes and spec["volumeMounts"] == mounts
    assert spec["nodeSelector"] == {"a": "b"}
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert spec["upgradeStrategy"] == "none"
    assert spec["resources"] == MEMORY


def test_mount_of_a_missing_volume_warns():
    rendered = render(volume_mounts=[{"name": "certs", "mountPath": "/etc/otel/certs"}])
    assert matching(rendered.warnings, "volume_mounts[0]", "`certs`")


@pytest.mark.parametrize(
    "pdb, needle",
    [
        ({"maxUnavailable": 1, "minAvailable": 1}, "not both"),
        ({"maxUnavailble": 1}, "unknown field(s) maxUnavailble"),
    ],
)
def test_bad_pod_disruption_budget(pdb, needle):
    assert matching(render(pod_disruption_budget=pdb).errors, "pod_disruption_budget", needle)


def test_upgrade_strategy_choices():
    assert matching(render(upgrade_strategy="manual").errors, "upgrade_strategy")


# ---------------------------------------------------------------- identity
def test_collector_ref():
    assert cr.collector_ref("gw", "obs") == {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": "gw", "namespace": "obs"},
    }


# ---------------------------------------------------------------- the corrected seed renders clean
def test_corrected_gateway_renders_without_errors_or_warnings():
    rendered = render(
        replicas=3,
        autoscaler={"minReplicas": 3, "maxReplicas": 10, "targetCPUUtilization": 60},
        traces_routed_by_trace_id=True,
        self_monitoring=True,
        ports=[{"name": "otlp-grpc", "port": 4317}],
        pod_disruption_budget={"maxUnavailable": 1},
    )
    assert rendered.valid, rendered.errors
    assert rendered.warnings == []


def test_corrected_agent_renders_without_errors_or_warnings():
    rendered = render(
        name="otel-agent",
        mode="daemonset",
        config=AGENT_CONFIG,
        resources={"limits": {"memory": "512Mi"}},
        ports=[{"name": "otlp-grpc", "port": 4317, "hostPort": 4317}],
    )
    assert rendered.valid, rendered.errors
    assert rendered.warnings == []
    assert rendered.distribution == "k8s"


@pytest.mark.parametrize("replicas", [0, -1])
def test_replicas_below_one_are_refused_with_the_fix(replicas):
    errors = render(replicas=replicas).errors
    assert matching(errors, "replicas:", repr(replicas), "at least 1", "state: absent")


def test_a_port_number_or_name_given_twice_is_refused():
    ports = [{"name": "a", "port": 9000}, {"name": "b", "port": 9000}, {"name": "a", "port": 9001}]
    errors = render(ports=ports).errors
    assert matching(errors, "ports[1]", "port 9000/TCP is also ports[0]")
    assert matching(errors, "ports[2]", "name `a` is also ports[0]")
    # one number over two protocols is two ports
    assert not render(ports=[{"name": "t", "port": 53}, {"name": "u", "port": 53, "protocol": "UDP"}]).errors
