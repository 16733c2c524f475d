"""site.yml run by a deployer that is not cluster-admin, with exactly playbooks/deployer_rbac.yml's permissions.

The deployer is a real identity of the node: a client certificate of the node's CA for the user
otel-deployer, bound to nothing but the two ClusterRoles of playbooks/deployer_rbac.yml. Runs
site.yml and uninstall.yml: take the node's lock exclusively (see the common brief).
"""

from __future__ import annotations

import shutil

import pytest
from localnode.pki import Pki
from playbook import ROOT, run_playbook
from site_runs import clear, site

DEPLOYER = "otel-deployer"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
CLUSTER_ROLE = f"{RBAC}/clusterroles/otel-deployer-cluster"
NAMESPACED_ROLE = f"{RBAC}/clusterroles/otel-deployer-namespaced"


def failure(run) -> str:
    failed = [t for t in run.tasks if t.get("failed")]
    return failed[0].get("msg", "") if failed else run.stderr[-3000:]


def grant(plane, *args):
    run = site(plane, *args, playbook="deployer_rbac.yml")
    assert run.rc == 0, failure(run)
    return run


@pytest.fixture(scope="module")
def deployer(cluster, tmp_path_factory):
    """The environment that makes the modules and kubernetes.core connect as otel-deployer, on a cleared node."""
    clear(cluster)
    fresh = cluster.node
    grant(fresh, "-e", f"otel_deployer_user={DEPLOYER}")
    pki_dir = tmp_path_factory.mktemp("deployer")
    for name in ("ca.crt", "ca.key"):  # a copy: nothing is written into the shared node's directory
        shutil.copy(fresh.pki.dir / name, pki_dir / name)
    pki = Pki(pki_dir)
    cert, key = pki.issue("deployer", DEPLOYER)
    kubeconfig = str(pki.kubeconfig(pki_dir / "deployer.kubeconfig", fresh.server, DEPLOYER, cert, key))
    yield {"K8S_AUTH_KUBECONFIG": kubeconfig, "KUBECONFIG": kubeconfig}
    # Leave the node as the other tests expect it: the deployer's grants gone, site.yml's objects
    # converged by the administrator.
    grant(fresh, "-e", "otel_deployer_rbac_state=absent")
    assert cluster.get(CLUSTER_ROLE) is None and cluster.get(NAMESPACED_ROLE) is None
    converged = site(fresh)
    assert converged.rc == 0, failure(converged)


def can(cluster, verb, resource, **kwargs) -> bool:
    return cluster.can(DEPLOYER, verb, resource, groups=["system:authenticated"], **kwargs)


def test_the_deployer_is_not_cluster_admin(deployer, cluster):
    crds, rbac = "apiextensions.k8s.io", "rbac.authorization.k8s.io"
    # What site.yml needs...
    assert can(
        cluster, "patch", "customresourcedefinitions", group=crds, name="opentelemetrycollectors.opentelemetry.io"
    )
    assert can(cluster, "escalate", "clusterroles", group=rbac, name="opentelemetry-operator-manager-role")
    assert can(cluster, "bind", "clusterroles", group=rbac, name="otel-agent")
    assert can(cluster, "escalate", "clusterroles", group=rbac, name="otel-cluster")
    assert can(
        cluster,
        "delete",
        "opentelemetrycollectors",
        group="opentelemetry.io",
        namespace="observability-host",
        name="otel-agent-host",
    )
    assert not can(
        cluster,
        "delete",
        "opentelemetrycollectors",
        group="opentelemetry.io",
        namespace="observability",
        name="otel-gateway",
    )
    assert can(cluster, "patch", "secrets", namespace="observability")
    assert can(cluster, "patch", "opentelemetrycollectors", group="opentelemetry.io", namespace="observability")
    # ... and not what an administrator may do.
    assert not can(cluster, "get", "secrets", namespace="kube-system")
    assert not can(cluster, "list", "secrets")
    assert not can(cluster, "get", "secrets", namespace="default")
    assert not can(cluster, "delete", "nodes")
    assert not can(cluster, "create", "pods", namespace="default")
    assert not can(cluster, "create", "pods", namespace="observability")
    assert not can(cluster, "delete", "namespaces", name="observability")
    assert not can(cluster, "patch", "namespaces", name="kube-system")
    assert not can(cluster, "patch", "customresourcedefinitions", group=crds, name="certificates.cert-manager.io")
    assert not can(
        cluster, "delete", "customresourcedefinitions", group=crds, name="opentelemetrycollectors.opentelemetry.io"
    )
    assert not can(cluster, "create", "clusterrolebindings", group=rbac)
    assert not can(cluster, "patch", "clusterrolebindings", group=rbac, name="cluster-admin")
    assert not can(cluster, "escalate", "clusterroles", group=rbac, name="cluster-admin")
    assert not can(cluster, "bind", "clusterroles", group=rbac, name="cluster-admin")
    assert not can(cluster, "impersonate", "users")
    assert not can(cluster, "list", "opentelemetrycollectors", group="opentelemetry.io")  # cluster-wide
    assert not can(cluster, "patch", "opentelemetrycollectors", group="opentelemetry.io", namespace="default")


