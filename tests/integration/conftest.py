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
from cluster_access import Cluster
from localnode.gobuild import BuildError
from localnode.node import LocalNode, NodeError, leftovers
from operator_install import ensure_operator

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
