# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auto-instrumentation: the Instrumentation resource and the injection annotations (pure).

What the OpenTelemetry Operator (v0.158.0) documents and this module relies on:

- ``Instrumentation`` (``opentelemetry.io/v1alpha1``): ``spec.exporter.endpoint`` (+ ``tls``),
  ``propagators``, ``sampler.type``/``argument``, ``resource.resourceAttributes``, ``env``
  and per-language blocks ``java``, ``nodejs``, ``python``, ``dotnet``, ``go``,
  ``apacheHttpd``, ``nginx``. Java calls its resource limits ``resources``, the other
  languages ``resourceRequirements``.
- The operator itself puts ``OTEL_NODE_IP`` (``status.hostIP``) and ``OTEL_POD_IP`` first in
  every instrumented container since v0.97.0, "should you need to reference either value in
  an endpoint" (docs/auto-instrumentation/README.md), skipping them when the container or
  ``spec.env`` already sets them. With the agent on host ports (``agent_service`` empty) the
  endpoint is ``http://$(OTEL_NODE_IP):4317``, and ``spec.env`` carries ``OTEL_NODE_IP`` too,
  which is a no-op on those operators and keeps older ones working.
- For a ``mode: daemonset`` collector the operator makes the Service ``<name>-collector`` with
  ``internalTrafficPolicy: Local`` (internal/manifests/collector/service.go): traffic to it stays
  on the sender's node. The default endpoint is that Service of the agent,
  ``http://otel-agent-collector.observability.svc.cluster.local:4317``: no host port is needed,
  so the agent's namespace can stay at the restricted Pod Security level.
- The injected Python, .NET and Go SDKs send OTLP over HTTP (http/protobuf): the operator's
  README gives them a per-language ``OTEL_EXPORTER_OTLP_ENDPOINT`` on 4318 when the main
  endpoint is gRPC 4317. The operator's own end-to-end tests show the same for Java (agent 2.x
  "http/protobuf is the default protocol in 2.x") and Node.js (its image is
  ``@opentelemetry/auto-instrumentations-node``, tested on 4318), so those get it as well. The
  SDK-only, Apache HTTPD and nginx injections use the main (gRPC) endpoint.
- Injection annotations, on a Namespace or a pod template:
  ``instrumentation.opentelemetry.io/inject-<language>`` with ``"true"``, ``"false"``, a name or
  ``"namespace/name"``; ``container-names`` or per language ``<language>-container-names``
  (nginx: ``inject-nginx-container-names``); ``otel-go-auto-target-exe``,
  ``otel-python-platform``, ``otel-dotnet-auto-runtime``. Go and nginx injection are off in the
  operator unless started with ``--enable-go-instrumentation`` / ``--enable-nginx-instrumentation``.
- The CRD's ``sampler.type`` enum lacks ``parentbased_jaeger_remote`` although the SDK
  specification lists it; such an Instrumentation would be refused by the API server.

The annotations are written as PARTIAL objects (identity plus annotations only) with a
field manager of their own: server-side apply then owns exactly those keys, and applying
the same partial object without them removes exactly them, leaving the user's annotations.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

PREFIX = "instrumentation.opentelemetry.io/"
API_VERSION = "opentelemetry.io/v1alpha1"
ANNOTATION_FIELD_MANAGER = "otel.kubernetes-instrumentation"
DEFAULT_PROPAGATORS = ("tracecontext", "baggage")
DEFAULT_GRPC_PORT = 4317
DEFAULT_HTTP_PORT = 4318
# The agent role's defaults: the operator's Service <otel_agent_name>-collector in otel_agent_namespace.
DEFAULT_AGENT_SERVICE = "otel-agent-collector.observability"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
NODE_IP = "OTEL_NODE_IP"

