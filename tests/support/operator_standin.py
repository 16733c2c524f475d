"""What the OpenTelemetry Operator v0.158.0 makes of an OpenTelemetryCollector, for the tests that run collectors.

The local node runs the operator's REAL release manifest, but its manager is a test stand-in
that reconciles nothing (tools/localnode/operator_manager.py): the Go module proxy refuses the
operator's module. So the tests that need the collectors' Pods make them here, the way the
operator's manager does, and tests/unit/support/test_operator_standin.py holds this module to
what the real operator made of site.yml's resources (``reconciled/`` beside the release
manifest, tests/support/upstream.py); the differences it still allows are listed there, each
with its reason.

From the resource as the collection writes it (the defaults of the operator's webhook are
applied first, see ``defaulted``): the workload (Deployment or DaemonSet) with its Pod as the
operator builds it (the config in a ConfigMap named by the config's hash, mounted at /conf,
container ports from the config and ``ports``, env with POD_NAME, GOMEMLIMIT and GOMAXPROCS,
probes from the health_check extension, labels and annotations), the ConfigMap, the Services
(base, headless, monitoring, extension), the NetworkPolicy, the HorizontalPodAutoscaler and
PodDisruptionBudget, and a ServiceAccount when the resource names none. Ports are derived from
the components the collection writes (the OTLP receiver, the prometheus exporter, the
health_check extension; any other receiver from its ``endpoint``), not from every parser the
operator has. Only the collection's part is proven with them, never the operator's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

import yaml

API_VERSION = "opentelemetry.io/v1beta1"
COMPONENT = "opentelemetry-collector"
CONTAINER = "otc-container"
CONFIG_VOLUME = "otc-internal"
CONFIG_ENTRY = "collector.yaml"
METRICS_PORT = 8888  # the collector's own metrics, when service.telemetry names no other port
HEALTH_CHECK_PORT = 13133
SERVICE_TYPE = "operator.opentelemetry.io/collector-service-type"
# Receivers whose configuration the operator reads for ports: (port, appProtocol) per protocol.
MULTI_PORT_RECEIVERS = {"otlp": {"grpc": (4317, "grpc"), "http": (4318, "http")}}
# Receivers that scrape or watch rather than listen: the operator opens no port for them,
# whatever their `endpoint` says (kubeletstats' endpoint is the kubelet's).
NO_PORT_RECEIVERS = frozenset(
    ("kubelet_stats", "kubeletstats", "k8s_cluster", "k8s_events", "k8s_objects", "k8sobjects", "filelog")
    + ("prometheus", "http_check", "httpcheck")
)
# Exporters that listen: the prometheus exporter's endpoint (default 8888).
LISTENING_EXPORTERS = {"prometheus": 8888}
_PORT = re.compile(r":(\d+)")
_DNS_LABEL = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


# ---------------------------------------------------------------------------- the resource
def defaulted(collector: dict) -> dict:
    """The resource as the operator's defaulting webhook stores it (the local node's stand-in
    manager answers that webhook with no patch, so what the workloads depend on is applied here):
    mode, replicas, upgrade strategy, management state, the NetworkPolicy switch (feature gate
    operand.networkpolicy, on in v0.158.0), the autoscaler's minimum and target, and the
    configuration defaults of the components modelled here (see _config_defaults)."""
    result = copy.deepcopy(collector)
    spec = result.setdefault("spec", {})
    spec.setdefault("mode", "deployment")
    spec.setdefault("upgradeStrategy", "automatic")
    spec.setdefault("managementState", "managed")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    spec.setdefault("networkPolicy", {}).setdefault("enabled", True)
    autoscaler = spec.get("autoscaler")
    if autoscaler and autoscaler.get("maxReplicas") is not None:
        autoscaler.setdefault("minReplicas", spec["replicas"])
        if autoscaler.get("targetMemoryUtilization") is None and autoscaler.get("targetCPUUtilization") is None:
            autoscaler["targetCPUUtilization"] = 90
    _config_defaults(spec.get("config") or {})
    return result


def _default_endpoint(endpoint, port: int) -> str:
    """An endpoint with the operator's default address: 0.0.0.0:<port> when empty, 0.0.0.0 put
    before a bare ":<port>"."""
    if not endpoint:
        return f"0.0.0.0:{port}"
    parts = str(endpoint).split(":")
    return f"0.0.0.0:{parts[-1]}" if len(parts) < 2 or not parts[0] else endpoint


def _config_defaults(config: dict) -> None:
    """What the operator's webhook writes into the configuration of the enabled components it
    has defaults for, among those modelled here: the OTLP receiver's protocol endpoints, the
    prometheus exporter's endpoint, the health_check extension's endpoint and path. (It also
    adds a Prometheus reader to service.telemetry when none is set; the collection always sets
    one, so that is not modelled.)"""
    enabled = _enabled(config)
    for component in enabled["receivers"]:
        defaults = MULTI_PORT_RECEIVERS.get(component.split("/", 1)[0])
        given = (config.get("receivers") or {}).get(component)
        if defaults and isinstance(given, dict):
            protocols = given.get("protocols") or {}
            for protocol in [p for p in protocols if p in defaults]:
                settings = protocols[protocol] = dict(protocols[protocol] or {})
                settings["endpoint"] = _default_endpoint(settings.get("endpoint"), defaults[protocol][0])
    for component in enabled["exporters"]:
        port = LISTENING_EXPORTERS.get(component.split("/", 1)[0])
        given = (config.get("exporters") or {}).get(component)
        if port and isinstance(given, dict):
            given["endpoint"] = _default_endpoint(given.get("endpoint"), port)
    extensions = config.get("extensions")
    for component in enabled["extensions"]:
        if component.split("/", 1)[0] == "health_check" and extensions is not None:
            given = extensions[component] = dict(extensions.get(component) or {})
            given["endpoint"] = _default_endpoint(given.get("endpoint"), HEALTH_CHECK_PORT)
            given.setdefault("path", "/")


def _truncate(text: str, limit: int = 63) -> str:
    return text[:limit].rstrip("-.")


def selector_labels(collector: dict) -> dict:
    meta = collector["metadata"]
    return {
        "app.kubernetes.io/managed-by": "opentelemetry-operator",
        "app.kubernetes.io/instance": _truncate(f"{meta['namespace']}.{meta['name']}"),
        "app.kubernetes.io/part-of": "opentelemetry",
        "app.kubernetes.io/component": COMPONENT,
    }


def _version(image: str) -> str:
    """The version label from the image reference, the way the operator reads it."""
    parts = image.split(":")
    digest = next((p[: -len("@sha256")] for p in parts if p.endswith("@sha256")), "")
    if len(parts) == 3:
        return digest
    if len(parts) == 2:
        return _truncate(parts[-1])
    return "latest"


def labels(collector: dict, name: str) -> dict:
    """The resource's labels, the selector labels, the version, and the object's name unless the
    resource's labels name one."""
    found = dict(collector["metadata"].get("labels") or {})
    found.update(selector_labels(collector))
    found["app.kubernetes.io/version"] = _version(collector["spec"].get("image") or "")
    found.setdefault("app.kubernetes.io/name", name)
    return found


