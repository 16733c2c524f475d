"""rbac_render: each permission is derived from what the collector config uses, and nothing more."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils import rbac_render
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError

NS = "observability"


def config(processors=None, receivers=None, exporters=None, pipelines=None, extensions=None, service_extensions=None):
    """A config whose one pipeline uses every component given (unless pipelines says otherwise)."""
    receivers = {"otlp": {"protocols": {"grpc": {}}}, **(receivers or {})}
    processors = processors or {}
    exporters = exporters or {"debug": {}}
    if pipelines is None:
        pipelines = {
            "traces": {"receivers": list(receivers), "processors": list(processors), "exporters": list(exporters)}
        }
    result = {
        "receivers": receivers,
        "processors": processors,
        "exporters": exporters,
        "service": {"pipelines": pipelines},
    }
    if extensions is not None:
        result["extensions"] = extensions
        result["service"]["extensions"] = service_extensions or list(extensions)
    return result


def cluster(cfg, **kwargs) -> dict:
    return rbac_render.derive_permissions(cfg, NS, **kwargs).cluster


def namespaced(cfg, **kwargs) -> dict:
    return rbac_render.derive_permissions(cfg, NS, **kwargs).namespaced


READ = {"get", "list", "watch"}


# ---------------------------------------------------------------- k8sattributes


def test_k8sattributes_defaults_need_pods_namespaces_and_replicasets():
    perms = cluster(config(processors={"k8sattributes": {}}))
    assert perms == {("", "pods"): READ, ("", "namespaces"): READ, ("apps", "replicasets"): READ}


@pytest.mark.parametrize("spelling", ["k8sattributes", "k8s_attributes", "k8sattributes/agent", "k8s_attributes/x"])
def test_k8sattributes_spellings_and_named_components(spelling):
    assert ("", "pods") in cluster(config(processors={spelling: {}}))


def test_k8sattributes_node_name_needs_no_node_access():
    cfg = config(processors={"k8sattributes": {"extract": {"metadata": ["k8s.pod.name", "k8s.node.name"]}}})
    assert cluster(cfg) == {("", "pods"): READ, ("", "namespaces"): READ}


def test_k8sattributes_deployment_name_needs_replicasets_unless_from_replicaset_name():
    with_rs = config(processors={"k8sattributes": {"extract": {"metadata": ["k8s.deployment.name"]}}})
    assert ("apps", "replicasets") in cluster(with_rs)
    from_name = config(
        processors={
            "k8sattributes": {"extract": {"metadata": ["k8s.deployment.name"], "deployment_name_from_replicaset": True}}
        }
    )
    assert ("apps", "replicasets") not in cluster(from_name)
    uid = config(
        processors={
            "k8sattributes": {"extract": {"metadata": ["k8s.deployment.uid"], "deployment_name_from_replicaset": True}}
        }
    )
    assert ("apps", "replicasets") in cluster(uid)
    service_name = config(processors={"k8sattributes": {"extract": {"metadata": ["service.name"]}}})
    assert ("apps", "replicasets") in cluster(service_name)


def test_k8sattributes_node_uid_or_node_labels_need_nodes():
    uid = config(processors={"k8sattributes": {"extract": {"metadata": ["k8s.node.uid"]}}})
    assert cluster(uid)[("", "nodes")] == READ
    labels = config(
        processors={
            "k8sattributes": {
                "extract": {
                    "metadata": ["k8s.pod.name"],
                    "labels": [{"tag_name": "zone", "key": "topology.kubernetes.io/zone", "from": "node"}],
                }
            }
        }
    )
    assert ("", "nodes") in cluster(labels)


def test_k8sattributes_workload_labels_need_their_kinds_only():
    cfg = config(
        processors={
            "k8sattributes": {
                "extract": {
                    "metadata": ["k8s.pod.name"],
                    "annotations": [
                        {"key": "team", "from": "statefulset"},
                        {"key": "owner", "from": "job"},
                        {"key": "app", "from": "pod"},
                    ],
                }
            }
        }
    )
    perms = cluster(cfg)
    assert perms[("apps", "statefulsets")] == READ
    assert perms[("batch", "jobs")] == READ
    assert ("apps", "deployments") not in perms and ("apps", "daemonsets") not in perms
    cronjob = cluster(config(processors={"k8sattributes": {"extract": {"metadata": ["k8s.cronjob.uid"]}}}))
    assert ("batch", "jobs") in cronjob
    assert ("batch", "cronjobs") not in cronjob


def test_k8sattributes_passthrough_and_other_auth_types_need_nothing():
    assert cluster(config(processors={"k8sattributes": {"passthrough": True}})) == {}
    perms = rbac_render.derive_permissions(config(processors={"k8sattributes": {"auth_type": "kubeConfig"}}), NS)
    assert perms.empty
    assert "does not use the pod's service account" in perms.warnings[0]


def test_k8sattributes_namespace_filter_gives_a_role_in_that_namespace():
    cfg = config(processors={"k8sattributes": {"filter": {"namespace": "shop"}}})
    perms = rbac_render.derive_permissions(cfg, NS)
    assert perms.cluster == {}
    assert perms.namespaced == {"shop": {("", "pods"): READ, ("apps", "replicasets"): READ}}
    labels = config(
        processors={
            "k8sattributes": {
                "filter": {"namespace": "shop"},
                "extract": {"labels": [{"key": "team", "from": "namespace"}]},
            }
        }
    )
    assert cluster(labels) == {("", "namespaces"): READ}


def test_k8sattributes_filter_namespace_from_env_is_refused():
    cfg = config(processors={"k8sattributes": {"filter": {"namespace": "${env:WATCH_NS}"}}})
    with pytest.raises(OtelK8sError, match="filter.namespace.*literal"):
        rbac_render.derive_permissions(cfg, NS)


# ---------------------------------------------------------------- kubeletstats


def test_kubeletstats_default_tls_auth_needs_nothing_from_the_service_account():
    perms = rbac_render.derive_permissions(config(receivers={"kubeletstats": {}}), NS)
    assert perms.empty


@pytest.mark.parametrize("spelling", ["kubeletstats", "kubelet_stats", "kubeletstats/node"])
def test_kubeletstats_service_account_needs_nodes_stats_only(spelling):
    perms = cluster(config(receivers={spelling: {"auth_type": "serviceAccount"}}))
    assert perms == {("", "nodes/stats"): {"get"}}


def test_kubeletstats_pods_endpoint_needs_nodes_pods_or_proxy():
    extra = {"auth_type": "serviceAccount", "extra_metadata_labels": ["container.id"]}
    assert cluster(config(receivers={"kubeletstats": extra}))[("", "nodes/pods")] == {"get"}
    legacy = rbac_render.derive_permissions(
        config(receivers={"kubeletstats": extra}), NS, kubelet_fine_grained_authz=False
    )
    assert legacy.cluster[("", "nodes/proxy")] == {"get"}
    assert ("", "nodes/pods") not in legacy.cluster
    assert "exec" in legacy.warnings[0]
    metric = {"auth_type": "serviceAccount", "metrics": {"k8s.pod.memory_limit_utilization": {"enabled": True}}}
    assert ("", "nodes/pods") in cluster(config(receivers={"kubeletstats": metric}))


def test_kubeletstats_kubeconfig_auth_needs_the_node_proxy():
    perms = rbac_render.derive_permissions(config(receivers={"kubeletstats": {"auth_type": "kubeConfig"}}), NS)
    assert perms.cluster == {("", "nodes/proxy"): {"get"}}
    assert perms.warnings


def test_kubeletstats_k8s_api_config_needs_volumes_and_nodes_when_used():
    cfg = config(
        receivers={
            "kubeletstats": {
                "auth_type": "serviceAccount",
                "extra_metadata_labels": ["k8s.volume.type"],
                "k8s_api_config": {"auth_type": "serviceAccount"},
                "metrics": {"k8s.pod.cpu.node.utilization": {"enabled": True}},
            }
        }
    )
    perms = cluster(cfg)
    assert perms[("", "persistentvolumeclaims")] == {"get"}
    assert perms[("", "persistentvolumes")] == {"get"}
    assert perms[("", "nodes")] == READ


# ---------------------------------------------------------------- loadbalancing


@pytest.mark.parametrize("spelling", ["loadbalancing", "load_balancing", "loadbalancing/traces"])
def test_loadbalancing_k8s_resolver_reads_endpoints_in_the_gateway_namespace_only(spelling):
    cfg = config(
        exporters={
            spelling: {
                "routing_key": "traceID",
                "resolver": {"k8s": {"service": "gateway-collector-headless.gateways"}},
            }
        }
    )
    perms = rbac_render.derive_permissions(cfg, NS)
    assert perms.cluster == {}
    assert perms.namespaced == {"gateways": {("", "endpoints"): READ, ("discovery.k8s.io", "endpointslices"): READ}}


def test_loadbalancing_service_without_namespace_is_the_collectors_namespace():
    cfg = config(exporters={"loadbalancing": {"resolver": {"k8s": {"service": "gateway"}}}})
    assert set(namespaced(cfg)) == {NS}


def test_loadbalancing_dns_and_static_resolvers_need_nothing():
    cfg = config(exporters={"loadbalancing": {"resolver": {"dns": {"hostname": "gw-headless"}}}})
    assert rbac_render.derive_permissions(cfg, NS).empty


def test_loadbalancing_fqdn_service_is_refused_with_the_right_spelling():
    cfg = config(exporters={"loadbalancing": {"resolver": {"k8s": {"service": "gw.obs.svc.cluster.local"}}}})
    with pytest.raises(OtelK8sError, match="'gw.obs'"):
        rbac_render.derive_permissions(cfg, NS)


# ---------------------------------------------------------------- other receivers


WATCH = {"list", "watch"}
# What the k8s_cluster receiver's informers watch at v0.152.0 (watcher.go), with no metric or metadata turned on.
K8S_CLUSTER_DEFAULT = {
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("", "resourcequotas"),
    ("", "services"),
    ("", "nodes"),
    ("", "namespaces"),
    ("apps", "daemonsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
}


def test_k8s_cluster_lists_and_watches_what_its_informers_watch_and_nothing_else():
    perms = cluster(config(receivers={"k8s_cluster": {}}))
    assert set(perms) == K8S_CLUSTER_DEFAULT
    # No get, no events, no status subresources (its README's ClusterRole has them; it reads none).
    assert all(verbs == WATCH for verbs in perms.values())
    assert not any(key[0] == "extensions" or "/" in key[1] for key in perms)


def test_k8s_cluster_optional_kinds_follow_its_metrics_and_metadata():
    endpoints = config(receivers={"k8s_cluster": {"metrics": {"k8s.service.endpoint.count": {"enabled": True}}}})
    assert cluster(endpoints)[("discovery.k8s.io", "endpointslices")] == WATCH
    volumes = config(receivers={"k8s_cluster": {"metrics": {"k8s.persistentvolume.status.phase": {"enabled": True}}}})
    assert ("", "persistentvolumes") in cluster(volumes) and ("", "persistentvolumeclaims") not in cluster(volumes)
    claims = config(
        receivers={"k8s_cluster": {"metrics": {"k8s.persistentvolumeclaim.storage.request": {"enabled": True}}}}
    )
    assert ("", "persistentvolumeclaims") in cluster(claims) and ("", "persistentvolumes") not in cluster(claims)
    exporters = config(receivers={"k8s_cluster": {"metadata_exporters": ["otlp"]}})
    assert {("", "persistentvolumes"), ("", "persistentvolumeclaims")} <= set(cluster(exporters))
    # In a logs pipeline it sends entity events, for which it watches volumes and claims too.
    entities = config(
        receivers={"k8s_cluster": {}},
        pipelines={"logs/entities": {"receivers": ["k8s_cluster"], "exporters": ["debug"]}},
    )
    assert {("", "persistentvolumes"), ("", "persistentvolumeclaims")} <= set(cluster(entities))
    openshift = config(receivers={"k8s_cluster": {"distribution": "openshift"}})
    assert cluster(openshift)[("quota.openshift.io", "clusterresourcequotas")] == WATCH


def test_k8s_cluster_limited_to_namespaces_gets_roles_there_and_no_nodes():
    perms = rbac_render.derive_permissions(config(receivers={"k8s_cluster": {"namespaces": ["a", "b"]}}), NS)
    assert perms.cluster == {}
    assert set(perms.namespaced) == {"a", "b"}
    assert set(perms.namespaced["a"]) == K8S_CLUSTER_DEFAULT - {("", "nodes"), ("", "namespaces")}
    one = rbac_render.derive_permissions(config(receivers={"k8s_cluster": {"namespace": "shop"}}), NS)
    assert set(one.namespaced) == {"shop"} and one.cluster == {}


def test_k8s_events_cluster_wide_or_per_namespace():
    assert cluster(config(receivers={"k8s_events": {}})) == {("", "events"): READ}
    assert set(namespaced(config(receivers={"k8s_events": {"namespaces": ["a", "b"]}}))) == {"a", "b"}


def test_k8sobjects_pull_lists_watch_lists_and_watches():
    cfg = config(
        receivers={
            "k8sobjects": {
                "objects": [
                    {"name": "pods", "mode": "pull"},
                    {"name": "events", "mode": "watch", "group": "events.k8s.io", "namespaces": ["shop"]},
                    {"name": "deployments", "mode": "watch"},
                ]
            }
        }
    )
    perms = rbac_render.derive_permissions(cfg, NS)
    assert perms.cluster == {("", "pods"): {"list"}, ("apps", "deployments"): {"list", "watch"}}
    assert perms.namespaced == {"shop": {("events.k8s.io", "events"): {"list", "watch"}}}


def test_k8sobjects_unknown_group_and_secrets_are_refused():
    unknown = config(receivers={"k8sobjects": {"objects": [{"name": "widgets"}]}})
    with pytest.raises(OtelK8sError, match="set group"):
        rbac_render.derive_permissions(unknown, NS)
    secrets = config(receivers={"k8sobjects": {"objects": [{"name": "secrets", "mode": "watch"}]}})
    with pytest.raises(OtelK8sError, match="credentials"):
        rbac_render.derive_permissions(secrets, NS)


def test_components_whose_needs_are_not_derived_are_reported():
    cfg = config(processors={"resourcedetection": {"detectors": ["env", "k8snode"]}}, extensions={"k8s_observer": {}})
    perms = rbac_render.derive_permissions(cfg, NS)
    assert perms.empty
    assert any("resourcedetection" in w and "extra_rules" in w for w in perms.warnings)
    assert any("k8s_observer" in w for w in perms.warnings)


def test_the_current_resource_detection_name_is_reported_as_well():
    cfg = config(processors={"resource_detection/node": {"detectors": ["k8snode"]}})
    perms = rbac_render.derive_permissions(cfg, NS)
    assert any("resource_detection/node" in w and "the Node" in w for w in perms.warnings), perms.warnings


def test_names_no_collector_accepts_get_no_permissions():
    # k8s_cluster and k8s_events were never renamed: no collector takes k8scluster or k8sevents.
    for receiver in ("k8scluster", "k8sevents"):
        assert rbac_render.derive_permissions(config(receivers={receiver: {}}), NS).empty, receiver
    assert cluster(config(receivers={"k8s_cluster": {}}))
    assert cluster(config(receivers={"k8s_objects": {"objects": [{"name": "pods"}]}})) == {("", "pods"): {"list"}}


# ---------------------------------------------------------------- which components count


def test_only_components_in_pipelines_count():
    cfg = config(
        processors={"k8sattributes": {}},
        pipelines={"traces": {"receivers": ["otlp"], "processors": [], "exporters": ["debug"]}},
    )
    assert rbac_render.derive_permissions(cfg, NS).empty


def test_config_as_yaml_text_and_without_service_section():
    text = "processors:\n  k8sattributes: {}\n"
    assert ("", "pods") in cluster(text)
    assert rbac_render.derive_permissions(None, NS).empty
    with pytest.raises(OtelK8sError, match="not valid YAML"):
        rbac_render.derive_permissions("receivers: [", NS)


# ---------------------------------------------------------------- rendered objects


def test_no_permission_renders_only_the_service_account():
    objects = rbac_render.render_rbac("otel", NS, config(receivers={"kubeletstats": {"auth_type": "tls"}}))
    assert [o["kind"] for o in objects] == ["ServiceAccount"]
    assert objects[0]["metadata"] == {
        "name": "otel",
        "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "otel.kubernetes"},
    }


SEED_AGENT = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "batch": {},
        "memory_limiter": {"check_interval": "1s", "limit_mib": 512},
        "k8sattributes": {
            "extract": {
                "metadata": [
                    "k8s.namespace.name",
                    "k8s.pod.name",
                    "k8s.pod.uid",
                    "k8s.deployment.name",
                    "k8s.node.name",
                    "k8s.container.name",
                ]
            }
        },
    },
    "exporters": {"otlp": {"endpoint": "otel-gateway:4317"}},
    "service": {
        "pipelines": {
            "traces": {
                "receivers": ["otlp"],
                "processors": ["memory_limiter", "k8sattributes", "batch"],
                "exporters": ["otlp"],
            }
        }
    },
}


def test_seed_agent_renders_exact_objects():
    objects = rbac_render.render_rbac("otel-collector", NS, SEED_AGENT, service_account="otel-agent")
    assert [o["kind"] for o in objects] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
    role = objects[1]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["namespaces", "pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    ]
    binding = objects[2]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "otel-collector",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "otel-agent", "namespace": NS}]
    flat = [
        (g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    ]
    assert not any("*" in part for item in flat for part in item)
    assert not any(item[1] == "secrets" for item in flat)


def test_loadbalancing_renders_a_role_and_binding_in_the_gateway_namespace():
    cfg = config(exporters={"loadbalancing": {"resolver": {"k8s": {"service": "gw.gateways"}}}})
    objects = rbac_render.render_rbac("agent", NS, cfg)
    assert [(o["kind"], o["metadata"].get("namespace")) for o in objects] == [
        ("ServiceAccount", NS),
        ("Role", "gateways"),
        ("RoleBinding", "gateways"),
    ]
    assert objects[2]["roleRef"]["kind"] == "Role"
    assert objects[2]["subjects"][0]["namespace"] == NS


def test_extra_rules_are_added_checked_and_reported_when_broader():
    seed_rules = [
        {
            "apiGroups": [""],
            "resources": ["pods", "namespaces", "nodes", "nodes/metrics", "nodes/proxy"],
            "verbs": ["get", "list", "watch"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["replicasets", "deployments", "daemonsets", "statefulsets"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
    ]
    objects = rbac_render.render_rbac("otel", NS, SEED_AGENT, extra_rules=seed_rules)
    assert objects[1]["rules"][-3:] == seed_rules
    findings = rbac_render.rbac_warnings(rbac_render.derive_permissions(SEED_AGENT, NS), seed_rules)
    assert len(findings) == 3
    assert "nodes/proxy" in findings[0] and "pods" not in findings[0].split(":", 1)[1].split(",")[0]
    assert "deployments.apps" in findings[1] and "replicasets" not in findings[1]
    assert "cronjobs.batch" in findings[2]


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}, "wildcards"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "wildcards"),
        ({"apiGroups": [""], "resources": ["pods"]}, "verbs is required"),
        ({"resources": ["pods"], "verbs": ["get"]}, "apiGroups is required"),
        ({"apiGroups": [""], "resources": "pods", "verbs": ["get"]}, "list of strings"),
        ({"apiGroups": [""], "resource": ["pods"], "verbs": ["get"]}, "unknown keys"),
    ],
)
def test_bad_extra_rules_are_refused(rule, message):
    with pytest.raises(OtelK8sError, match=message):
        rbac_render.render_rbac("otel", NS, None, extra_rules=[rule])


def test_extra_rule_on_secrets_is_reported():
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    findings = rbac_render.rbac_warnings(rbac_render.derive_permissions(None, NS), rules)
    assert any("credentials" in f for f in findings)


def test_invalid_names_are_refused():
    with pytest.raises(OtelK8sError, match="name: 'Otel_Agent'"):
        rbac_render.render_rbac("Otel_Agent", NS, None)
    with pytest.raises(OtelK8sError, match="namespace"):
        rbac_render.render_rbac("otel", "Not A Namespace", None)