LANGUAGES = ("java", "nodejs", "python", "dotnet", "go", "sdk", "apache-httpd", "nginx")
# Injection language -> its block in the Instrumentation spec (sdk has none).
SPEC_BLOCKS = {
    "java": "java",
    "nodejs": "nodejs",
    "python": "python",
    "dotnet": "dotnet",
    "go": "go",
    "apache-httpd": "apacheHttpd",
    "nginx": "nginx",
}
# Keys of each block in the operator's CRD (v0.158.0); others would be pruned silently.
BLOCK_KEYS = {
    "java": {"env", "extensions", "image", "resources", "volumeClaimTemplate", "volumeLimitSize"},
    "nodejs": {"env", "image", "resourceRequirements", "volumeClaimTemplate", "volumeLimitSize"},
    "python": {"env", "image", "resourceRequirements", "volumeClaimTemplate", "volumeLimitSize"},
    "dotnet": {"env", "image", "resourceRequirements", "volumeClaimTemplate", "volumeLimitSize"},
    "go": {"env", "image", "resourceRequirements", "securityContext", "volumeClaimTemplate", "volumeLimitSize"},
    "apacheHttpd": {
        "attrs",
        "configPath",
        "env",
        "image",
        "resourceRequirements",
        "version",
        "volumeClaimTemplate",
        "volumeLimitSize",
    },
    "nginx": {"attrs", "configFile", "env", "image", "resourceRequirements", "volumeClaimTemplate", "volumeLimitSize"},
}
# Languages whose injected SDK sends OTLP/HTTP by default: per-language endpoint on the HTTP port.
HTTP_LANGUAGES = ("java", "nodejs", "python", "dotnet", "go")
OFF_BY_DEFAULT = {"go": "--enable-go-instrumentation", "nginx": "--enable-nginx-instrumentation"}

# OTEL_TRACES_SAMPLER values of the SDK specification...
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
    "jaeger_remote",
    "parentbased_jaeger_remote",
    "xray",
)
# ... minus what the operator's CRD enum refuses.
CRD_REFUSED_SAMPLERS = ("parentbased_jaeger_remote",)
RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")
NO_ARGUMENT_SAMPLERS = ("always_on", "always_off", "parentbased_always_on", "parentbased_always_off", "xray")
PROPAGATORS = ("tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none")
EXPORTER_TLS_KEYS = ("secretName", "configMapName", "ca_file", "cert_file", "key_file")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

