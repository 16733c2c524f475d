# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenTelemetry Operator's release manifest: read, checked, patched, applied or removed.

What the ``otel_operator`` role does, in one module call (``otel.kubernetes.operator``):

- the release manifest is a local file, or a URL downloaded once into a cache (checksum checked);
- it must be the operator's: its Namespace, its controller Deployment mounting the webhook
  certificate Secret, webhooks that call only the webhook Service (:func:`check_manifest`);
- at Pod Security level restricted the controller Pod gets the securityContext the release leaves
  out, and ``manager_image`` (a mirror's copy of the manager image) replaces the release's
  (:func:`release_documents`; this is also what render_only writes);
- the admission webhook certificate comes from cert-manager when it is served, else it is made by
  the certs module_utils (a CA of the role's own, written into every caBundle; :func:`applied_objects`);
- then everything is applied with one wait, whose timeout names the usual causes.

Everything but :class:`OperatorRunner` and :func:`fetch_manifest` (Ansible's ``open_url``) is
pure: no I/O, no Ansible.
The runner talks to the API server only through the engine, discovery and the info reader.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import shutil
import tempfile
import urllib.error
from dataclasses import dataclass

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.otel.kubernetes.plugins.module_utils import certs, manifests, pod_security
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import Discovery
from ansible_collections.otel.kubernetes.plugins.module_utils.engine import ApplyEngine, ApplyOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.info import InfoRunner

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
INJECT_ANNOTATION = "cert-manager.io/inject-ca-from"
CERT_MANAGER_API = "cert-manager.io/v1"
CERT_MANAGER_PREFIX = "cert-manager.io/"
CERT_BACKENDS = ("auto", "cert_manager", "self_signed")
# The otel_operator role's default for manifest_src (roles/otel_operator/defaults/main.yml).
MANIFEST_ENV = "OTEL_OPERATOR_MANIFEST"
# The role's own webhook CA (with its private key), without cert-manager; and the name prefix
# the certs module_utils gives what it makes.
CA_SECRET = "opentelemetry-operator-ca"
CERTS_PREFIX = "opentelemetry-operator"
DOWNLOAD_TIMEOUT = 60
# The restricted Pod Security Standard's settings for the controller Pod. Upstream's manager
# Deployment sets no securityContext (its image runs as the numeric user 65532), so the restricted
# level would refuse its Pod: missing are exactly these. The manifest's own values win.
RESTRICTED_POD_CONTEXT = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER_CONTEXT = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
# The controller Deployment's container whose image manager_image replaces (upstream's name).
MANAGER_CONTAINER = "manager"


# ---------------------------------------------------------------------------- options
@dataclass
class OperatorOptions:
    """The module's options (the role's variables without their ``otel_operator_`` prefix)."""

    version: str = ""
    manifest_src: str = ""
    manifest_url: str = ""
    manifest_checksum: str = ""
    cache_dir: str = ""
    namespace: str = "opentelemetry-operator-system"
    deployment: str = "opentelemetry-operator-controller-manager"
    webhook_service: str = "opentelemetry-operator-webhook-service"
    webhook_cert_secret: str = "opentelemetry-operator-controller-manager-service-cert"
    cert_backend: str = "auto"
    cert_validity_days: int = 365
    ca_validity_days: int = 3650
    cert_renew_before_days: int = 30
    cluster_domain: str = "cluster.local"
    pod_security: str = "restricted"
    # The manager container's image instead of the release's (a mirror); empty: the release's.
    manager_image: str = ""
    wait_timeout: int = 300
    # Put before option names in messages: the role passes "otel_operator_" so that its users
    # read the names of their variables.
    variable_prefix: str = ""

    @classmethod
    def from_params(cls, params: dict) -> OperatorOptions:
        names = {f.name for f in dataclasses.fields(cls)}
        given = {key: value for key, value in params.items() if key in names and value is not None}
        options = cls(**given)
        options.check()
        return options

    def name(self, option: str) -> str:
        """An option as the user set it: the role's variable, or the module's option."""
        return self.variable_prefix + option

    @property
    def source(self) -> str:
        """Where the manifest comes from, as messages name it."""
        return self.manifest_src or self.manifest_url

    def check(self) -> None:
        """What needs no file and no cluster; raises OtelK8sError before anything is done."""
        renew, cert, ca = self.cert_renew_before_days, self.cert_validity_days, self.ca_validity_days
        if not (renew >= 0 and renew < cert and renew < ca):
            raise OtelK8sError(
                f"{self.name('cert_renew_before_days')} ({renew}) must be at least 0 and less than "
                f"{self.name('cert_validity_days')} ({cert}) and {self.name('ca_validity_days')} ({ca}): "
                "a certificate would be renewed on every run."
            )
        if not self.manifest_src and not self.manifest_url:
            raise OtelK8sError(
                f"Set {self.name('manifest_url')} (the default is the pinned upstream release) or "
                f"{self.name('manifest_src')}."
            )
        if self.cert_backend not in CERT_BACKENDS:
            raise OtelK8sError(
                f"{self.name('cert_backend')} is {self.cert_backend!r}; use one of {', '.join(CERT_BACKENDS)}"
            )

    def certs_params(self) -> dict:
        """The webhook CA and serving certificate, as the certs module_utils takes them."""
        return {
            "namespace": self.namespace,
            "prefix": CERTS_PREFIX,
            "backend": "self_signed",
            "ca": {"secret_name": CA_SECRET, "validity_days": self.ca_validity_days},
            "certificates": [
                {
                    "secret_name": self.webhook_cert_secret,
                    # Clients check the DNS names (SANs); a common name is at most 64 characters.
                    "common_name": self.webhook_service[:64],
                    "usage": "server",
                    "services": [self.webhook_service],
                    "validity_days": self.cert_validity_days,
                }
            ],
            "renew_before_days": self.cert_renew_before_days,
            "cluster_domain": self.cluster_domain,
        }


# ---------------------------------------------------------------------------- the manifest
def cache_path(options: OperatorOptions) -> str:
    """One cached file per version and URL (the name the role's downloads always had)."""
    digest = hashlib.sha256(options.manifest_url.encode()).hexdigest()[:12]
    return os.path.join(
        os.path.expanduser(options.cache_dir), f"opentelemetry-operator-v{options.version}-{digest}.yaml"
    )


def _checksum(options: OperatorOptions) -> tuple:
    """(algorithm, hex digest) of manifest_checksum, or None when it is empty."""
    value = options.manifest_checksum.strip()
    if not value:
        return None
    algorithm, _sep, digest = value.partition(":")
    algorithm = algorithm.strip().lower()
    if not digest or algorithm not in hashlib.algorithms_available:
        raise OtelK8sError(
            f"{options.name('manifest_checksum')} is {value!r}; give it as <algorithm>:<hex digest>, "
            "for example sha256:<64 hex digits>, or leave it empty"
        )
    return algorithm, digest.strip().lower()


def _digest(path: str, algorithm: str) -> str:
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def fetch_manifest(options: OperatorOptions) -> dict:
    """The manifest's local path: manifest_src, or manifest_url downloaded into cache_dir once.

    Returns {'path', 'changed', 'dest' (downloads only), 'url' or 'src'}. The cache is not the
    cluster: it is filled in check mode too. A cached file whose checksum does not match is
    downloaded again; a download whose checksum does not match fails and is not kept.
    """
    if options.manifest_src:
        path = os.path.expanduser(options.manifest_src)
        if not os.path.isfile(path):
            # The role's default comes from the environment: say so, the user may not have set it knowingly.
            default = f" (its default is the environment variable {MANIFEST_ENV})" if options.variable_prefix else ""
            raise OtelK8sError(
                f"{options.name('manifest_src')} is {options.manifest_src}, which is not a file on this host{default}; "
                "give the path of the release's opentelemetry-operator.yaml, or leave it empty to download "
                f"{options.name('manifest_url')}."
            )
        return {"path": path, "src": options.manifest_src, "changed": False}
    checksum = _checksum(options)
    dest = cache_path(options)
    if os.path.isfile(dest) and (checksum is None or _digest(dest, checksum[0]) == checksum[1]):
        return {"path": dest, "dest": dest, "url": options.manifest_url, "changed": False}
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".download-")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with open_url(options.manifest_url, timeout=DOWNLOAD_TIMEOUT) as answer:
                    shutil.copyfileobj(answer, out)
            except (urllib.error.URLError, UrlConnectionError, OSError, ValueError) as error:
                reason = getattr(error, "reason", None) or error
                raise OtelK8sError(
                    f"{options.name('manifest_url')}: {options.manifest_url} could not be downloaded ({reason}); "
                    f"check the URL and the network, or set {options.name('manifest_src')} to a local copy of the "
                    "release manifest"
                ) from None
        if checksum is not None:
            found = _digest(temp, checksum[0])
            if found != checksum[1]:
                raise OtelK8sError(
                    f"{options.name('manifest_checksum')}: the checksum of {options.manifest_url} did not match: "
                    f"expected {checksum[0]}:{checksum[1]}, downloaded {checksum[0]}:{found}. Fix the checksum "
                    "or the URL; the download was not kept"
                )
        os.chmod(temp, 0o644)
        os.replace(temp, dest)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return {"path": dest, "dest": dest, "url": options.manifest_url, "changed": True}


def load_manifest(path: str) -> list:
    """The manifest's objects, each checked to have apiVersion, kind and metadata.name."""
    return manifests.check_objects(manifests.load_documents(src=path))


def crds(documents: list) -> list:
    return [d for d in documents if d.get("kind") == "CustomResourceDefinition"]


def cert_manager_documents(documents: list) -> list:
    """The manifest's cert-manager.io objects (Issuer, Certificate)."""
    return [d for d in documents if str(d.get("apiVersion", "")).startswith(CERT_MANAGER_PREFIX)]


def namespace_documents(documents: list, options: OperatorOptions) -> list:
    return [
        d
        for d in documents
        if d.get("kind") == "Namespace" and (d.get("metadata") or {}).get("name") == options.namespace
    ]


def _deployments(documents: list, options: OperatorOptions) -> list:
    return [
        d
        for d in documents
        if d.get("kind") == "Deployment"
        and (d.get("metadata") or {}).get("name") == options.deployment
        and (d.get("metadata") or {}).get("namespace") == options.namespace
    ]


def _manager_containers(deployment: dict) -> list:
    """The controller Deployment's manager container: the one named "manager" (upstream's name),
    or the only container of the Pod."""
    containers = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    named = [c for c in containers if c.get("name") == MANAGER_CONTAINER]
    return named or (containers if len(containers) == 1 else [])


def _mounted_secrets(deployments: list) -> list:
    pods = [(((d.get("spec") or {}).get("template") or {}).get("spec") or {}) for d in deployments]
    names = [(volume.get("secret") or {}).get("secretName") for pod in pods for volume in pod.get("volumes") or []]
    return [name for name in names if name]


def _webhook_targets(documents: list) -> list:
    """The Services ("namespace/name") that admission and CRD conversion webhooks call."""
    configs = [
        hook.get("clientConfig") or {}
        for d in documents
        if d.get("kind") in WEBHOOK_KINDS
        for hook in d.get("webhooks") or []
    ]
    configs += [
        (((d.get("spec") or {}).get("conversion") or {}).get("webhook") or {}).get("clientConfig") or {}
        for d in crds(documents)
    ]
    services = [c.get("service") for c in configs if c.get("service")]
    return list(dict.fromkeys(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in services))


def check_manifest(documents: list, options: OperatorOptions) -> None:
    """The manifest must be the operator's, with the names the options give."""
    namespaces = namespace_documents(documents, options)
    deployments = _deployments(documents, options)
    mounted = _mounted_secrets(deployments)
    targets = _webhook_targets(documents)
    service = f"{options.namespace}/{options.webhook_service}"
    shaped = len(namespaces) == 1 and len(deployments) == 1 and set(targets) <= {service}
    if shaped and options.webhook_cert_secret in mounted:
        if options.manager_image and not _manager_containers(deployments[0]):
            names = [c.get("name") for c in deployments[0]["spec"]["template"]["spec"].get("containers") or []]
            raise OtelK8sError(
                f"{options.name('manager_image')} is {options.manager_image!r}, but the Deployment "
                f"{options.namespace}/{options.deployment} of {options.source} has no container named "
                f"{MANAGER_CONTAINER!r} and more than one container ({', '.join(map(str, names))}), so the role does "
                f"not know which image to replace. Leave {options.name('manager_image')} empty to run the release's "
                "images."
            )
        return
    raise OtelK8sError(
        f"{options.source} does not look like the OpenTelemetry Operator's release manifest the role expects: "
        f"it should define the Namespace {options.namespace} (found: {len(namespaces)}), the Deployment "
        f"{options.namespace}/{options.deployment} (found: {len(deployments)}) mounting the Secret "
        f"{options.webhook_cert_secret} (it mounts: {', '.join(mounted)}), and webhooks that call only the Service "
        f"{service} (they call: {', '.join(targets)}). Set {options.name('namespace')}, {options.name('deployment')}, "
        f"{options.name('webhook_service')} and {options.name('webhook_cert_secret')} to the manifest's names."
    )


def _merged(base: dict, override: dict) -> dict:
    """base with override merged in recursively; base's keys keep their place, new ones go last."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def release_documents(documents: list, options: OperatorOptions) -> list:
    """The release as published, with the controller Pod made restricted-compliant when the
    operator's namespace is at the restricted level, and its manager image replaced by
    ``manager_image`` when that is set. What render_only writes."""
    restricted = options.pod_security == "restricted"
    result = []
    for doc in documents:
        if not (
            (restricted or options.manager_image)
            and doc.get("kind") == "Deployment"
            and (doc.get("metadata") or {}).get("name") == options.deployment
        ):
            result.append(doc)
            continue
        patched = copy.deepcopy(doc)
        pod = patched["spec"]["template"]["spec"]
        if options.manager_image:
            for container in _manager_containers(patched):
                container["image"] = options.manager_image
        if restricted:
            pod["securityContext"] = _merged(RESTRICTED_POD_CONTEXT, pod.get("securityContext") or {})
            pod["containers"] = [
                dict(
                    container,
                    securityContext=_merged(RESTRICTED_CONTAINER_CONTEXT, container.get("securityContext") or {}),
                )
                for container in pod.get("containers") or []
            ]
        result.append(patched)
    return result


def applied_objects(documents: list, cert_manager: bool, ca_bundle: str) -> list:
    """The release documents as the module applies them.

    Always: every admission webhook rule without a scope gets scope "*", the API server's default.
    The rules list is atomic for server-side apply, and a 1.20 API server rewrites (and bumps) the
    object on every apply of rules that leave the defaulted field out; with the default written, a
    re-run changes nothing.

    With cert-manager nothing else changes (cert-manager issues the webhook certificate and its CA
    injector fills in the caBundle fields). Without it: the cert-manager.io objects are left out
    (not served, and the role's own certificate lives in the Secret they would make); the
    inject-ca-from annotations are removed (no injector runs, and one installed later must not
    overwrite the role's CA bundle); the CA bundle goes into the caBundle of every admission
    webhook and every CRD conversion webhook. In check mode on a fresh cluster there is no CA
    yet (ca_bundle empty): no caBundle then.
    """
    self_signed = not cert_manager
    ca_patch = {"clientConfig": {"caBundle": ca_bundle}}
    objects = []
    for doc in documents:
        if self_signed and str(doc.get("apiVersion", "")).startswith(CERT_MANAGER_PREFIX):
            continue
        obj = dict(doc)  # changed parts are new dicts: the (megabytes of) input stay as they are
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if self_signed and INJECT_ANNOTATION in annotations:
            metadata = {k: v for k, v in obj["metadata"].items() if k != "annotations"}
            kept = {k: v for k, v in annotations.items() if k != INJECT_ANNOTATION}
            if kept:
                metadata["annotations"] = kept
            obj["metadata"] = metadata
        if obj.get("kind") in WEBHOOK_KINDS and obj.get("webhooks"):
            hooks = []
            for given in obj["webhooks"]:
                hook = given
                if "rules" in hook:
                    hook = dict(hook, rules=[_merged({"scope": "*"}, rule) for rule in hook["rules"] or []])
                if self_signed and ca_bundle:
                    hook = _merged(hook, ca_patch)
                hooks.append(hook)
            obj["webhooks"] = hooks
        elif (
            self_signed
            and ca_bundle
            and obj.get("kind") == "CustomResourceDefinition"
            and ((obj.get("spec") or {}).get("conversion") or {}).get("strategy") == "Webhook"
        ):
            obj = _merged(obj, {"spec": {"conversion": {"webhook": ca_patch}}})
        objects.append(obj)
    return objects


def timeout_message(options: OperatorOptions, cert_manager: bool, details: str) -> str:
    """What a wait that ran out says: the Deployment, the variable and the usual causes."""
    certificate = (
        "the webhook certificate: cert-manager must issue the Certificate into the Secret"
        if cert_manager
        else "the Secret"
    )
    return (
        f"OpenTelemetry Operator v{options.version} was applied, but its controller Deployment "
        f"{options.namespace}/{options.deployment} was not Available within {options.wait_timeout} seconds "
        f"({options.name('wait_timeout')}). Look at its pods and events (kubectl -n {options.namespace} get "
        f"pods,events): an image that cannot be pulled, a node without room, or {certificate} "
        f"{options.webhook_cert_secret} that the pod mounts. It can be run again; what was applied stays. "
        f"Details: {details}"
    )


def render(documents: list, options: OperatorOptions) -> list:
    """render_only: the release (restricted-compliant where asked) with its cert-manager objects:
    a Git repository gets no private key, so cert-manager issues the webhook certificate."""
    checked = manifests.check_objects(manifests.load_documents(definition=release_documents(documents, options)))
    return manifests.rendered(pod_security.label_namespaces(checked, options.pod_security))


# ---------------------------------------------------------------------------- the cluster
class OperatorRunner:
    """Installs, upgrades or removes the operator through the engine (one client, one discovery).

    ``apply_options`` carries the module's check, diff, wait and conflict settings; every step
    is one engine run with those settings (the custom resources' removal always waits).
    ``protect(values)`` registers private keys for masking before anything can be printed.
    """

    def __init__(
        self,
        client,
        discovery,
        options: OperatorOptions,
        apply_options: ApplyOptions,
        protect,
        default_namespace: str = "default",
    ):
        self.client = client
        self.discovery = discovery
        self.options = options
        self.apply_options = apply_options
        self.protect = protect
        self.default_namespace = default_namespace
        self.diffs = []

    def _engine_run(self, objects: list, live: list | None = None, **overrides) -> dict:
        engine = ApplyEngine(
            self.client, self.discovery, dataclasses.replace(self.apply_options, **overrides), self.default_namespace
        )
        # The engine sets or drops metadata.namespace: give it its own metadata, not the input's.
        result = engine.run([dict(o, metadata=dict(o["metadata"])) for o in objects], live)
        self.diffs.extend(result.pop("diff", []))
        return result

    def cert_manager_served(self) -> bool:
        """Does the API server serve cert-manager's Issuer and Certificate? One fresh discovery
        read: a cached answer may predate cert-manager's installation or removal."""
        self.discovery.invalidate(CERT_MANAGER_API)
        return all(self.discovery.find(CERT_MANAGER_API, kind) is not None for kind in ("Issuer", "Certificate"))

    def use_cert_manager(self) -> bool:
        backend = self.options.cert_backend
        if backend == "self_signed":
            return False
        served = self.cert_manager_served()
        if backend == "cert_manager" and not served:
            raise OtelK8sError(
                f"{self.options.name('cert_backend')} is cert_manager, but this cluster does not serve "
                f"{CERT_MANAGER_API} Certificate: cert-manager is not installed. Install it first, or set "
                f"{self.options.name('cert_backend')} to auto or self_signed (the webhook certificate is then made "
                "without cert-manager). Nothing was applied."
            )
        return served

    def present(self, documents: list) -> dict:
        options = self.options
        release = release_documents(documents, options)
        cert_manager = self.use_cert_manager()
        result = {"backend": "cert_manager" if cert_manager else "self_signed"}
        ca_bundle = ""
        applied_before = []  # the namespace, when applied (once) before the webhook Secrets
        if not cert_manager:
            labelled = pod_security.label_namespaces(namespace_documents(release, options), options.pod_security)
            namespace = self._engine_run(labelled, wait=False)
            result["namespace_applied"] = namespace
            pending = self.apply_options.check_mode and any(r["action"] == "created" for r in namespace["results"])
            # In check mode a namespace not there yet goes with its contents again: the engine then
            # says that this input creates it.
            applied_before = [] if pending else labelled
            stale = cert_manager_documents(documents)
            if stale:
                # cert-manager would overwrite the webhook Secret the role makes.
                result["cert_manager_objects_removed"] = self._engine_run(stale, state="absent", wait=False)
            if pending:
                # A namespace that does not exist yet cannot hold even a dry-run Secret.
                result["webhook_certificate"] = {
                    "skipped": True,
                    "changed": False,
                    "reason": f"check mode: namespace {options.namespace} does not exist yet",
                }
            else:
                certificate = self._certificates("present")
                result["webhook_certificate"] = certificate
                ca_bundle = (certificate.get("ca") or {}).get("ca_bundle") or ""
        objects = pod_security.label_namespaces(applied_objects(release, cert_manager, ca_bundle), options.pod_security)
        objects = [o for o in objects if o not in applied_before]
        try:
            applied = self._engine_run(objects)
        except OtelK8sError as error:
            if self.apply_options.wait and "timed out" in error.message:
                error.message = timeout_message(options, cert_manager, error.message)
            raise
        if applied_before:
            applied["results"] = result["namespace_applied"]["results"] + applied["results"]
        result.update(applied)
        if cert_manager:
            own_ca = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": CA_SECRET, "namespace": options.namespace},
            }
            result["webhook_ca_removed"] = self._engine_run([own_ca], state="absent", wait=False)
        return self._finish(result)

    def _certificates(self, state: str) -> dict:
        cert_options = certs.CertsOptions.from_params(self.options.certs_params(), self.default_namespace)

        def apply(objects, condition, live=None):
            overrides = {"state": state, "wait": False, "wait_condition": condition}
            return self._engine_run(objects, live, **overrides)

        return certs.execute(cert_options, self.client, apply=apply, protect=self.protect, state=state)

    def absent(self, documents: list) -> dict:
        """Custom resources first (while the operator runs and can remove its finalizers), then
        the webhook certificate Secrets, then the manifest in reverse order."""
        reader = InfoRunner(self.client, self.discovery, self.default_namespace)
        custom = []
        for crd in crds(documents):
            spec = crd.get("spec") or {}
            storage = next((v for v in spec.get("versions") or [] if v.get("storage")), None)
            if storage is None:
                continue
            found = reader.run(f"{spec.get('group')}/{storage.get('name')}", (spec.get("names") or {}).get("kind"))
            custom.extend(found["resources"])
        result = {"backend": self.options.cert_backend}
        result["custom_resources_removed"] = (
            self._engine_run(custom, state="absent", wait=True)
            if custom
            else {"changed": False, "results": [], "skipped": True}
        )
        result["webhook_certificate_removed"] = self._certificates("absent")
        result.update(self._engine_run(documents, state="absent"))
        return self._finish(result)

    def _finish(self, result: dict) -> dict:
        steps = (
            "namespace_applied",
            "cert_manager_objects_removed",
            "webhook_certificate",
            "webhook_ca_removed",
            "custom_resources_removed",
            "webhook_certificate_removed",
        )
        result["changed"] = bool(result.get("changed")) or any(
            bool((result.get(step) or {}).get("changed")) for step in steps
        )
        if self.apply_options.diff:
            result["diff"] = self.diffs
        result["api_requests"] = self.client.requests
        return result


def status(options: OperatorOptions, result: dict) -> dict:
    """What the role publishes as otel_operator_status."""
    certificate = result.get("webhook_certificate") or {}
    leaves = [certificate["ca"], *certificate.get("certificates", [])] if certificate.get("ca") else []
    return {
        "version": options.version,
        "namespace": options.namespace,
        "deployment": options.deployment,
        "backend": result.get("backend"),
        # secret name -> expiry (UTC, ISO 8601), self-signed only.
        "not_after": {leaf["secret_name"]: leaf.get("not_after") for leaf in leaves},
    }


def execute(params: dict, check_mode: bool, diff: bool, connect, protect) -> dict:
    """The module's run: options, manifest, then render, apply or remove.

    ``connect()`` returns the client (called only when the cluster is contacted at all);
    ``protect(values)`` registers secret values for masking. Raises OtelK8sError.
    """
    options = OperatorOptions.from_params(params)
    fetched = fetch_manifest(options)
    documents = load_manifest(fetched.pop("path"))
    check_manifest(documents, options)
    if params.get("render_only"):
        objects = render(documents, options)
        result = {"changed": fetched["changed"], "objects": objects, "results": [], "api_requests": 0}
        result.update(manifest=fetched, status=status(options, {"backend": "cert_manager"}))
        return result
    client = connect()
    apply_options = ApplyOptions(
        state=params["state"],
        field_manager=params["field_manager"],
        force_conflicts=params["force_conflicts"],
        check_mode=check_mode,
        diff=diff,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        wait_sleep=params["wait_sleep"],
    )
    runner = OperatorRunner(client, Discovery(client), options, apply_options, protect, client.conn.default_namespace)
    result = runner.present(documents) if params["state"] == "present" else runner.absent(documents)
    result["changed"] = result["changed"] or fetched["changed"]
    result.update(manifest=fetched, status=status(options, result) if params["state"] == "present" else {})
    return result
