"""The engine's decisions, with a fake client (the real API server is in tests/integration)."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import engine
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import Response
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Resource
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

MARKER = engine.Marker(resource_version=100, server_second=1_800_000_000.0)
BEFORE_MARKER = "2027-01-15T08:00:00Z"  # 1_800_000_000 is 2027-01-15T08:00:00Z
AFTER_MARKER = "2027-01-15T08:00:01Z"


def obj(rv, managed=()):
    return {"metadata": {"name": "x", "resourceVersion": str(rv), "managedFields": list(managed)}}


def ours(time):
    return {"manager": "otel.kubernetes", "operation": "Apply", "time": time}


@pytest.fixture
def eng():
    return engine.ApplyEngine(client=None, discovery=None, options=engine.ApplyOptions())


def test_unchanged_when_resource_version_did_not_move(eng):
    assert eng._changed(None, obj(90, [ours(AFTER_MARKER)]), MARKER) is False


def test_changed_when_written_by_us_after_the_marker(eng):
    assert eng._changed(None, obj(101, [ours(AFTER_MARKER)]), MARKER) is True
    assert eng._changed(None, obj(101, [ours("2027-01-15T08:00:00Z")]), MARKER) is True  # same second


def test_controller_write_during_the_run_is_not_our_change(eng):
    controller = {"manager": "kube-controller-manager", "operation": "Update", "time": AFTER_MARKER}
    assert eng._changed(None, obj(105, [ours("2027-01-15T07:59:58Z"), controller]), MARKER) is False


def test_first_apply_bookkeeping_is_not_a_change(eng):
    bookkeeping = {"manager": "before-first-apply", "operation": "Update", "time": AFTER_MARKER}
    assert eng._changed(None, obj(101, [bookkeeping]), MARKER) is False
    # without a marker (diff and check mode) the same is recognised from the object before
    assert eng._changed(obj(90), obj(101, [bookkeeping]), None) is False
    # but fields removed from an object we managed, leaving no entry of ours, are a change
    assert eng._changed(None, obj(101, []), MARKER) is True


def test_without_marker_resource_versions_are_compared(eng):
    assert eng._changed(obj(5, [ours(BEFORE_MARKER)]), obj(5, [ours(BEFORE_MARKER)]), None) is False
    assert eng._changed(obj(5, [ours(BEFORE_MARKER)]), obj(6, [ours(AFTER_MARKER)]), None) is True


def test_check_mode_compares_content_not_timestamps():
    eng = engine.ApplyEngine(None, None, engine.ApplyOptions(check_mode=True))
    before = obj(5, [ours(BEFORE_MARKER)])
    same = obj(5, [ours(AFTER_MARKER)])
    assert eng._changed(before, same, None) is False
    different = obj(5, [ours(AFTER_MARKER)])
    different["data"] = {"a": "1"}
    assert eng._changed(before, different, None) is True


def test_batches_keep_kind_order_and_isolate_namespaces_and_crds():
    def planned(kind, api="v1"):
        return engine.Planned({"apiVersion": api, "kind": kind, "metadata": {"name": kind}}, None)

    plan = [
        planned("Namespace"),
        planned("Namespace"),
        planned("ConfigMap"),
        planned("ConfigMap"),
        planned("Deployment", "apps/v1"),
        planned("ConfigMap"),
    ]
    sizes = [[p.obj["kind"] for p in batch] for batch in engine._batches(plan)]
    assert sizes == [["Namespace"], ["Namespace"], ["ConfigMap", "ConfigMap"], ["Deployment"], ["ConfigMap"]]


def test_describe_api_error():
    conflict = ApiError(
        409,
        "Conflict",
        "Apply failed with 1 conflict",
        {
            "details": {
                "causes": [{"type": "FieldManagerConflict", "message": 'conflict with "helm"', "field": ".data.owner"}]
            }
        },
    )
    text = engine.describe_api_error(conflict, "applying ConfigMap a/b")
    assert '.data.owner (conflict with "helm")' in text and "force_conflicts: true" in text
    assert "401 Unauthorized" in engine.describe_api_error(ApiError(401, "Unauthorized", "x"), "applying y")
    forbidden = engine.describe_api_error(ApiError(403, "Forbidden", "user u cannot patch"), "applying y")
    assert "user u cannot patch" in forbidden and "playbooks/deployer_rbac.yml" in forbidden
    # RBAC's escalation check names the rules, not the verb: the message names escalate and bind.
    escalation = engine.describe_api_error(
        ApiError(403, "Forbidden", 'user "d" (groups=[]) is attempting to grant RBAC permissions not currently held'),
        "applying ClusterRole otel-agent",
    )
    assert "'escalate'" in escalation and "'bind'" in escalation and "ClusterRole otel-agent" in escalation
    assert "(422 Invalid): bad" in engine.describe_api_error(ApiError(422, "Invalid", "bad"), "applying y")


class FakeDiscovery:
    def __init__(self, served):
        self.served = served

    def find(self, api_version, kind):
        plural, namespaced = self.served.get((api_version, kind), (None, None))
        return Resource(api_version, kind, plural, namespaced) if plural else None

    def invalidate(self, api_version):
        pass


class RecordingClient:
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append((method, path))
        if self.fail_on and self.fail_on in path and method == "PATCH":
            raise ApiError(422, "Invalid", "spec.replicas: Invalid value: -1")
        if method == "GET":
            return Response(200, {"metadata": {"resourceVersion": "10"}}, 1_800_000_000.0)
        return Response(201, body, 1_800_000_000.0)


SERVED = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("clusterroles", False),
}


def test_unknown_kind_fails_before_any_request():
    client = RecordingClient()
    eng = engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions())
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "nope/v1", "kind": "Thing", "metadata": {"name": "t"}},
    ]
    with pytest.raises(OtelK8sError, match="nothing was applied"):
        eng.run(objects)
    assert client.calls == []


def test_defaults_namespace_and_drops_it_for_cluster_scoped_kinds():
    client = RecordingClient()
    eng = engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions(namespace="obs"))
    result = eng.run(
        [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "r", "namespace": "ignored"},
            },
        ]
    )
    patched = [path for method, path in client.calls if method == "PATCH"]
    assert patched == ["/api/v1/namespaces/obs/configmaps/c", "/apis/rbac.authorization.k8s.io/v1/clusterroles/r"]
    assert [r["namespace"] for r in result["results"]] == ["obs", None]
    # one LIST for the marker, one PATCH per object
    assert len(client.calls) == 3


def test_server_error_names_the_object_and_what_was_applied():
    client = RecordingClient(fail_on="configmaps/bad")
    eng = engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions())
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad", "namespace": "a"}},
    ]
    with pytest.raises(OtelK8sError) as caught:
        eng.run(objects)
    msg = caught.value.message
    assert "ConfigMap a/bad" in msg and "422" in msg and "Namespace a (created)" in msg
    assert [r["action"] for r in caught.value.details["results"]] == ["created"]


class GoneKindClient(RecordingClient):
    def request(self, method, path, query=None, body=None, content_type=None):
        if method == "PATCH":
            self.calls.append((method, path))
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return super().request(method, path, query, body, content_type)


class ForgettingDiscovery(FakeDiscovery):
    """Serves the kind from its (stale) cache until invalidated."""

    def invalidate(self, api_version):
        self.served = {key: value for key, value in self.served.items() if key[0] != api_version}


def test_a_kind_removed_since_discovery_was_cached_is_named():
    served = {**SERVED, ("example.com/v1", "Gadget"): ("gadgets", True)}
    eng = engine.ApplyEngine(GoneKindClient(), ForgettingDiscovery(served), engine.ApplyOptions())
    with pytest.raises(OtelK8sError, match="Gadget of apiVersion example.com/v1 is no longer served"):
        eng.run([{"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": "a"}}])


class RollingOutClient:
    """A Deployment that is not available on the first reads, then is (a Pod replaced mid-run)."""

    def __init__(self, not_ready_reads):
        self.reads = 0
        self.not_ready_reads = not_ready_reads

    def request(self, method, path, query=None, body=None, content_type=None):
        self.reads += 1
        available = 0 if self.reads <= self.not_ready_reads else 1
        deployment = {
            "kind": "Deployment",
            "metadata": {"name": "op", "namespace": "ns", "generation": 2},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": available},
        }
        return Response(200, deployment, None)


def deployment_item():
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "op", "namespace": "ns"}}
    return engine.Planned(body, Resource("apps/v1", "Deployment", "deployments", True))


def test_a_wait_reports_what_it_waited_for_and_what_it_saw():
    eng = engine.ApplyEngine(RollingOutClient(2), None, engine.ApplyOptions(wait_sleep=0.01))
    eng._wait_for([deployment_item()], None, "ready")
    assert len(eng.waits) == 1
    waited = eng.waits[0]
    assert waited["object"] == "Deployment ns/op" and waited["for"] == "ready"
    assert waited["seen"] == ["0/1 replicas available"]
    assert waited["seconds"] >= 0


def test_a_timed_out_wait_names_the_object_and_why():
    eng = engine.ApplyEngine(RollingOutClient(10**6), None, engine.ApplyOptions(wait_timeout=0.05, wait_sleep=0.01))
    with pytest.raises(OtelK8sError) as raised:
        eng._wait_for([deployment_item()], None, "ready")
    assert "Deployment ns/op: 0/1 replicas available" in raised.value.message


class GoneDuringWaitClient(RecordingClient):
    """Applies fine; the API server is unreachable (retries exhausted) once the wait reads."""

    def request(self, method, path, query=None, body=None, content_type=None):
        if method == "GET" and "/deployments/" in path:
            raise OtelK8sError("cannot reach the Kubernetes API server https://x (still failing after 5s of retries)")
        return super().request(method, path, query, body, content_type)


def test_api_server_gone_during_a_wait_names_what_was_applied():
    served = {**SERVED, ("apps/v1", "Deployment"): ("deployments", True)}
    eng = engine.ApplyEngine(GoneDuringWaitClient(), FakeDiscovery(served), engine.ApplyOptions(wait=True))
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "a"}},
    ]
    with pytest.raises(OtelK8sError) as caught:
        eng.run(objects)
    msg = caught.value.message
    assert msg.startswith("cannot reach the Kubernetes API server")
    applied = "Already applied before this error, and left in place: Namespace a (created), Deployment a/d (created)"
    assert applied in msg
    assert [r["action"] for r in caught.value.details["results"]] == ["created", "created"]


def test_a_missing_namespace_is_named_with_the_fix():
    missing = ApiError(
        404, "NotFound", 'namespaces "nope" not found', {"details": {"name": "nope", "kind": "namespaces"}}
    )
    text = engine.describe_api_error(missing, "applying ConfigMap nope/a")
    assert "namespace nope does not exist" in text and "create it first" in text


def test_a_401_names_the_credentials():
    text = engine.describe_api_error(ApiError(401, "Unauthorized", "client_cert /x.crt"), "applying y")
    assert "401 Unauthorized" in text and "client_cert /x.crt" in text


class AnsweringClient(RecordingClient):
    """The apply answers the Deployment with the status given; GETs answer it available."""

    def __init__(self, answered_status):
        super().__init__()
        self.answered_status = answered_status

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append((method, path))
        deployment = {
            **(body or {"kind": "Deployment", "metadata": {"name": "d", "namespace": "a"}}),
            "spec": {"replicas": 1},
        }
        deployment["metadata"] = {**deployment["metadata"], "generation": 2, "resourceVersion": "10"}
        available = {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
        if method == "PATCH":
            return Response(200, {**deployment, "status": self.answered_status}, 1_800_000_000.0)
        if path.endswith("/deployments/d"):
            return Response(200, {**deployment, "status": available}, 1_800_000_000.0)
        return Response(200, {"metadata": {"resourceVersion": "10"}}, 1_800_000_000.0)


@pytest.mark.parametrize(
    "answered, reads",
    [
        # a no-op apply of a ready object: the answer is the first poll, no GET
        ({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}, 0),
        # the apply changed the spec (the controller has not seen generation 2 yet): poll
        ({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}, 1),
    ],
)
def test_a_wait_starts_from_the_apply_answer(answered, reads):
    client = AnsweringClient(answered)
    served = {**SERVED, ("apps/v1", "Deployment"): ("deployments", True)}
    eng = engine.ApplyEngine(client, FakeDiscovery(served), engine.ApplyOptions(wait=True, wait_sleep=0.01))
    eng.run([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "a"}}])
    gets = [path for method, path in client.calls if method == "GET" and path.endswith("/deployments/d")]
    assert len(gets) == reads
    assert [w["object"] for w in eng.waits] == ["Deployment a/d"]


def test_the_runs_of_one_task_share_one_marker():
    client = RecordingClient()
    for name in ("a", "b"):
        engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions(namespace="obs")).run(
            [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}]
        )
    assert [method for method, _path in client.calls] == ["GET", "PATCH", "PATCH"]
    assert client.apply_marker.resource_version == 10


def test_an_object_just_read_that_holds_the_apply_is_not_sent():
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "obs"},
        "data": {"k": "v"},
    }
    entry = {"manager": "otel.kubernetes", "operation": "Apply", "fieldsV1": {"f:data": {"f:k": {}}}}
    live = {**desired, "metadata": {**desired["metadata"], "resourceVersion": "5", "managedFields": [entry]}}
    client = RecordingClient()
    result = engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions()).run([dict(desired)], [live])
    assert [r["action"] for r in result["results"]] == ["unchanged"] and result["changed"] is False
    assert [method for method, _path in client.calls if method == "PATCH"] == []
    # a different value is applied
    changed = {**desired, "data": {"k": "w"}}
    client = RecordingClient()
    engine.ApplyEngine(client, FakeDiscovery(SERVED), engine.ApplyOptions()).run([changed], [live])
    assert [method for method, _path in client.calls if method == "PATCH"] == ["PATCH"]


class OperatorClient(RecordingClient):
    """Serves an applied OpenTelemetryCollector; its operator's Deployment appears after a few reads,
    when `appears_after` is not None (None: no operator runs)."""

    def __init__(self, appears_after):
        super().__init__()
        self.appears_after = appears_after
        self.workload_reads = 0

    def request(self, method, path, query=None, body=None, content_type=None):
        if method == "GET" and path == "/apis/apps/v1/namespaces/obs/deployments/gw-collector":
            self.calls.append((method, path))
            self.workload_reads += 1
            if self.appears_after is None or self.workload_reads <= self.appears_after:
                raise ApiError(404, "NotFound", "not found")
            status = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
            body = {"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": status}
            return Response(200, body, 1_800_000_000.0)
        if method == "GET" and path.endswith("/opentelemetrycollectors/gw"):
            self.calls.append((method, path))
            return Response(200, COLLECTOR, 1_800_000_000.0)
        return super().request(method, path, query, body, content_type)


COLLECTOR = {
    "apiVersion": "opentelemetry.io/v1beta1",
    "kind": "OpenTelemetryCollector",
    "metadata": {"name": "gw", "namespace": "obs"},
    "spec": {"mode": "deployment"},
}
SERVES_COLLECTORS = {
    **SERVED,
    ("opentelemetry.io/v1beta1", "OpenTelemetryCollector"): ("opentelemetrycollectors", True),
}


def test_the_engine_waits_for_a_collector_until_its_operator_workload_has_rolled_out():
    client = OperatorClient(appears_after=2)
    options = engine.ApplyOptions(wait=True, wait_sleep=0.01)
    result = engine.ApplyEngine(client, FakeDiscovery(SERVES_COLLECTORS), options).run([dict(COLLECTOR)])
    assert client.workload_reads == 3
    assert result["waited"][0]["object"] == "OpenTelemetryCollector obs/gw"
    assert result["waited"][0]["seen"][0].startswith("Deployment obs/gw-collector does not exist yet")


def test_a_collector_wait_without_an_operator_times_out_naming_the_workload():
    options = engine.ApplyOptions(wait=True, wait_timeout=0.05, wait_sleep=0.01)
    eng = engine.ApplyEngine(OperatorClient(appears_after=None), FakeDiscovery(SERVES_COLLECTORS), options)
    with pytest.raises(OtelK8sError) as raised:
        eng.run([dict(COLLECTOR)])
    message = raised.value.message
    assert message.startswith("timed out after 0s waiting for ready: OpenTelemetryCollector obs/gw: Deployment")
    assert "operator is not running" in message and "OpenTelemetryCollector obs/gw (created)" in message


class DeletingClient(RecordingClient):
    """An object that is still there for `reads` GETs after its DELETE."""

    def __init__(self, reads):
        super().__init__()
        self.left = reads + 1  # the GET before the DELETE sees it too

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append((method, path))
        if method == "GET" and self.left <= 0:
            raise ApiError(404, "NotFound", "not found")
        if method == "GET":
            self.left -= 1
            return Response(200, {"metadata": {"name": "c", "resourceVersion": "3"}}, 1_800_000_000.0)
        return Response(200, {}, 1_800_000_000.0)


def test_the_same_loop_waits_for_deletion():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}
    options = engine.ApplyOptions(state="absent", wait=True, wait_sleep=0.01)
    client = DeletingClient(reads=2)
    result = engine.ApplyEngine(client, FakeDiscovery(SERVED), options).run([dict(config_map)])
    assert [r["action"] for r in result["results"]] == ["deleted"]
    assert [method for method, _path in client.calls] == ["GET", "DELETE", "GET", "GET", "GET"]
    options = engine.ApplyOptions(state="absent", wait=True, wait_timeout=0.03, wait_sleep=0.01)
    with pytest.raises(OtelK8sError, match="waiting for deletion of: ConfigMap a/c"):
        engine.ApplyEngine(DeletingClient(reads=10**6), FakeDiscovery(SERVED), options).run([dict(config_map)])


def test_apply_options_come_from_the_module_parameters_with_overrides():
    params = {
        "state": "present",
        "field_manager": "me",
        "force_conflicts": True,
        "wait": True,
        "wait_timeout": 30,
        "wait_sleep": 2,
        "render_only": False,
    }
    options = engine.ApplyOptions.from_params(params, check_mode=True, diff=False)
    assert options == engine.ApplyOptions(
        field_manager="me", force_conflicts=True, check_mode=True, wait=True, wait_timeout=30, wait_sleep=2
    )
    overridden = engine.ApplyOptions.from_params(params, True, True, state="absent", field_manager=None, wait=False)
    assert (overridden.state, overridden.field_manager, overridden.diff, overridden.wait) == (
        "absent",
        "me",
        True,
        False,
    )
