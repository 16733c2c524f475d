"""otel.kubernetes.rbac through ansible-playbook on the local node (a real Kubernetes 1.34).

The proofs are SubjectAccessReviews: the API server's own RBAC authorizer says what the
collector's service account may and may not do once the rendered objects are applied.
"""

from __future__ import annotations

import uuid

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def agent_config(gateway_namespace: str) -> dict:
    """A node agent: k8sattributes (defaults), kubeletstats by service account, traces load-balanced to a gateway."""
    return {
        "receivers": {
            "otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}},
            "kubeletstats": {"auth_type": "serviceAccount", "endpoint": "https://${env:K8S_NODE_NAME}:10250"},
        },
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "k8sattributes": {"filter": {"node_from_env_var": "K8S_NODE_NAME"}},
            "batch": {},
        },
        "exporters": {
            "loadbalancing": {
                "routing_key": "traceID",
                "protocol": {"otlp": {"tls": {"insecure": True}}},
                "resolver": {"k8s": {"service": f"otel-gateway-collector-headless.{gateway_namespace}"}},
            },
        },
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "k8sattributes", "batch"],
                    "exporters": ["loadbalancing"],
                },
                "metrics": {
                    "receivers": ["kubeletstats"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["loadbalancing"],
                },
            }
        },
    }


def rbac(name: str, namespace: str, config, **options) -> dict:
    arguments = {"name": name, "namespace": namespace, "config": config, **options}
    return {"name": "rbac", "otel.kubernetes.rbac": arguments}


def new_namespace(cluster) -> str:
    name = "t-" + uuid.uuid4().hex[:8]
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_apply_rerun_check_mode_proofs_and_absent(cluster, namespace):
    gateway_ns = new_namespace(cluster)
    other_ns = new_namespace(cluster)
    name = f"{namespace}-agent"
    config = agent_config(gateway_ns)

    # Check mode first: the server validates, nothing is stored.
    check = cluster.run([rbac(name, namespace, config)], "--check", "--diff")
    assert check.rc == 0, check.stdout
    assert check.last["changed"] is True
    assert len(check.last["diff"]) == 5
    assert cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}") is None
    assert cluster.get(f"{RBAC}/clusterroles/{name}") is None

    run = cluster.run([rbac(name, namespace, config)])
    assert run.rc == 0, run.stdout
    result = run.last
    assert result["changed"] is True
    kinds = [(r["kind"], r["namespace"], r["action"]) for r in result["results"]]
    assert kinds == [
        ("ServiceAccount", namespace, "created"),
        ("ClusterRole", None, "created"),
        ("ClusterRoleBinding", None, "created"),
        ("Role", gateway_ns, "created"),
        ("RoleBinding", gateway_ns, "created"),
    ]
    assert [o["kind"] for o in result["objects"]] == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ]
    assert any("kubeletstats" in line and "nodes/stats" in line for line in result["permissions"])
    role = cluster.get(f"{RBAC}/clusterroles/{name}")
    granted = {r for rule in role["rules"] for r in rule["resources"]}
    assert granted == {"pods", "namespaces", "replicasets", "nodes/stats"}

    rerun = cluster.run([rbac(name, namespace, config)])
    assert rerun.rc == 0, rerun.stdout
    assert rerun.last["changed"] is False
    assert {r["action"] for r in rerun.last["results"]} == {"unchanged"}
    assert cluster.run([rbac(name, namespace, config)], "--check").last["changed"] is False

    # SubjectAccessReview proofs, for the service account as the API server sees it.
    user = f"system:serviceaccount:{namespace}:{name}"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]

    def can(verb, resource, **kwargs):
        return cluster.can(user, verb, resource, groups=groups, **kwargs)

    # What the config needs...
    assert can("list", "pods")
    assert can("watch", "pods", namespace=other_ns)
    assert can("watch", "namespaces")
    assert can("get", "replicasets", group="apps")
    assert can("list", "replicasets", group="apps", namespace=other_ns)
    assert can("get", "nodes", subresource="stats")
    assert can("list", "endpoints", namespace=gateway_ns)
    assert can("watch", "endpointslices", group="discovery.k8s.io", namespace=gateway_ns)
    # ... and nothing else.
    assert not can("get", "secrets", namespace=namespace)
    assert not can("list", "secrets")
    assert not can("list", "configmaps", namespace=namespace)
    assert not can("list", "endpoints", namespace=other_ns)
    assert not can("list", "endpoints", namespace=namespace)
    assert not can("list", "endpoints")
    assert not can("delete", "pods", namespace=other_ns)
    assert not can("create", "pods", namespace=namespace)
    assert not can("update", "namespaces")
    assert not can("get", "nodes", subresource="proxy")
    assert not can("list", "nodes")
    assert not can("list", "deployments", group="apps")
    assert not can("list", "jobs", group="batch")

    gone = cluster.run([rbac(name, namespace, config, state="absent")])
    assert gone.rc == 0, gone.stdout
    assert gone.last["changed"] is True
    assert {r["action"] for r in gone.last["results"]} == {"deleted"}
    assert cluster.get(f"{RBAC}/clusterroles/{name}") is None
    assert cluster.get(f"{RBAC}/clusterrolebindings/{name}") is None
    assert cluster.get(f"{RBAC}/namespaces/{gateway_ns}/roles/{name}") is None
    assert cluster.get(f"{RBAC}/namespaces/{gateway_ns}/rolebindings/{name}") is None
    assert not can("list", "pods")
    again = cluster.run([rbac(name, namespace, config, state="absent")])
    assert again.rc == 0 and again.last["changed"] is False


