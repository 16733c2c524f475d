"""The parsing in benchmarks/benchlib.py: managed fields, request lines, import times."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from benchlib import (  # noqa: E402
    applied_objects,
    classify,
    import_times,
    kubectl_requests,
    owned_part,
    top_level_imports,
    total_import_seconds,
    touched_objects,
)

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "gw",
        "namespace": "obs",
        "uid": "1234",
        "labels": {"app": "gw", "added-by-someone": "x"},
        "managedFields": [
            {
                "manager": "otel.kubernetes",
                "operation": "Apply",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:ports": {'k:{"port":4317,"protocol":"TCP"}': {".": {}, "f:name": {}, "f:port": {}}},
                        "f:selector": {},
                    },
                },
            },
            {"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:spec": {"f:clusterIP": {}}}},
            {"manager": "otel.kubernetes", "operation": "Apply", "subresource": "status", "fieldsV1": {"f:status": {}}},
        ],
    },
    "spec": {
        "clusterIP": "198.19.0.10",
        "ports": [
            {"name": "grpc", "port": 4317, "protocol": "TCP", "targetPort": 4317},
            {"name": "other", "port": 9999, "protocol": "TCP"},
        ],
        "selector": {"app": "gw"},
    },
    "status": {"loadBalancer": {}},
}


def test_applied_objects_keep_only_what_the_manager_applied():
    by_manager = applied_objects(
        [SERVICE, {**SERVICE, "metadata": {"name": "x", "managedFields": []}}], "otel.kubernetes"
    )
    assert by_manager == {
        "otel.kubernetes": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "gw", "namespace": "obs", "labels": {"app": "gw"}},
                # the keyed list item keeps its key fields; the other port and clusterIP are not ours
                "spec": {"ports": [{"port": 4317, "protocol": "TCP", "name": "grpc"}], "selector": {"app": "gw"}},
            }
        ]
    }


def test_owned_part_of_set_and_indexed_lists():
    assert owned_part({"finalizers": ["a", "b"]}, {"f:finalizers": {'v:"b"': {}}}) == {"finalizers": ["b"]}
    assert owned_part([{"x": 1, "y": 2}, {"x": 3}], {"i:1": {"f:x": {}}}) == [{"x": 3}]
    assert owned_part({"args": ["--a", "--b"]}, {"f:args": {}}) == {"args": ["--a", "--b"]}


def test_classify_discovery_objects_and_collections():
    requests = [
        ("GET", "h:1", "/api"),
        ("GET", "h:1", "/apis"),
        ("GET", "h:1", "/apis/apps/v1"),
        ("GET", "h:1", "/api/v1?timeout=32s"),
        ("GET", "h:1", "/version"),
        ("GET", "h:1", "/openapi/v3"),
        ("PATCH", "h:1", "/api/v1/namespaces/obs?fieldManager=m"),
        ("GET", "h:1", "/api/v1/namespaces/obs/services/gw"),
        ("PATCH", "h:1", "/apis/apps/v1/namespaces/obs/deployments/d/status"),
        ("PATCH", "h:1", "/apis/rbac.authorization.k8s.io/v1/clusterroles/r"),
        ("GET", "h:1", "/api/v1/namespaces/obs/secrets?labelSelector=a"),
        ("GET", "h:1", "/api/v1/namespaces"),
    ]
    split = classify(requests)
    assert len(split["discovery"]) == 6
    assert [p for _m, p in split["object"]] == [
        "/api/v1/namespaces/obs",
        "/api/v1/namespaces/obs/services/gw",
        "/apis/apps/v1/namespaces/obs/deployments/d/status",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/r",
    ]
    assert [p for _m, p in split["collection"]] == ["/api/v1/namespaces/obs/secrets", "/api/v1/namespaces"]


def test_kubectl_requests_from_v6_lines():
    stderr = (
        'I1130 02:42:40.4 6118 round_trippers.go:632] "Response" verb="GET" '
        'url="https://198.18.0.1:58599/api/v1/namespaces/default" status="200 OK" milliseconds=9\n'
        'I1130 02:42:40.4 6118 round_trippers.go:527] "Request" verb="GET" url="https://198.18.0.1:58599/api"\n'
        "I1130 02:42:40.5 6118 round_trippers.go:553] PATCH https://198.18.0.1:58599/api/v1/namespaces/x?force=true "
        "200 OK in 3 milliseconds\n"
        "I1130 02:42:40.6 6118 loader.go:402] Config loaded from file\n"
    )
    assert kubectl_requests(stderr) == [
        ("GET", "198.18.0.1:58599", "/api/v1/namespaces/default"),
        ("PATCH", "198.18.0.1:58599", "/api/v1/namespaces/x?force=true"),
    ]


def test_import_times():
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |     _io\n"
        "import time:      2000 |       5000 |   yaml.loader\n"
        "import time:      1000 |      10000 | yaml\n"
        "import time:       500 |      40000 | ansible.module_utils.basic\n"
    )
    assert import_times(stderr, ("yaml", "ansible.module_utils.basic", "absent")) == {
        "yaml": 0.01,
        "ansible.module_utils.basic": 0.04,
    }
    assert top_level_imports(stderr) == [("ansible.module_utils.basic", 0.04), ("yaml", 0.01)]
    assert total_import_seconds(stderr) == 0.00362


def test_touched_objects_are_what_a_run_applied_or_read_by_name():
    requests = [
        ("PATCH", "h", "/api/v1/namespaces/observability/secrets/otel-ca?fieldManager=otel.kubernetes"),
        ("PATCH", "h", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b"),
        ("PATCH", "h", "/api/v1/namespaces/observability"),
        ("GET", "h", "/api/v1/namespaces/observability/secrets/otel-tls"),
        ("GET", "h", "/apis/apps/v1"),
        ("GET", "h", "/api/v1/namespaces/observability/pods?limit=1"),
    ]
    assert touched_objects(requests) == {
        ("observability", "secrets", "otel-ca"),
        ("observability", "secrets", "otel-tls"),
        ("", "customresourcedefinitions", "a.b"),
        ("", "namespaces", "observability"),
    }