def test_site_converges_as_the_deployer_and_a_rerun_changes_nothing(deployer, cluster):
    first = site(cluster.node, env=deployer)
    assert first.rc == 0, failure(first)
    assert cluster.get("/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors/otel-agent")
    assert cluster.get(f"{RBAC}/clusterroles/otel-agent")
    second = site(cluster.node, env=deployer)
    assert second.rc == 0, failure(second)
    changed = [t["task"] for t in second.tasks if t.get("changed")]
    assert changed == [], changed


def test_site_converges_impersonating_the_deployer(deployer, cluster):
    """An administrator's credentials acting as the deployer (impersonate_user, as kubernetes.core's):
    what deployer_rbac.yml grants is enough, and what it does not grant is refused to the deployer."""
    impersonating = {"K8S_AUTH_KUBECONFIG": cluster.kubeconfig, "K8S_AUTH_IMPERSONATE_USER": DEPLOYER}
    run = site(cluster.node, env=impersonating)
    assert run.rc == 0, failure(run)
    refused = cluster.run(
        [
            {
                "name": "read",
                "otel.kubernetes.info": {"kind": "Secret", "namespace": "kube-system"},
                "ignore_errors": True,
            }
        ],
        env=impersonating,
    )
    assert f'User "{DEPLOYER}" cannot list resource "secrets"' in refused.task("read")["msg"]


def test_an_identity_without_the_impersonate_permission_is_refused_naming_the_fix(deployer, cluster):
    run = cluster.run(
        [{"name": "read", "otel.kubernetes.info": {"kind": "Namespace", "impersonate_user": "otel-admin"}}],
        env=deployer,
    )
    assert run.rc != 0
    message = run.task("read")["msg"]
    assert f'User "{DEPLOYER}" cannot impersonate resource "users"' in message, message
    assert "may not impersonate user 'otel-admin'" in message
    assert "Grant it the verb 'impersonate'" in message and "drop impersonate_user" in message


def test_the_collectors_service_accounts_have_exactly_what_their_configs_need(deployer, cluster):
    """As site.yml deployed them (by the deployer): k8sattributes' and the kubelet's reads for the agent, list and
    watch of what it reads for the cluster collector, nothing for the gateway."""
    ns = "observability"

    def sa_can(name, verb, resource, **kwargs):
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
        return cluster.can(f"system:serviceaccount:{ns}:{name}", verb, resource, groups=groups, **kwargs)

    # The agent: one ClusterRole, derived from its configuration, bound once.
    assert cluster.bindings_of(ns, "otel-agent") == [("ClusterRoleBinding", None, "otel-agent", "otel-agent")]
    rules = cluster.get(f"{RBAC}/clusterroles/otel-agent")["rules"]
    assert sorted(
        (g, r, tuple(sorted(rule["verbs"]))) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
    ) == [
        ("", "namespaces", ("get", "list", "watch")),
        ("", "nodes/stats", ("get",)),
        ("", "pods", ("get", "list", "watch")),
        ("apps", "replicasets", ("get", "list", "watch")),
    ]
    allowed = [
        ("get", "pods", {"namespace": "default"}),
        ("list", "pods", {}),
        ("watch", "pods", {}),
        ("get", "namespaces", {}),
        ("list", "namespaces", {}),
        ("watch", "namespaces", {}),
        ("get", "replicasets", {"group": "apps", "namespace": "default"}),
        ("list", "replicasets", {"group": "apps"}),
        ("watch", "replicasets", {"group": "apps"}),
        ("get", "nodes", {"subresource": "stats"}),
    ]
    denied = [
        ("get", "secrets", {"namespace": ns}),
        ("get", "secrets", {"namespace": "kube-system"}),
        ("list", "secrets", {}),
        ("get", "configmaps", {"namespace": ns}),
        ("list", "configmaps", {}),
        ("get", "nodes", {"subresource": "proxy"}),
        ("get", "nodes", {"subresource": "log"}),
        ("get", "nodes", {"subresource": "pods"}),
        ("list", "nodes", {}),
        ("create", "pods", {"namespace": ns}),
        ("delete", "pods", {"namespace": "default"}),
        ("patch", "pods", {"namespace": "default"}),
        ("create", "pods", {"namespace": ns, "subresource": "exec"}),
        ("update", "namespaces", {}),
        ("delete", "namespaces", {}),
        ("list", "deployments", {"group": "apps"}),
        ("list", "endpoints", {}),
        ("list", "jobs", {"group": "batch"}),
        ("create", "clusterrolebindings", {"group": "rbac.authorization.k8s.io"}),
        ("escalate", "clusterroles", {"group": "rbac.authorization.k8s.io"}),
        ("impersonate", "users", {}),
        ("create", "serviceaccounts", {"namespace": ns, "subresource": "token"}),
    ]
    assert [a for a in allowed if not sa_can("otel-agent", a[0], a[1], **a[2])] == []
    assert [d for d in denied if sa_can("otel-agent", d[0], d[1], **d[2])] == []

    # The cluster collector: list and watch of what k8s_cluster's informers and the events watch read.
    assert cluster.bindings_of(ns, "otel-cluster") == [("ClusterRoleBinding", None, "otel-cluster", "otel-cluster")]
    watched = [
        ("pods", ""),
        ("nodes", ""),
        ("namespaces", ""),
        ("services", ""),
        ("resourcequotas", ""),
        ("replicationcontrollers", ""),
        ("deployments", "apps"),
        ("replicasets", "apps"),
        ("daemonsets", "apps"),
        ("statefulsets", "apps"),
        ("jobs", "batch"),
        ("cronjobs", "batch"),
        ("horizontalpodautoscalers", "autoscaling"),
        ("events", "events.k8s.io"),
    ]
    cluster_allowed = [(verb, resource, {"group": group}) for resource, group in watched for verb in ("list", "watch")]
    cluster_denied = [
        ("get", "pods", {"namespace": "default"}),
        ("get", "nodes", {}),
        ("get", "deployments", {"group": "apps", "namespace": "default"}),
        ("list", "events", {}),
        ("create", "events", {"group": "events.k8s.io", "namespace": ns}),
        ("get", "secrets", {"namespace": ns}),
        ("list", "secrets", {}),
        ("list", "configmaps", {}),
        ("get", "nodes", {"subresource": "stats"}),
        ("get", "nodes", {"subresource": "proxy"}),
        ("get", "pods", {"subresource": "status", "namespace": "default"}),
        ("patch", "deployments", {"group": "apps", "namespace": "default"}),
        ("delete", "pods", {"namespace": "default"}),
        ("list", "endpointslices", {"group": "discovery.k8s.io"}),
        ("list", "persistentvolumes", {}),
    ]
    assert [a for a in cluster_allowed if not sa_can("otel-cluster", a[0], a[1], **a[2])] == []
    assert [d for d in cluster_denied if sa_can("otel-cluster", d[0], d[1], **d[2])] == []

    # The gateway: its configuration reads nothing from the API server, so nothing is bound to it.
    assert cluster.get(f"/api/v1/namespaces/{ns}/serviceaccounts/otel-gateway")
    assert cluster.bindings_of(ns, "otel-gateway") == []
    gateway_denied = [
        ("list", "pods", {}),
        ("get", "pods", {"namespace": ns}),
        ("get", "namespaces", {}),
        ("list", "replicasets", {"group": "apps"}),
        ("get", "secrets", {"namespace": ns}),
        ("get", "configmaps", {"namespace": ns}),
        ("list", "endpoints", {"namespace": ns}),
        ("list", "endpointslices", {"group": "discovery.k8s.io", "namespace": ns}),
        ("get", "nodes", {"subresource": "stats"}),
        ("list", "nodes", {}),
    ]
    assert [d for d in gateway_denied if sa_can("otel-gateway", d[0], d[1], **d[2])] == []


