"""otel.kubernetes.apply through ansible-playbook on the local node (a real Kubernetes 1.34 with a kubelet)."""

from __future__ import annotations

import os
import time

import yaml

SECRET_VALUE = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"  # base64 of a made-up password
BUSYBOX = "otel-local.test/busybox:1.35"  # built and imported by the local node
WAIT_FOREVER = ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do /bin/busybox sleep 1; done"]


def cm(namespace: str, name: str = "settings", **data) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data or {"level": "info"},
    }


def deployment(namespace: str, name: str = "web", replicas: int = 1, image: str = BUSYBOX) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "command": WAIT_FOREVER,
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
    }


def apply(definition, **options) -> dict:
    return {"name": "apply", "otel.kubernetes.apply": {"definition": definition, **options}}


def stack(ns: str) -> list:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        cm(ns),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        },
        deployment(ns),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"{ns}-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
    ]


def test_create_rerun_update_absent(cluster):
    ns = "apply-cycle"
    run = cluster.run([apply(stack(ns))])
    assert run.rc == 0, run.stdout
    result = run.last
    assert result["changed"] is True
    assert [r["action"] for r in result["results"]] == ["created"] * 5
    assert cluster.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web")["spec"]["replicas"] == 1

    # Controllers write to the Namespace and the Deployment between runs; the re-run
    # must still be unchanged, and cost one request per object plus one LIST.
    time.sleep(1.5)
    rerun = cluster.run([apply(stack(ns))])
    assert rerun.rc == 0, rerun.stdout
    assert rerun.last["changed"] is False
    assert {r["action"] for r in rerun.last["results"]} == {"unchanged"}
    assert rerun.last["api_requests"] == 5 + 1

    changed = stack(ns)
    changed[1]["data"]["level"] = "debug"
    update = cluster.run([apply(changed)])
    assert update.last["changed"] is True
    actions = {r["kind"]: r["action"] for r in update.last["results"]}
    assert actions == {
        "Namespace": "unchanged",
        "ConfigMap": "updated",
        "Service": "unchanged",
        "Deployment": "unchanged",
        "ClusterRole": "unchanged",
    }
    assert cluster.get(f"/api/v1/namespaces/{ns}/configmaps/settings")["data"]["level"] == "debug"

    gone = cluster.run([apply(changed, state="absent")])
    assert gone.last["changed"] is True
    applied_order = [r["kind"] for r in result["results"]]
    assert applied_order[0] == "Namespace"
    assert [r["kind"] for r in gone.last["results"]] == applied_order[::-1]
    assert {r["action"] for r in gone.last["results"]} == {"deleted"}
    assert cluster.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{ns}-reader") is None
    again = cluster.run([apply(changed, state="absent")])
    assert again.rc == 0
    assert again.last["changed"] is False
    assert {r["action"] for r in again.last["results"]} == {"absent"}


def test_check_mode_stores_nothing_and_diff_is_right(cluster, namespace):
    cluster.run([apply(cm(namespace, level="info"))])
    new_objects = [cm(namespace, level="warn"), cm(namespace, "extra", a="1")]
    run = cluster.run([apply(new_objects)], "--check", "--diff")
    assert run.rc == 0, run.stdout
    result = run.last
    assert result["changed"] is True
    assert [r["action"] for r in result["results"]] == ["updated", "created"]
    diff = result["results"][0]["diff"]
    assert diff["before"]["data"] == {"level": "info"}
    assert diff["after"]["data"] == {"level": "warn"}
    assert "managedFields" not in diff["after"]["metadata"]
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/settings")["data"] == {"level": "info"}
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/extra") is None
    # Ansible's own diff output has both changes, as text.
    assert len(result["diff"]) == 2
    assert "level: warn" in result["diff"][0]["after"]


def test_check_mode_on_fresh_namespace_and_crd(cluster):
    crd = test_crd("widgets.check.example.com", "check.example.com", "Widget", "widgets")
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh-check"}},
        cm("fresh-check"),
        crd,
        {
            "apiVersion": "check.example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "fresh-check"},
            "spec": {"size": 1},
        },
    ]
    run = cluster.run([apply(objects)], "--check")
    assert run.rc == 0, run.stdout
    assert [r["action"] for r in run.last["results"]] == ["created"] * 4
    notes = {r["kind"]: r.get("note", "") for r in run.last["results"]}
    assert "namespace fresh-check is created by this input" in notes["ConfigMap"]
    assert "CustomResourceDefinition is created by this input" in notes["Widget"]
    assert notes["CustomResourceDefinition"] == ""  # validated by the server's dry run
    assert cluster.get("/api/v1/namespaces/fresh-check") is None
    assert cluster.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.check.example.com") is None


