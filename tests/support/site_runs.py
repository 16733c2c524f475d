"""playbooks/site.yml and uninstall.yml on the local node, and what they leave there, for comparison.

Shared by tests/integration/test_site.py and test_faults.py.
"""

from __future__ import annotations

import time

from playbook import ANSIBLE_PLAYBOOK, ROOT, run_playbook

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OUR_GROUPS = ("opentelemetry.io", "monitoring.coreos.com", "cert-manager.io")
OPERATOR_NAMESPACE = "opentelemetry-operator-system"
PIPELINE_NAMESPACE = "observability"
OPERATOR_DEPLOYMENT = "opentelemetry-operator-controller-manager"

# What site.yml makes with inventories/local: these kinds in its two namespaces, and the
# cluster-scoped kinds below whose names say they are the operator's or the pipeline's.
NAMESPACED = (
    ("v1", "configmaps"),
    ("v1", "secrets"),
    ("v1", "serviceaccounts"),
    ("v1", "services"),
    ("apps/v1", "deployments"),
    ("apps/v1", "replicasets"),
    ("apps/v1", "daemonsets"),
    ("rbac.authorization.k8s.io/v1", "roles"),
    ("rbac.authorization.k8s.io/v1", "rolebindings"),
    ("opentelemetry.io/v1beta1", "opentelemetrycollectors"),
    ("opentelemetry.io/v1alpha1", "instrumentations"),
)
CLUSTER_SCOPED = (
    ("v1", "namespaces"),
    ("rbac.authorization.k8s.io/v1", "clusterroles"),
    ("rbac.authorization.k8s.io/v1", "clusterrolebindings"),
    ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations"),
    ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations"),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
)
# Written by the server or by controllers, or different on every install (fresh keys and CA
# bundles, Service IPs): not part of what the collection decides.
VOLATILE_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences")
VOLATILE_KEYS = ("caBundle", "clusterIP", "clusterIPs")


def client_for(plane) -> KubeClient:
    return KubeClient(resolve_connection({"kubeconfig": str(plane.admin_kubeconfig)}))


def exists(plane, path: str) -> bool:
    try:
        client_for(plane).request("GET", path)
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def site(plane, *args, playbook="site.yml", env=None, background=False, ansible_playbook=ANSIBLE_PLAYBOOK):
    """Run a playbook of playbooks/ with inventories/local against the node (a Popen if background)."""
    env = {"K8S_AUTH_KUBECONFIG": str(plane.admin_kubeconfig), "KUBECONFIG": str(plane.admin_kubeconfig), **(env or {})}
    return run_playbook(
        ROOT / "playbooks" / playbook,
        "-i",
        str(ROOT / "inventories" / "local"),
        *args,
        env=env,
        background=background,
        ansible_playbook=ansible_playbook,
    )


def first_failure(run) -> str:
    """The first failed task's name and message (pytest cuts a long repr before the message)."""
    failed = [t for t in run.tasks if t.get("failed")]
    if not failed:
        return run.stderr[-3000:]
    return f"{failed[0].get('task')}: {failed[0].get('msg')}"


def clear(cluster) -> None:
    """The node with nothing of this project on it: uninstall.yml, then what other tests added by hand."""
    run = site(cluster.node, playbook="uninstall.yml")
    assert run.rc == 0, first_failure(run)
    ours = [f"{CRDS}/{c['metadata']['name']}" for c in cluster.get(CRDS)["items"] if c["spec"]["group"] in OUR_GROUPS]
    # The roles never delete a namespace (others may live there), but playbooks/deployer_rbac.yml
    # and earlier runs leave the pipeline's: a fresh node has none.
    ours += [f"/api/v1/namespaces/{name}" for name in (PIPELINE_NAMESPACE, OPERATOR_NAMESPACE)]
    for path in ours:
        if cluster.get(path):
            cluster.request("DELETE", path)
    deadline = time.monotonic() + 180
    while any(cluster.get(path) for path in ours):
        assert time.monotonic() < deadline, f"still there: {[path for path in ours if cluster.get(path)]}"
        time.sleep(0.5)


def _ours(name: str) -> bool:
    return "opentelemetry" in name or name.startswith("otel-") or name == PIPELINE_NAMESPACE


def _meaningful(kind_plural: str, item: dict) -> dict:
    """An object without what the server, controllers or a fresh install make different."""

    def clean(value):
        if isinstance(value, dict):
            return {k: ("<volatile>" if k in VOLATILE_KEYS else clean(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    meta = {k: v for k, v in item.get("metadata", {}).items() if k not in VOLATILE_METADATA}
    annotations = {
        k: v for k, v in (meta.pop("annotations", None) or {}).items() if k != "deployment.kubernetes.io/revision"
    }
    if annotations:
        meta["annotations"] = annotations
    body = {k: v for k, v in item.items() if k not in ("metadata", "status", "apiVersion", "kind")}
    if kind_plural == "secrets":
        # Keys differ on every install; which entries there are, and the type, do not.
        body["data"] = sorted((body.get("data") or {}).keys())
    return clean(dict(body, metadata=meta))


def snapshot(plane) -> dict:
    """{(plural, namespace, name): meaningful content} of everything site.yml makes (see NAMESPACED)."""
    client = client_for(plane)

    def listed(api_version, plural, namespace=None):
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        path = prefix + (f"/namespaces/{namespace}" if namespace else "") + f"/{plural}"
        try:
            return client.request("GET", path).data.get("items", [])
        except ApiError as error:
            if error.status == 404:  # the kind is not served (its CRD is gone)
                return []
            raise

    found = {}
    for namespace in (OPERATOR_NAMESPACE, PIPELINE_NAMESPACE):
        for api_version, plural in NAMESPACED:
            for item in listed(api_version, plural, namespace):
                found[(plural, namespace, item["metadata"]["name"])] = _meaningful(plural, item)
    for api_version, plural in CLUSTER_SCOPED:
        for item in listed(api_version, plural):
            if _ours(item["metadata"]["name"]):
                found[(plural, None, item["metadata"]["name"])] = _meaningful(plural, item)
    return found


def differences(expected: dict, actual: dict) -> list:
    """What is missing, extra or different between two snapshots (empty when they are equal)."""
    problems = [f"missing {key}" for key in expected if key not in actual]
    problems += [f"extra {key}" for key in actual if key not in expected]
    problems += [
        f"different {key}: {expected[key]} != {actual[key]}"
        for key in expected
        if key in actual and expected[key] != actual[key]
    ]
    return problems
