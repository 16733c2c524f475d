# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege RBAC for a collector, derived from its configuration (pure).

Each component that talks to the Kubernetes API adds the permissions its upstream README
documents, for the features the configuration turns on, and nothing else. A component is
recognised by its current type name, a deprecated spelling resolved through distributions.py:

- ``k8sattributes`` / ``k8s_attributes`` processor: get/list/watch ``pods`` and
  ``namespaces`` cluster-wide. With ``filter.namespace``, a Role in that namespace for
  ``pods`` instead (and ``namespaces`` cluster-wide only when namespace labels/annotations
  or ``k8s.cluster.uid`` are extracted). ``replicasets`` (apps) when ``k8s.deployment.name``
  (a default), ``k8s.deployment.uid`` or ``service.name`` is extracted, unless
  ``extract.deployment_name_from_replicaset`` (which still needs them for the uid).
  ``nodes`` only for ``k8s.node.uid`` or node labels/annotations: ``k8s.node.name`` is read
  from the pod, no Node access. ``deployments``/``statefulsets``/``daemonsets`` (apps) and
  ``jobs`` (batch) only for their labels/annotations (``from: <kind>``); ``jobs`` also for
  ``k8s.cronjob.uid``. ``passthrough: true`` or an ``auth_type`` other than
  ``serviceAccount`` needs nothing from this service account.
- ``kubeletstats`` / ``kubelet_stats`` receiver (default ``auth_type: tls``, which uses
  its client certificate, not the service account): with ``serviceAccount``, get
  ``nodes/stats``; with ``extra_metadata_labels`` or a ``*_limit_utilization`` /
  ``*_request_utilization`` metric (the kubelet's ``/pods``), get ``nodes/pods`` (the
  fine-grained kubelet authorization of Kubernetes 1.33+), or ``nodes/proxy`` on older
  clusters. ``auth_type: kubeConfig`` goes through the API server's node proxy: get
  ``nodes/proxy``. With ``k8s_api_config``: get ``persistentvolumeclaims`` and
  ``persistentvolumes`` for ``k8s.volume.type``, get/list/watch ``nodes`` for the
  ``*.node.utilization`` metrics.
