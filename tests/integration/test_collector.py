"""otel.kubernetes.collector and collector_config through ansible-playbook, on the local node (Kubernetes 1.34).

The OpenTelemetryCollector CRD is the real one: the operator's v0.158.0 release manifest,
installed by the otel_operator role (the `operator` fixture), whose CRD schema, CEL rules and
webhooks (failurePolicy Fail, called through the role's CA bundle) judge every collector here.
Its manager is the local node's test stand-in, which reconciles nothing, so no collector
workload appears by itself: the wait tests say how they stand in for the operator.
"""

from __future__ import annotations

import copy

import yaml
from collector_configs import AGENT_CONFIG

GHCR = "ghcr.io/open-telemetry/opentelemetry-collector-releases"

GATEWAY_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}}},
    "processors": {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
        "tail_sampling": {
            "decision_wait": "10s",
            "policies": [{"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}],
        },
        "batch": {},
    },
    "exporters": {
        "otlp/tempo": {"endpoint": "tempo:4317", "tls": {"insecure": True}},
        "otlphttp/loki": {"endpoint": "http://loki:3100/otlp"},
    },
    "connectors": {},
    "service": {
        "pipelines": {
            "traces": {
                "receivers": ["otlp"],
                "processors": ["memory_limiter", "tail_sampling", "batch"],
                "exporters": ["otlp/tempo"],
            },
            "logs": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["otlphttp/loki"]},
        }
    },
}

# The same configuration as YAML text, the way the seed's v1alpha1 `config: |` carried it.
GATEWAY_CONFIG_TEXT = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 25
  tail_sampling:
    decision_wait: 10s
    policies:
      - name: errors
        type: status_code
        status_code: {status_codes: [ERROR]}
  batch:
exporters:
  otlp/tempo:
    endpoint: tempo:4317
    tls:
      insecure: true
  otlphttp/loki:
    endpoint: http://loki:3100/otlp
