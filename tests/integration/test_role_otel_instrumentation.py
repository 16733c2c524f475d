"""The otel.kubernetes.otel_instrumentation role through ansible-playbook on the local node (a real Kubernetes 1.34).

The Instrumentation kind is the operator's real CRD, with its webhooks, installed by the
otel_operator role from the v0.158.0 release manifest (the `operator` fixture). Its manager
is the local node's test stand-in, whose pod webhook injects nothing: the tests check what is
stored, not what would be injected.
"""

from __future__ import annotations

import uuid

import pytest

ROLE = "otel.kubernetes.otel_instrumentation"
PREFIX = f"{ROLE} : "
P = "instrumentation.opentelemetry.io/"
INSTRUMENTATION = "/apis/opentelemetry.io/v1alpha1/namespaces/{ns}/instrumentations/otel-instrumentation"


@pytest.fixture
def instrumentation_kind(operator):
    """The operator's real Instrumentation CRD, from its release manifest (the otel_operator role)."""
    return "instrumentations.opentelemetry.io"


def new_namespace(cluster, annotations: dict | None = None) -> str:
    name = "t-" + uuid.uuid4().hex[:8]
    meta = {"name": name, **({"annotations": annotations} if annotations else {})}
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
    return name


def role(**variables) -> list:
    return [{"name": "instrumentation", "ansible.builtin.include_role": {"name": ROLE}, "vars": variables}]


def role_tasks(run) -> list:
    return [t for t in run.tasks if t["task"].startswith(PREFIX)]


def annotations_of(cluster, namespace: str) -> dict:
    return cluster.get(f"/api/v1/namespaces/{namespace}")["metadata"].get("annotations") or {}


def test_converge_rerun_check_mode_render_and_absent(cluster, instrumentation_kind):
    home = new_namespace(cluster)  # stands for `observability`
    app = new_namespace(cluster, annotations={"team": "payments"})
    settings = {
        "otel_instrumentation_namespace": home,
        "otel_instrumentation_namespaces": [{"name": app, "languages": ["java", "python"]}],
        "otel_instrumentation_resource_attributes": {"deployment.environment": "test"},
    }
    path = INSTRUMENTATION.format(ns=home)

    # Check mode on a cluster without the Instrumentation: reported, validated by the server, not stored.
    check = cluster.run(role(**settings), "--check")
    assert check.rc == 0, check.stdout[-3000:]
    assert any(t["changed"] for t in role_tasks(check))
    assert cluster.get(path) is None
    assert annotations_of(cluster, app) == {"team": "payments"}

    # Converge.
    first = cluster.run(role(**settings))
    assert first.rc == 0, first.stdout[-3000:]
    applied = first.task(PREFIX + "Apply or remove the Instrumentation and its injection annotations")
    assert applied["changed"] is True
    spec = cluster.get(path)["spec"]
    assert spec["propagators"] == ["tracecontext", "baggage"]
    assert spec["sampler"] == {"type": "parentbased_traceidratio", "argument": "0.1"}
    agent = "http://otel-agent-collector.observability.svc.cluster.local"  # the agent's node-local Service
    assert spec["exporter"] == {"endpoint": f"{agent}:4317"}
    assert "env" not in spec
    assert spec["java"]["env"] == [{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": f"{agent}:4318"}]
    assert spec["resource"] == {"resourceAttributes": {"deployment.environment": "test"}}
    value = f"{home}/otel-instrumentation"
    assert annotations_of(cluster, app) == {"team": "payments", P + "inject-java": value, P + "inject-python": value}
    published = first.task(PREFIX + "Publish the instrumentation's status")["ansible_facts"]
    assert published["otel_instrumentation_status"] == {
        "name": "otel-instrumentation",
        "namespace": home,
        "exporter_endpoint": f"{agent}:4317",
        "targets": [{"kind": "Namespace", "namespace": None, "name": app, "languages": ["java", "python"]}],
    }
    assert "otel_rendered_objects" not in published  # not in render mode

    # A second run changes nothing, in any task.
    again = cluster.run(role(**settings))
    assert again.rc == 0, again.stdout[-3000:]
    assert role_tasks(again) and not any(t["changed"] for t in role_tasks(again))

    # Check mode with a change: reported, nothing stored.
    changed = cluster.run(role(**settings, otel_instrumentation_sampler_argument="0.5"), "--check")
    assert changed.rc == 0, changed.stdout[-3000:]
    assert any(t["changed"] for t in role_tasks(changed))
    assert cluster.get(path)["spec"]["sampler"]["argument"] == "0.1"

    # Render only: the objects land in otel_rendered_objects, appended to what was there; nothing changes.
    render = cluster.run(
        role(**settings, otel_render_only=True)
        + [{"name": "show", "ansible.builtin.debug": {"var": "otel_rendered_objects"}}],
        env={"K8S_AUTH_KUBECONFIG": "/nonexistent/kubeconfig"},
        vars={"otel_rendered_objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": home}}]},
    )
    assert render.rc == 0, render.stdout[-3000:]
    assert not any(t["changed"] for t in role_tasks(render))
    rendered = render.task("show")["otel_rendered_objects"]
    assert [(o["kind"], o["metadata"]["name"]) for o in rendered] == [
        ("Namespace", home),
        ("Instrumentation", "otel-instrumentation"),
        ("Namespace", app),
    ]
    assert rendered[1]["spec"]["sampler"] == {"type": "parentbased_traceidratio", "argument": "0.1"}

    # The user annotates the namespace after us; removal must keep that.
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{app}",
        {"metadata": {"annotations": {"owner": "alice"}}},
        content_type="application/merge-patch+json",
    )
    gone = cluster.run(role(**settings, otel_instrumentation_state="absent"))
    assert gone.rc == 0, gone.stdout[-3000:]
    assert gone.task(PREFIX + "Publish the instrumentation's status")["ansible_facts"] == {
        "otel_instrumentation_status": {}
    }
    assert cluster.get(path) is None
    assert annotations_of(cluster, app) == {"team": "payments", "owner": "alice"}

    gone_again = cluster.run(role(**settings, otel_instrumentation_state="absent"))
    assert gone_again.rc == 0, gone_again.stdout[-3000:]
    assert not any(t["changed"] for t in role_tasks(gone_again))


