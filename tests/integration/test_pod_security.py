"""Pod Security Standards: the collection's namespaces are restricted, and its Pods are admitted there.

The judge is the API server's built-in PodSecurity admission on the local node (Kubernetes 1.34):
every Pod template is sent as a Pod with a server-side dry run (`kubectl create --dry-run=server`)
into a namespace that the collection's own apply module labelled, so admission runs in full and
nothing is stored. The templates are what the operator would make of the collectors the roles
render (tests/support/operator_standin.py) and the operator's controller Deployment of its real
release manifest as the otel_operator role applies it. The Pods running Ready under restricted are proven by
test_pipeline_end_to_end.py (collectors) and test_site.py (the operator stand-in's controller).
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from operator_standin import as_the_operator_runs_it
from playbook import render_objects

from ansible_collections.otel.kubernetes.plugins.module_utils.pod_security import namespace_labels

OPERATOR_DEPLOYMENT = "opentelemetry-operator-controller-manager"


@pytest.fixture(scope="module")
def levels(cluster) -> dict:
    """One fresh namespace per level, applied by otel.kubernetes.apply with pod_security."""
    names = {level: f"t-pss-{level[:4]}-{uuid.uuid4().hex[:6]}" for level in ("privileged", "baseline", "restricted")}
    tasks = [
        {
            "name": level,
            "otel.kubernetes.apply": {
                "definition": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                "pod_security": level,
            },
        }
        for level, name in names.items()
    ]
    run = cluster.run(tasks)
    assert run.rc == 0, run.stdout[-3000:]
    yield names
    cluster.node.kubectl_run("delete", "namespace", *names.values(), "--wait=false", check=False)


def admit(cluster, namespace: str, template: dict, name: str):
    """A server-side dry-run create of `template` as a Pod in `namespace`: (rc, stderr)."""
    spec = copy.deepcopy(template["spec"])
    # The ServiceAccount admission plugin would refuse a missing ServiceAccount first; Pod Security
    # does not look at it.
    spec.pop("serviceAccountName", None)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    done = cluster.node.kubectl_run(
        "create", "--dry-run=server", "-o", "name", "-f", "-", input_text=json.dumps(pod), check=False
    )
    return done.returncode, done.stderr


def templates(objects: list) -> dict:
    """name -> pod template of the collectors' workloads, as the operator would make them."""
    found = {}
    for obj in objects:
        if obj["kind"] == "OpenTelemetryCollector":
            for made in as_the_operator_runs_it(obj):
                if made["kind"] in ("Deployment", "DaemonSet"):
                    found[made["metadata"]["name"]] = made["spec"]["template"]
        elif obj["kind"] == "Deployment" and obj["metadata"]["name"] == OPERATOR_DEPLOYMENT:
            found[OPERATOR_DEPLOYMENT] = obj["spec"]["template"]
    return found


def test_the_labels_are_on_the_namespaces_as_applied(cluster, levels):
    for level, name in levels.items():
        labels = cluster.get(f"/api/v1/namespaces/{name}")["metadata"]["labels"]
        assert {k: v for k, v in labels.items() if k.startswith("pod-security.")} == namespace_labels(level)


def test_rendered_namespaces_carry_restricted_and_every_pod_is_admitted_with_no_warning(cluster, levels):
    objects = render_objects("local")
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels", {}) for o in objects if o["kind"] == "Namespace"}
    assert {"observability", "opentelemetry-operator-system"} <= set(namespaces)
    for name, labels in namespaces.items():
        pod_security = {k: v for k, v in labels.items() if k.startswith("pod-security.")}
        assert pod_security == namespace_labels("restricted"), name
    found = templates(objects)
    assert set(found) == {
        "otel-gateway-collector",
        "otel-agent-collector",
        "otel-cluster-collector",
        OPERATOR_DEPLOYMENT,
    }
    for name, template in found.items():
        rc, stderr = admit(cluster, levels["restricted"], template, name)
        assert rc == 0, f"{name} refused under restricted: {stderr}"
        assert "Warning" not in stderr, f"{name}: {stderr}"