def _annotations(collector: dict) -> dict:
    return dict(collector["metadata"].get("annotations") or {})


def _meta(collector: dict, name: str, **extra_labels) -> dict:
    meta = collector["metadata"]
    result = {
        "name": name,
        "namespace": meta["namespace"],
        "labels": {**labels(collector, name), **extra_labels},
        "annotations": _annotations(collector),
    }
    if meta.get("uid"):  # a stored resource: its objects are garbage-collected with it, as the operator's
        result["ownerReferences"] = [
            {
                "apiVersion": API_VERSION,
                "kind": "OpenTelemetryCollector",
                "name": meta["name"],
                "uid": meta["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return result


# ---------------------------------------------------------------------------- the configuration
def _go_json(value) -> str:
    """Go's encoding/json for a decoded YAML value: sorted keys, no spaces, <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def config_hash(config: dict) -> str:
    """sha256 of the configuration as the operator's Go struct marshals it to JSON (its field order:
    receivers, exporters, processors, connectors, extensions, service), which names the ConfigMap."""
    fields = [f'"receivers":{_go_json(config.get("receivers") or {})}']
    fields.append(f'"exporters":{_go_json(config.get("exporters") or {})}')
    for key in ("processors", "connectors", "extensions"):
        if config.get(key) is not None:
            fields.append(f'"{key}":{_go_json(config[key])}')
    service = config.get("service") or {}
    parts = []
    if service.get("extensions"):
        parts.append(f'"extensions":{_go_json(service["extensions"])}')
    if service.get("telemetry") is not None:
        parts.append(f'"telemetry":{_go_json(service["telemetry"])}')
    pipelines = []
    for name in sorted(service.get("pipelines") or {}):
        pipeline = service["pipelines"][name] or {}
        text = f'{{"exporters":{_go_json(pipeline.get("exporters"))}'
        if pipeline.get("processors"):
            text += f',"processors":{_go_json(pipeline["processors"])}'
        text += f',"receivers":{_go_json(pipeline.get("receivers"))}}}'
        pipelines.append(f"{_go_json(name)}:{text}")
    parts.append(f'"pipelines":{{{",".join(pipelines)}}}')
    fields.append(f'"service":{{{",".join(parts)}}}')
    return hashlib.sha256(("{" + ",".join(fields) + "}").encode()).hexdigest()


def config_map_name(collector: dict) -> str:
    return _truncate(f"{collector['metadata']['name']}-collector-{config_hash(collector['spec']['config'])[:8]}")


def _enabled(config: dict) -> dict:
    """kind -> the component ids the pipelines and service.extensions use."""
    service = config.get("service") or {}
    found = {"receivers": set(), "exporters": set(), "extensions": set(service.get("extensions") or [])}
    for pipeline in (service.get("pipelines") or {}).values():
        for kind in ("receivers", "exporters"):
            found[kind].update((pipeline or {}).get(kind) or [])
    return found


def _port_of(endpoint) -> int:
    found = _PORT.search(str(endpoint or ""))
    return int(found.group(1)) if found else 0


def port_name(component: str, port: int) -> str:
    """A port's name from its component id: "/" and "_" become "-"; too long or invalid: port-N."""
    if len(component) > 15:
        return f"port-{port}"
    candidate = component.replace("/", "-").replace("_", "-")
    return candidate if _DNS_LABEL.match(candidate) else f"port-{port}"


def _service_port(name: str, port: int, app_protocol: str | None = None, protocol: str = "TCP") -> dict:
    found = {"name": name, "port": port, "protocol": protocol}
    if app_protocol:
        found["appProtocol"] = app_protocol
    return found


def _component_ports(config: dict, kinds: tuple) -> list:
    """Service ports of the enabled components of these kinds, sorted by name as the operator sorts them."""
    enabled = _enabled(config)
    ports = []
    for kind in kinds:
        settings = config.get(kind) or {}
        for component in enabled[kind]:
            kind_type = component.split("/", 1)[0]
            given = settings.get(component) or {}
            if kind == "receivers" and kind_type in MULTI_PORT_RECEIVERS:
                for protocol, endpoint in (given.get("protocols") or {}).items():
                    default, app_protocol = MULTI_PORT_RECEIVERS[kind_type][protocol]
                    port = _port_of((endpoint or {}).get("endpoint")) or default
                    ports.append(_service_port(port_name(f"{component}-{protocol}", port), port, app_protocol))
            elif kind == "receivers" and kind_type not in NO_PORT_RECEIVERS:
                port = _port_of(given.get("endpoint") or given.get("listen_address"))
                if port:
                    ports.append(_service_port(port_name(component, port), port))
            elif kind == "exporters" and kind_type in LISTENING_EXPORTERS:
                port = _port_of(given.get("endpoint")) or LISTENING_EXPORTERS[kind_type]
                ports.append(_service_port(port_name(component, port), port))
            elif kind == "extensions" and kind_type == "health_check":
                port = _port_of(given.get("endpoint")) or HEALTH_CHECK_PORT
                ports.append(_service_port(port_name(component, port), port))
    return sorted(ports, key=lambda p: p["name"])


def metrics_port(config: dict) -> int:
    """The collector's own metrics port: the first pull reader's prometheus port, else 8888."""
    telemetry = ((config.get("service") or {}).get("telemetry") or {}).get("metrics") or {}
    if telemetry.get("address") and not telemetry.get("readers"):
        return _port_of(telemetry["address"]) or METRICS_PORT
    for reader in telemetry.get("readers") or []:
        prometheus = (((reader or {}).get("pull") or {}).get("exporter") or {}).get("prometheus")
        if prometheus is not None:
            return int(prometheus.get("port") or METRICS_PORT)
    return METRICS_PORT


def _drop_empty(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v not in (None, [], {}, "")}


def _merged_with_spec_ports(inferred: list, spec_ports: list, number: str = "port") -> list:
    """The resource's ports first, then the inferred ones whose number they do not take (an
    inferred port whose name they take is renamed port-N, or dropped when that is taken too)."""
    numbers = {(p[number], p.get("protocol") or "TCP") for p in spec_ports}
    names = {p["name"] for p in spec_ports}
    kept = []
    for port in inferred:
        if (port[number], port.get("protocol") or "TCP") in numbers:
            continue
        if port["name"] in names:
            fallback = f"port-{port[number]}"
            if fallback not in names:
                kept.append(dict(port, name=fallback))
            continue
        kept.append(port)
    return [*spec_ports, *kept]


def container_ports(collector: dict) -> list:
    """The receivers', exporters' and extensions' ports and the metrics port, merged with the
    resource's own ports (host ports included), sorted by name."""
    spec = collector["spec"]
    ports = [
        {"name": p["name"][:15], "containerPort": p["port"], "protocol": p["protocol"]}
        for p in _component_ports(spec["config"], ("receivers", "exporters", "extensions"))
    ]
    ports.append({"name": "metrics", "containerPort": metrics_port(spec["config"]), "protocol": "TCP"})
    if spec.get("ports"):
        own = [
            _drop_empty(
                {
                    "name": p["name"],
                    "containerPort": p["port"],
                    "protocol": p.get("protocol") or "TCP",
                    "hostPort": p.get("hostPort"),
                }
            )
            for p in spec["ports"]
        ]
        ports = _merged_with_spec_ports(ports, own, number="containerPort")
    return sorted(ports, key=lambda p: p["name"])


def service_ports(collector: dict) -> list:
    """The base Service's ports: the resource's own, then the receivers' and exporters'."""
    spec = collector["spec"]
    inferred = _component_ports(spec["config"], ("receivers", "exporters"))
    own = [{k: v for k, v in p.items() if k != "hostPort"} for p in spec.get("ports") or []]
    return _merged_with_spec_ports(inferred, own) if own else inferred


def _health_probe(collector: dict) -> dict | None:
    config = collector["spec"]["config"]
    for component in (config.get("service") or {}).get("extensions") or []:
        if component.split("/", 1)[0] == "health_check":
            given = (config.get("extensions") or {}).get(component) or {}
            return {"httpGet": {"path": given.get("path") or "/", "port": _port_of(given.get("endpoint")) or 13133}}
    return None


def _probe(collector: dict, field: str) -> dict | None:
    probe = _health_probe(collector)
    overrides = collector["spec"].get(field) or {}
    if probe is not None:
        for key in ("initialDelaySeconds", "periodSeconds", "failureThreshold", "successThreshold", "timeoutSeconds"):
            if overrides.get(key) is not None:
                probe[key] = overrides[key]
        if overrides.get("terminationGracePeriodSeconds") is not None:
            probe["terminationGracePeriodSeconds"] = overrides["terminationGracePeriodSeconds"]
    return probe


def container_env(collector: dict) -> list:
    """The resource's env, then what the operator adds and the resource does not set: POD_NAME,
    GOMEMLIMIT and GOMAXPROCS from the container's limits, and the kubeletstats receiver's
    K8S_NODE_NAME."""
    spec = collector["spec"]
    given = list(spec.get("env") or [])
    inferred = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "GOMEMLIMIT",
            "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "containerName": CONTAINER}},
        },
        {
            "name": "GOMAXPROCS",
            "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "containerName": CONTAINER}},
        },
    ]
    if any(r.split("/", 1)[0] in ("kubeletstats", "kubelet_stats") for r in _enabled(spec["config"])["receivers"]):
        inferred.append({"name": "K8S_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    names = {e["name"] for e in given}
    return given + [e for e in inferred if e["name"] not in names]


def pod_annotations(collector: dict) -> dict:
    """spec.podAnnotations, the resource's annotations it does not set, Prometheus' scrape
    annotations unless disabled, and the configuration's hash."""
    spec = collector["spec"]
    found = dict(spec.get("podAnnotations") or {})
    for key, value in _annotations(collector).items():
        found.setdefault(key, value)
    metrics = (spec.get("observability") or {}).get("metrics") or {}
    if not metrics.get("disablePrometheusAnnotations"):
        stamped = False
        for key, value in (
            ("prometheus.io/scrape", "true"),
            ("prometheus.io/port", "8888"),
            ("prometheus.io/path", "/metrics"),
        ):
            if key not in found:
                found[key] = value
                stamped = True
        if stamped:
            found["operator.opentelemetry.io/prometheus-annotations-added"] = "true"
    found["opentelemetry-operator-config/sha256"] = config_hash(spec["config"])
    return found


def pod_template(collector: dict) -> dict:
    spec = collector["spec"]
    name = f"{collector['metadata']['name']}-collector"
    args = ["--config=/conf/collector.yaml"]
    args += sorted(f"--{k}={v}" for k, v in (spec.get("args") or {}).items() if k != "config")
    container = _drop_empty(
        {
            "name": CONTAINER,
            "image": spec.get("image"),
            "imagePullPolicy": spec.get("imagePullPolicy"),
            "command": spec.get("command"),
            "args": args,
            "ports": container_ports(collector),
            "env": container_env(collector),
            "envFrom": spec.get("envFrom"),
            "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": "/conf"}, *(spec.get("volumeMounts") or [])],
            "resources": spec.get("resources"),
            "securityContext": spec.get("securityContext"),
            "livenessProbe": _probe(collector, "livenessProbe"),
            "readinessProbe": _probe(collector, "readinessProbe"),
            "startupProbe": _probe(collector, "startupProbe"),
            "lifecycle": spec.get("lifecycle"),
        }
    )
    host_network = bool(spec.get("hostNetwork"))
    dns_config = spec.get("podDnsConfig") or {}
    dns_policy = spec.get("dnsPolicy") or (
        "None" if dns_config.get("nameservers") else "ClusterFirstWithHostNet" if host_network else "ClusterFirst"
    )
    volume = {
        "name": CONFIG_VOLUME,
        "configMap": {"name": config_map_name(collector), "items": [{"key": CONFIG_ENTRY, "path": CONFIG_ENTRY}]},
    }
    pod = _drop_empty(
        {
            "serviceAccountName": spec.get("serviceAccount") or name,
            "initContainers": spec.get("initContainers"),
            "containers": [container, *(spec.get("additionalContainers") or [])],
            "volumes": [volume, *(spec.get("volumes") or [])],
            "tolerations": spec.get("tolerations"),
            "nodeSelector": spec.get("nodeSelector"),
            "hostNetwork": host_network or None,
            "hostPID": spec.get("hostPID"),
            "priorityClassName": spec.get("priorityClassName"),
            "affinity": spec.get("affinity"),
            "securityContext": spec.get("podSecurityContext"),
            "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds"),
            "topologySpreadConstraints": spec.get("topologySpreadConstraints") if spec["mode"] != "daemonset" else None,
        }
    )
    pod["dnsPolicy"] = dns_policy
    pod["dnsConfig"] = dns_config
    pod["shareProcessNamespace"] = bool(spec.get("shareProcessNamespace"))
    return {"metadata": {"labels": labels(collector, name), "annotations": pod_annotations(collector)}, "spec": pod}


