"""otel.kubernetes.instrumentation through ansible-playbook on the local node (a real Kubernetes 1.34).

The Instrumentation kind is the operator's real CRD, with its webhooks, installed by the
otel_operator role from the v0.158.0 release manifest (the `operator` fixture). Its manager
is the local node's test stand-in: its pod webhook injects nothing, so the tests check what is
stored, not what gets injected (reconciled/03-instrumented-pod.yaml beside the manifest shows
what the real operator injected; tests/unit/support/test_operator_standin.py reads it).
"""

from __future__ import annotations

import uuid

import pytest

P = "instrumentation.opentelemetry.io/"
INSTRUMENTATIONS = "/apis/opentelemetry.io/v1alpha1/namespaces/{ns}/instrumentations/{name}"


@pytest.fixture
def instrumentation_kind(operator):
    """The operator's real Instrumentation CRD, from its release manifest (the otel_operator role)."""
    return "instrumentations.opentelemetry.io"


def new_namespace(cluster, annotations: dict | None = None) -> str:
    name = "t-" + uuid.uuid4().hex[:8]
    meta = {"name": name, **({"annotations": annotations} if annotations else {})}
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
    return name


def deployment(namespace: str, name: str = "web") -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "otel-local.test/busybox:1.35",
                            "command": ["/bin/busybox", "sleep", "3600"],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
    }


def instrumentation(namespace: str, **options) -> dict:
    return {
        "name": "instrumentation",
        "otel.kubernetes.instrumentation": {"name": "default", "namespace": namespace, **options},
    }


def namespace_annotations(cluster, name: str) -> dict:
    return cluster.get(f"/api/v1/namespaces/{name}")["metadata"].get("annotations") or {}


def template_annotations(cluster, namespace: str, name: str = "web") -> dict:
    live = cluster.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    return live["spec"]["template"]["metadata"].get("annotations") or {}


def test_apply_rerun_check_mode_and_absent_remove_exactly_what_was_added(cluster, namespace, instrumentation_kind):
    app = new_namespace(cluster, annotations={"team": "payments"})
    created = cluster.run([{"name": "app", "otel.kubernetes.apply": {"definition": deployment(app)}}])
    assert created.rc == 0, created.stdout
    value = f"{namespace}/default"
    options = {
        "sampler_type": "parentbased_traceidratio",
        "sampler_argument": "0.25",
        "resource_attributes": {"deployment.environment": "test"},
        "namespaces": [{"name": app, "languages": ["java", "python"]}],
        "workloads": [
            {
                "kind": "Deployment",
                "name": "web",
                "namespace": app,
                "languages": ["nodejs"],
                "container_names": ["web"],
                "annotations": {"resource.opentelemetry.io/service.name": "web"},
            }
        ],
    }

    run = cluster.run([instrumentation(namespace, **options)])
    assert run.rc == 0, run.stdout
    result = run.last
    assert result["changed"] is True
    assert [(r["kind"], r["action"]) for r in result["results"]] == [
        ("Instrumentation", "created"),
        ("Namespace", "updated"),
        ("Deployment", "updated"),
    ]
    stored = cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default"))["spec"]
    # The agent's node-local Service (the operator makes it with internalTrafficPolicy Local).
    assert stored["exporter"] == {"endpoint": "http://otel-agent-collector.observability.svc.cluster.local:4317"}
    assert "env" not in stored
    assert stored["python"]["env"] == [
        {
            "name": "OTEL_EXPORTER_OTLP_ENDPOINT",
            "value": "http://otel-agent-collector.observability.svc.cluster.local:4318",
        }
    ]
    assert stored["sampler"] == {"type": "parentbased_traceidratio", "argument": "0.25"}
    assert stored["propagators"] == ["tracecontext", "baggage"]
    assert namespace_annotations(cluster, app) == {
        "team": "payments",
        P + "inject-java": value,
        P + "inject-python": value,
    }
    assert template_annotations(cluster, app) == {
        "prometheus.io/scrape": "true",
        P + "inject-nodejs": value,
        P + "container-names": "web",
        "resource.opentelemetry.io/service.name": "web",
    }

    rerun = cluster.run([instrumentation(namespace, **options)])
    assert rerun.rc == 0, rerun.stdout
    assert rerun.last["changed"] is False
    assert {r["action"] for r in rerun.last["results"]} == {"unchanged"}

    # Check mode with a change, and the seed's ClusterIP endpoint: warned, validated, nothing stored.
    check = cluster.run(
        [
            instrumentation(
                namespace,
                **{**options, "sampler_argument": "0.5", "exporter_endpoint": "http://otel-agent.default:4317"},
            )
        ],
        "--check",
        "--diff",
    )
    assert check.rc == 0, check.stdout
    assert check.last["changed"] is True
    assert [d["before_header"] for d in check.last["diff"]] == [f"Instrumentation {namespace}/default"]
    assert any("not the agent on the pod's own node" in w for w in check.last.get("warnings", []))
    stored = cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default"))["spec"]
    assert stored["sampler"]["argument"] == "0.25"
    assert stored["exporter"]["endpoint"] == "http://otel-agent-collector.observability.svc.cluster.local:4317"

    # The user annotates the same objects after us; all of the user's annotations must survive removal.
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{app}",
        {"metadata": {"annotations": {"owner": "alice"}}},
        content_type="application/merge-patch+json",
    )
    cluster.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{app}/deployments/web",
        {"spec": {"template": {"metadata": {"annotations": {"owner": "alice"}}}}},
        content_type="application/merge-patch+json",
    )

    gone = cluster.run([instrumentation(namespace, **options, state="absent")])
    assert gone.rc == 0, gone.stdout
    assert gone.last["changed"] is True
    assert [(r["kind"], r["action"]) for r in gone.last["results"]] == [
        ("Namespace", "updated"),
        ("Deployment", "updated"),
        ("Instrumentation", "deleted"),
    ]
    assert cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default")) is None
    assert namespace_annotations(cluster, app) == {"team": "payments", "owner": "alice"}
    assert template_annotations(cluster, app) == {"prometheus.io/scrape": "true", "owner": "alice"}

    again = cluster.run([instrumentation(namespace, **options, state="absent")])
    assert again.rc == 0, again.stdout
    assert again.last["changed"] is False


