"""InfoRunner's reads, with a fake client (the real API server is in tests/integration)."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.connection import Response
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import Resource
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.info import InfoRunner

SERVED = {
    ("v1", "Secret"): ("secrets", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ("customresourcedefinitions", False),
    ("opentelemetry.io/v1beta1", "OpenTelemetryCollector"): ("opentelemetrycollectors", True),
}


class FakeDiscovery:
    def __init__(self, served):
        self.served = dict(served)
        self.invalidated = []

    def find(self, api_version, kind):
        plural, namespaced = self.served.get((api_version, kind), (None, None))
        return Resource(api_version, kind, plural, namespaced) if plural else None

    def invalidate(self, api_version):
        self.invalidated.append(api_version)


class FakeClient:
    """Answers from a table of path -> data (or ApiError); records each request."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.requests = 0

    def request(self, method, path, query=None, body=None, content_type=None, deadline=None):
        self.requests += 1
        self.calls.append((method, path, {k: v for k, v in (query or {}).items() if v is not None}))
        answer = self.answers.get(path)
        if isinstance(answer, ApiError):
            raise answer
        if answer is None:
            raise ApiError(404, "NotFound", f"{path} not found")
        return Response(200, answer, None)


def runner(answers, served=None, default_namespace="default"):
    client = FakeClient(answers)
    return InfoRunner(client, FakeDiscovery(served or SERVED), default_namespace), client


def test_one_cluster_scoped_object_by_name():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b"}}
    info, client = runner({"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b": crd})
    result = info.run("apiextensions.k8s.io/v1", "CustomResourceDefinition", namespace="ignored", name="a.b")
    assert result["resources"] == [crd]
    assert result["api_found"] is True
    assert client.calls == [("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b", {})]


def test_a_missing_named_object_is_an_empty_list_not_an_error():
    info, _client = runner({})
    result = info.run("apiextensions.k8s.io/v1", "CustomResourceDefinition", name="certificates.cert-manager.io")
    assert result["resources"] == []
    assert result["api_found"] is True


def test_a_named_namespaced_object_without_namespace_is_read_in_the_default_namespace():
    secret = {"metadata": {"name": "s", "namespace": "ctx-ns"}}
    info, client = runner({"/api/v1/namespaces/ctx-ns/secrets/s": secret}, default_namespace="ctx-ns")
    assert info.run("v1", "Secret", name="s")["resources"] == [secret]
    assert client.calls[0][1] == "/api/v1/namespaces/ctx-ns/secrets/s"


def test_a_list_in_all_namespaces_with_selectors_gets_apiversion_and_kind_back():
    items = [{"metadata": {"name": "a", "namespace": "x"}}, {"metadata": {"name": "b", "namespace": "y"}}]
    info, client = runner({"/api/v1/secrets": {"items": items}})
    result = info.run(
        "v1", "Secret", label_selectors=["app=otel", "tier!=db"], field_selectors=["type=kubernetes.io/tls"]
    )
    assert [r["metadata"]["name"] for r in result["resources"]] == ["a", "b"]
    assert all(r["apiVersion"] == "v1" and r["kind"] == "Secret" for r in result["resources"])
    assert client.calls == [
        ("GET", "/api/v1/secrets", {"labelSelector": "app=otel,tier!=db", "fieldSelector": "type=kubernetes.io/tls"})
    ]
    assert result["api_requests"] == 1


def test_a_list_in_one_namespace():
    info, client = runner({"/apis/opentelemetry.io/v1beta1/namespaces/obs/opentelemetrycollectors": {"items": []}})
    result = info.run("opentelemetry.io/v1beta1", "OpenTelemetryCollector", namespace="obs")
    assert result == {"resources": [], "api_found": True, "api_requests": 1}
    assert client.calls[0][2] == {}  # no empty selectors sent


def test_a_kind_not_served_is_reported_not_raised():
    info, client = runner({})
    result = info.run("monitoring.coreos.com/v1", "ServiceMonitor")
    assert result["resources"] == [] and result["api_found"] is False
    assert client.calls == []


def test_a_kind_removed_since_discovery_was_cached_is_not_served():
    served = dict(SERVED)
    info, _client = runner({}, served=served)

    def forget(api_version):
        info.discovery.served = {k: v for k, v in info.discovery.served.items() if k[0] != api_version}

    info.discovery.invalidate = forget
    result = info.run("opentelemetry.io/v1beta1", "OpenTelemetryCollector")
    assert result["api_found"] is False and result["resources"] == []


def test_other_errors_name_what_was_read():
    info, _client = runner({"/api/v1/namespaces/obs/secrets": ApiError(403, "Forbidden", "secrets is forbidden")})
    with pytest.raises(OtelK8sError) as raised:
        info.run("v1", "Secret", namespace="obs")
    assert "Secret obs/" in raised.value.message and "403 Forbidden" in raised.value.message
    assert "secrets is forbidden" in raised.value.message


def test_selectors_may_be_one_string():
    info, client = runner({"/api/v1/secrets": {"items": []}})
    info.run("v1", "Secret", label_selectors="app=otel")
    assert client.calls[0][2] == {"labelSelector": "app=otel"}
