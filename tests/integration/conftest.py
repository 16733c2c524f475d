"""Integration fixtures: a REAL single-node Kubernetes 1.34 cluster (tools/local_node.py).

The node (control plane, kubelet, containerd, kube-proxy, CoreDNS) is built from the Go
module proxy on first use (minutes, cached in ~/.cache) and started once per test session,
then stopped, and the session fails if the machine is not left as it was. When the node
cannot be built or started the tests ERROR with the reason: they are never skipped.

OTEL_TEST_NODE=DIR runs the tests on a node already started with
``tools/local_node.py up DIR`` (for quick iterations; it is left running).

The OpenTelemetry Operator is its REAL v0.158.0 release manifest, read by path from
../shared/upstream (tests/support/upstream.py; OTEL_OPERATOR_MANIFEST names another copy):
every test FAILS, naming the file, when it is missing. Playbook runs see it through
OTEL_OPERATOR_MANIFEST, the otel_operator role's default for otel_operator_manifest_src, as a
user's environment would give it. Its manager is the local node's test stand-in
(tools/localnode/operator_manager.py), set through otel_operator_manager_image.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid

import pytest
import upstream
from localnode.gobuild import BuildError
from localnode.node import LocalNode, NodeError, leftovers
from operator_install import ensure_operator
from playbook import run_tasks

from ansible_collections.otel.kubernetes.plugins.module_utils.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError

# The release manifest for every playbook run of the session (the role's default reads it).
os.environ[upstream.ENV] = str(upstream.manifest_path())


@pytest.fixture(scope="session", autouse=True)
def operator_release():
    """The operator's release manifest must be there: every integration test fails naming it otherwise."""
    return upstream.operator_manifest()


@pytest.fixture(scope="session")
def node(tmp_path_factory):
    # SIGTERM (a CI timeout) becomes a normal exit, so that this fixture's finalizer runs; a
    # SIGKILL is handled by the node's keeper process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.environ.get("OTEL_TEST_NODE"):
        running = LocalNode(os.environ["OTEL_TEST_NODE"])
        assert running.running(), f"OTEL_TEST_NODE={running.dir}: no node is running there"
        yield running
        return
    local = LocalNode(tmp_path_factory.mktemp("node"), tied_to_parent=True)
    try:
        local.start()
    except (NodeError, BuildError) as error:
        local.stop()
        pytest.fail(f"the local node could not start, so no integration test can run: {error}")
    yield local
    local.stop()
    left = leftovers(local.dir)
    assert not left, f"the local node left these behind: {left}"


class Cluster:
    """Direct API access for assertions, and a way to run tasks against the cluster."""

    def __init__(self, node: LocalNode, cache_dir: str):
        self.node = node
        self.kubeconfig = str(node.admin_kubeconfig)
        self.env = {"K8S_AUTH_KUBECONFIG": self.kubeconfig, "XDG_CACHE_HOME": cache_dir}
        self.client = KubeClient(resolve_connection({"kubeconfig": self.kubeconfig}))

    def run(self, tasks, *args, env=None, **kwargs):
        return run_tasks(tasks, *args, env={**self.env, **(env or {})}, **kwargs)

    def get(self, path: str):
        try:
            return self.client.request("GET", path).data
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def request(self, method: str, path: str, body=None, content_type="application/json", query=None):
        return self.client.request(method, path, query, body, content_type).data

    def can(
        self,
        user: str,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        subresource: str | None = None,
        groups: list | None = None,
        name: str | None = None,
    ) -> bool:
        """SubjectAccessReview: may this user (or service account) do this (to the object of this name)?"""
        attributes = {"verb": verb, "resource": resource, "group": group}
        if name:
            attributes["name"] = name
        if namespace:
            attributes["namespace"] = namespace
        if subresource:
            attributes["subresource"] = subresource
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups or [], "resourceAttributes": attributes},
        }
        answer = self.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
        return bool(answer["status"].get("allowed"))

    def bindings_of(self, namespace: str, service_account: str) -> list:
        """Every (Cluster)RoleBinding naming this service account, as (kind, namespace, name, role)."""
        found = []
        # Items of a LIST carry no kind: it is the list's.
        for kind, plural in (("ClusterRoleBinding", "clusterrolebindings"), ("RoleBinding", "rolebindings")):
            for binding in self.get(f"/apis/rbac.authorization.k8s.io/v1/{plural}")["items"]:
                for subject in binding.get("subjects") or []:
                    if (subject["kind"], subject.get("namespace"), subject["name"]) == (
                        "ServiceAccount",
                        namespace,
                        service_account,
                    ):
                        meta = binding["metadata"]
                        found.append((kind, meta.get("namespace"), meta["name"], binding["roleRef"]["name"]))
        return found


@pytest.fixture(scope="session")
def cluster(node, tmp_path_factory) -> Cluster:
    return Cluster(node, str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def operator(cluster) -> str:
    """The OpenTelemetry Operator as users install it (tests/support/operator_install.py), installed
    when another module removed it and waited for, so that the API server can call its webhooks."""
    return ensure_operator(cluster)


@pytest.fixture
def namespace(cluster) -> str:
    """A fresh namespace name per test (created by the test's own input, or here)."""
    name = "t-" + uuid.uuid4().hex[:8]
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


os.environ.setdefault("ANSIBLE_LOCALHOST_WARNING", "false")