def test_target_listed_without_language_loses_only_our_annotations(cluster, namespace, instrumentation_kind):
    app = new_namespace(cluster, annotations={"team": "search"})
    first = cluster.run([instrumentation(namespace, namespaces=[{"name": app, "languages": ["dotnet"]}])])
    assert first.rc == 0, first.stdout
    assert P + "inject-dotnet" in namespace_annotations(cluster, app)
    dropped = cluster.run([instrumentation(namespace, namespaces=[{"name": app, "languages": []}])])
    assert dropped.rc == 0, dropped.stdout
    assert namespace_annotations(cluster, app) == {"team": "search"}
    cluster.run([instrumentation(namespace, state="absent")])


def test_rejected_annotation_fails_with_nothing_applied(cluster, namespace, instrumentation_kind):
    app = new_namespace(cluster, annotations={"team": "payments"})
    run = cluster.run(
        [
            instrumentation(
                namespace,
                namespaces=[{"name": app, "languages": ["java"]}],
                extra_annotations={P + "inject-javaagent": "true"},
            )
        ]
    )
    assert run.rc != 0
    assert "inject-javaagent" in run.last["msg"] and "inject-java" in run.last["msg"]
    assert "nothing was applied" in run.last["msg"]
    assert cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default")) is None
    assert namespace_annotations(cluster, app) == {"team": "payments"}

    seed = cluster.run(
        [
            instrumentation(
                namespace,
                workloads=[
                    {
                        "kind": "Deployment",
                        "name": "web",
                        "namespace": app,
                        "languages": ["sdk"],
                        "annotations": {
                            P + "service-name": "my-service",
                            P + "otel-traces-sampler": "parentbased_traceidratio",
                        },
                    }
                ],
            )
        ]
    )
    assert seed.rc != 0
    assert "resource.opentelemetry.io/service.name" in seed.last["msg"]
    assert "sampler_type" in seed.last["msg"]
    assert cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default")) is None


def test_missing_target_fails_before_applying(cluster, namespace, instrumentation_kind):
    run = cluster.run(
        [
            instrumentation(
                namespace,
                namespaces=[{"name": "no-such-namespace", "languages": ["java"]}],
                workloads=[{"kind": "Deployment", "name": "nope", "namespace": namespace, "languages": ["java"]}],
            )
        ]
    )
    assert run.rc != 0
    assert "Namespace no-such-namespace" in run.last["msg"] and f"Deployment {namespace}/nope" in run.last["msg"]
    assert "create them first" in run.last["msg"]
    assert cluster.get(INSTRUMENTATIONS.format(ns=namespace, name="default")) is None
    assert cluster.get("/api/v1/namespaces/no-such-namespace") is None