# Annotation keys (after the prefix) that the seed design text uses but the operator does not read.
NONEXISTENT_ANNOTATIONS = {
    "inject-javaagent": "it does not exist: Java is injected by instrumentation.opentelemetry.io/inject-java "
    "(languages: [java])",
    "inject-contrib": "it does not exist: the Python auto-instrumentation image already carries the instrumentation "
    "libraries; use instrumentation.opentelemetry.io/inject-python (languages: [python])",
    "service-name": "it does not exist: set the service name with the resource.opentelemetry.io/service.name "
    "annotation, or the app.kubernetes.io/name (or instance) label of the pod",
    "otel-traces-sampler": "it does not exist: the sampler is the Instrumentation's spec.sampler; set sampler_type",
    "otel-traces-sampler-argument": "it does not exist: the sampler argument is the Instrumentation's "
    "spec.sampler.argument; set sampler_argument",
    "exporter-endpoint": "it does not exist: the endpoint is the Instrumentation's spec.exporter.endpoint; set "
    "exporter_endpoint (by default the node-local agent)",
}
# Annotation keys (after the prefix) the operator reads.
KNOWN_ANNOTATIONS = frozenset(
    [f"inject-{language}" for language in LANGUAGES]
    + ["container-names", "inject-nginx-container-names"]
    + [f"{language}-container-names" for language in LANGUAGES if language != "nginx"]
    + ["otel-go-auto-target-exe", "otel-python-platform", "otel-dotnet-auto-runtime"]
)
# Names users reach for instead of a language of the operator.
LANGUAGE_HINTS = {
    "javaagent": "java",
    "java-agent": "java",
    "jvm": "java",
    "node": "nodejs",
    "node.js": "nodejs",
    "js": "nodejs",
    "javascript": "nodejs",
    "golang": "go",
    ".net": "dotnet",
    "dotnetcore": "dotnet",
    "csharp": "dotnet",
    "apache": "apache-httpd",
    "apachehttpd": "apache-httpd",
    "apache_httpd": "apache-httpd",
    "httpd": "apache-httpd",
    "py": "python",
    "python3": "python",
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


# ---------------------------------------------------------------------------- annotations


def check_annotations(annotations, where: str = "annotations") -> list:
    """Problems with annotations meant for a pod template or a namespace ([] when fine).

    Refuses the annotations that do not exist (the seed's inject-javaagent, inject-contrib,
    service-name, otel-traces-sampler(-argument), exporter-endpoint), any other key under
    instrumentation.opentelemetry.io/ that the operator does not read, keys of the operator
    written without their prefix, and injection values that are not true/false/name/ns/name.
    """
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [f"{where}: expected a mapping of annotation key to string value"]
    problems = []
    for key, value in annotations.items():
        if not isinstance(key, str) or not key:
            problems.append(f"{where}: annotation keys must be non-empty strings, got {key!r}")
            continue
        label = f"{where}[{key!r}]"
        if not isinstance(value, str):
            problems.append(f"{label}: annotation values are strings; quote it ({str(value).lower()!r})")
        if key.startswith(PREFIX):
            suffix = key[len(PREFIX) :]
        elif "/" not in key and (key in NONEXISTENT_ANNOTATIONS or key in KNOWN_ANNOTATIONS):
            problems.append(f"{label}: operator annotations need their prefix: {PREFIX}{key}")
            suffix = key
        else:
            continue
        if suffix in NONEXISTENT_ANNOTATIONS:
            problems.append(f"{label}: {NONEXISTENT_ANNOTATIONS[suffix]}")
        elif suffix not in KNOWN_ANNOTATIONS:
            problems.append(
                f"{label}: the operator reads no such annotation; it knows "
                f"{', '.join(sorted(PREFIX + k for k in KNOWN_ANNOTATIONS))}"
            )
        elif suffix.startswith("inject-") and not suffix.endswith("container-names") and isinstance(value, str):
            problem = _injection_value_problem(value)
            if problem:
                problems.append(f"{label}: {problem}")
    return problems


def _injection_value_problem(value: str) -> str | None:
    if value.lower() in ("true", "false"):
        return None
    parts = value.split("/")
    if len(parts) > 2 or not all(_DNS_LABEL.match(p) or _DNS_SUBDOMAIN.match(p) for p in parts):
        return f'{value!r} is not an injection value: use "true", "false", an Instrumentation name or "namespace/name"'
    return None


def check_languages(languages, where: str) -> list:
    """Problems with a list of injection languages ([] when fine)."""
    if languages is None:
        return []
    if not isinstance(languages, list):
        return [f"{where}: expected a list of languages ({', '.join(LANGUAGES)})"]
    problems = []
    for language in languages:
        if language in LANGUAGES:
            continue
        text = str(language)
        if text.lower() == "contrib":
            problems.append(
                f"{where}: {text!r} is no language of the operator: the seed's inject-contrib does not "
                "exist, the Python image already carries its instrumentation libraries; use python"
            )
        elif text.lower() in LANGUAGE_HINTS or text.lower() in LANGUAGES:
            right = LANGUAGE_HINTS.get(text.lower(), text.lower())
            problems.append(
                f"{where}: {text!r} is not a language of the operator; use {right} (annotation {PREFIX}inject-{right})"
            )
        else:
            problems.append(f"{where}: {text!r} is not a language of the operator; use one of {', '.join(LANGUAGES)}")
    if len(set(map(str, languages))) != len(languages):
        problems.append(f"{where}: a language is listed twice")
    return problems


def injection_value(instrumentation_name: str, instrumentation_namespace: str) -> str:
    """The inject-* value naming this Instrumentation from any namespace, without ambiguity."""
    return f"{instrumentation_namespace}/{instrumentation_name}"


def _container_names(value, where: str, problems: list) -> list:
    if value is None:
        return []
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and _DNS_LABEL.match(n) for n in names):
        problems.append(f"{where}: expected a list of container names")
        return []
    return names


