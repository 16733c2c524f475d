# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of the ``opentelemetry-collector`` Helm chart -> options of the collector module. Pure.

Read from the chart's own values.yaml, values.schema.json and templates (chart 0.170.0,
open-telemetry/opentelemetry-helm-charts). The chart renders a Deployment, DaemonSet or
StatefulSet itself; here the OpenTelemetry Operator does, from an OpenTelemetryCollector.
So a value is either

- mapped onto a collector option (``mode``, ``replicaCount`` -> ``replicas``, ``config``, ...),
- accepted because it is at the chart's default or has no effect here (``configMap.create:
  true``, ``presets.*.enabled: false``, ``nameOverride: ""``), or
- refused, with the key named and what to do instead: every value that would otherwise be
  silently dropped (``presets`` turned on, ``command``, ``hostNetwork``, unknown keys, ...).

Differences from ``helm install`` that are by design, and documented on the module:

- ``config`` is taken as the whole collector configuration. The chart merges it over its
  default configuration (jaeger, zipkin, prometheus receivers, debug exporter, ...); here
  nothing is added to it, and a ``null`` (the chart's way to delete a default) is refused,
  since in a collector configuration null means "enabled with default settings".
  ``alternateConfig`` (the chart's unmerged form) is the same thing.
- The chart's default ``ports`` are not added, only the ports the values give: the operator
  already opens the ports of the configured receivers.
- The environment variables the chart always sets (``MY_POD_IP``, ``OTEL_K8S_*``) are added
  only when the configuration references them.
- ``ingress`` is not a collector option: :func:`ingress_from_helm_values` renders its
  networking.k8s.io/v1 Ingress objects, routed to the operator's ``<name>-collector`` Service.
"""

from __future__ import annotations

import copy
import difflib
import json
import re

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import yaml_problem

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

CHART = "opentelemetry-collector"
CHART_MODES = ("daemonset", "deployment", "statefulset")
# The chart's autoscaling defaults, merged by Helm under what the values give.
AUTOSCALING_DEFAULTS = {"minReplicas": 1, "maxReplicas": 10, "targetCPUUtilizationPercentage": 80}
AUTOSCALING_KEYS = (
    "enabled",
    "minReplicas",
    "maxReplicas",
    "behavior",
    "targetCPUUtilizationPercentage",
    "targetMemoryUtilizationPercentage",
    "additionalMetrics",
)
PORT_KEYS = ("enabled", "containerPort", "servicePort", "hostPort", "protocol", "appProtocol", "nodePort")
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
# The environment the chart gives every collector container (templates/_pod.tpl).
CHART_ENV = {
    "MY_POD_IP": "status.podIP",
    "OTEL_K8S_NODE_NAME": "spec.nodeName",
    "OTEL_K8S_NODE_IP": "status.hostIP",
    "OTEL_K8S_NAMESPACE": "metadata.namespace",
    "OTEL_K8S_POD_NAME": "metadata.name",
    "OTEL_K8S_POD_IP": "status.podIP",
}
DEFAULT_PROBE = {"httpGet": {"port": 13133, "path": "/"}}
# Names users reach for instead of the chart's.
NEAR_NAMES = {
    "env": "extraEnvs",
    "replicas": "replicaCount",
    "autoscaler": "autoscaling",
    "volumes": "extraVolumes",
    "volumeMounts": "extraVolumeMounts",
    "serviceAccountName": "serviceAccount.name",
    "labels": "podLabels or additionalLabels",
    "podDisruptionBudgets": "podDisruptionBudget",
}

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _empty(value) -> bool:
    return value is None or value in ("", [], {}, False)


def _is(*accepted):
    return lambda value: value is None or value in accepted


def _enabled_paths(tree, prefix: str) -> list:
    """The switches turned on in a nested mapping: a mapping with `enabled` is on or off by it (what
    is under it only matters when it is on); one without is looked into."""
    if not isinstance(tree, dict):
        return []
    if "enabled" in tree:
        return [f"{prefix}.enabled"] if tree["enabled"] is True else []
    found = []
    for key, value in tree.items():
        found.extend(_enabled_paths(value, f"{prefix}.{key}"))
    return found


# key -> (accepted(value), why it cannot be mapped and what to do). These are accepted at the chart's
# default (or any value that has no effect here) and refused otherwise.
INERT = {
    "nameOverride": (
        _empty,
        "the operator names everything after the collector (`<name>-collector`); set the module's name",
    ),
    "fullnameOverride": (
        _empty,
        "the operator names everything after the collector (`<name>-collector`); set the module's name",
    ),
    "namespaceOverride": (_empty, "set the module's namespace"),
    "apiVersion": (_is("", "apps/v1"), "the operator creates the workload itself, as apps/v1"),
    "rewriteDeprecatedComponentNames": (
        lambda v: isinstance(v, bool) or v is None,
        "expected true or false; the configuration is used as written either way "
        "(the collector and this collection's lint accept both spellings)",
    ),
    "internalTelemetryViaOTLP": (
        lambda v: not _enabled_paths(v, "internalTelemetryViaOTLP") and not (isinstance(v, dict) and v.get("endpoint")),
        "configure the collector's own telemetry in config.service.telemetry",
    ),
    "imagePullSecrets": (
        _empty,
        "an OpenTelemetryCollector has no imagePullSecrets; add them to the collector's "
        "ServiceAccount (its imagePullSecrets), which the pods then use",
    ),
    "command": (
        lambda v: v is None or (isinstance(v, dict) and _empty(v.get("name")) and _empty(v.get("extraArgs"))),
        "the operator runs the image's own collector binary with the configuration it renders; choose the "
        "image instead of command.name, and put settings in config (command.extraArgs has no option here)",
    ),
    "clusterRole": (
        lambda v: v is None or (isinstance(v, dict) and not v.get("create") and _empty(v.get("rules"))),
        "the collector module makes no RBAC: otel.kubernetes.rbac derives the ClusterRole the "
        "configuration needs from it; give rules it cannot derive in its extra_rules",
    ),
    "topologySpreadConstraints": (
        _empty,
        "the collector module has no option for topology spread constraints; use affinity",
    ),
    "runtimeClassName": (_empty, "the collector module has no option for a runtime class"),
    "terminationGracePeriodSeconds": (_is(30), "the collector module keeps the Kubernetes default of 30 seconds"),
    "extraEnvsFrom": (
        _empty,
        "the collector module has no envFrom option; list the variables in extraEnvs "
        "(valueFrom.secretKeyRef or configMapKeyRef)",
    ),
    "extraManifests": (_empty, "give those objects in the module's extra_objects"),
    "useGOMEMLIMIT": (
        _is(True),
        "the collector module always sets GOMEMLIMIT to 80% of resources.limits.memory; "
        "to choose another value, set GOMEMLIMIT in extraEnvs",
    ),
    "resizePolicy": (_empty, "the collector module has no option for a container resize policy"),
    "enableConfigChecksumAnnotation": (
        lambda v: isinstance(v, bool) or v is None,
        "expected true or false; the operator rolls the pods out when the configuration changes, either way",
    ),
    "hostNetwork": (
        _is(False),
        "the collector module has no host networking option; agents are reached on the "
        "node IP through hostPort (ports.<name>.hostPort) instead",
    ),
    "hostPID": (_is(False), "the collector module has no option for the host PID namespace"),
    "hostAliases": (_empty, "the collector module has no option for host aliases"),
    "dnsPolicy": (_empty, "the collector module has no option for the DNS policy"),
    "dnsConfig": (_empty, "the collector module has no option for the DNS configuration"),
    "schedulerName": (_empty, "the collector module has no option for another scheduler"),
    "revisionHistoryLimit": (_is(10), "the operator keeps the Kubernetes default of 10"),
    "extraContainers": (_empty, "the collector module has no option for more containers in the collector pod"),
    "initContainers": (_empty, "the collector module has no option for init containers"),
    "lifecycleHooks": (_empty, "the collector module has no option for lifecycle hooks"),
    "livenessProbe": (
        lambda v: _empty(v) or v == DEFAULT_PROBE,
        "the operator sets the probes itself from the health_check extension of the configuration",
    ),
    "readinessProbe": (
        lambda v: _empty(v) or v == DEFAULT_PROBE,
        "the operator sets the probes itself from the health_check extension of the configuration",
    ),
    "startupProbe": (
        _empty,
        "the operator sets the probes itself from the health_check extension of the configuration",
    ),
    "service": (
        lambda v: (
            v is None
            or (
                isinstance(v, dict)
                and v.get("type", "ClusterIP") == "ClusterIP"
                and _empty(v.get("annotations"))
                and v.get("enabled", True) is not False
                and not set(v) - {"type", "annotations", "enabled"}
            )
        ),
        "the operator makes the collector's Services itself (`<name>-collector`, `-headless` and "
        "`-monitoring`, ClusterIP); the collector module does not change their type or annotations",
    ),
    "httproute": (
        lambda v: not _enabled_paths(v, "httproute"),
        "render the HTTPRoute yourself (backend `<name>-collector`) and give it in extra_objects",
    ),
    "podMonitor": (
        lambda v: not _enabled_paths(v, "podMonitor"),
        "set the module's self_monitoring: true; the operator then creates a ServiceMonitor or PodMonitor",
    ),
    "serviceMonitor": (
        lambda v: not _enabled_paths(v, "serviceMonitor"),
        "set the module's self_monitoring: true; the operator then creates a ServiceMonitor or PodMonitor",
    ),
    "prometheusRule": (lambda v: not _enabled_paths(v, "prometheusRule"), "give the PrometheusRule in extra_objects"),
    "rollout": (
        lambda v: (
            v is None
            or (
                isinstance(v, dict)
                and _empty(v.get("rollingUpdate"))
                and v.get("strategy", "RollingUpdate") == "RollingUpdate"
            )
        ),
        "the collector module has no option for the update strategy; the operator rolls out with the "
        "Kubernetes default",
    ),
    "statefulset": (
        lambda v: (
            v is None
            or (
                isinstance(v, dict)
                and _empty(v.get("volumeClaimTemplates"))
                and not (v.get("persistentVolumeClaimRetentionPolicy") or {}).get("enabled")
            )
        ),
        "the collector module has no option for volume claim templates or their retention",
    ),
    "networkPolicy": (lambda v: not _enabled_paths(v, "networkPolicy"), "give the NetworkPolicy in extra_objects"),
    "shareProcessNamespace": (_is(False), "the collector module has no option to share the process namespace"),
    "configMap": (
        lambda v: (
            v is None or (isinstance(v, dict) and v.get("create", True) is not False and _empty(v.get("existingName")))
        ),
        "the operator renders the configuration from config itself; an existing ConfigMap cannot be "
        "used: give its content as config",
    ),
    "presets": (lambda v: not _enabled_paths(v, "presets"), ""),  # message built per preset below
    "ingress": (lambda _v: True, ""),  # ingress_from_helm_values
    "global": (
        lambda v: (
            _empty(v) or (isinstance(v, dict) and not set(v) - {"imageRegistry"} and _empty(v.get("imageRegistry")))
        ),
        "give the full image name in image.repository",
    ),
}

MAPPED = (
    "mode",
    "replicaCount",
    "resources",
    "config",
    "alternateConfig",
    "serviceAccount",
    "autoscaling",
    "podDisruptionBudget",
    "tolerations",
    "nodeSelector",
    "affinity",
    "priorityClassName",
    "image",
    "extraEnvs",
    "extraVolumes",
    "extraVolumeMounts",
    "ports",
    "podAnnotations",
    "podLabels",
    "additionalLabels",
    "annotations",
    "securityContext",
    "podSecurityContext",
)
OLD_LAYOUT = ("agentCollector", "standaloneCollector")


def parse_values(values) -> tuple:
    """(values, error): the values as given (a mapping), or parsed from YAML text."""
    if values is None or isinstance(values, dict):
        return values, None
    if isinstance(values, str):
        try:
            parsed = yaml.safe_load(values)
        except yaml.YAMLError as error:
            return None, f"helm_values: not valid YAML: {yaml_problem(error, values)}"
        if parsed is None or isinstance(parsed, dict):
            return parsed or {}, None
        values = parsed
    return None, f"helm_values: expected the chart's values as a mapping or YAML text, got {type(values).__name__}"


def _unknown(key) -> str:
    key = str(key)
    hint = NEAR_NAMES.get(key)
    if hint is None:
        close = difflib.get_close_matches(key, list(MAPPED) + list(INERT), n=1)
        hint = close[0] if close else None
    return (
        f"{key}: not a value of the {CHART} chart"
        + (f" (did you mean {hint}?)" if hint else "")
        + "; nothing was mapped from it"
    )


def _nulls(tree, path: str) -> list:
    """Paths of null values in a configuration."""
    found = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            where = f"{path}.{key}"
            if value is None:
                found.append(where)
            else:
                found.extend(_nulls(value, where))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.extend(_nulls(value, f"{path}[{index}]"))
    return found


def _strings(tree):
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _strings(value)


def _referenced_env(config) -> list:
    text = "\n".join(_strings(config))
    return [name for name in CHART_ENV if re.search(r"\$\{(env:)?" + name + r"\}", text)]


def _mapping(values: dict, key: str, errors: list) -> dict | None:
    value = values.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(f"{key}: expected a mapping, got {type(value).__name__}")
        return None
    return value


def _section(values: dict, key: str, errors: list, allowed: tuple, listed: bool = True) -> dict | None:
    """values[key] as a mapping (None when not given), each of its keys one of the chart's (allowed)."""
    section = _mapping(values, key, errors)
    for name in section or {}:
        if name not in allowed:
            known = f" ({', '.join(allowed)})" if listed else ""
            errors.append(f"{key}.{name}: not a value of the chart's {key}{known}")
    return section


def _list(values: dict, key: str, errors: list, what: str) -> list | None:
    value = values.get(key)
    if _empty(value):
        return None
    if isinstance(value, str):
        errors.append(f"{key}: template text is rendered by Helm only; give {what} as a YAML list")
        return None
    if not isinstance(value, list):
        errors.append(f"{key}: expected a list of {what}")
        return None
    return copy.deepcopy(value)


def _positive(value, where: str, errors: list):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{where}: expected a whole number, got {value!r}")
        return None
    return value


def _config(values: dict, errors: list):
    config, alternate = values.get("config"), values.get("alternateConfig")
    if not _empty(alternate):
        if not _empty(config):
            errors.append(
                "alternateConfig: given together with config; the chart then ignores config. Give the "
                "collector configuration once (here both are the whole configuration, nothing is merged)"
            )
        config, where = alternate, "alternateConfig"
    else:
        where = "config"
    if _empty(config):
        return None
    if not isinstance(config, dict):
        errors.append(
            f"{where}: expected the collector configuration as a mapping (receivers, processors, exporters, service)"
        )
        return None
    for path in _nulls(config, where):
        errors.append(
            f"{path}: null. The chart merges config over its default configuration and null deletes a "
            f"default there; here {where} is the whole configuration (nothing is merged) and null would "
            f"mean 'enabled with default settings'. Give {{}} for default settings, or leave the key out"
        )
    if any("{{" in text for text in _strings(config)):
        errors.append(
            f"{where}: contains Helm template text ({{{{ ... }}}}), which only Helm renders; write the values out"
        )
    return copy.deepcopy(config)


def _service_account(values: dict, options: dict, errors: list, notes: list) -> None:
    allowed = ("create", "name", "annotations", "automountServiceAccountToken")
    account = _section(values, "serviceAccount", errors, allowed, listed=False)
    if account is None:
        return
    if not _empty(account.get("annotations")):
        errors.append(
            "serviceAccount.annotations: the collector module makes no ServiceAccount, and "
            "otel.kubernetes.rbac makes it without annotations; annotate the ServiceAccount elsewhere "
            "(for example with otel.kubernetes.apply) and name it in serviceAccount.name"
        )
    if account.get("automountServiceAccountToken") is False:
        errors.append(
            "serviceAccount.automountServiceAccountToken: false cannot be expressed on an "
            "OpenTelemetryCollector; the pods mount the token of their ServiceAccount"
        )
    name = account.get("name")
    create = account.get("create", True)
    if name:
        options["service_account"] = str(name)
        if create:
            notes.append(
                f"serviceAccount.create: the collector module does not create ServiceAccounts; create "
                f"{name} (with the permissions the configuration needs) with otel.kubernetes.rbac "
                f"(service_account: {name})"
            )
    elif create:
        notes.append(
            "serviceAccount.create without a name: the operator creates and uses the ServiceAccount "
            "`<name>-collector` itself"
        )
    else:
        options["service_account"] = "default"  # what the chart uses without create and name


def _autoscaling(values: dict, options: dict, errors: list) -> None:
    scaling = _section(values, "autoscaling", errors, AUTOSCALING_KEYS)
    if scaling is None:
        return
    if scaling.get("enabled") is not True:
        return
    if not _empty(scaling.get("additionalMetrics")):
        errors.append(
            "autoscaling.additionalMetrics: the operator's autoscaler takes only Pods metrics, in another "
            "form; give them in the module's autoscaler.metrics instead of helm_values"
        )
    merged = {**AUTOSCALING_DEFAULTS, **{k: v for k, v in scaling.items() if v is not None}}
    autoscaler = {"minReplicas": merged["minReplicas"], "maxReplicas": merged["maxReplicas"]}
    if merged.get("targetCPUUtilizationPercentage") is not None:
        autoscaler["targetCPUUtilization"] = merged["targetCPUUtilizationPercentage"]
    if merged.get("targetMemoryUtilizationPercentage") is not None:
        autoscaler["targetMemoryUtilization"] = merged["targetMemoryUtilizationPercentage"]
    if not _empty(merged.get("behavior")):
        autoscaler["behavior"] = copy.deepcopy(merged["behavior"])
    options["autoscaler"] = autoscaler


def _pdb(values: dict, options: dict, errors: list) -> None:
    pdb = _section(values, "podDisruptionBudget", errors, ("enabled", "minAvailable", "maxUnavailable"))
    if pdb is None:
        return
    if pdb.get("enabled") is not True:
        return
    budget = {k: pdb[k] for k in ("minAvailable", "maxUnavailable") if pdb.get(k) is not None}
    if budget:
        options["pod_disruption_budget"] = budget


def _image(values: dict, options: dict, errors: list, notes: list) -> None:
    image = _section(values, "image", errors, ("repository", "tag", "digest", "pullPolicy"))
    if image is None:
        return
    if image.get("pullPolicy") not in (None, "", "IfNotPresent"):
        errors.append(
            f"image.pullPolicy: {image['pullPolicy']} cannot be set through the collector module (the "
            f"Kubernetes default applies: IfNotPresent for a tagged image); pin a tag or a digest instead"
        )
    repository = image.get("repository")
    if not repository:
        if image.get("tag") or image.get("digest"):
            errors.append("image.repository: required with image.tag or image.digest")
        return
    if image.get("digest"):
        options["image"] = f"{repository}@{image['digest']}"
    elif image.get("tag"):
        options["image"] = f"{repository}:{image['tag']}"
    else:
        options["image"] = f"{repository}:{dist.COLLECTOR_VERSION}"
        notes.append(
            f"image.tag: empty, where the chart uses its appVersion; used {dist.COLLECTOR_VERSION}, the "
            f"collector release this collection's component lists are for. Give the tag to pin another"
        )


def _ports(values: dict, mode: str, errors: list, notes: list) -> list | None:
    ports = values.get("ports")
    if _empty(ports):
        return None
    if isinstance(ports, list):
        errors.append(
            "ports: the chart's ports are a mapping of port name to {enabled, containerPort, servicePort, "
            "hostPort, protocol}; for a list of Service ports use the module's ports option"
        )
        return None
    if not isinstance(ports, dict):
        errors.append("ports: expected a mapping of port name to {enabled, containerPort, servicePort, protocol}")
        return None
    rendered = []
    for name, port in ports.items():
        where = f"ports.{name}"
        if not isinstance(port, dict):
            errors.append(f"{where}: expected a mapping (enabled, containerPort, servicePort, hostPort, protocol)")
            continue
        unknown = [k for k in port if k not in PORT_KEYS]
        if unknown:
            errors.append(
                f"{where}: unknown field(s) {', '.join(unknown)}; a port of the chart takes {', '.join(PORT_KEYS)}"
            )
        if port.get("enabled") is not True:
            if "enabled" not in port:
                notes.append(f"{where}: skipped, as the chart does: it renders only ports with enabled: true")
            continue
        if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 15:
            errors.append(
                f"{where}: `{name}` is not a valid port name (lowercase letters, digits and '-', at most 15 characters)"
            )
        container = port.get("containerPort")
        service = port.get("servicePort", container)
        if container is None and service is None:
            errors.append(f"{where}: give containerPort (and servicePort when the Service port differs)")
            continue
        entry = {"name": name, "port": service, "protocol": port.get("protocol") or "TCP"}
        if container is not None and container != service:
            entry["targetPort"] = container
        if not _empty(port.get("appProtocol")):
            entry["appProtocol"] = port["appProtocol"]
        if not _empty(port.get("nodePort")):
            entry["nodePort"] = port["nodePort"]
        if not _empty(port.get("hostPort")) and mode == "daemonset":  # the chart sets hostPort on agents only
            entry["hostPort"] = port["hostPort"]
        rendered.append(entry)
    return rendered


def _labels_and_annotations(values: dict, options: dict, errors: list) -> None:
    pairs = (("labels", ("additionalLabels", "podLabels")), ("annotations", ("annotations", "podAnnotations")))
    for option, keys in pairs:
        merged = {}
        for key in keys:
            given = _mapping(values, key, errors)
            for name, value in (given or {}).items():
                text = str(value).lower() if isinstance(value, bool) else str(value)
                if name in merged and merged[name] != text:
                    errors.append(
                        f"{key}.{name}: also given with another value in {keys[0]}; on an "
                        f"OpenTelemetryCollector both land on the collector's pods, give it once"
                    )
                merged[name] = text
        if merged:
            options[option] = merged


def collector_options_from_helm_values(values, mode: str | None = None, notes: list | None = None) -> tuple:
    """(options, errors): the collector module's options for a values.yaml of the chart.

    ``mode`` is the collector mode the caller uses when it overrides ``values['mode']``
    (replicaCount and hostPort depend on it, as in the chart). ``notes``, when given, gets
    what was mapped differently from the chart, for the caller to show. Options that the
    values do not set are absent from the result. ``ingress`` is accepted and left to
    :func:`ingress_from_helm_values`.
    """
    notes = notes if notes is not None else []
    options, errors = {}, []
    if values is None:
        return options, errors
    if not isinstance(values, dict):
        return options, [f"helm_values: expected the chart's values as a mapping, got {type(values).__name__}"]

    _refused(values, errors)
    chart_mode = values.get("mode")
    if not _empty(chart_mode):
        if chart_mode not in CHART_MODES:
            errors.append(
                f"mode: `{chart_mode}` is not a mode of the chart ({', '.join(CHART_MODES)})"
                + ("; for a sidecar collector set the module's mode: sidecar" if chart_mode == "sidecar" else "")
            )
        else:
            options["mode"] = chart_mode
    effective_mode = mode or options.get("mode") or "deployment"

    config = _config(values, errors)
    if config is not None:
        options["config"] = config

    _autoscaling(values, options, errors)
    replicas = values.get("replicaCount")
    if replicas is not None and _positive(replicas, "replicaCount", errors) is not None:
        if effective_mode not in ("deployment", "statefulset"):
            if replicas != 1:
                notes.append(f"replicaCount: ignored for a {effective_mode} collector, as the chart does")
        elif "autoscaler" in options:
            notes.append("replicaCount: ignored while autoscaling is enabled, as the chart does")
        else:
            options["replicas"] = replicas

    resources = _mapping(values, "resources", errors)
    if resources:
        options["resources"] = copy.deepcopy(resources)
    _service_account(values, options, errors, notes)
    _pdb(values, options, errors)
    _image(values, options, errors, notes)
    for key, option in (
        ("nodeSelector", "node_selector"),
        ("affinity", "affinity"),
        ("securityContext", "security_context"),
        ("podSecurityContext", "pod_security_context"),
    ):
        given = _mapping(values, key, errors)
        if given:
            options[option] = copy.deepcopy(given)
    tolerations = _list(values, "tolerations", errors, "tolerations")
    if tolerations:
        options["tolerations"] = tolerations
    priority = values.get("priorityClassName")
    if not _empty(priority):
        options["priority_class_name"] = str(priority)

    _pod_lists(values, options, config, effective_mode, errors, notes)
    _labels_and_annotations(values, options, errors)
    return options, [f"helm_values.{error}" for error in errors]


def _refused(values: dict, errors: list) -> None:
    """Errors for the values that cannot be mapped: the chart's old layout, presets turned on, values
    at other than an inert setting, unknown keys."""
    for key, value in values.items():
        if key in MAPPED:
            continue
        if key in OLD_LAYOUT:
            errors.append(
                f"{key}: removed from the {CHART} chart in 0.19.0; today's chart (and this mapping) take "
                f"mode: daemonset or deployment with top-level values"
            )
        elif key == "presets":
            for path in _enabled_paths(value, "presets"):
                errors.append(
                    f"{path}: presets add components, volumes and RBAC through the chart's templates, "
                    f"which are not used here. Write the components into config (and the volumes into "
                    f"extraVolumes/extraVolumeMounts); otel.kubernetes.rbac derives the RBAC they need "
                    f"from the configuration"
                )
        elif key in INERT:
            accepted, why = INERT[key]
            if not accepted(value):
                errors.append(f"{key}: {json.dumps(value, default=str)[:120]} cannot be mapped: {why}")
        else:
            errors.append(_unknown(key))


def _pod_lists(values: dict, options: dict, config, mode: str, errors: list, notes: list) -> None:
    """env (with the chart's variables the configuration references), volumes, volume mounts and ports."""
    env = _list(values, "extraEnvs", errors, "environment variables") or []
    names = {e.get("name") for e in env if isinstance(e, dict)}
    for name in _referenced_env(config or {}):
        if name not in names:
            env.append({"name": name, "valueFrom": {"fieldRef": {"fieldPath": CHART_ENV[name]}}})
    if env:
        options["env"] = env
    volumes = _list(values, "extraVolumes", errors, "volumes")
    if volumes:
        options["volumes"] = volumes
    mounts = _list(values, "extraVolumeMounts", errors, "volume mounts")
    if mounts:
        options["volume_mounts"] = mounts
    ports = _ports(values, mode, errors, notes)
    if ports:
        options["ports"] = ports


# ---------------------------------------------------------------------------- ingress
INGRESS_KEYS = ("enabled", "ingressClassName", "annotations", "hosts", "tls", "additionalIngresses")


def _ingress_rule(here: str, host, service: str, errors: list) -> dict | None:
    """One of the chart's ingress hosts as an Ingress rule routed to the collector's Service."""
    if isinstance(host, str):
        errors.append(
            f"{here}: `{host}` is a bare host name, but the chart's hosts are {{host, paths: [{{path, "
            f"pathType, port}}]}}: the port says which collector port the Ingress routes to. Write "
            f"{{host: {host}, paths: [{{path: /, pathType: Prefix, port: <collector port>}}]}}"
        )
        return None
    if not isinstance(host, dict):
        errors.append(f"{here}: expected {{host, paths}}")
        return None
    unknown = [k for k in host if k not in ("host", "paths")]
    if unknown:
        errors.append(f"{here}: unknown field(s) {', '.join(unknown)}; a host takes host and paths")
    paths = [
        _ingress_path(f"{here}.paths[{number}]", path, service, errors)
        for number, path in enumerate(host.get("paths") or [])
    ]
    paths = [path for path in paths if path is not None]
    if not paths:
        errors.append(f"{here}.paths: give at least one {{path, pathType, port}}")
    rule = {"http": {"paths": paths}}
    if host.get("host"):
        rule = {"host": str(host["host"]), **rule}
    return rule


def _ingress_path(at: str, path, service: str, errors: list) -> dict | None:
    if not isinstance(path, dict):
        errors.append(f"{at}: expected {{path, pathType, port}}")
        return None
    unknown = [k for k in path if k not in ("path", "pathType", "port")]
    if unknown:
        errors.append(f"{at}: unknown field(s) {', '.join(unknown)}; a path takes path, pathType and port")
    port = path.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        errors.append(f"{at}.port: expected the number of a port of the collector's Service, got {port!r}")
    if path.get("pathType") not in PATH_TYPES:
        errors.append(f"{at}.pathType: `{path.get('pathType')}` is not one of {', '.join(PATH_TYPES)}")
    if not isinstance(path.get("path"), str) or not path.get("path", "").startswith("/"):
        errors.append(f"{at}.path: expected a path starting with /, got {path.get('path')!r}")
    return {
        "path": path.get("path"),
        "pathType": path.get("pathType"),
        "backend": {"service": {"name": service, "port": {"number": port}}},
    }


def _ingress_object(
    entry: dict, where: str, name: str, namespace: str | None, service: str, labels: dict, errors: list
) -> dict:
    allowed = INGRESS_KEYS if where == "ingress" else ("name", "ingressClassName", "annotations", "hosts", "tls")
    for key in entry:
        if key == "className":
            errors.append(
                f"{where}.className: the chart calls it ingressClassName (className is other charts' "
                f"name); the chart's schema refuses className"
            )
        elif key not in allowed:
            errors.append(f"{where}.{key}: not a value of the chart's ingress ({', '.join(allowed)})")
    rules = []
    hosts = entry.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        errors.append(
            f"{where}.hosts: give at least one host, as {{host: collector.example.com, paths: [{{path: /, "
            f"pathType: Prefix, port: 4318}}]}}"
        )
        hosts = []
    for index, host in enumerate(hosts):
        rule = _ingress_rule(f"{where}.hosts[{index}]", host, service, errors)
        if rule is not None:
            rules.append(rule)
    tls = []
    for index, item in enumerate(entry.get("tls") or []):
        if not isinstance(item, dict) or set(item) - {"secretName", "hosts"}:
            errors.append(f"{where}.tls[{index}]: expected {{secretName, hosts}}")
            continue
        block = {"hosts": [str(h) for h in item.get("hosts") or []]}
        if item.get("secretName"):
            block["secretName"] = str(item["secretName"])
        tls.append(block)
    meta = {"name": name, "labels": dict(labels)}
    if namespace:
        meta["namespace"] = namespace
    annotations = entry.get("annotations")
    if annotations:
        if not isinstance(annotations, dict):
            errors.append(f"{where}.annotations: expected a mapping")
        else:
            meta["annotations"] = {
                str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in annotations.items()
            }
    spec = {}
    if entry.get("ingressClassName"):
        spec["ingressClassName"] = str(entry["ingressClassName"])
    if tls:
        spec["tls"] = tls
    spec["rules"] = rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def ingress_from_helm_values(
    values, name: str, namespace: str | None = None, service_name: str | None = None, labels: dict | None = None
) -> tuple:
    """(objects, errors): the networking.k8s.io/v1 Ingresses of the chart's ``ingress`` values.

    Routed to ``service_name``, by default ``<name>-collector``, the Service the operator makes
    for collector ``name``. The main Ingress is named like that Service, each of
    ``ingress.additionalIngresses`` ``<service>-<its name>``, as the chart names them after its
    own Service. Nothing when ``ingress.enabled`` is not true.
    """
    if not isinstance(values, dict):
        return [], []
    ingress = values.get("ingress")
    if ingress is None:
        return [], []
    if not isinstance(ingress, dict):
        return [], ["helm_values.ingress: expected a mapping (enabled, ingressClassName, annotations, hosts, tls)"]
    if ingress.get("enabled") is not True:
        return [], []
    service = service_name or f"{name}-collector"
    labels = {
        "app.kubernetes.io/managed-by": "otel.kubernetes",
        "app.kubernetes.io/component": "opentelemetry-collector",
        **(labels or {}),
    }
    errors, objects = [], []
    main = _ingress_object(ingress, "ingress", service, namespace, service, labels, errors)
    objects.append(main)
    extra = ingress.get("additionalIngresses") or []
    if not isinstance(extra, list):
        errors.append("ingress.additionalIngresses: expected a list of ingresses, each with a name")
        extra = []
    seen = set()
    for index, entry in enumerate(extra):
        where = f"ingress.additionalIngresses[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not _NAME_RE.match(entry["name"]):
            errors.append(f"{where}.name: every additional ingress needs a name (lowercase letters, digits and '-')")
            continue
        if entry["name"] in seen:
            errors.append(f"{where}.name: `{entry['name']}` is given twice")
        seen.add(entry["name"])
        objects.append(_ingress_object(entry, where, f"{service}-{entry['name']}", namespace, service, labels, errors))
    return objects, [f"helm_values.{error}" for error in errors]


def ingress_names(values, name: str, service_name: str | None = None) -> list:
    """Names of the Ingresses the values would make (for removal): never fails."""
    ingress = values.get("ingress") if isinstance(values, dict) else None
    if not isinstance(ingress, dict) or ingress.get("enabled") is not True:
        return []
    service = service_name or f"{name}-collector"
    names = [service]
    for entry in ingress.get("additionalIngresses") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            names.append(f"{service}-{entry['name']}")
    return names