connectors:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: [otlp/tempo]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlphttp/loki]
"""

# The seed's gateway: prometheus and loki exporters, wrong processor order, 3 replicas.
SEED_GATEWAY = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "batch": {"timeout": "5s"},
        "memory_limiter": {"limit_mib": 1024, "check_interval": "1s"},
        "tail_sampling": {"decision_wait": "10s"},
    },
    "exporters": {
        "otlp/tempo": {"endpoint": "http://tempo:4317"},
        "prometheus": {"endpoint": "0.0.0.0:8889"},
        "loki": {"endpoint": "http://loki:3100/otlp"},
    },
    "service": {
        "pipelines": {
            "traces": {
                "receivers": ["otlp"],
                "processors": ["tail_sampling", "batch", "memory_limiter"],
                "exporters": ["otlp/tempo"],
            },
            "metrics": {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["prometheus"]},
            "logs": {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["loki"]},
        }
    },
}


def collector_path(namespace: str, name: str) -> str:
    return f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/{name}"


def collector(name: str, namespace: str, config=None, **options) -> dict:
    args = {"name": name, "namespace": namespace, **options}
    if config is not None:
        args["config"] = config
    return {"name": "collector", "otel.kubernetes.collector": args}


def gateway(name: str, namespace: str, config=None, **options) -> dict:
    options = {
        "replicas": 2,
        "traces_routed_by_trace_id": True,
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "200m", "memory": "512Mi"}},
        "ports": [{"name": "otlp-grpc", "port": 4317}, {"name": "otlp-http", "port": 4318, "targetPort": 4318}],
        "self_monitoring": True,
        "pod_disruption_budget": {"maxUnavailable": 1},
        **options,
    }
    return collector(name, namespace, copy.deepcopy(GATEWAY_CONFIG) if config is None else config, **options)


def test_apply_rerun_change_check_mode_and_absent(cluster, operator, namespace):
    path = collector_path(namespace, "gateway")

    # Check mode first: the server validates the object (dry run), nothing is stored.
    check = cluster.run([gateway("gateway", namespace, GATEWAY_CONFIG_TEXT)], "--check")
    assert check.rc == 0, check.stdout[-3000:]
    assert check.last["changed"] is True
    assert check.last["results"][0]["action"] == "created"
    assert cluster.get(path) is None

    # The YAML text (v1alpha1 style) is stored as the structured v1beta1 config.
    first = cluster.run([gateway("gateway", namespace, GATEWAY_CONFIG_TEXT)])
    assert first.rc == 0, first.stdout[-3000:]
    result = first.last
    assert result["changed"] is True
    assert result["results"][0] == {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "name": "gateway",
        "namespace": namespace,
        "action": "created",
        "changed": True,
    }
    assert result["image"] == f"{GHCR}/opentelemetry-collector-k8s:0.159.0"  # tail_sampling: not core
    assert result["distribution"] == "k8s"
    assert result["lint_warnings"] == []

    stored = cluster.get(path)
    assert stored["apiVersion"] == "opentelemetry.io/v1beta1"
    spec = stored["spec"]
    assert isinstance(spec["config"], dict)
    expected_config = copy.deepcopy(GATEWAY_CONFIG)
    expected_config["service"]["telemetry"] = {
        "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}
    }
    assert spec["config"] == expected_config
    assert spec["config"]["processors"]["batch"] == {}  # empty maps are {}, not null
    assert spec["mode"] == "deployment"
    assert spec["replicas"] == 2
    assert spec["image"] == result["image"]
    assert spec["upgradeStrategy"] == "automatic"
    assert spec["observability"] == {"metrics": {"enableMetrics": True}}
    assert spec["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert spec["ports"] == [
        {"name": "otlp-grpc", "port": 4317, "protocol": "TCP"},
        {"name": "otlp-http", "port": 4318, "targetPort": 4318, "protocol": "TCP"},
    ]
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["podSecurityContext"]["runAsNonRoot"] is True
    assert {"name": "GOMEMLIMIT", "value": "819MiB"} in spec["env"]
    assert result["object"]["spec"]["config"] == spec["config"]

    # Idempotent re-run, this time with the configuration as a dictionary: same object.
    rerun = cluster.run([gateway("gateway", namespace)])
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.last["changed"] is False
    assert rerun.last["results"][0]["action"] == "unchanged"

    # Change one option.
    update = cluster.run([gateway("gateway", namespace, replicas=3)], "--diff")
    assert update.rc == 0, update.stdout[-3000:]
    assert update.last["changed"] is True
    assert update.last["results"][0]["action"] == "updated"
    assert "replicas: 3" in update.last["diff"][0]["after"]
    assert cluster.get(path)["spec"]["replicas"] == 3

    # Check mode of a change: reported, not stored.
    check_change = cluster.run([gateway("gateway", namespace, replicas=5)], "--check")
    assert check_change.rc == 0, check_change.stdout[-3000:]
    assert check_change.last["changed"] is True
    assert cluster.get(path)["spec"]["replicas"] == 3

    # Absent, twice.
    gone = cluster.run([collector("gateway", namespace, state="absent")])
    assert gone.rc == 0, gone.stdout[-3000:]
    assert gone.last["changed"] is True
    assert gone.last["results"][0]["action"] == "deleted"
    assert cluster.get(path) is None
    again = cluster.run([collector("gateway", namespace, state="absent")])
    assert again.rc == 0
    assert again.last["changed"] is False


def test_lint_errors_fail_before_anything_is_applied(cluster, operator, namespace):
    run = cluster.run(
        [
            collector(
                "seed-gateway",
                namespace,
                SEED_GATEWAY,
                replicas=3,
                distribution="k8s",
                resources={"limits": {"memory": "1Gi"}},
            )
        ]
    )
    assert run.rc != 0
    result = run.last
    assert result["failed"] is True
    assert "nothing was applied" in result["msg"]
    errors = result["errors"]
    assert any(
        e.startswith("exporters.prometheus: the `prometheus` exporter is not in the k8s distribution") for e in errors
    )
    assert any(e.startswith("exporters.loki:") and "otlphttp" in e for e in errors)
    assert any(e.startswith("processors.memory_limiter.limit_mib: 1024 MiB") for e in errors)
    assert any("memory_limiter is at position 3" in w for w in result["lint_warnings"])
    assert "results" not in result  # the cluster was never written to
    assert cluster.get(collector_path(namespace, "seed-gateway")) is None


def test_seed_autoscaler_and_separate_hpa_are_refused(cluster, operator, namespace):
    hpa = {
        "apiVersion": "autoscaling/v2beta2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "otel-gateway-hpa", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "opentelemetry.io/v1beta1",
                "kind": "OpenTelemetryCollector",
                "name": "gw",
            },
            "minReplicas": 2,
            "maxReplicas": 10,
        },
    }
    seed_autoscaler = {"enabled": True, "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 60}
    run = cluster.run([gateway("gw", namespace, autoscaler=seed_autoscaler, extra_objects=[hpa])])
    assert run.rc != 0
    errors = run.last["errors"]
    assert any(e.startswith("autoscaler.enabled:") for e in errors)
    assert any(
        e.startswith("autoscaler.targetCPUUtilizationPercentage:") and "`targetCPUUtilization`" in e for e in errors
    )
    assert any(e.startswith("extra_objects: HorizontalPodAutoscaler otel-gateway-hpa") for e in errors)
    assert cluster.get(collector_path(namespace, "gw")) is None
    assert (
        cluster.get(f"/apis/autoscaling/v2beta2/namespaces/{namespace}/horizontalpodautoscalers/otel-gateway-hpa")
        is None
    )

    # With the operator's field names it is applied.
    operator_autoscaler = {"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60}
    good = cluster.run([gateway("gw", namespace, autoscaler=operator_autoscaler)])
    assert good.rc == 0, good.stdout[-3000:]
    assert cluster.get(collector_path(namespace, "gw"))["spec"]["autoscaler"] == {
        "minReplicas": 2,
        "maxReplicas": 10,
        "targetCPUUtilization": 60,
    }


def test_agent_daemonset_host_ports_and_node_env(cluster, operator, namespace):
    run = cluster.run(
        [
            collector(
                "agent",
                namespace,
                AGENT_CONFIG,
                mode="daemonset",
                resources={"limits": {"memory": "512Mi"}},
                ports=[{"name": "otlp-grpc", "port": 4317, "hostPort": 4317}],
            )
        ]
    )
    assert run.rc == 0, run.stdout[-3000:]
    spec = cluster.get(collector_path(namespace, "agent"))["spec"]
    assert spec["mode"] == "daemonset"
    assert spec["ports"] == [{"name": "otlp-grpc", "port": 4317, "hostPort": 4317, "protocol": "TCP"}]
    env = {e["name"]: e for e in spec["env"]}
    assert env["K8S_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["K8S_NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert env["GOMEMLIMIT"]["value"] == "409MiB"
    # The collection writes no replicas for a daemonset; the operator's CRD stores its default, 1.
    assert "replicas" not in run.last["object"]["spec"] and spec["replicas"] == 1


def test_wait_times_out_naming_the_workload_without_an_operator(cluster, operator, namespace):
    run = cluster.run([gateway("waiting", namespace, wait=True, wait_timeout=2)])
    assert run.rc != 0
    msg = run.last["msg"]
    assert f"Deployment {namespace}/waiting-collector does not exist" in msg
    assert "operator is not running" in msg
    assert "timed out after 2s" in msg
    # The collector itself was applied before the wait.
    assert cluster.get(collector_path(namespace, "waiting")) is not None
    assert run.last["results"][0]["action"] == "created"


def test_wait_for_the_operator_workload(cluster, operator, namespace):
    """Test double of the operator: this test creates the DaemonSet the operator would create.

    Its Pod (a shell that waits, not a collector: the operator would give it the config)
    really runs on the node, and the wait sees the DaemonSet rolled out.
    """
    labels = {"app.kubernetes.io/name": "agent-collector"}
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent-collector", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "otc-container",
                            "image": "otel-local.test/busybox:1.35",
                            "command": ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
                        }
                    ]
                },
            },
        },
    }
    cluster.request("POST", f"/apis/apps/v1/namespaces/{namespace}/daemonsets", daemonset)
    run = cluster.run(
        [
            collector(
                "agent",
                namespace,
                AGENT_CONFIG,
                mode="daemonset",
                wait=True,
                wait_timeout=60,
                resources={"limits": {"memory": "512Mi"}},
            )
        ]
    )
    assert run.rc == 0, run.stdout[-3000:]
    assert run.last["workload"] == {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": "agent-collector",
        "namespace": namespace,
    }


def test_collector_config_alone(cluster):
    ok = cluster.run(
        [
            {
                "name": "lint",
                "otel.kubernetes.collector_config": {
                    "config": AGENT_CONFIG,
                    "mode": "daemonset",
                    "memory_limit": "512Mi",
                },
            }
        ]
    )
    assert ok.rc == 0, ok.stdout[-3000:]
    result = ok.last
    assert result["changed"] is False
    assert result["valid"] is True
    assert result["errors"] == [] and result["lint_warnings"] == []
    assert result["distribution"] == "k8s"
    assert result["image"] == f"{GHCR}/opentelemetry-collector-k8s:0.159.0"

    seed = cluster.run(
        [
            {
                "name": "lint",
                "otel.kubernetes.collector_config": {
                    "config": SEED_GATEWAY,
                    "distribution": "k8s",
                    "memory_limit": "1Gi",
                    "replicas": 3,
                },
            }
        ]
    )
    assert seed.rc != 0
    result = seed.last
    assert result["valid"] is False
    assert "error(s)" in result["msg"] and "exporters.prometheus" in result["msg"]
    assert any(w.startswith("processors.tail_sampling:") for w in result["lint_warnings"])
    assert "tail sampling with several collectors" in seed.stdout  # shown as a task warning too

    strict = cluster.run(
        [
            {
                "name": "lint",
                "otel.kubernetes.collector_config": {"config": GATEWAY_CONFIG, "replicas": 3, "fail_on_warnings": True},
            }
        ]
    )
    assert strict.rc != 0
    assert "fail_on_warnings" in strict.last["msg"]


# A gateway installed with the opentelemetry-collector chart, as its values.yaml.
GATEWAY_HELM_VALUES = {
    "mode": "deployment",
    "replicaCount": 2,
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "200m", "memory": "512Mi"}},
    "config": GATEWAY_CONFIG,
    "serviceAccount": {"create": True, "name": "otel-collector"},
    "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    "ports": {
        "otlp": {"enabled": True, "containerPort": 4317, "servicePort": 4317, "hostPort": 4317, "protocol": "TCP"},
        "otlp-http": {"enabled": True, "containerPort": 4318, "servicePort": 4318, "hostPort": 4318, "protocol": "TCP"},
        "jaeger-compact": {"enabled": False, "containerPort": 6831, "servicePort": 6831, "protocol": "UDP"},
    },
    "podLabels": {"team": "observability"},
    "ingress": {
        "enabled": True,
        "ingressClassName": "nginx",
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        "hosts": [
            {"host": "otlp.observability.example.com", "paths": [{"path": "/", "pathType": "Prefix", "port": 4318}]}
        ],
        "tls": [{"secretName": "otel-gateway-tls", "hosts": ["otlp.observability.example.com"]}],
    },
}


def ingress_path(namespace: str, name: str) -> str:
    return f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"


def test_helm_values_store_the_same_collector_as_the_options(cluster, operator, namespace):
    values = copy.deepcopy(GATEWAY_HELM_VALUES)
    run = cluster.run([collector("from-helm", namespace, helm_values=values, traces_routed_by_trace_id=True)])
    assert run.rc == 0, run.stdout[-3000:]
    assert run.last["changed"] is True
    assert [(r["kind"], r["name"], r["action"]) for r in run.last["results"]] == [
        ("Ingress", "from-helm-collector", "created"),
        ("OpenTelemetryCollector", "from-helm", "created"),
    ]
    assert any("serviceAccount.create" in w for w in run.last["lint_warnings"])

    # The same collector written with the module's own options.
    options = cluster.run(
        [
            collector(
                "from-options",
                namespace,
                copy.deepcopy(GATEWAY_CONFIG),
                mode="deployment",
                replicas=2,
                resources=values["resources"],
                service_account="otel-collector",
                pod_disruption_budget={"maxUnavailable": 1},
                labels={"team": "observability"},
                ports=[
                    {"name": "otlp", "port": 4317, "protocol": "TCP"},
                    {"name": "otlp-http", "port": 4318, "protocol": "TCP"},
                ],
                traces_routed_by_trace_id=True,
            )
        ]
    )
    assert options.rc == 0, options.stdout[-3000:]
    from_helm = cluster.get(collector_path(namespace, "from-helm"))
    from_options = cluster.get(collector_path(namespace, "from-options"))
    assert from_helm["spec"] == from_options["spec"]
    assert from_helm["metadata"]["labels"] == {"team": "observability"}
    assert "hostPort" not in from_helm["spec"]["ports"][0]  # hostPort only for daemonsets, as in the chart

    ingress = cluster.get(ingress_path(namespace, "from-helm-collector"))
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "service": {"name": "from-helm-collector", "port": {"number": 4318}}
    }
    assert ingress["spec"]["tls"] == [{"hosts": ["otlp.observability.example.com"], "secretName": "otel-gateway-tls"}]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"

    # The values as YAML text (a lookup of the values file) are the same values: nothing changes.
    rerun = cluster.run(
        [collector("from-helm", namespace, helm_values=yaml.safe_dump(values), traces_routed_by_trace_id=True)]
    )
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.last["changed"] is False

    # A module option wins over the values.
    override = cluster.run(
        [collector("from-helm", namespace, helm_values=values, traces_routed_by_trace_id=True, replicas=4)]
    )
    assert override.rc == 0, override.stdout[-3000:]
    assert cluster.get(collector_path(namespace, "from-helm"))["spec"]["replicas"] == 4

    # Removal takes the Ingress with it.
    gone = cluster.run([collector("from-helm", namespace, helm_values=values, state="absent")])
    assert gone.rc == 0, gone.stdout[-3000:]
    assert {(r["kind"], r["action"]) for r in gone.last["results"]} == {
        ("Ingress", "deleted"),
        ("OpenTelemetryCollector", "deleted"),
    }
    assert cluster.get(collector_path(namespace, "from-helm")) is None
    assert cluster.get(ingress_path(namespace, "from-helm-collector")) is None


def test_seed_helm_values_map_and_the_seed_mistakes_are_reported(cluster, operator, namespace):
    seed = {
        "mode": "daemonset",
        "replicaCount": 1,
        "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
        "config": {
            "receivers": {
                "otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}}
            },
            "processors": {
                "batch": {"timeout": "1s", "send_batch_size": 1024},
                "memory_limiter": {"limit_mib": 512, "spike_limit_mib": 128, "check_interval": "1s"},
                "k8sattributes": {"extract": {"metadata": ["k8s.namespace.name", "k8s.pod.name"]}},
            },
            "exporters": {"otlp": {"endpoint": "otel-gateway.observability:4317", "tls": {"insecure": True}}},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "exporters": ["otlp"],
                        "processors": ["k8sattributes", "batch", "memory_limiter"],
                    }
                }
            },
        },
        "serviceAccount": {"create": True, "name": "otel-collector"},
        "ingress": {"enabled": True, "className": "nginx", "hosts": ["prometheus-gateway.observability.example.com"]},
    }
    refused = cluster.run([collector("seed-agent", namespace, helm_values=seed)])
    assert refused.rc != 0
    errors = refused.last["errors"]
    assert any(e.startswith("helm_values.ingress.className:") for e in errors)
    assert any(e.startswith("helm_values.ingress.hosts[0]:") for e in errors)
    assert any("memory_limiter is at position 3" in w for w in refused.last["lint_warnings"])
    assert cluster.get(collector_path(namespace, "seed-agent")) is None

    del seed["ingress"]
    applied = cluster.run([collector("seed-agent", namespace, helm_values=seed)])
    assert applied.rc == 0, applied.stdout[-3000:]
    spec = cluster.get(collector_path(namespace, "seed-agent"))["spec"]
    # No replicas written for a daemonset (the operator's CRD stores its default, 1).
    assert spec["mode"] == "daemonset" and "replicas" not in applied.last["object"]["spec"]
    assert spec["serviceAccount"] == "otel-collector"
    assert any("memory_limiter is at position 3" in w for w in applied.last["lint_warnings"])


def test_an_autoscaler_without_metrics_server_is_warned_about(cluster, operator, namespace):
    """The local node has no metrics-server: the gateway role's default autoscaler could never scale."""
    gateway = {"name": "gateway", "ansible.builtin.include_role": {"name": "otel.kubernetes.otel_gateway"}}
    settings = {"otel_gateway_namespace": namespace, "otel_gateway_tls_enabled": False}
    assert cluster.get("/apis/metrics.k8s.io/v1beta1") is None  # nothing serves the resource metrics API
    run = cluster.run([gateway], vars=settings)
    assert run.rc == 0, run.stdout[-3000:]
    (applied,) = [t for t in run.tasks if t["task"].endswith("Apply or remove the gateway collector otel-gateway")]
    assert applied["resource_metrics_served"] is False
    (warning,) = [w for w in applied.get("warnings", []) if "metrics.k8s.io" in w]
    assert warning.startswith("otel_gateway_autoscaler asks for 2..10 replicas by CPU 60% and memory 80%")
    assert "FailedGetResourceMetric" in warning and "stays at 3 replicas" in warning
    assert "Install metrics-server, or set otel_gateway_autoscaler: {}" in warning
    assert "otel_gateway_autoscaler asks for 2..10" in run.stdout  # shown to the user as a task warning

    # Without an autoscaler nothing is asked and nothing said.
    fixed = cluster.run([gateway], vars={**settings, "otel_gateway_autoscaler": {}})
    assert fixed.rc == 0, fixed.stdout[-3000:]
    (applied,) = [t for t in fixed.tasks if t["task"].endswith("Apply or remove the gateway collector otel-gateway")]
    assert "resource_metrics_served" not in applied
    assert not [w for w in applied.get("warnings", []) if "metrics.k8s.io" in w]