def injection_annotations(languages: list, value: str, container_names=None, extra=None) -> dict:
    """The annotations of one target: inject-<language> for each language, container names, extras."""
    annotations = {f"{PREFIX}inject-{language}": value for language in languages}
    if container_names:
        joined = ",".join(container_names)
        if len(languages) == 1:
            annotations[f"{PREFIX}container-names"] = joined
        else:
            for language in languages:
                key = "inject-nginx-container-names" if language == "nginx" else f"{language}-container-names"
                annotations[PREFIX + key] = joined
    annotations.update(extra or {})
    return annotations


def _languages(value, where: str, problems: list) -> list:
    if value is None:
        return []
    found = check_languages(value, where)
    problems += found
    return [] if found or not isinstance(value, list) else list(value)


def _target_annotations(languages, value, containers, extra_annotations, entry, where: str, problems: list) -> dict:
    computed = injection_annotations(languages, value, containers)
    extra = {
        **(extra_annotations or {}),
        **(entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}),
    }
    twice = sorted(set(computed) & set(extra))
    if twice:
        problems.append(
            f"{where}: {', '.join(twice)} also given in annotations; the languages (and container_names) "
            "set them, give them once"
        )
    return {**extra, **computed}


def render_injection(
    instrumentation_name: str, instrumentation_namespace: str, namespaces=None, workloads=None, extra_annotations=None
) -> list:
    """Partial Namespace and workload objects carrying only the injection annotations.

    namespaces: [{name, languages, annotations}], workloads: [{kind, name, namespace, languages,
    container_names, annotations}]. A target with no language and no annotation renders its
    bare identity: applied with the same field manager, that removes what was added before.
    Raises OtelK8sError listing every problem.
    """
    problems = []
    value = injection_value(instrumentation_name, instrumentation_namespace)
    problems += check_annotations(extra_annotations, "extra_annotations")
    objects = []
    seen = set()
    for index, entry in enumerate(namespaces or []):
        where = f"namespaces[{index}]"
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not _DNS_LABEL.match(entry.get("name") or "")
        ):
            problems.append(f"{where}: give name (an existing namespace) and languages")
            continue
        languages = _languages(entry.get("languages"), f"{where}.languages", problems)
        problems += check_annotations(entry.get("annotations"), f"{where}.annotations")
        if entry.get("container_names"):
            problems.append(
                f"{where}.container_names: container names are read from pod templates only; set them on the workload"
            )
        key = ("Namespace", None, entry["name"])
        if key in seen:
            problems.append(f"{where}: namespace {entry['name']} is listed twice; give it once with all its languages")
        seen.add(key)
        annotations = _target_annotations(languages, value, None, extra_annotations, entry, where, problems)
        meta = {"name": entry["name"]}
        if annotations:
            meta["annotations"] = annotations
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
    for index, entry in enumerate(workloads or []):
        where = f"workloads[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping with kind, name, namespace and languages")
            continue
        kind = entry.get("kind")
        if kind not in WORKLOAD_KINDS:
            problems.append(
                f"{where}.kind: {kind!r}; use one of {', '.join(WORKLOAD_KINDS)} (their pod template is annotated)"
            )
            continue
        name = entry.get("name")
        namespace = entry.get("namespace") or instrumentation_namespace
        if not isinstance(name, str) or not _DNS_SUBDOMAIN.match(name) or not _DNS_LABEL.match(str(namespace)):
            problems.append(f"{where}: give the workload's name and namespace")
            continue
        languages = _languages(entry.get("languages"), f"{where}.languages", problems)
        problems += check_annotations(entry.get("annotations"), f"{where}.annotations")
        containers = _container_names(entry.get("container_names"), f"{where}.container_names", problems)
        key = (kind, namespace, name)
        if key in seen:
            problems.append(f"{where}: {kind} {namespace}/{name} is listed twice; give it once with all its languages")
        seen.add(key)
        annotations = _target_annotations(languages, value, containers, extra_annotations, entry, where, problems)
        obj = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}}
        if annotations:
            obj["spec"] = {"template": {"metadata": {"annotations": annotations}}}
        objects.append(obj)
    if problems:
        raise OtelK8sError("the instrumentation options were refused, nothing was applied:\n- " + "\n- ".join(problems))
    return objects


