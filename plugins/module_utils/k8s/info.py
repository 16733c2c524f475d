# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading objects from the API server with the collection's own client.

The roles once read the cluster with a second client (kubernetes.core.k8s_info) that does not
retry: a run whose API server restarted during such a read died there, while every write of
the same run rode out the restart. Reads now go through the same client (its retries within
``retry_timeout``) and the same discovery cache as the apply engine.
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    connect,
    fail,
    with_connection_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import resource_path
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Discovery
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

# The options of otel.kubernetes.info.
ARGUMENT_SPEC = with_connection_options(
    {
        "api_version": {"type": "str", "default": "v1"},
        "kind": {"type": "str", "required": True},
        "namespace": {"type": "str"},
        "name": {"type": "str"},
        "label_selectors": {"type": "list", "elements": "str"},
        "field_selectors": {"type": "list", "elements": "str"},
    }
)
MODULE_OPTIONS = {}


def _selector(selectors) -> str | None:
    """A list of selector terms (or one string) as the API's comma-joined query value."""
    if not selectors:
        return None
    if isinstance(selectors, str):
        return selectors
    return ",".join(str(term) for term in selectors)


def read_object(client, path: str) -> dict | None:
    """One object by its API path, or None when it does not exist; other refusals raise ApiError."""
    try:
        return client.request("GET", path).data
    except ApiError as error:
        if error.status == 404:
            return None
        raise


class InfoRunner:
    """One object by name, or a list (a namespace or all namespaces, with selectors)."""

    def __init__(self, client, discovery, default_namespace: str = "default"):
        self.client = client
        self.discovery = discovery
        self.default_namespace = default_namespace

    def run(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        name: str | None = None,
        label_selectors=None,
        field_selectors=None,
    ) -> dict:
        """{'resources': [...], 'api_found': served?, 'api_requests': n}; raises OtelK8sError."""
        resource = self.discovery.find(api_version, kind)
        if resource is None:
            return self._result([], False)
        try:
            return self._result(self._read(resource, namespace, name, label_selectors, field_selectors), True)
        except ApiError as error:
            if error.status == 404 and not name:
                # A collection that is not found: the kind went away after discovery was cached
                # (its CRD was deleted). Ask once more before saying it is not served.
                self.discovery.invalidate(api_version)
                if self.discovery.find(api_version, kind) is None:
                    return self._result([], False)
            what = f"{kind} {namespace + '/' if namespace else ''}{name or ''}".strip()
            raise OtelK8sError(
                f"the API server refused reading {what} of apiVersion {api_version} "
                f"({error.status} {error.reason or 'error'}): {error.message}"
            ) from None

    def _read(self, resource, namespace, name, label_selectors, field_selectors) -> list:
        if not resource.namespaced:
            namespace = None
        elif name and not namespace:
            namespace = self.default_namespace  # one object: where kubectl would look
        if name:
            try:
                found = self.client.request(
                    "GET", resource_path(resource.api_version, resource.plural, namespace, name)
                ).data
            except ApiError as error:
                if error.status == 404:
                    return []
                raise
            return [found]
        query = {"labelSelector": _selector(label_selectors), "fieldSelector": _selector(field_selectors)}
        answer = self.client.request("GET", resource_path(resource.api_version, resource.plural, namespace), query)
        items = answer.data.get("items") or []
        # A list's items carry no apiVersion/kind; give them back as a GET would.
        return [dict(item, apiVersion=resource.api_version, kind=resource.kind) for item in items]

    def _result(self, resources: list, served: bool) -> dict:
        return {"resources": resources, "api_found": served, "api_requests": self.client.requests}


def run_module(module) -> None:
    """otel.kubernetes.info: the objects the options select, or fail_json naming the problem."""
    params = module.params
    try:
        client = connect(module)
        runner = InfoRunner(client, Discovery(client), client.conn.default_namespace)
        result = runner.run(
            params["api_version"],
            params["kind"],
            params["namespace"],
            params["name"],
            params["label_selectors"],
            params["field_selectors"],
        )
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(changed=False, **result)