def test_the_agent_with_host_ports_is_refused_under_restricted_and_baseline_naming_hostport(cluster, levels):
    # The negative control: the same agent with otel_agent_host_ports, in a namespace of its own at
    # the privileged level, as the role's README says.
    objects = render_objects(
        "local", "otel_agent_host_ports=true", "otel_agent_pod_security=privileged", "otel_agent_namespace=node-agents"
    )
    agent = templates(objects)["otel-agent-collector"]
    ports = agent["spec"]["containers"][0]["ports"]
    assert {p["name"]: p.get("hostPort") for p in ports if p["name"].startswith("otlp")} == {
        "otlp-grpc": 4317,
        "otlp-http": 4318,
    }
    namespaces = {o["metadata"]["name"]: o["metadata"]["labels"] for o in objects if o["kind"] == "Namespace"}
    assert namespaces["node-agents"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespaces["observability"]["pod-security.kubernetes.io/enforce"] == "restricted"  # only that one lowered
    for level in ("restricted", "baseline"):
        rc, stderr = admit(cluster, levels[level], agent, "agent-with-host-ports")
        assert rc != 0, f"admitted under {level}"
        assert f'violates PodSecurity "{level}:' in stderr and "hostPort" in stderr and "4317" in stderr, stderr


def test_the_host_collector_is_admitted_only_where_privileged_and_the_agent_stays_restricted(cluster, levels):
    # Container logs and host metrics on, read by the separate host collector (the default placement).
    objects = render_objects("local", "otel_agent_container_logs=true", "otel_agent_host_metrics=true")
    namespaces = {o["metadata"]["name"]: o["metadata"]["labels"] for o in objects if o["kind"] == "Namespace"}
    assert namespaces["observability-host"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespaces["observability"]["pod-security.kubernetes.io/enforce"] == "restricted"
    found = templates(objects)
    host = found["otel-agent-host-collector"]
    for level in ("restricted", "baseline"):
        rc, stderr = admit(cluster, levels[level], host, "host-collector")
        assert rc != 0, f"admitted under {level}"
        # baseline: "hostPath volumes (...)"; restricted: "restricted volume types (... "hostPath")".
        assert f'violates PodSecurity "{level}:' in stderr and "hostPath" in stderr, stderr
    rc, stderr = admit(cluster, levels["privileged"], host, "host-collector")
    assert rc == 0 and "Warning" not in stderr, stderr
    for name in ("otel-agent-collector", "otel-cluster-collector", "otel-gateway-collector"):
        rc, stderr = admit(cluster, levels["restricted"], found[name], name)
        assert rc == 0 and "Warning" not in stderr, f"{name}: {stderr}"


def test_the_agent_reading_the_host_itself_is_refused_below_privileged(cluster, levels):
    objects = render_objects(
        "local",
        "otel_agent_container_logs=true",
        "otel_agent_host_collector=agent",
        "otel_agent_pod_security=privileged",
        "otel_agent_namespace=node-agents",
    )
    agent = templates(objects)["otel-agent-collector"]
    for level in ("restricted", "baseline"):
        rc, stderr = admit(cluster, levels[level], agent, "agent-reading-the-host")
        assert rc != 0 and "hostPath" in stderr, stderr
    rc, stderr = admit(cluster, levels["privileged"], agent, "agent-reading-the-host")
    assert rc == 0, stderr


def test_upstream_operator_deployment_is_admitted_only_with_the_roles_security_context(cluster, levels):
    # Upstream's manager Deployment (the real release manifest) sets no securityContext.
    hardened = templates(render_objects("local"))[OPERATOR_DEPLOYMENT]
    assert hardened["spec"]["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert hardened["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    rc, stderr = admit(cluster, levels["restricted"], hardened, "operator")
    assert rc == 0 and "Warning" not in stderr, stderr

    baseline = render_objects("local", "otel_operator_pod_security=baseline")
    as_published = templates(baseline)[OPERATOR_DEPLOYMENT]
    assert "securityContext" not in as_published["spec"]
    assert "securityContext" not in as_published["spec"]["containers"][0]
    rc, stderr = admit(cluster, levels["restricted"], as_published, "operator")
    assert rc != 0
    for missing in ("allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true"):
        assert missing in stderr, stderr
    rc, stderr = admit(cluster, levels["baseline"], as_published, "operator")
    assert rc == 0 and "Warning" not in stderr, stderr


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"otel_agent_host_ports": True}, "otel_agent_host_ports=true (hostPort 4317 and 4318)"),
        (
            {"otel_agent_extra_ports": [{"name": "syslog", "port": 5140, "hostPort": 5140}]},
            "otel_agent_extra_ports syslog (hostPort)",
        ),
        (
            {
                "otel_agent_helm_values": {
                    "extraVolumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}],
                    "extraVolumeMounts": [{"name": "varlog", "mountPath": "/var/log", "readOnly": True}],
                }
            },
            "otel_agent_helm_values extraVolumes varlog (hostPath)",
        ),
    ],
)
def test_the_agent_role_refuses_host_features_below_privileged_before_applying_anything(cluster, settings, named):
    namespace = "t-pss-agent-" + uuid.uuid4().hex[:6]
    run = cluster.run(
        [{"ansible.builtin.include_role": {"name": "otel.kubernetes.otel_agent"}}],
        vars={"otel_agent_namespace": namespace, "otel_agent_rbac_name": namespace, **settings},
    )
    assert run.rc != 0
    message = next(t for t in run.tasks if t.get("failed"))["msg"]
    assert named in message
    for words in (
        "otel_agent_pod_security is restricted",
        f"namespace {namespace}",
        "otel_agent_host_ports to false",
        f"otel-agent-collector.{namespace}.svc.cluster.local",
        "a namespace of its own",
        "privileged",
        "Nothing was applied",
    ):
        assert words in message, message
    assert "Traceback" not in run.stdout + run.stderr
    assert cluster.get(f"/api/v1/namespaces/{namespace}") is None  # nothing applied, not even the namespace
    assert cluster.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{namespace}") is None
