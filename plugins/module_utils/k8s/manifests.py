# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions over Kubernetes objects as plain dicts: parse, check, order, redact."""

from __future__ import annotations

import copy
import re

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError, yaml_problem

try:
    import yaml

    # libyaml's loader is several times faster on large manifests; PyYAML's own otherwise.
    YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

REDACTED = "VALUE_REDACTED"
REDACTED_CHANGED = "VALUE_REDACTED (changed)"

# Kinds applied first, in this order; others follow in input order, custom resources
# last (their CRD must be Established), webhook configurations at the very end so an
# unanswered webhook cannot block objects of the same run.
_FIRST = (
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
)
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService")
BUILTIN_GROUPS = frozenset(
    (
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "certificates.k8s.io",
        "node.k8s.io",
        "events.k8s.io",
        "authorization.k8s.io",
        "authentication.k8s.io",
        "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    )
)


# Scope of the kinds this collection renders or users commonly apply, for render_only, where no
# discovery tells it: (group, kind). Kinds in neither set keep the namespace they were given.
NAMESPACED_KINDS = frozenset(
    (
        ("", "Pod"),
        ("", "Service"),
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("", "Endpoints"),
        ("", "PersistentVolumeClaim"),
        ("", "ReplicationController"),
        ("", "LimitRange"),
        ("", "ResourceQuota"),
        ("", "Event"),
        ("", "PodTemplate"),
        ("apps", "Deployment"),
        ("apps", "DaemonSet"),
        ("apps", "StatefulSet"),
        ("apps", "ReplicaSet"),
        ("apps", "ControllerRevision"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("policy", "PodDisruptionBudget"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("coordination.k8s.io", "Lease"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("events.k8s.io", "Event"),
        ("opentelemetry.io", "OpenTelemetryCollector"),
        ("opentelemetry.io", "Instrumentation"),
        ("opentelemetry.io", "OpAMPBridge"),
        ("opentelemetry.io", "TargetAllocator"),
        ("cert-manager.io", "Issuer"),
        ("cert-manager.io", "Certificate"),
        ("cert-manager.io", "CertificateRequest"),
        ("monitoring.coreos.com", "ServiceMonitor"),
        ("monitoring.coreos.com", "PodMonitor"),
        ("monitoring.coreos.com", "PrometheusRule"),
    )
)
CLUSTER_SCOPED_KINDS = frozenset(
    (
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("apiregistration.k8s.io", "APIService"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("node.k8s.io", "RuntimeClass"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("networking.k8s.io", "IngressClass"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("cert-manager.io", "ClusterIssuer"),
    )
)


# Object names the API server accepts (apimachinery's validation), checked here so that a bad name
# fails the task before anything of the input is applied. Custom resources are left to the server.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAMED = ("Namespace", "Service")
_RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")


def name_problem(obj: dict) -> str | None:
    """Why the API server would refuse this object's metadata.name or metadata.namespace, or None."""
    meta = obj["metadata"]
    name, namespace = meta["name"], meta.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not _DNS_LABEL.match(namespace)):
        return (
            f"metadata.namespace {namespace!r} is not a valid namespace name (at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit)"
        )
    if group_of(obj["apiVersion"]) not in BUILTIN_GROUPS:
        return None
    if obj["kind"] in _RBAC_KINDS:
        if name in (".", "..") or "/" in name or "%" in name:
            return f"metadata.name {name!r} is not a valid {obj['kind']} name (no '/' or '%', not '.' or '..')"
        return None
    if obj["kind"] in _LABEL_NAMED:
        if not _DNS_LABEL.match(name):
            return (
                f"metadata.name {name!r} is not a valid {obj['kind']} name (at most 63 lowercase letters, "
                "digits and '-', starting and ending with a letter or digit)"
            )
        return None
    if not _DNS_SUBDOMAIN.match(name):
        return (
            f"metadata.name {name!r} is not a valid {obj['kind']} name (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters)"
        )
    return None


def group_of(api_version: str) -> str:
    return api_version.split("/", maxsplit=1)[0] if "/" in api_version else ""


def identity(obj: dict) -> str:
    """'Kind namespace/name' or 'Kind name': how objects are named in messages."""
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def _flatten(documents, origin: str) -> list:
    objects = []
    for index, doc in enumerate(documents, start=1):
        if doc is None:
            continue  # empty YAML document, e.g. a trailing '---'
        if isinstance(doc, list):
            objects.extend(_flatten(doc, f"{origin} item {index}"))
        elif isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            objects.extend(_flatten(doc["items"], f"{origin} List {index}"))
        else:
            objects.append((f"{origin} document {index}", doc))
    return objects


def load_documents(definition=None, src: str | None = None) -> list:
    """definition (dict, list or YAML text) or src (a file) -> [(where, object), ...]."""
    if definition is not None and src:
        raise OtelK8sError("give either 'definition' or 'src', not both")
    if src:
        try:
            with open(src) as handle:
                text = handle.read()
        except OSError as error:
            raise OtelK8sError(f"src: cannot read {src}: {error.strerror}; fix 'src' to name a readable file") from None
        return _flatten(_parse_yaml(text, f"src {src}"), "src")
    if definition is None:
        raise OtelK8sError("give 'definition' (a dict, a list or YAML text) or 'src' (a file)")
    if isinstance(definition, str):
        return _flatten(_parse_yaml(definition, "definition"), "definition")
    if isinstance(definition, dict):
        return _flatten([definition], "definition")
    if isinstance(definition, list):
        return _flatten(definition, "definition")
    raise OtelK8sError(f"definition: expected a dict, a list or YAML text, got {type(definition).__name__}")


def _parse_yaml(text: str, origin: str) -> list:
    # A plain str: the controller's strings are str subclasses (ansible-core 2.19's tagged values; the
    # older cores' AnsibleUnsafeText, whose str() is itself), which the C YAML loader refuses.
    text = str.__str__(text)
    try:
        return list(yaml.load_all(text, Loader=YAML_LOADER))  # nosec B506 - a safe loader
    except yaml.YAMLError as error:
        raise OtelK8sError(f"{origin} is not valid YAML: {yaml_problem(error, text)}") from None


def check_objects(documents: list) -> list:
    """Every document must be an object with apiVersion, kind and metadata.name.

    Returns deep copies (the caller's data is never changed) or raises one error that
    lists every problem at once.
    """
    problems = []
    objects = []
    seen = {}
    for where, doc in documents:
        if not isinstance(doc, dict):
            problems.append(f"{where}: expected a mapping (a Kubernetes object), got {type(doc).__name__}")
            continue
        missing = [key for key in ("apiVersion", "kind") if not isinstance(doc.get(key), str) or not doc.get(key)]
        meta = doc.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
            missing.append("metadata.name")
        if missing:
            label = f" (kind {doc.get('kind')})" if isinstance(doc.get("kind"), str) else ""
            problems.append(
                f"{where}{label}: {', '.join(missing)} missing; every object needs apiVersion, kind and metadata.name"
            )
            continue
        obj = copy.deepcopy(doc)
        problem = name_problem(obj)
        if problem:
            problems.append(f"{where} ({identity(obj)}): {problem}")
            continue
        key = (group_of(obj["apiVersion"]), obj["kind"], meta.get("namespace"), meta["name"])
        if key in seen:
            problems.append(f"{where}: {identity(obj)} is also {seen[key]}; give each object once")
            continue
        seen[key] = where
        objects.append(obj)
    if problems:
        raise OtelK8sError("the input was refused, nothing was applied:\n- " + "\n- ".join(problems))
    return objects


def order(objects: list) -> list:
    """Apply order: dependencies first, custom resources after built-ins, webhooks last."""

    def rank(indexed):
        index, obj = indexed
        kind = obj["kind"]
        if kind in _FIRST:
            return (0, _FIRST.index(kind), index)
        if kind in _LAST:
            return (3, _LAST.index(kind), index)
        if group_of(obj["apiVersion"]) not in BUILTIN_GROUPS:
            return (2, 0, index)
        return (1, 0, index)

    return [obj for _index, obj in sorted(enumerate(objects), key=rank)]


def crd_serves(crd: dict, api_version: str, kind: str) -> bool:
    """Does this CustomResourceDefinition (as given in the input) define apiVersion/kind?"""
    spec = crd.get("spec") or {}
    if (spec.get("names") or {}).get("kind") != kind or group_of(api_version) != spec.get("group"):
        return False
    version = api_version.split("/", 1)[-1]
    return any(v.get("name") == version and v.get("served", True) for v in spec.get("versions") or [])


def redact(obj: dict | None, compare_to: dict | None = None) -> dict | None:
    """A copy with Secret values replaced, marked '(changed)' where they differ from compare_to."""
    if not obj or obj.get("kind") != "Secret":
        return obj
    result = copy.deepcopy(obj)
    for section in ("data", "stringData"):
        values = result.get(section)
        if isinstance(values, dict):
            before = (compare_to or {}).get(section) or {}
            result[section] = {
                key: REDACTED_CHANGED if compare_to and before.get(key) != value else REDACTED
                for key, value in values.items()
            }
    return result


def secret_values(objects: list) -> set:
    """Every Secret value in the input: passed to Ansible's no_log masking."""
    values = set()
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") == "Secret":
            for section in ("data", "stringData"):
                for value in (obj.get(section) or {}).values():
                    if isinstance(value, str) and len(value) >= 4:
                        values.add(value)
    return values


def secret_values_in(value) -> set:
    """The Secret values anywhere in a task's arguments (objects as mappings, lists or YAML text):
    masked in the task's result even when the module failed before it could register them."""
    if isinstance(value, dict):
        found = secret_values([value])
        for item in value.values():
            found |= secret_values_in(item)
        return found
    if isinstance(value, list):
        return set().union(*(secret_values_in(item) for item in value)) if value else set()
    if isinstance(value, str) and "Secret" in value:
        try:
            documents = _parse_yaml(value, "text")
        except OtelK8sError:
            return set()
        return secret_values_in([d for d in documents if isinstance(d, (dict, list))])
    return set()


_SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


def for_display(obj: dict | None) -> dict | None:
    """What a diff shows: the object without server bookkeeping and status."""
    if not obj:
        return obj
    shown = {k: v for k, v in obj.items() if k != "status"}
    shown["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    if not shown["metadata"].get("annotations"):
        shown["metadata"].pop("annotations", None)
    return shown


def comparable(obj: dict | None) -> dict | None:
    """What decides 'would change' in check mode: everything the server would write,
    except the bookkeeping that moves on every write (timestamps, resourceVersion)."""
    if not obj:
        return obj
    shown = copy.deepcopy(obj)
    meta = shown.get("metadata") or {}
    for key in ("resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"):
        meta.pop(key, None)
    for entry in meta.get("managedFields") or []:
        entry.pop("time", None)
    return shown


def known_scope(obj: dict, objects: list | None = None) -> str | None:
    """'namespaced', 'cluster' or None (unknown) for an object, without asking a server:
    the kinds above, or a CustomResourceDefinition among ``objects`` that defines it."""
    key = (group_of(obj["apiVersion"]), obj["kind"])
    if key in NAMESPACED_KINDS:
        return "namespaced"
    if key in CLUSTER_SCOPED_KINDS:
        return "cluster"
    for crd in objects or []:
        if (group_of(crd["apiVersion"]), crd["kind"]) == (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
        ) and crd_serves(crd, obj["apiVersion"], obj["kind"]):
            return "cluster" if (crd.get("spec") or {}).get("scope") == "Cluster" else "namespaced"
    return None


def rendered(objects: list, namespace: str | None = None) -> list:
    """What render_only returns: copies of checked objects in apply order, ready to be written out.

    Without discovery the scope of a kind is known only for the kinds above and for kinds
    that a CRD of the same input defines: namespaced objects that name no namespace get
    ``namespace`` (when given), cluster-scoped objects lose theirs (as the API server ignores
    it), and objects of any other kind stay exactly as given.
    """
    result = []
    for given in order(objects):
        obj = copy.deepcopy(given)
        meta = obj.setdefault("metadata", {})
        scope = known_scope(obj, objects)
        if scope == "namespaced" and namespace and not meta.get("namespace"):
            meta["namespace"] = namespace
        elif scope == "cluster":
            meta.pop("namespace", None)
        result.append(obj)
    return result


def _apply_fields(value):
    """The managedFields (FieldsV1) set of a value made only of mappings and scalars; None for
    lists and empty mappings, whose records this does not model."""
    if isinstance(value, list) or value == {}:
        return None
    if not isinstance(value, dict):
        return {}
    fields = {}
    for key, item in value.items():
        sub = _apply_fields(item)
        if sub is None:
            return None
        fields[f"f:{key}"] = sub
    return fields


def _without_self_entries(fields: dict) -> dict:
    return {key: _without_self_entries(sub) for key, sub in fields.items() if key != "."}


def _holds(live, desired) -> bool:
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and _holds(live[key], value) for key, value in desired.items()
        )
    return live == desired


def apply_is_noop(live: dict, desired: dict, field_manager: str) -> bool:
    """Would a server-side apply of desired by field_manager change nothing in live, the object as
    just read? Only when that manager's one Apply entry records exactly desired's fields and live
    holds desired's values. Objects with lists are never judged here (their records key list
    items): the caller applies them."""
    meta = desired.get("metadata") or {}
    body = {key: value for key, value in desired.items() if key not in ("apiVersion", "kind", "metadata")}
    own_meta = {key: value for key, value in meta.items() if key not in ("name", "namespace")}
    if own_meta:
        body["metadata"] = own_meta
    expected = _apply_fields(body) if body else None
    if expected is None:
        return False
    entries = [
        e
        for e in (live.get("metadata") or {}).get("managedFields") or []
        if e.get("manager") == field_manager and e.get("operation") == "Apply" and not e.get("subresource")
    ]
    if len(entries) != 1 or _without_self_entries(entries[0].get("fieldsV1") or {}) != expected:
        return False
    return _holds(live, desired)