- ``loadbalancing`` / ``load_balancing`` exporter with the ``k8s`` resolver: get/list/watch
  ``endpoints`` (older collectors) and ``endpointslices`` (discovery.k8s.io, newer
  collectors) in the namespace of ``resolver.k8s.service`` (``name.namespace``; without a
  namespace, the collector's own) only: a Role and RoleBinding there.
- ``k8s_cluster`` receiver (its only name: it was never renamed, and no collector accepts
  ``k8scluster``): list/watch of what its informers watch (its ``watcher.go`` at v0.152.0,
  not its README's ClusterRole, which also grants get, events and status subresources it
  never reads): pods, replicationcontrollers, resourcequotas, services, apps
  daemonsets/deployments/replicasets/statefulsets, batch jobs/cronjobs, autoscaling
  horizontalpodautoscalers; nodes and namespaces (cluster-wide) unless ``namespace(s)``
  limits it to Roles in those namespaces; endpointslices for ``k8s.service.endpoint.count``;
  persistentvolume(claim)s for their metrics, ``metadata_exporters`` or a logs pipeline.
- ``k8s_events`` receiver (likewise its only name): get/list/watch ``events``, in
  ``namespaces`` when given.
- ``k8sobjects`` / ``k8s_objects`` receiver: ``list`` (pull) or ``list`` + ``watch``
  (watch) on each configured object, in its ``namespaces`` when given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector_model import (
    component_type,
    load_config,
    used_components,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError

READ = ("get", "list", "watch")
MANAGED_BY = {"app.kubernetes.io/managed-by": "otel.kubernetes"}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# The processor's default extract.metadata (its README).
K8SATTRIBUTES_DEFAULT_METADATA = (
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.pod.start_time",
    "k8s.deployment.name",
    "k8s.node.name",
)
# kubeletstats metrics that make the receiver read the kubelet's /pods endpoint.
KUBELET_PODS_METRICS = tuple(
    f"k8s.{level}.{resource}_{kind}_utilization"
    for level in ("pod", "container")
    for resource in ("cpu", "memory")
    for kind in ("limit", "request")
)
# ... and those that need the Node object (capacity) through k8s_api_config.
KUBELET_NODE_METRICS = tuple(
    f"k8s.{level}.{resource}.node.utilization" for level in ("pod", "container") for resource in ("cpu", "memory")
)

# What the k8s_cluster receiver's informers list and watch (its watcher.go at v0.152.0): namespaced
# kinds, then the cluster-scoped ones it watches only without a namespace filter.
K8S_CLUSTER_NAMESPACED = (
    ("", ("pods", "replicationcontrollers", "resourcequotas", "services")),
    ("apps", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("batch", ("jobs", "cronjobs")),
    ("autoscaling", ("horizontalpodautoscalers",)),
)
K8S_CLUSTER_CLUSTER_SCOPED = ("nodes", "namespaces")
K8S_CLUSTER_PV_METRICS = ("k8s.persistentvolume.status.phase", "k8s.persistentvolume.storage.capacity")
K8S_CLUSTER_PVC_METRICS = (
    "k8s.persistentvolumeclaim.status.phase",
    "k8s.persistentvolumeclaim.storage.capacity",
    "k8s.persistentvolumeclaim.storage.request",
)
WATCH = ("list", "watch")

# API group of the resources a k8sobjects receiver is commonly pointed at, when its
# config names no group. "events" is in two groups: the receiver takes the core one.
RESOURCE_GROUPS = {
    **dict.fromkeys(
        (
            "pods",
            "events",
            "namespaces",
            "nodes",
            "services",
            "endpoints",
            "configmaps",
            "persistentvolumes",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "resourcequotas",
            "serviceaccounts",
            "limitranges",
        ),
        "",
    ),
    **dict.fromkeys(("deployments", "replicasets", "statefulsets", "daemonsets"), "apps"),
    **dict.fromkeys(("jobs", "cronjobs"), "batch"),
    "horizontalpodautoscalers": "autoscaling",
    "ingresses": "networking.k8s.io",
    "networkpolicies": "networking.k8s.io",
    "endpointslices": "discovery.k8s.io",
}
SENSITIVE_RESOURCES = frozenset(("secrets",))

# Components that read the Kubernetes API but whose permissions this module does not
# derive: reported so the user adds them through extra_rules.
# Current names (distributions.py); a deprecated spelling in a config is resolved first.
NOT_DERIVED = {
    "extensions": {
        "k8s_observer": "list/watch of pods, nodes, services or ingresses (its observe_* options)",
        "k8s_leader_elector": "get/create/update of coordination.k8s.io leases in its namespace",
    },
    "receivers": {
        "receiver_creator": "what its watch_observers and sub-receivers read",
        "k8s_log": "nothing from the API, but host log files",
    },
}


@dataclass
class Permissions:
    """What a collector config needs: cluster-wide rules and rules per namespace."""

    cluster: dict = field(default_factory=dict)  # (apiGroup, resource) -> set of verbs
    namespaced: dict = field(default_factory=dict)  # namespace -> {(apiGroup, resource): verbs}
    reasons: list = field(default_factory=list)  # "component: what and why", for the user
    warnings: list = field(default_factory=list)

    def grant(self, component: str, group: str, resources, verbs, namespace: str | None = None, why: str = "") -> None:
        table = self.cluster if namespace is None else self.namespaced.setdefault(namespace, {})
        for resource in resources:
            table.setdefault((group, resource), set()).update(verbs)
        where = f" in namespace {namespace}" if namespace else " (cluster-wide)"
        names = ", ".join(f"{r}{'.' + group if group else ''}" for r in resources)
        self.reasons.append(f"{component}: {'/'.join(verbs)} {names}{where}{' - ' + why if why else ''}")

    @property
    def empty(self) -> bool:
        return not self.cluster and not any(self.namespaced.values())


# ---------------------------------------------------------------------------- config values
# Parsing the config and finding the components it starts: collector_model.
def _literal(value, where: str) -> str:
    if isinstance(value, str) and "${" in value:
        raise OtelK8sError(
            f"{where} is {value!r}: an environment variable the collector expands at start-up; RBAC needs the "
            "literal value. Write it in the config, or grant the permissions yourself with extra_rules"
        )
    return value


def _namespace_name(value: str, where: str) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise OtelK8sError(f"{where}: {value!r} is not a namespace name (lowercase letters, digits and '-')")
    return value


# ---------------------------------------------------------------------------- derivations


def _k8sattributes(perms: Permissions, cid: str, settings: dict, collector_namespace: str) -> None:
    what = f"processors.{cid}"
    if settings.get("passthrough"):
        perms.reasons.append(f"{what}: passthrough mode reads nothing from the API")
        return
    auth = settings.get("auth_type", "serviceAccount")
    if auth != "serviceAccount":
        perms.warnings.append(
            f"{what}: auth_type {auth} does not use the pod's service account, so no permission is granted for it; "
            "the identity it uses needs get/list/watch on pods and namespaces (and what its extract options read)"
        )
        return
    extract = settings.get("extract") or {}
    metadata = extract.get("metadata")
    metadata = set(K8SATTRIBUTES_DEFAULT_METADATA if metadata is None else metadata)
    sources = {
        (rule or {}).get("from", "pod")
        for key in ("labels", "annotations")
        for rule in extract.get(key) or []
        if isinstance(rule, dict)
    }
    filter_ns = (settings.get("filter") or {}).get("namespace")
    scope = None
    if filter_ns:
        scope = _namespace_name(_literal(filter_ns, f"{what}.filter.namespace"), f"{what}.filter.namespace")

    perms.grant(what, "", ["pods"], READ, scope, "the pods whose metadata it adds")
    if scope is None:
        perms.grant(what, "", ["namespaces"], READ, None, "namespace metadata (the processor's documented ClusterRole)")
    elif "namespace" in sources or "k8s.cluster.uid" in metadata:
        perms.grant(what, "", ["namespaces"], READ, None, "namespace labels/annotations or k8s.cluster.uid")
    from_replicaset = bool(extract.get("deployment_name_from_replicaset"))
    if (
        "k8s.deployment.uid" in metadata
        or "deployment" in sources
        or (not from_replicaset and metadata & {"k8s.deployment.name", "service.name"})
    ):
        perms.grant(what, "apps", ["replicasets"], READ, scope, "the Deployment that owns a pod's ReplicaSet")
    if "k8s.node.uid" in metadata or "node" in sources:
        perms.grant(what, "", ["nodes"], READ, None, "node uid or node labels/annotations")
    workloads = [kind for kind in ("deployment", "statefulset", "daemonset") if kind in sources]
    if workloads:
        perms.grant(what, "apps", [k + "s" for k in workloads], READ, scope, "workload labels/annotations")
    if "job" in sources or "k8s.cronjob.uid" in metadata:
        perms.grant(what, "batch", ["jobs"], READ, scope, "job labels/annotations or k8s.cronjob.uid")


def _enabled_metrics(settings: dict) -> set:
    metrics = settings.get("metrics") or {}
    return {name for name, value in metrics.items() if isinstance(value, dict) and value.get("enabled")}


def _kubeletstats(perms: Permissions, cid: str, settings: dict, fine_grained: bool) -> None:
    what = f"receivers.{cid}"
    auth = settings.get("auth_type", "tls")
    enabled = _enabled_metrics(settings)
    reads_pods = bool(settings.get("extra_metadata_labels")) or bool(enabled & set(KUBELET_PODS_METRICS))
    if auth == "serviceAccount":
        perms.grant(what, "", ["nodes/stats"], ["get"], None, "the kubelet's /stats/summary")
        if reads_pods:
            resource = "nodes/pods" if fine_grained else "nodes/proxy"
            why = "the kubelet's /pods (extra_metadata_labels or limit/request utilization metrics)"
            perms.grant(what, "", [resource], ["get"], None, why)
            if not fine_grained:
                perms.warnings.append(
                    f"{what}: nodes/proxy is granted because kubelet_fine_grained_authz is false (clusters before "
                    "Kubernetes 1.33); nodes/proxy also opens the kubelet's exec and attach endpoints"
                )
    elif auth == "kubeConfig":
        perms.grant(
            what,
            "",
            ["nodes/proxy"],
            ["get"],
            None,
            "auth_type kubeConfig reaches the kubelet through the API server's node proxy",
        )
        perms.warnings.append(
            f"{what}: auth_type kubeConfig goes through the API server's node proxy and needs nodes/proxy, which also "
            "opens the kubelet's exec and attach endpoints; auth_type serviceAccount needs only nodes/stats"
        )
    else:
        perms.reasons.append(f"{what}: auth_type {auth} authenticates to the kubelet without the service account")
    api = settings.get("k8s_api_config")
    if isinstance(api, dict) and api.get("auth_type", "serviceAccount") == "serviceAccount":
        if "k8s.volume.type" in (settings.get("extra_metadata_labels") or []):
            perms.grant(
                what,
                "",
                ["persistentvolumeclaims", "persistentvolumes"],
                ["get"],
                None,
                "volume metadata through k8s_api_config",
            )
        if enabled & set(KUBELET_NODE_METRICS):
            perms.grant(what, "", ["nodes"], READ, None, "node capacity for the *.node.utilization metrics")


def _loadbalancing(perms: Permissions, cid: str, settings: dict, collector_namespace: str) -> None:
    what = f"exporters.{cid}"
    k8s = (settings.get("resolver") or {}).get("k8s")
    if not isinstance(k8s, dict):
        return  # static or dns resolver: no API access
    service = _literal(k8s.get("service"), f"{what}.resolver.k8s.service")
    if not isinstance(service, str) or not service:
        raise OtelK8sError(f"{what}.resolver.k8s.service is missing: give the gateway Service as 'name.namespace'")
    name, _dot, namespace = service.partition(".")
    if namespace and "." in namespace:
        raise OtelK8sError(
            f"{what}.resolver.k8s.service is {service!r}: the resolver reads 'name.namespace', not a DNS name; "
            f"write '{name}.{namespace.split('.', 1)[0]}'"
        )
    namespace = _namespace_name(namespace or collector_namespace, f"{what}.resolver.k8s.service namespace")
    why = f"the endpoints of Service {name}"
    perms.grant(what, "", ["endpoints"], READ, namespace, why + " (collectors that watch Endpoints)")
    perms.grant(
        what, "discovery.k8s.io", ["endpointslices"], READ, namespace, why + " (collectors that watch EndpointSlices)"
    )


def _namespaces_of(value, where: str) -> list:
    if not value:
        return [None]
    if not isinstance(value, list):
        raise OtelK8sError(f"{where}: expected a list of namespace names")
    return [_namespace_name(_literal(ns, where), where) for ns in value]


def _k8s_cluster(perms: Permissions, cid: str, settings: dict, in_logs: bool) -> None:
    what = f"receivers.{cid}"
    auth = settings.get("auth_type", "serviceAccount")
    if auth != "serviceAccount":
        perms.warnings.append(f"{what}: auth_type {auth} does not use the service account; no permission granted")
        return
    limited = settings.get("namespaces") or ([settings["namespace"]] if settings.get("namespace") else None)
    scopes = _namespaces_of(limited, f"{what}.namespaces")
    enabled = _enabled_metrics(settings)
    metadata = bool(settings.get("metadata_exporters")) or in_logs
    why = "what its informers watch"
    for scope in scopes:
        for group, resources in K8S_CLUSTER_NAMESPACED:
            perms.grant(what, group, list(resources), WATCH, scope, why)
        if "k8s.service.endpoint.count" in enabled:
            perms.grant(what, "discovery.k8s.io", ["endpointslices"], WATCH, scope, "k8s.service.endpoint.count")
        if metadata or enabled & set(K8S_CLUSTER_PVC_METRICS):
            perms.grant(what, "", ["persistentvolumeclaims"], WATCH, scope, "PVC metrics, metadata or entities")
    if scopes == [None]:
        perms.grant(what, "", list(K8S_CLUSTER_CLUSTER_SCOPED), WATCH, None, "node conditions and namespace phases")
        if metadata or enabled & set(K8S_CLUSTER_PV_METRICS):
            perms.grant(what, "", ["persistentvolumes"], WATCH, None, "PV metrics, metadata or entities")
    if settings.get("distribution") == "openshift":
        perms.grant(what, "quota.openshift.io", ["clusterresourcequotas"], WATCH, None, "distribution openshift")


def _k8s_events(perms: Permissions, cid: str, settings: dict) -> None:
    what = f"receivers.{cid}"
    if settings.get("auth_type", "serviceAccount") != "serviceAccount":
        perms.warnings.append(f"{what}: auth_type {settings['auth_type']} does not use the service account")
        return
    for namespace in _namespaces_of(settings.get("namespaces"), f"{what}.namespaces"):
        perms.grant(what, "", ["events"], READ, namespace, "the events it turns into logs")


def _k8sobjects(perms: Permissions, cid: str, settings: dict) -> None:
    what = f"receivers.{cid}"
    if settings.get("auth_type", "serviceAccount") != "serviceAccount":
        perms.warnings.append(f"{what}: auth_type {settings['auth_type']} does not use the service account")
        return
    for index, obj in enumerate(settings.get("objects") or []):
        where = f"{what}.objects[{index}]"
        if not isinstance(obj, dict) or not obj.get("name"):
            raise OtelK8sError(f"{where}: every object needs a name (the resource, for example pods)")
        resource = obj["name"]
        if resource in SENSITIVE_RESOURCES:
            raise OtelK8sError(
                f"{where}: reading {resource} would expose credentials in telemetry; this module does "
                "not grant it. Grant it yourself with extra_rules if you really mean it"
            )
        group = obj.get("group")
        if group is None:
            if resource not in RESOURCE_GROUPS:
                raise OtelK8sError(
                    f"{where}: cannot tell the API group of {resource!r}; set group in the object "
                    "(for example group: apps) so the right permission can be derived"
                )
            group = RESOURCE_GROUPS[resource]
        mode = obj.get("mode", "pull")
        verbs = ["list", "watch"] if mode == "watch" else ["list"]
        for namespace in _namespaces_of(obj.get("namespaces"), f"{where}.namespaces"):
            perms.grant(what, group, [resource], verbs, namespace, f"objects in {mode} mode")


def _current(section: str, cid: str) -> str:
    """The current type name of a component id: 'k8sattributes/agent' -> 'k8s_attributes'."""
    return dist.canonical(section, component_type(cid))


def _not_derived(perms: Permissions, section: str, cid: str, settings: dict) -> None:
    kind = _current(section, cid)
    reads = NOT_DERIVED.get(section, {}).get(kind)
    if section == "receivers" and kind == "prometheus":
        scrape = ((settings.get("config") or {}).get("scrape_configs")) or []
        if any(isinstance(job, dict) and job.get("kubernetes_sd_configs") for job in scrape):
            reads = "list/watch of the roles its kubernetes_sd_configs discover (pods, services, endpoints, nodes...)"
    if section == "processors" and kind == "resource_detection":
        detectors = set(settings.get("detectors") or [])
        if detectors & {"k8snode", "openshift", "k8s_node"}:
            reads = "the Node (k8snode detector) or cluster info (openshift detector)"
    if reads:
        perms.warnings.append(
            f"{section}.{cid} reads the Kubernetes API ({reads}) but its permissions are not derived by this module: "
            "add them with extra_rules"
        )


def _logs_receivers(config: dict) -> set:
    """The receivers of the logs pipelines (k8s_cluster sends entity events there, which watch more kinds)."""
    pipelines = ((config.get("service") or {}).get("pipelines")) or {}
    return {
        receiver
        for pid, pipeline in pipelines.items()
        if str(pid).split("/", maxsplit=1)[0] == "logs" and isinstance(pipeline, dict)
        for receiver in pipeline.get("receivers") or []
    }


def derive_permissions(config, collector_namespace: str, kubelet_fine_grained_authz: bool = True) -> Permissions:
    """The permissions a collector config needs. Raises OtelK8sError on what cannot be derived."""
    collector_namespace = _namespace_name(collector_namespace, "namespace")
    config = load_config(config)
    components = used_components(config)
    perms = Permissions()
    for cid, settings in components["processors"].items():
        if _current("processors", cid) == "k8s_attributes":
            _k8sattributes(perms, cid, settings, collector_namespace)
        else:
            _not_derived(perms, "processors", cid, settings)
    for cid, settings in components["receivers"].items():
        kind = _current("receivers", cid)
        if kind == "kubelet_stats":
            _kubeletstats(perms, cid, settings, kubelet_fine_grained_authz)
        elif kind == "k8s_cluster":
            _k8s_cluster(perms, cid, settings, cid in _logs_receivers(config))
        elif kind == "k8s_events":
            _k8s_events(perms, cid, settings)
        elif kind == "k8s_objects":
            _k8sobjects(perms, cid, settings)
        else:
            _not_derived(perms, "receivers", cid, settings)
    for cid, settings in components["exporters"].items():
        if _current("exporters", cid) == "load_balancing":
            _loadbalancing(perms, cid, settings, collector_namespace)
    for cid, settings in components["extensions"].items():
        _not_derived(perms, "extensions", cid, settings)
    return perms


# ---------------------------------------------------------------------------- extra rules


def check_extra_rules(extra_rules) -> list:
    """PolicyRule dicts given by the user, checked. Raises OtelK8sError; returns copies."""
    if not extra_rules:
        return []
    if not isinstance(extra_rules, list):
        raise OtelK8sError("extra_rules: expected a list of PolicyRule mappings (apiGroups, resources, verbs)")
    problems = []
    rules = []
    for index, rule in enumerate(extra_rules):
        where = f"extra_rules[{index}]"
        if not isinstance(rule, dict):
            problems.append(f"{where}: expected a mapping with apiGroups, resources and verbs")
            continue
        unknown = set(rule) - {"apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"}
        if unknown:
            problems.append(
                f"{where}: unknown keys {sorted(unknown)}; a PolicyRule has apiGroups, resources, verbs, "
                "resourceNames, nonResourceURLs"
            )
        for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            value = rule.get(key)
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                problems.append(f"{where}.{key}: expected a list of strings")
        if not rule.get("verbs"):
            problems.append(
                f"{where}: verbs is required in {json.dumps(rule, sort_keys=True)}; "
                "give the verbs the rule allows, for example [get, list, watch]"
            )
        if not rule.get("resources") and not rule.get("nonResourceURLs"):
            problems.append(f"{where}: give resources (with apiGroups) or nonResourceURLs")
        if rule.get("resources") and rule.get("apiGroups") is None:
            problems.append(f'{where}: apiGroups is required with resources ([""] for the core group)')
        for key in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            if any("*" in v for v in rule.get(key) or [] if isinstance(v, str)):
                problems.append(f"{where}.{key}: wildcards grant more than any collector needs; list what is needed")
        rules.append({k: list(v) for k, v in rule.items() if isinstance(v, list)})
    if problems:
        raise OtelK8sError("extra_rules were refused, nothing was applied:\n- " + "\n- ".join(problems))
    return rules


def extra_rules_findings(extra_rules: list, perms: Permissions) -> list:
    """Warnings for extra rules broader than the config needs (the seed's ClusterRole, say)."""
    findings = []
    needed = dict(perms.cluster)
    for table in perms.namespaced.values():
        for key, verbs in table.items():
            needed.setdefault(key, set()).update(verbs)
    for index, rule in enumerate(extra_rules):
        beyond = []
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                if resource in SENSITIVE_RESOURCES:
                    findings.append(
                        f"extra_rules[{index}] grants {'/'.join(rule['verbs'])} on {resource}: "
                        "a collector reading credentials is rarely intended"
                    )
                missing = [v for v in rule.get("verbs") or [] if v not in needed.get((group, resource), set())]
                if missing:
                    beyond.append(f"{'/'.join(missing)} {resource}{'.' + group if group else ''}")
        if beyond:
            findings.append(f"extra_rules[{index}] grants more than the config needs: {', '.join(beyond)}")
    return findings


# ---------------------------------------------------------------------------- objects


def policy_rules(table: dict) -> list:
    """{(group, resource): verbs} -> compact, ordered PolicyRules (one per group and verb set)."""
    grouped = {}
    for (group, resource), verbs in table.items():
        order = [v for v in READ if v in verbs] + sorted(v for v in verbs if v not in READ)
        grouped.setdefault((group, tuple(order)), []).append(resource)
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": list(verbs)}
        for (group, verbs), resources in sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1]))
    ]


