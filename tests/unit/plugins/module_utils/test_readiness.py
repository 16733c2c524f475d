from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.readiness import (
    collector_workload,
    depends_on,
    has_readiness,
    is_ready,
)


def deployment(generation=2, observed=2, replicas=3, updated=3, available=3, total=3, conditions=()):
    return {
        "kind": "Deployment",
        "metadata": {"generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "replicas": total,
            "conditions": list(conditions),
        },
    }


def test_deployment_rollout():
    assert is_ready(deployment(), "apps") == (True, "")
    assert is_ready(deployment(observed=1), "apps")[1].startswith("the controller has not seen generation 2")
    assert is_ready(deployment(available=1), "apps") == (False, "1/3 replicas available")
    assert is_ready(deployment(updated=2), "apps") == (False, "2/3 replicas updated")
    assert is_ready(deployment(total=4), "apps")[1].endswith("old ones still terminating")
    failed = deployment(conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}])
    assert "rollout failed" in is_ready(failed, "apps")[1]


def test_daemonset_and_statefulset():
    ds = {
        "kind": "DaemonSet",
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 2,
            "updatedNumberScheduled": 2,
            "numberAvailable": 1,
        },
    }
    assert is_ready(ds, "apps") == (False, "1/2 node pods available")
    ds["status"]["numberAvailable"] = 2
    assert is_ready(ds, "apps") == (True, "")
    sts = {
        "kind": "StatefulSet",
        "metadata": {"generation": 1},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 1, "readyReplicas": 2, "currentRevision": "a", "updateRevision": "b"},
    }
    assert is_ready(sts, "apps")[1] == "rollout to the new revision not finished"
    sts["status"]["currentRevision"] = "b"
    assert is_ready(sts, "apps") == (True, "")


def test_crd_established_and_custom_condition():
    crd = {"kind": "CustomResourceDefinition", "status": {"conditions": [{"type": "Established", "status": "False"}]}}
    assert not is_ready(crd, "apiextensions.k8s.io")[0]
    crd["status"]["conditions"][0]["status"] = "True"
    assert is_ready(crd, "apiextensions.k8s.io") == (True, "")
    obj = {
        "kind": "Thing",
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Pending", "message": "waiting"}]},
    }
    assert is_ready(obj, "x", {"type": "Ready", "status": "True"}) == (
        False,
        "Ready=False (Pending: waiting), waiting for Ready=True",
    )
    assert is_ready(obj, "x", {"type": "Ready", "status": "False", "reason": "Other"})[1].endswith("reason Other")
    assert is_ready(obj, "x", {"type": "Gone"}) == (False, "no condition Gone yet")
    assert is_ready({"kind": "ConfigMap"}, "") == (True, "")
    assert has_readiness("apps", "Deployment") and not has_readiness("", "ConfigMap")


# ---------------------------------------------------------------- OpenTelemetryCollector: its operator workload
def collector(mode="deployment", name="gw", generation=1, observed=None):
    obj = {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": name, "namespace": "obs", "generation": generation},
        "spec": {"mode": mode},
    }
    if observed is not None:
        obj["status"] = {"observedGeneration": observed}
    return obj


def test_a_collector_depends_on_the_workload_the_operator_makes():
    assert has_readiness("opentelemetry.io", "OpenTelemetryCollector")
    assert collector_workload(collector()) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "plural": "deployments",
        "name": "gw-collector",
        "namespace": "obs",
    }
    assert collector_workload(collector("daemonset", "agent"))["kind"] == "DaemonSet"
    assert collector_workload(collector("statefulset"))["plural"] == "statefulsets"
    assert collector_workload(collector("sidecar")) is None
    assert depends_on(collector(), "opentelemetry.io")["name"] == "gw-collector"
    assert depends_on(deployment(), "apps") is None


def test_a_collector_is_not_ready_without_the_operator_workload():
    ready, why = is_ready(collector(), "opentelemetry.io", dependency=None)
    assert not ready
    assert "Deployment obs/gw-collector does not exist" in why and "operator is not running" in why


def test_a_collector_is_ready_when_its_workload_has_rolled_out():
    workload = deployment(replicas=2, updated=2, available=2, total=2)
    assert is_ready(collector(), "opentelemetry.io", dependency=workload) == (True, "")
    workload["status"]["availableReplicas"] = 1
    ready, why = is_ready(collector(), "opentelemetry.io", dependency=workload)
    assert not ready and why.startswith("Deployment obs/gw-collector: 1/2 replicas available")


def test_a_collector_is_not_ready_until_the_operator_saw_its_generation():
    daemonset = {"kind": "DaemonSet", "metadata": {"generation": 1}, "status": {"observedGeneration": 1}}
    ready, why = is_ready(collector("daemonset", generation=3, observed=2), "opentelemetry.io", dependency=daemonset)
    assert not ready and "not reconciled generation 3" in why


def test_a_sidecar_collector_is_ready_once_it_exists():
    assert is_ready(collector("sidecar"), "opentelemetry.io") == (True, "")