def desired_replicas(spec: dict) -> int:
    autoscaler = spec.get("autoscaler") or {}
    if autoscaler.get("minReplicas") is not None:
        return max(autoscaler["minReplicas"], spec.get("replicas") or 0)
    return spec["replicas"]


# ---------------------------------------------------------------------------- the objects
def as_the_operator_runs_it(collector: dict) -> list:
    """Every object the operator v0.158.0 makes of an OpenTelemetryCollector (deployment or
    daemonset mode): workload, PodDisruptionBudget, ConfigMap, ServiceAccount, autoscaler,
    Services and NetworkPolicy, in the operator's order."""
    collector = defaulted(collector)
    spec = collector["spec"]
    mode = spec["mode"]
    if mode not in ("deployment", "daemonset"):
        raise ValueError(f"the operator stand-in makes deployment and daemonset collectors, not {mode}")
    name = f"{collector['metadata']['name']}-collector"
    selector = {"matchLabels": selector_labels(collector)}
    objects = []
    if mode == "deployment":
        workload = {"replicas": desired_replicas(spec), "selector": selector, "template": pod_template(collector)}
        if spec.get("deploymentUpdateStrategy"):
            workload["strategy"] = spec["deploymentUpdateStrategy"]
        objects.append(
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(collector, name), "spec": workload}
        )
        budget = spec.get("podDisruptionBudget") or {"maxUnavailable": 1}
        budget = {k: budget[k] for k in ("minAvailable", "maxUnavailable") if k in budget}
        objects.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": _meta(collector, name),
                "spec": {**budget, "selector": selector},
            }
        )
    else:
        workload = {"selector": selector, "template": pod_template(collector)}
        if spec.get("daemonSetUpdateStrategy"):
            workload["updateStrategy"] = spec["daemonSetUpdateStrategy"]
        objects.append(
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(collector, name), "spec": workload}
        )
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": dict(_meta(collector, name), name=config_map_name(collector)),
            "data": {CONFIG_ENTRY: yaml.safe_dump(spec["config"], sort_keys=False)},
        }
    )
    if not spec.get("serviceAccount"):
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(collector, name)})
    objects.extend(_autoscaler(collector, name))
    objects.extend(services(collector))
    if spec["networkPolicy"].get("enabled"):
        objects.append(network_policy(collector))
    return objects