def test_workloads_and_refused_settings(cluster, instrumentation_kind):
    home = new_namespace(cluster)
    app = new_namespace(cluster)
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": app},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "otel-local.test/busybox:1.35",
                            "command": ["/bin/busybox", "sleep", "3600"],
                        }
                    ]
                },
            },
        },
    }
    created = cluster.run([{"name": "app", "otel.kubernetes.apply": {"definition": deployment}}])
    assert created.rc == 0, created.stdout[-3000:]
    settings = {
        "otel_instrumentation_namespace": home,
        "otel_instrumentation_workloads": [
            {"kind": "Deployment", "name": "web", "namespace": app, "languages": ["nodejs"], "container_names": ["web"]}
        ],
    }
    run = cluster.run(role(**settings))
    assert run.rc == 0, run.stdout[-3000:]
    live = cluster.get(f"/apis/apps/v1/namespaces/{app}/deployments/web")
    assert live["spec"]["template"]["metadata"]["annotations"] == {
        P + "inject-nodejs": f"{home}/otel-instrumentation",
        P + "container-names": "web",
    }

    # The seed's annotation is refused, with nothing applied.
    refused = cluster.run(
        role(
            otel_instrumentation_namespace=home,
            otel_instrumentation_name="other",
            otel_instrumentation_extra_annotations={P + "inject-javaagent": "true"},
            otel_instrumentation_namespaces=[{"name": app, "languages": ["java"]}],
        )
    )
    assert refused.rc != 0
    assert "inject-javaagent" in refused.last["msg"] and "nothing was applied" in refused.last["msg"]
    assert cluster.get(f"/apis/opentelemetry.io/v1alpha1/namespaces/{home}/instrumentations/other") is None

    # An unknown state is refused by the role's argument specification.
    bad_state = cluster.run(role(otel_instrumentation_namespace=home, otel_instrumentation_state="gone"))
    assert bad_state.rc != 0
    assert "otel_instrumentation_state" in bad_state.last["msg"]

    cluster.run(role(**settings, otel_instrumentation_state="absent"))
    assert cluster.get(INSTRUMENTATION.format(ns=home)) is None
