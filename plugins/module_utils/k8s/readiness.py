# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is an object ready? Pure predicates returning (ready, why-not) for messages.

The engine (engine.py) does every wait, with one loop: it reads each object (and the object its
readiness depends on, :func:`depends_on`) and asks :func:`is_ready` until all are ready or the time
is up. An OpenTelemetryCollector is ready when the workload the OpenTelemetry Operator makes of it
has rolled out.
"""

from __future__ import annotations


def _conditions(obj: dict) -> dict:
    return {c.get("type"): c for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict)}


def _condition_text(condition: dict | None) -> str:
    if not condition:
        return ""
    text = f"{condition.get('type')}={condition.get('status')}"
    if condition.get("reason"):
        text += f" ({condition['reason']}"
        text += f": {condition['message']})" if condition.get("message") else ")"
    return text


def condition_met(obj: dict, wanted: dict) -> tuple:
    """wanted: {'type': ..., 'status': 'True', 'reason': optional}."""
    found = _conditions(obj).get(wanted["type"])
    status = str(wanted.get("status", "True"))
    if not found:
        return False, f"no condition {wanted['type']} yet"
    if str(found.get("status")) != status:
        return False, f"{_condition_text(found)}, waiting for {wanted['type']}={status}"
    if wanted.get("reason") and found.get("reason") != wanted["reason"]:
        return False, f"{_condition_text(found)}, waiting for reason {wanted['reason']}"
    return True, ""


def _observed(obj: dict) -> tuple:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return False, f"the controller has not seen generation {generation} yet (observed {observed})"
    return True, ""


def _rolled_out(obj: dict, want: int, counts: tuple, unit: str, failed: str = "") -> tuple:
    """The controller has seen the object's generation, and every status count (field, label) is at want."""
    ok, why = _observed(obj)
    if not ok:
        return ok, why
    if failed:
        return False, failed
    status = obj.get("status") or {}
    for field, label in counts:
        if status.get(field, 0) < want:
            return False, f"{status.get(field, 0)}/{want} {unit} {label}"
    return True, ""


def _deployment(obj: dict) -> tuple:
    want = (obj.get("spec") or {}).get("replicas", 1)
    progressing = _conditions(obj).get("Progressing")
    deadline = progressing and progressing.get("reason") == "ProgressDeadlineExceeded"
    failed = f"rollout failed: {_condition_text(progressing)}" if deadline else ""
    ok, why = _rolled_out(
        obj, want, (("updatedReplicas", "updated"), ("availableReplicas", "available")), "replicas", failed
    )
    total = (obj.get("status") or {}).get("replicas", 0)
    if ok and total > want:
        return False, f"{total} replicas exist, old ones still terminating"
    return ok, why


def _daemonset(obj: dict) -> tuple:
    want = (obj.get("status") or {}).get("desiredNumberScheduled", 0)
    counts = (("updatedNumberScheduled", "updated"), ("numberAvailable", "available"))
    return _rolled_out(obj, want, counts, "node pods")


def _statefulset(obj: dict) -> tuple:
    status = obj.get("status") or {}
    ok, why = _rolled_out(obj, (obj.get("spec") or {}).get("replicas", 1), (("readyReplicas", "ready"),), "replicas")
    if ok and status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
        return False, "rollout to the new revision not finished"
    return ok, why


def _crd(obj: dict) -> tuple:
    return condition_met(obj, {"type": "Established", "status": "True"})


READINESS = {
    ("apps", "Deployment"): _deployment,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "StatefulSet"): _statefulset,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}

# ------------------------------------------------------------------ OpenTelemetryCollector
COLLECTOR = ("opentelemetry.io", "OpenTelemetryCollector")
# The workload the operator makes of a collector, by mode (kind, plural); a sidecar has none.
COLLECTOR_WORKLOADS = {
    "deployment": ("Deployment", "deployments"),
    "daemonset": ("DaemonSet", "daemonsets"),
    "statefulset": ("StatefulSet", "statefulsets"),
}


def collector_workload(collector: dict) -> dict | None:
    """{apiVersion, kind, plural, name, namespace} of the workload the operator makes of a collector
    (``<name>-collector``, as the operator names it); None for a sidecar."""
    mode = (collector.get("spec") or {}).get("mode") or "deployment"
    if mode not in COLLECTOR_WORKLOADS:
        return None
    meta = collector.get("metadata") or {}
    kind, plural = COLLECTOR_WORKLOADS[mode]
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "plural": plural,
        "name": f"{meta.get('name')}-collector",
        "namespace": meta.get("namespace"),
    }


def _collector(collector: dict, workload: dict | None) -> tuple:
    """A collector is ready when the operator has seen its generation and its workload has rolled out."""
    target = collector_workload(collector)
    if target is None:
        return True, ""
    meta = collector.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    generation = meta.get("generation")
    observed = (collector.get("status") or {}).get("observedGeneration")
    if generation is not None and observed is not None and observed < generation:
        return False, (
            f"the operator has not reconciled generation {generation} of {COLLECTOR[1]} {namespace}/{name} yet "
            f"(observed {observed})"
        )
    where = f"{target['kind']} {namespace}/{target['name']}"
    if workload is None:
        return False, (
            f"{where} does not exist yet. The OpenTelemetry Operator creates it from {COLLECTOR[1]} "
            f"{namespace}/{name}; on a cluster where the operator is not running (or does not watch this "
            f"namespace) it never appears"
        )
    ok, why = is_ready(workload, "apps")
    return ok, ("" if ok else f"{where}: {why}")


def has_readiness(group: str, kind: str) -> bool:
    return (group, kind) in READINESS or (group, kind) == COLLECTOR


def depends_on(obj: dict, group: str) -> dict | None:
    """The object whose state obj's readiness also reads (a collector's workload), or None."""
    return collector_workload(obj) if (group, obj.get("kind")) == COLLECTOR else None


def is_ready(obj: dict, group: str, condition: dict | None = None, dependency: dict | None = None) -> tuple:
    """(ready, why-not). A custom condition wins; kinds without a rule are ready once they exist.
    dependency: the object :func:`depends_on` names, as read now (None: it does not exist)."""
    if condition:
        return condition_met(obj, condition)
    if (group, obj.get("kind")) == COLLECTOR:
        return _collector(obj, dependency)
    rule = READINESS.get((group, obj.get("kind")))
    return rule(obj) if rule else (True, "")