def test_crd_and_custom_resource_in_one_input(cluster, namespace):
    crd = test_crd("gadgets.example.com", "example.com", "Gadget", "gadgets")
    gadget = {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g1", "namespace": namespace},
        "spec": {"size": 3},
    }
    # The custom resource comes first in the input: the engine orders it after its CRD.
    text = yaml.safe_dump_all([gadget, crd])
    run = cluster.run([apply(text)])
    assert run.rc == 0, run.stdout
    assert [r["kind"] for r in run.last["results"]] == ["CustomResourceDefinition", "Gadget"]
    assert cluster.get(f"/apis/example.com/v1/namespaces/{namespace}/gadgets/g1")["spec"]["size"] == 3
    rerun = cluster.run([apply(text)])
    assert rerun.last["changed"] is False


def test_invalid_object_reports_422_and_what_was_applied(cluster, namespace):
    bad = deployment(namespace, "bad")
    bad["spec"]["replicas"] = -1
    run = cluster.run([apply([cm(namespace, "first"), bad])])
    assert run.rc != 0
    msg = run.last["msg"]
    assert "422" in msg
    assert f"Deployment {namespace}/bad" in msg
    assert "spec.replicas" in msg
    assert f"ConfigMap {namespace}/first (created)" in msg
    assert "Traceback" not in run.stdout + run.stderr


def test_input_errors_apply_nothing(cluster):
    cases = {
        "definition: [unclosed": "not valid YAML",
        yaml.safe_dump_all(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "never-a"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
            ]
        ): "metadata.name missing",
        yaml.safe_dump_all(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "never-b"}},
                {"apiVersion": "nope.example.com/v1", "kind": "Thing", "metadata": {"name": "x"}},
            ]
        ): "is not served",
    }
    for text, expected in cases.items():
        run = cluster.run([apply(text)])
        assert run.rc != 0
        assert expected in run.last["msg"], run.last["msg"]
        assert "nothing was applied" in run.last["msg"] or "not valid YAML" in run.last["msg"]
    assert cluster.get("/api/v1/namespaces/never-a") is None
    assert cluster.get("/api/v1/namespaces/never-b") is None


def test_conflict_with_another_field_manager_then_force(cluster, namespace):
    cluster.run([apply(cm(namespace, "shared", owner="helm"), field_manager="someone-else")])
    run = cluster.run([apply(cm(namespace, "shared", owner="otel"))])
    assert run.rc != 0
    msg = run.last["msg"]
    assert "409" in msg and "someone-else" in msg and ".data.owner" in msg and "force_conflicts" in msg
    forced = cluster.run([apply(cm(namespace, "shared", owner="otel"), force_conflicts=True)])
    assert forced.rc == 0
    assert forced.last["changed"] is True
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/shared")["data"]["owner"] == "otel"


def test_secret_values_never_shown(cluster, namespace):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": namespace},
        "type": "Opaque",
        "data": {"password": SECRET_VALUE},
    }
    first = cluster.run([apply(secret)], "--diff", "-v")
    assert first.rc == 0
    changed = dict(secret, data={"password": "b3RoZXItc2VjcmV0LXZhbHVl"})
    second = cluster.run([apply(changed)], "--diff", "-v")
    assert second.rc == 0
    for run in (first, second):
        assert SECRET_VALUE not in run.stdout + run.stderr
        assert "b3RoZXItc2VjcmV0LXZhbHVl" not in run.stdout + run.stderr
    assert "VALUE_REDACTED (changed)" in second.stdout
    stored = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/creds")
    assert stored["data"]["password"] == "b3RoZXItc2VjcmV0LXZhbHVl"