def removal_objects(objects: list) -> list:
    """The same targets with no annotation: applied with the same field manager, this removes
    exactly the annotations that manager added, and nothing else."""
    bare = []
    for obj in objects:
        meta = obj["metadata"]
        bare.append(
            {
                "apiVersion": obj["apiVersion"],
                "kind": obj["kind"],
                "metadata": {k: meta[k] for k in ("name", "namespace") if k in meta},
            }
        )
    return bare


def injection_findings(objects: list, go_env: bool = False) -> list:
    """Warnings about annotated targets: languages the operator leaves off by default, Go without its target."""
    findings = []
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] == "Namespace":
            annotations, what = meta.get("annotations") or {}, f"Namespace {meta['name']}"
        else:
            template = (obj.get("spec") or {}).get("template") or {}
            annotations = (template.get("metadata") or {}).get("annotations") or {}
            what = f"{obj['kind']} {meta['namespace']}/{meta['name']}"
        for language, flag in OFF_BY_DEFAULT.items():
            if f"{PREFIX}inject-{language}" in annotations:
                findings.append(f"{what}: {language} injection is off in the operator unless it runs with {flag}")
        if (
            f"{PREFIX}inject-go" in annotations
            and f"{PREFIX}otel-go-auto-target-exe" not in annotations
            and not go_env
            and obj["kind"] != "Namespace"
        ):
            findings.append(
                f"{what}: Go injection aborts without the executable's path: add the annotation "
                f"{PREFIX}otel-go-auto-target-exe, or OTEL_GO_AUTO_TARGET_EXE in go.env"
            )
    return findings


# ---------------------------------------------------------------------------- Instrumentation


def node_local_endpoint(
    port: int, agent_service: str | None = None, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
) -> str:
    """The agent on the pod's own node: its node-local Service, or (no service) the node IP and host port."""
    if agent_service:
        return f"http://{agent_service}.svc.{cluster_domain}:{port}"
    return f"http://$({NODE_IP}):{port}"


def _check_agent_service(agent_service, cluster_domain, problems: list) -> None:
    if agent_service:
        parts = agent_service.split(".") if isinstance(agent_service, str) else []
        if len(parts) != 2 or not all(_DNS_LABEL.match(p) for p in parts):
            problems.append(
                f"agent_service {agent_service!r}: give the agent's node-local Service as <service>.<namespace> "
                f"(the agent role's default is {DEFAULT_AGENT_SERVICE}), or an empty string for the node IP and the "
                "agent's host ports"
            )
    if not isinstance(cluster_domain, str) or not all(_DNS_LABEL.match(p) for p in cluster_domain.split(".")):
        problems.append(f"cluster_domain {cluster_domain!r}: give the cluster's DNS domain, for example cluster.local")