def _autoscaler(collector: dict, name: str) -> list:
    autoscaler = collector["spec"].get("autoscaler")
    if not autoscaler:
        return []
    metrics = [
        {
            "type": "Resource",
            "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": autoscaler[field]}},
        }
        for resource, field in (("memory", "targetMemoryUtilization"), ("cpu", "targetCPUUtilization"))
        if autoscaler.get(field) is not None
    ]
    metrics += [{"type": "Pods", "pods": m["pods"]} for m in autoscaler.get("metrics") or [] if m.get("type") == "Pods"]
    target = {"apiVersion": API_VERSION, "kind": "OpenTelemetryCollector", "name": collector["metadata"]["name"]}
    spec = {
        "scaleTargetRef": target,
        "minReplicas": autoscaler.get("minReplicas"),
        "maxReplicas": autoscaler.get("maxReplicas") or 0,
        "metrics": metrics,
        "behavior": autoscaler.get("behavior"),
    }
    meta = _meta(collector, name)
    return [
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": _drop_empty(spec)}
    ]


def services(collector: dict) -> list:
    """The base Service (node-local for a daemonset) and its headless copy when there are ports,
    the monitoring Service, and the extensions' Service when they have ports."""
    spec = collector["spec"]
    base_name = f"{collector['metadata']['name']}-collector"
    selector = selector_labels(collector)
    common = _drop_empty(
        {
            "ipFamilies": spec.get("ipFamilies"),
            "ipFamilyPolicy": spec.get("ipFamilyPolicy"),
            "trafficDistribution": spec.get("trafficDistribution"),
            "sessionAffinity": spec.get("sessionAffinity"),
            "sessionAffinityConfig": spec.get("sessionAffinityConfig"),
        }
    )
    found = []
    ports = service_ports(collector)
    if ports:
        traffic = "Local" if spec["mode"] == "daemonset" else "Cluster"
        base = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(collector, base_name, **{SERVICE_TYPE: "base"}),
            "spec": {"internalTrafficPolicy": traffic, "selector": selector, "ports": ports, **common},
        }
        headless = copy.deepcopy(base)
        headless_name = f"{base_name}-headless"
        headless["metadata"]["name"] = headless_name
        headless["metadata"]["labels"].update(
            {"operator.opentelemetry.io/collector-headless-service": "Exists", SERVICE_TYPE: "headless"}
        )
        headless["metadata"]["annotations"] = {
            "service.beta.openshift.io/serving-cert-secret-name": f"{headless_name}-tls",
            **headless["metadata"]["annotations"],
        }
        headless["spec"]["clusterIP"] = "None"
        found += [base, headless]
    monitoring = {"operator.opentelemetry.io/collector-monitoring-service": "Exists", SERVICE_TYPE: "monitoring"}
    found.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(collector, f"{base_name}-monitoring", **monitoring),
            "spec": {
                "selector": selector,
                "ports": [{"name": "monitoring", "port": metrics_port(spec["config"])}],
                **common,
            },
        }
    )
    extension_ports = _component_ports(spec["config"], ("extensions",))
    if extension_ports:
        found.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(collector, f"{base_name}-extension", **{SERVICE_TYPE: "extension"}),
                "spec": {
                    "selector": selector,
                    "ports": extension_ports,
                    **{k: v for k, v in common.items() if not k.startswith("ipFamil")},
                },
            }
        )
    return found


