"""The local node as tests and benchmarks reach it: GET, requests and reviews as the admin, and
tasks run through ansible-playbook against it."""

from __future__ import annotations

from playbook import run_tasks

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError


class Cluster:
    """Direct API access for assertions, and a way to run tasks against the cluster."""

    def __init__(self, node, cache_dir: str | None = None):
        self.node = node
        self.kubeconfig = str(node.admin_kubeconfig)
        self.env = {"K8S_AUTH_KUBECONFIG": self.kubeconfig}
        if cache_dir:  # the discovery cache of the tasks run (a test's own, not the user's)
            self.env["XDG_CACHE_HOME"] = str(cache_dir)
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

    def pods(self, namespace: str) -> list:
        return (self.get(f"/api/v1/namespaces/{namespace}/pods") or {}).get("items", [])

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