def render_rbac(
    name: str,
    namespace: str,
    config=None,
    service_account: str | None = None,
    extra_rules=None,
    kubelet_fine_grained_authz: bool = True,
    permissions: Permissions | None = None,
    automount_token: bool = True,
) -> list:
    """ServiceAccount, ClusterRole(+Binding) and namespaced Role(+Binding)s for a collector config.

    Only the ServiceAccount when the config needs no permission and no extra_rules are given; with
    automount_token false its Pods get no token at all (a collector that needs no API access).
    """
    service_account = service_account or name
    for option, value in (("name", name), ("service_account", service_account)):
        if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
            raise OtelK8sError(
                f"{option}: {value!r} is not a valid Kubernetes object name (lowercase letters, digits, '-' and '.')"
            )
    perms = permissions or derive_permissions(config, namespace, kubelet_fine_grained_authz)
    extra = check_extra_rules(extra_rules)

    def labels():
        return dict(MANAGED_BY)

    def subjects():
        return [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]

    objects = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service_account, "namespace": namespace, "labels": labels()},
        }
    ]
    if not automount_token:
        objects[0]["automountServiceAccountToken"] = False
    cluster_rules = policy_rules(perms.cluster) + extra
    if cluster_rules:
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": name, "labels": labels()},
                "rules": cluster_rules,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": labels()},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": subjects(),
            }
        )
    for role_namespace in sorted(perms.namespaced):
        rules = policy_rules(perms.namespaced[role_namespace])
        if not rules:
            continue
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": name, "namespace": role_namespace, "labels": labels()},
                "rules": rules,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": role_namespace, "labels": labels()},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": subjects(),
            }
        )
    return objects


def rbac_warnings(perms: Permissions, extra_rules=None) -> list:
    """Everything the user should read: components not derived, risky grants, over-broad extra rules."""
    return list(perms.warnings) + extra_rules_findings(check_extra_rules(extra_rules), perms)
