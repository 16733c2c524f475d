"""Integration fixtures: a REAL kube-apiserver 1.20.2 + etcd + controller-manager.

The control plane is built from Debian's source on first use (minutes, cached in
~/.cache) and started once per test session on free loopback ports. When it cannot be
built or started the tests ERROR with the reason: they are never skipped.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import time
import uuid

import pytest
from local_control_plane import ControlPlaneError, LocalControlPlane
from playbook import run_tasks

from ansible_collections.otel.kubernetes.plugins.module_utils.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    # SIGTERM (a CI timeout) becomes a normal exit, so that this fixture's finalizer runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plane = LocalControlPlane(tmp_path_factory.mktemp("control-plane"), tied_to_parent=True)
    try:
        plane.start()
    except ControlPlaneError as error:
        plane.stop()
        pytest.fail(f"the local control plane could not start, so no integration test can run: {error}")
    yield plane
    plane.stop()


class Cluster:
    """Direct API access for assertions, and a way to run tasks against the cluster."""

    def __init__(self, plane: LocalControlPlane, cache_dir: str):
        self.plane = plane
        self.kubeconfig = str(plane.admin_kubeconfig)
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

    def make_pods_ready(self, namespace: str, labels: dict, count: int = 1, timeout: float = 30.0) -> None:
        """Stand-in for the kubelet, which this control plane lacks: mark the Pods that the real
        controllers created as Running and Ready. The ReplicaSet/DaemonSet/StatefulSet and
        Deployment controllers then report the workload available, as they would on a cluster."""
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        deadline = time.monotonic() + timeout
        pods = []
        while time.monotonic() < deadline:
            pods = self.client.request(
                "GET", f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector}
            ).data.get("items", [])
            if len(pods) >= count:
                break
            time.sleep(0.3)
        assert len(pods) >= count, f"only {len(pods)} pods with {selector} appeared in {namespace}"
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for pod in pods:
            containers = [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": now}},
                }
                for c in pod["spec"]["containers"]
            ]
            status = {
                "phase": "Running",
                "startTime": now,
                "containerStatuses": containers,
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": now}
                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
            }
            self.request(
                "PATCH",
                f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}/status",
                {"status": status},
                "application/merge-patch+json",
            )

    def can(
        self,
        user: str,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        subresource: str | None = None,
        groups: list | None = None,
    ) -> bool:
        """SubjectAccessReview: may this user (or service account) do this?"""
        attributes = {"verb": verb, "resource": resource, "group": group}
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


@pytest.fixture(scope="session")
def cluster(control_plane, tmp_path_factory) -> Cluster:
    return Cluster(control_plane, str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def namespace(cluster) -> str:
    """A fresh namespace name per test (created by the test's own input, or here)."""
    name = "t-" + uuid.uuid4().hex[:8]
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


os.environ.setdefault("ANSIBLE_LOCALHOST_WARNING", "false")