def without_rule(cluster, path: str, resource: str, verb: str) -> None:
    """The deployer's ClusterRole at path, minus verb on resource only (as an administrator edits it)."""
    role = cluster.get(path)
    rules = []
    for rule in role["rules"]:
        if resource in rule["resources"] and verb in rule["verbs"]:
            others = [r for r in rule["resources"] if r != resource]
            if others:
                rules.append({**rule, "resources": others})
            rules.append({**rule, "resources": [resource], "verbs": [v for v in rule["verbs"] if v != verb]})
        else:
            rules.append(rule)
    role["rules"] = rules
    cluster.request("PUT", path, role)


@pytest.mark.parametrize(
    ("role", "resource", "verb", "expected"),
    [
        (
            CLUSTER_ROLE,
            "customresourcedefinitions",
            "patch",
            'User "otel-deployer" cannot patch resource "customresourcedefinitions" in API group '
            '"apiextensions.k8s.io" at the cluster scope',
        ),
        (
            NAMESPACED_ROLE,
            "serviceaccounts",
            "patch",
            'User "otel-deployer" cannot patch resource "serviceaccounts" in API group "" in the namespace',
        ),
    ],
)
def test_a_run_without_one_permission_fails_naming_it(deployer, cluster, role, resource, verb, expected):
    without_rule(cluster, role, resource, verb)
    try:
        run = site(cluster.node, env=deployer)
        assert run.rc != 0
        message = failure(run)
        assert expected in message, message
        assert "playbooks/deployer_rbac.yml" in message, message
    finally:
        # The edit above took the rules from the playbook's field manager: delete and grant again.
        cluster.request("DELETE", role)
        grant(cluster.node, "-e", f"otel_deployer_user={DEPLOYER}")


def test_no_subject_fails_before_anything_is_applied(tmp_path):
    # A kubeconfig that does not exist: the check must come before any contact with a cluster.
    missing = str(tmp_path / "none")
    run = run_playbook(
        ROOT / "playbooks" / "deployer_rbac.yml",
        "-i",
        str(ROOT / "inventories" / "local"),
        env={"K8S_AUTH_KUBECONFIG": missing, "KUBECONFIG": missing},
    )
    assert run.rc != 0
    assert "otel_deployer_user or otel_deployer_group" in failure(run)
    assert len([t for t in run.tasks if t.get("failed")]) == 1  # the check, nothing after it