def test_config_without_api_access_gets_only_a_service_account(cluster, namespace):
    config = (
        "receivers:\n  otlp:\n    protocols:\n      grpc: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n"
        "    traces:\n      receivers: [otlp]\n      exporters: [debug]\n"
    )
    run = cluster.run([rbac("plain", namespace, config, service_account="plain-sa")])
    assert run.rc == 0, run.stdout
    assert [(r["kind"], r["name"]) for r in run.last["results"]] == [("ServiceAccount", "plain-sa")]
    assert cluster.get(f"{RBAC}/clusterroles/plain") is None
    assert not cluster.can(
        f"system:serviceaccount:{namespace}:plain-sa",
        "list",
        "pods",
        groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
    )


def test_seed_rules_in_extra_rules_are_applied_with_a_warning(cluster, namespace):
    seed_rules = [
        {
            "apiGroups": [""],
            "resources": ["pods", "namespaces", "nodes", "nodes/metrics", "nodes/proxy"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    config = {
        "processors": {"k8sattributes": {"passthrough": True}},
        "receivers": {"otlp": {}},
        "exporters": {"debug": {}},
        "service": {
            "pipelines": {"logs": {"receivers": ["otlp"], "processors": ["k8sattributes"], "exporters": ["debug"]}}
        },
    }
    name = f"{namespace}-seed"
    run = cluster.run([rbac(name, namespace, config, extra_rules=seed_rules)])
    assert run.rc == 0, run.stdout
    assert any("more than the config needs" in w for w in run.last.get("warnings", []))
    assert cluster.get(f"{RBAC}/clusterroles/{name}")["rules"] == seed_rules
    cluster.run([rbac(name, namespace, config, extra_rules=seed_rules, state="absent")])


def test_refused_config_fails_before_anything_is_applied(cluster, namespace):
    config = {
        "receivers": {"otlp": {}},
        "exporters": {"loadbalancing": {"resolver": {"k8s": {"service": "gw.obs.svc.cluster.local"}}}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["loadbalancing"]}}},
    }
    run = cluster.run([rbac("refused", namespace, config)])
    assert run.rc != 0
    assert "'gw.obs'" in run.last["msg"]
    assert cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/refused") is None
    wildcard = cluster.run(
        [rbac("refused", namespace, None, extra_rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])]
    )
    assert wildcard.rc != 0
    assert "wildcards" in wildcard.last["msg"]
    assert cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/refused") is None