def _node_ip_env() -> dict:
    return {"name": NODE_IP, "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}


def _check_env(env, where: str, problems: list) -> list:
    if env is None:
        return []
    if not isinstance(env, list):
        problems.append(f"{where}: expected a list of environment variables ({{name, value}} or {{name, valueFrom}})")
        return []
    for index, var in enumerate(env):
        if not isinstance(var, dict) or not isinstance(var.get("name"), str) or not var.get("name"):
            problems.append(f"{where}[{index}]: every variable needs a name")
        elif "value" in var and not isinstance(var["value"], str):
            problems.append(f"{where}[{index}] ({var['name']}): value must be a string; quote it")
    return [dict(v) for v in env if isinstance(v, dict)]


def _has_env(env: list, name: str) -> bool:
    return any(isinstance(v, dict) and v.get("name") == name for v in env)


def endpoint_findings(
    endpoint: str, agent_service: str | None = DEFAULT_AGENT_SERVICE, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
) -> list:
    """Warnings about an explicit exporter endpoint that is not the node-local agent.

    The agent's own Service (agent_service, in any of its DNS spellings) is node-local: the
    operator gives a daemonset's Service internalTrafficPolicy Local.
    """
    host = urlsplit(endpoint).hostname or ""
    if f"$({NODE_IP})" in endpoint or "$(" in endpoint or _IPV4.match(host) or host in ("localhost", "127.0.0.1"):
        return []
    if agent_service and host in (agent_service, f"{agent_service}.svc", f"{agent_service}.svc.{cluster_domain}"):
        return []
    return [
        f"exporter_endpoint {endpoint} is a Service name: every span crosses the network to whichever collector the "
        "Service picks, not the agent on the pod's own node (a ClusterIP Service balances over all nodes). Leave "
        "exporter_endpoint unset for the node-local agent (its Service, which the operator makes with "
        "internalTrafficPolicy: Local, named by agent_service), or give that Service internalTrafficPolicy: Local "
        "and name it in agent_service"
    ]


def _check_sampler(sampler_type, sampler_argument, problems: list, warnings: list) -> dict | None:
    if sampler_type is None:
        if sampler_argument is not None:
            problems.append(
                "sampler_argument is set without sampler_type; set both (for example "
                'parentbased_traceidratio and "0.1")'
            )
        return None
    if sampler_type not in SAMPLERS:
        problems.append(
            f"sampler_type {sampler_type!r} is not a sampler of the OpenTelemetry SDKs; use one of "
            f"{', '.join(SAMPLERS)}"
        )
        return None
    if sampler_type in CRD_REFUSED_SAMPLERS:
        problems.append(
            f"sampler_type {sampler_type} is a valid OTEL_TRACES_SAMPLER but the operator's "
            "Instrumentation CRD refuses it (not in its enum); leave sampler_type unset and give "
            "OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG in env instead"
        )
        return None
    sampler = {"type": sampler_type}
    if sampler_argument is not None:
        if not isinstance(sampler_argument, str):
            problems.append(f'sampler_argument must be a string (quote it: "{sampler_argument}")')
            return None
        sampler["argument"] = sampler_argument
    if sampler_type in RATIO_SAMPLERS and sampler_argument is not None:
        try:
            ratio = float(sampler_argument)
        except ValueError:
            ratio = None
        if ratio is None or not 0.0 <= ratio <= 1.0:  # NaN fails the comparison too
            problems.append(
                f"sampler_argument {sampler_argument!r}: {sampler_type} takes a ratio, a number from 0 to "
                '1 ("0.1" keeps one trace in ten)'
            )
    if sampler_type in NO_ARGUMENT_SAMPLERS and sampler_argument is not None:
        warnings.append(f"sampler_argument is ignored by the {sampler_type} sampler")
    return sampler


def _check_block(key: str, settings, problems: list) -> dict | None:
    where = "apache_httpd" if key == "apacheHttpd" else key
    if settings is None:
        return None
    if not isinstance(settings, dict):
        problems.append(f"{where}: expected a mapping (image, env, ...)")
        return None
    allowed = BLOCK_KEYS[key]
    for option in settings:
        if option in allowed:
            continue
        if option == "resources" and "resourceRequirements" in allowed:
            problems.append(
                f"{where}.resources: the Instrumentation API calls it resourceRequirements for {where} "
                "(only java uses resources)"
            )
        elif option == "resourceRequirements" and key == "java":
            problems.append("java.resourceRequirements: the Instrumentation API calls it resources for java")
        else:
            problems.append(
                f"{where}.{option}: not a field of the Instrumentation's {key} block; it has "
                f"{', '.join(sorted(allowed))}"
            )
    block = dict(settings)
    if "env" in block:
        block["env"] = _check_env(block["env"], f"{where}.env", problems)
    return block


def _exporter(
    endpoint, tls, grpc_port: int, agent_service, cluster_domain: str, problems: list, warnings: list
) -> dict:
    """The Instrumentation's exporter: the given endpoint (checked), or the node-local agent's."""
    node_local = endpoint is None
    if node_local:
        endpoint = node_local_endpoint(grpc_port, agent_service, cluster_domain)
    elif (
        not isinstance(endpoint, str)
        or urlsplit(endpoint).scheme not in ("http", "https")
        or not urlsplit(endpoint).netloc
    ):
        problems.append(
            f"exporter_endpoint {endpoint!r}: give a URL with scheme, host and port, for example "
            "http://otel-agent-collector.observability:4317"
        )
    else:
        warnings.extend(endpoint_findings(endpoint, agent_service, cluster_domain))
    exporter = {"endpoint": endpoint}
    if tls:
        unknown = set(tls) - set(EXPORTER_TLS_KEYS)
        if unknown:
            problems.append(f"exporter_tls: unknown keys {sorted(unknown)}; it has {', '.join(EXPORTER_TLS_KEYS)}")
        exporter["tls"] = {k: v for k, v in tls.items() if v is not None}
        if isinstance(endpoint, str) and endpoint.startswith("http://"):
            warnings.append("exporter_tls is set but exporter_endpoint is http://: the SDKs use TLS only with https://")
    return exporter


def _language_blocks(
    languages, node_local: bool, http_port: int, agent_service, cluster_domain: str, problems: list
) -> dict:
    """The checked language blocks; with the node-local agent, the OTLP/HTTP languages get its endpoint."""
    blocks = {}
    for key, settings in (languages or {}).items():
        if key not in BLOCK_KEYS:
            problems.append(f"{key}: not a language block; use one of {', '.join(BLOCK_KEYS)}")
            continue
        block = _check_block(key, settings, problems)
        if block is not None:
            blocks[key] = block
    if node_local:
        for language in HTTP_LANGUAGES:
            block = blocks.setdefault(language, {})
            block_env = block.setdefault("env", [])
            if not _has_env(block_env, "OTEL_EXPORTER_OTLP_ENDPOINT"):
                block_env.append(
                    {
                        "name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "value": node_local_endpoint(http_port, agent_service, cluster_domain),
                    }
                )
    return blocks


def render_instrumentation(
    name: str,
    namespace: str,
    exporter_endpoint: str | None = None,
    exporter_tls: dict | None = None,
    propagators=None,
    sampler_type: str | None = None,
    sampler_argument: str | None = None,
    resource_attributes: dict | None = None,
    env=None,
    languages: dict | None = None,
    agent_grpc_port: int = DEFAULT_GRPC_PORT,
    agent_http_port: int = DEFAULT_HTTP_PORT,
    agent_service: str | None = DEFAULT_AGENT_SERVICE,
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
    warnings: list | None = None,
) -> dict:
    """The Instrumentation object. languages: {java|nodejs|python|dotnet|go|apacheHttpd|nginx: block}.

    Without exporter_endpoint the node-local agent is used (see the module docstring): its
    Service agent_service, or with agent_service empty the node IP and the agent's host ports.
    Raises OtelK8sError listing every problem; appends findings to warnings when given.
    """
    problems = []
    warnings = warnings if warnings is not None else []
    for option, value in (("name", name), ("namespace", namespace)):
        if not isinstance(value, str) or not _DNS_LABEL.match(value):
            problems.append(f"{option}: {value!r} is not a valid name (lowercase letters, digits and '-')")
    for option, port in (("agent_grpc_port", agent_grpc_port), ("agent_http_port", agent_http_port)):
        if not isinstance(port, int) or not 0 < port < 65536:
            problems.append(f"{option}: {port!r} is not a port number; give the agent's port, 1 to 65535")
    _check_agent_service(agent_service, cluster_domain, problems)
    node_local = exporter_endpoint is None
    spec = {
        "exporter": _exporter(
            exporter_endpoint, exporter_tls, agent_grpc_port, agent_service, cluster_domain, problems, warnings
        )
    }
    propagators = list(DEFAULT_PROPAGATORS if propagators is None else propagators)
    bad = [p for p in propagators if p not in PROPAGATORS]
    if bad:
        problems.append(f"propagators {bad}: the Instrumentation accepts {', '.join(PROPAGATORS)}")
    spec["propagators"] = propagators
    sampler = _check_sampler(sampler_type, sampler_argument, problems, warnings)
    if sampler:
        spec["sampler"] = sampler
    if resource_attributes:
        if not isinstance(resource_attributes, dict):
            problems.append("resource_attributes: expected a mapping of attribute name to value")
        else:
            spec["resource"] = {"resourceAttributes": {str(k): str(v) for k, v in resource_attributes.items()}}
    user_env = _check_env(env, "env", problems)
    for var in user_env:
        if var.get("name") in ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG") and sampler:
            problems.append(f"env {var['name']}: the sampler is set by sampler_type/sampler_argument; give it once")
    if node_local and not agent_service and not _has_env(user_env, NODE_IP):
        user_env.insert(0, _node_ip_env())
    if user_env:
        spec["env"] = user_env
    blocks = _language_blocks(languages, node_local, agent_http_port, agent_service, cluster_domain, problems)
    for key in BLOCK_KEYS:
        if blocks.get(key):
            spec[key] = blocks[key]
    if problems:
        raise OtelK8sError("the instrumentation options were refused, nothing was applied:\n- " + "\n- ".join(problems))
    return {
        "apiVersion": API_VERSION,
        "kind": "Instrumentation",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "otel.kubernetes"},
        },
        "spec": spec,
    }