def test_wait_times_out_naming_the_workload_then_succeeds(cluster, namespace):
    # An image the node cannot pull: the Deployment never becomes available.
    run = cluster.run([apply(deployment(namespace, "slow", image="registry.example/web:1"), wait=True, wait_timeout=3)])
    assert run.rc != 0
    assert f"Deployment {namespace}/slow" in run.last["msg"]
    assert "0/1 replicas" in run.last["msg"]
    # The image fixed: the kubelet starts the new Pod and the wait sees the rollout finish.
    ok = cluster.run([apply(deployment(namespace, "slow"), wait=True, wait_timeout=60)])
    assert ok.rc == 0, ok.last.get("msg")
    pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert any(p["status"].get("phase") == "Running" for p in pods)


def test_wait_condition(cluster, namespace):
    crd = test_crd("probes.example.com", "example.com", "Probe", "probes", status=True)
    cluster.run([apply(crd)])
    probe = {"apiVersion": "example.com/v1", "kind": "Probe", "metadata": {"name": "p", "namespace": namespace}}
    run = cluster.run([apply(probe, wait=True, wait_timeout=2, wait_condition={"type": "Ready"})])
    assert run.rc != 0 and "no condition Ready" in run.last["msg"]
    cluster.request(
        "PATCH",
        f"/apis/example.com/v1/namespaces/{namespace}/probes/p/status",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        "application/merge-patch+json",
    )
    ok = cluster.run([apply(probe, wait=True, wait_timeout=5, wait_condition={"type": "Ready"})])
    assert ok.rc == 0, ok.last.get("msg")


def test_src_file_and_k8s_auth_environment(cluster, namespace, tmp_path):
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all([cm(namespace, "from-file")]) + "---\n")
    run = cluster.run(
        [{"name": "apply", "otel.kubernetes.apply": {"src": str(path)}}],
        env={"K8S_AUTH_KUBECONFIG": cluster.kubeconfig, "KUBECONFIG": "/nonexistent"},
    )
    assert run.rc == 0, run.last.get("msg")
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/from-file") is not None


def test_wrong_credentials_and_unprivileged_user(cluster, namespace, tmp_path):
    # A client certificate from a CA the API server does not trust: 401.
    from localnode.pki import Pki

    stranger = Pki(tmp_path / "stranger")
    stranger.create_ca()
    stranger_cert, stranger_key = stranger.issue("admin", "otel-admin", "system:masters")
    env = {
        "K8S_AUTH_KUBECONFIG": "",
        "K8S_AUTH_HOST": cluster.node.server,
        "K8S_AUTH_CA_CERT": str(cluster.node.pki.ca_cert),
        "K8S_AUTH_CLIENT_CERT": str(stranger_cert),
        "K8S_AUTH_CLIENT_KEY": str(stranger_key),
    }
    run = cluster.run([apply(cm(namespace))], env=env)
    assert run.rc != 0
    assert "401" in run.last["msg"] and "credentials" in run.last["msg"]

    user = cluster.run([apply(cm(namespace, "denied"))], env={"K8S_AUTH_KUBECONFIG": str(cluster.node.user_kubeconfig)})
    assert user.rc != 0
    assert "403" in user.last["msg"] and "otel-unprivileged" in user.last["msg"]
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/denied") is None


def test_api_server_restart_inside_retry_window(cluster, namespace):
    cluster.node.stop_apiserver()
    try:
        process = cluster.run([apply(cm(namespace, "after-restart"), retry_timeout=60)], background=True)
        time.sleep(4)
        assert process.poll() is None, "the task gave up while the API server was down"
    finally:
        cluster.node.start_apiserver()
    from playbook import finish

    run = finish(process)
    assert run.rc == 0, run.last.get("msg")
    assert run.last["results"][0]["action"] == "created"
    assert cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/after-restart") is not None


def test_api_server_down_beyond_retry_window(cluster, namespace):
    cluster.node.stop_apiserver()
    try:
        run = cluster.run([apply(cm(namespace), retry_timeout=2)])
    finally:
        cluster.node.start_apiserver()
    assert run.rc != 0
    assert "cannot reach the Kubernetes API server" in run.last["msg"]


def test_crd(name: str, group: str, kind: str, plural: str, status: bool = False) -> dict:
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "versions": [version],
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
        },
    }


test_crd.__test__ = False  # a helper, not a test
os.environ.setdefault("ANSIBLE_NOCOLOR", "1")