def network_policy(collector: dict) -> dict:
    """Ingress to the collector's Pods on its container ports (TCP), from anywhere; nothing else."""
    name = f"{collector['metadata']['name']}-collector-networkpolicy"
    ports = [{"protocol": "TCP", "port": p["containerPort"]} for p in container_ports(collector)]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(collector, name),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(collector)},
            "ingress": [{"ports": ports}],
            "policyTypes": ["Ingress"],
        },
    }


# ---------------------------------------------------------------------------- on the node
def apply(node, objects: list) -> None:
    """Server-side apply of `objects` with the node's kubectl."""
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    node.kubectl_run("apply", "--server-side", "-f", "-", input_text=listed)


def rollout(node, namespace: str, *targets: str, timeout: int = 180) -> str:
    """Wait for the rollouts of `targets` ("deployment/x"); "" when done, else why not and the Pods.

    Rollouts, not `wait pod --all`: that sees only the Pods that exist when it starts, and a
    Deployment's Pod may not be created yet.
    """
    waited = node.kubectl_run("-n", namespace, "rollout", "status", *targets, f"--timeout={timeout}s", check=False)
    if waited.returncode == 0:
        return ""
    pods = node.kubectl_run("-n", namespace, "get", "pods", "-o", "wide", check=False).stdout
    return f"rollout of {targets} did not finish: {waited.stderr}\n{pods}"