def plan(params: dict) -> tuple:
    """(instrumentation, injection objects, warnings) from module-style options; every problem
    is found before anything is applied (one OtelK8sError listing all of them)."""
    warnings = []
    problems = []
    languages = {
        key: params.get(option)
        for key, option in (
            ("java", "java"),
            ("nodejs", "nodejs"),
            ("python", "python"),
            ("dotnet", "dotnet"),
            ("go", "go"),
            ("apacheHttpd", "apache_httpd"),
            ("nginx", "nginx"),
        )
        if params.get(option) is not None
    }
    instrumentation = injections = None
    try:
        instrumentation = render_instrumentation(
            params["name"],
            params["namespace"],
            exporter_endpoint=params.get("exporter_endpoint"),
            exporter_tls=params.get("exporter_tls"),
            propagators=params.get("propagators"),
            sampler_type=params.get("sampler_type"),
            sampler_argument=params.get("sampler_argument"),
            resource_attributes=params.get("resource_attributes"),
            env=params.get("env"),
            languages=languages,
            agent_grpc_port=params.get("agent_grpc_port", DEFAULT_GRPC_PORT),
            agent_http_port=params.get("agent_http_port", DEFAULT_HTTP_PORT),
            agent_service=params.get("agent_service", DEFAULT_AGENT_SERVICE),
            cluster_domain=params.get("cluster_domain", DEFAULT_CLUSTER_DOMAIN),
            warnings=warnings,
        )
    except OtelK8sError as error:
        problems.append(error.message.split(":\n- ", 1)[-1])
    try:
        injections = render_injection(
            params["name"],
            params["namespace"],
            params.get("namespaces"),
            params.get("workloads"),
            params.get("extra_annotations"),
        )
    except OtelK8sError as error:
        problems.append(error.message.split(":\n- ", 1)[-1])
    manager = params.get("annotation_field_manager", ANNOTATION_FIELD_MANAGER)
    if manager == params.get("field_manager"):
        problems.append(
            f"annotation_field_manager {manager!r} is also field_manager: the annotations need a field "
            "manager of their own, or removing them would remove other fields that manager applied"
        )
    if problems:
        raise OtelK8sError("the instrumentation options were refused, nothing was applied:\n- " + "\n- ".join(problems))
    go_env = _has_env((languages.get("go") or {}).get("env") or [], "OTEL_GO_AUTO_TARGET_EXE")
    warnings.extend(injection_findings(injections, go_env))
    return instrumentation, injections, warnings
