"""The playbooks of playbooks/ on the local node, and clearing the node of this project."""

from __future__ import annotations

import time

from playbook import ROOT, run_playbook

from ansible_collections.otel.kubernetes.plugins.module_utils.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OUR_GROUPS = ("opentelemetry.io", "monitoring.coreos.com", "cert-manager.io")


def site(plane, *args, playbook="site.yml", env=None):
    """A playbook of playbooks/ with inventories/local, as the node's administrator unless env says otherwise."""
    env = {"K8S_AUTH_KUBECONFIG": str(plane.admin_kubeconfig), "KUBECONFIG": str(plane.admin_kubeconfig), **(env or {})}
    return run_playbook(ROOT / "playbooks" / playbook, "-i", str(ROOT / "inventories" / "local"), *args, env=env)


def exists(plane, path: str) -> bool:
    client = KubeClient(resolve_connection({"kubeconfig": str(plane.admin_kubeconfig)}))
    try:
        client.request("GET", path)
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def clear(cluster):
    """The node with nothing of this project on it: uninstall.yml, then what other tests added by hand."""
    run = site(cluster.node, playbook="uninstall.yml")
    assert run.rc == 0, [t for t in run.tasks if t.get("failed")][:1] or run.stderr[-3000:]
    ours = [c["metadata"]["name"] for c in cluster.get(CRDS)["items"] if c["spec"]["group"] in OUR_GROUPS]
    for name in ours:
        cluster.request("DELETE", f"{CRDS}/{name}")
    deadline = time.monotonic() + 120
    while any(cluster.get(f"{CRDS}/{name}") for name in ours):
        assert time.monotonic() < deadline, f"CRDs still there: {ours}"
        time.sleep(0.5)
    return cluster.node
