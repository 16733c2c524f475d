"""The instrumentation module's flow (InstrumentationRunner), with a fake API server.

The real API server is in tests/integration/test_instrumentation.py; here a fake one lets a
test remove the Instrumentation CRD between the discovery cache being filled and the run.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.instrumentation import runner as instrumentation_runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    APPLY_ARG_SPEC,
    CONNECTION_ARG_SPEC,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import Response
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Discovery
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

SERVER = "https://fake.invalid:6443"
GROUP_VERSION = "opentelemetry.io/v1alpha1"
NOT_FOUND = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "details": {}}


class Conn:
    server = SERVER
    default_namespace = "default"


class FakeApiServer:
    """Namespaces and, while `crd_installed`, Instrumentations; answers like a 1.34 API server."""

    def __init__(self, namespaces=("app", "observability"), crd_installed=True):
        self.conn = Conn()
        self.namespaces = set(namespaces)
        self.crd_installed = crd_installed
        self.instrumentations = {}
        self.requests = 0
        self.calls = []

    def request(self, method, path, query=None, body=None, content_type=None):
        self.requests += 1
        self.calls.append((method, path))
        if path == "/api/v1":
            return Response(
                200, {"resources": [{"name": "namespaces", "kind": "Namespace", "namespaced": False}]}, None
            )
        if path == f"/apis/{GROUP_VERSION}":
            if not self.crd_installed:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", NOT_FOUND)
            resources = [{"name": "instrumentations", "kind": "Instrumentation", "namespaced": True}]
            return Response(200, {"resources": resources}, None)
        if path.startswith("/api/v1/namespaces/"):
            name = path.split("/")[4]
            if name not in self.namespaces:
                raise ApiError(404, "NotFound", f'namespaces "{name}" not found', NOT_FOUND)
            annotated = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "resourceVersion": "7"}}
            if method == "PATCH":  # the annotations are new: a write
                annotated["metadata"]["resourceVersion"] = "8"
                annotated["metadata"]["annotations"] = body["metadata"].get("annotations", {})
            return Response(200, annotated, None)
        if path.startswith(f"/apis/{GROUP_VERSION}/"):
            if not self.crd_installed:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", NOT_FOUND)
            key = path
            if method == "GET":
                if key not in self.instrumentations:
                    raise ApiError(404, "NotFound", "instrumentations not found", NOT_FOUND)
                return Response(200, self.instrumentations[key], None)
            if method == "PATCH":
                stored = dict(body, metadata=dict(body["metadata"], resourceVersion="1"))
                if (query or {}).get("dryRun") != "All":
                    self.instrumentations[key] = stored
                return Response(201, stored, None)
        raise ApiError(404, "NotFound", f"{path} not found", NOT_FOUND)


def _defaults(spec: dict) -> dict:
    return {name: option.get("default") for name, option in spec.items()}


class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.params = _defaults(CONNECTION_ARG_SPEC)
        self.params.update(_defaults(APPLY_ARG_SPEC))
        self.params.update(_defaults(instrumentation_runner.ARGUMENT_SPEC))
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = False
        self.warnings = []
        self.no_log_values = set()

    def warn(self, text):
        self.warnings.append(text)


def namespace_target(name):
    return {"name": name, "languages": ["java"], "annotations": None}


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def fill_discovery_cache(client):
    """Discovery as an earlier task of the run left it: the Instrumentation kind served."""
    discovery = Discovery(client)
    assert discovery.find(GROUP_VERSION, "Instrumentation") is not None
    assert discovery.find("v1", "Namespace") is not None
    with open(discovery.cache_file) as handle:
        assert GROUP_VERSION in json.load(handle)


def module_for(check_mode=False, state="present"):
    return FakeModule(
        check_mode=check_mode, name="default", namespace="app", state=state, namespaces=[namespace_target("app")]
    )


def test_apply_then_the_instrumentation_and_the_annotations(cache_home):
    client = FakeApiServer()
    result = instrumentation_runner.InstrumentationRunner(module_for(), client).run()
    assert result["changed"] is True
    assert [(r["kind"], r["action"]) for r in result["results"]] == [
        ("Instrumentation", "created"),
        ("Namespace", "updated"),
    ]
    assert [o["kind"] for o in result["objects"]] == ["Instrumentation", "Namespace"]
    assert result["api_requests"] == client.requests
    # What the role publishes as otel_instrumentation_status, and the summary reads.
    assert result["status"] == {
        "name": "default",
        "namespace": "app",
        "exporter_endpoint": "http://otel-agent-collector.observability.svc.cluster.local:4317",
        "targets": [{"kind": "Namespace", "namespace": None, "name": "app", "languages": ["java"]}],
    }


def test_the_status_names_each_workload_and_is_empty_after_removal():
    workload = {"kind": "Deployment", "name": "web", "namespace": "shop", "languages": ["python", "java"]}
    module = FakeModule(name="i", namespace="o", workloads=[workload], exporter_endpoint="http://x.y:4317")
    instrumentation, injections, _warnings = instrumentation_runner.render.plan(module.params)
    assert instrumentation_runner.status(instrumentation, injections, "present") == {
        "name": "i",
        "namespace": "o",
        "exporter_endpoint": "http://x.y:4317",
        "targets": [{"kind": "Deployment", "namespace": "shop", "name": "web", "languages": ["java", "python"]}],
    }
    assert instrumentation_runner.status(instrumentation, injections, "absent") == {}


def test_missing_targets_are_refused_before_anything_is_applied(cache_home):
    client = FakeApiServer(namespaces=("observability",))
    with pytest.raises(OtelK8sError) as raised:
        instrumentation_runner.InstrumentationRunner(module_for(), client).run()
    assert "these targets do not exist, nothing was applied: Namespace app" in raised.value.message
    assert not any(method == "PATCH" for method, _path in client.calls)


def test_check_mode_with_the_crd_deleted_after_discovery_was_cached_asks_again(cache_home):
    """Check mode said "no longer served" (failed) with a stale cache and "not served yet" (ok)
    with a fresh one: it now asks discovery once more and answers as with a fresh cache."""
    client = FakeApiServer()
    fill_discovery_cache(client)
    client.crd_installed = False  # the CRD is deleted after the cache was filled
    client.calls.clear()
    stale = instrumentation_runner.InstrumentationRunner(module_for(check_mode=True), client).run()
    assert client.calls.count(("GET", f"/apis/{GROUP_VERSION}")) == 1  # discovery asked once more
    fresh_client = FakeApiServer(crd_installed=False)  # the cache now holds the server's fresh answer
    fresh = instrumentation_runner.InstrumentationRunner(module_for(check_mode=True), fresh_client).run()
    for result in (stale, fresh):
        first = result["results"][0]
        assert (first["kind"], first["action"], first["changed"]) == ("Instrumentation", "created", True)
        assert first["note"] == (
            "not validated by the server: kind Instrumentation of opentelemetry.io/v1alpha1 is not served yet "
            "(no CRD for it exists)"
        )


def test_applying_with_the_crd_deleted_after_discovery_was_cached_is_said_clearly(cache_home):
    client = FakeApiServer()
    fill_discovery_cache(client)
    client.crd_installed = False
    client.calls.clear()
    with pytest.raises(OtelK8sError) as raised:
        instrumentation_runner.InstrumentationRunner(module_for(), client).run()
    assert raised.value.message == (
        "Instrumentation app/default: kind Instrumentation of apiVersion opentelemetry.io/v1alpha1 is no longer "
        "served by this API server (its CustomResourceDefinition was removed); install it again. "
        "Nothing was changed before this error"
    )
    assert client.calls.count(("GET", f"/apis/{GROUP_VERSION}")) == 1
    assert not any(method == "PATCH" and path.startswith("/api/v1/") for method, path in client.calls)


def test_removal_with_the_crd_gone_since_discovery_was_cached_finds_nothing_to_delete(cache_home):
    client = FakeApiServer()
    fill_discovery_cache(client)
    client.crd_installed = False
    result = instrumentation_runner.InstrumentationRunner(module_for(check_mode=True, state="absent"), client).run()
    assert [(r["kind"], r["action"]) for r in result["results"]][-1] == ("Instrumentation", "absent")


def test_render_only_contacts_nothing(cache_home):
    module = module_for()
    module.params["render_only"] = True
    result = instrumentation_runner.InstrumentationRunner(module, client=None).run()
    assert result["changed"] is False and result["results"] == []
    assert [o["kind"] for o in result["objects"]] == ["Instrumentation", "Namespace"]
    assert result["objects"][0]["metadata"]["namespace"] == "app"
    assert result["status"]["targets"][0]["name"] == "app"
