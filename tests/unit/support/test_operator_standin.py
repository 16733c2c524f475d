"""The operator stand-in (tests/support/operator_standin.py) held to what the REAL operator made.

``reconciled/`` beside the operator's release manifest (tests/support/upstream.py; the test fails
naming the file when it is missing) holds what the real OpenTelemetry Operator v0.158.0 made of
site.yml's resources on the local node (inventories/local, its defaults): 01 the resources as
stored after its defaulting webhook, 02 every object it made from them, 03 a Pod its pod webhook
instrumented.

Here site.yml's resources are rendered with the collection (render-only, inventories/local at
its current defaults), the stand-in makes their objects, and each object is compared with the
real operator's: names, labels, selectors, annotations, ports, Service types and
internalTrafficPolicy, volumes and mounts, args, env, probes, security contexts, the HPA, the
PDB and the NetworkPolicies. The API server's own defaults (which the files carry, being read
back) are filled into the stand-in's objects first, and values that differ on every install
(Service IPs) are left out. What the operator derives from the collector configuration is
compared, not the configuration text (the collection keeps changing it): the ConfigMap's data
is not compared, and the configuration hash in names and annotations is compared exactly only
for the resources as the real operator stored them (01), whose configuration is that of 02.

Differences left are listed in ALLOWED with their reason; the test fails on any other, and on a
listed one that is gone (the list stays true).
"""

from __future__ import annotations

import copy
import re

import pytest
import upstream
import yaml
from operator_standin import as_the_operator_runs_it, config_hash
from playbook import render_objects

# What differs, by object "Kind/name" and field path, and why. Empty when the stand-in makes
# exactly what the operator made (after the API server's defaults).
ALLOWED: dict = {}

HASH = "opentelemetry-operator-config/sha256"
VOLATILE_SPEC = ("clusterIP", "clusterIPs")


def documents(name: str) -> list:
    return [d for d in yaml.safe_load_all(upstream.reconciled(name).read_text()) if d]


@pytest.fixture(scope="module")
def golden() -> dict:
    return {(o["kind"], o["metadata"]["name"]): o for o in documents("02-what-the-operator-made.yaml")}


@pytest.fixture(scope="module")
def stored() -> list:
    return [d for d in documents("01-custom-resources-as-stored.yaml") if d["kind"] == "OpenTelemetryCollector"]


@pytest.fixture(scope="module")
def rendered() -> list:
    """site.yml's objects as the collection renders them for inventories/local, on the real manifest."""
    return render_objects("local", f"otel_operator_manifest_src={upstream.operator_manifest()}")


# ---------------------------------------------------------------------------- the API server's defaults
def _probe_defaults(probe: dict) -> dict:
    if not probe:
        return probe
    probe = {"failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1, **probe}
    if "httpGet" in probe:
        probe["httpGet"] = {"scheme": "HTTP", **probe["httpGet"]}
    return probe


def _env_defaults(env: list) -> list:
    result = []
    for given in env:
        var = copy.deepcopy(given)
        source = var.get("valueFrom") or {}
        if "fieldRef" in source:
            source["fieldRef"] = {"apiVersion": "v1", **source["fieldRef"]}
        if "resourceFieldRef" in source:
            source["resourceFieldRef"] = {"divisor": "0", **source["resourceFieldRef"]}
        result.append(var)
    return result


def _pod_defaults(pod: dict) -> dict:
    pod = {
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
        **pod,
    }
    pod["serviceAccount"] = pod["serviceAccountName"]
    for container in pod["containers"]:
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        image = container.get("image", "")
        container.setdefault(
            "imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image else "IfNotPresent"
        )
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")
        container["env"] = _env_defaults(container.get("env") or [])
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(probe):
                container[probe] = _probe_defaults(container[probe])
    for volume in pod.get("volumes") or []:
        for source in ("configMap", "secret"):
            if source in volume:
                volume[source].setdefault("defaultMode", 420)
    return pod


def with_api_defaults(obj: dict) -> dict:
    """The object as the API server stores it: its defaults for what the stand-in leaves unset."""
    obj = copy.deepcopy(obj)
    kind, spec = obj["kind"], obj.get("spec")
    if kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "strategy", {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"}
        )
    if kind == "DaemonSet":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "updateStrategy", {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}
        )
        obj["metadata"].setdefault("annotations", {})["deprecated.daemonset.template.generation"] = "1"
    if kind in ("Deployment", "DaemonSet"):
        spec["template"]["spec"] = _pod_defaults(spec["template"]["spec"])
    if kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec["ports"]:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port["port"])
            if port["targetPort"] == 0:
                port["targetPort"] = port["port"]
    return obj


# ---------------------------------------------------------------------------- comparison
def comparable(obj: dict, exact_hash: bool) -> dict:
    """What is compared of an object: metadata that the operator decides, and its spec (or, for a
    ConfigMap, its name only). Without exact_hash, the configuration hash is replaced by a mark."""
    meta = obj["metadata"]
    owners = [{k: v for k, v in o.items() if k != "uid"} for o in meta.get("ownerReferences") or []]
    result = {
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "labels": meta.get("labels") or {},
            "annotations": meta.get("annotations") or {},
            "ownerReferences": owners,
        }
    }
    for key in ("spec",):
        if key in obj:
            result[key] = {k: v for k, v in obj[key].items() if k not in VOLATILE_SPEC}
    if not exact_hash:
        text = yaml.safe_dump(result, sort_keys=True)
        text = re.sub(r"(-collector-)[0-9a-f]{8}\b", r"\1<hash>", text)
        text = re.sub(rf"({re.escape(HASH)}: )[0-9a-f]{{64}}", r"\1<hash>", text)
        result = yaml.safe_load(text)
    return result


def differences(expected, actual, path: str = "") -> list:
    """Field paths where two values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            found += differences(expected.get(key), actual.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = []
        for index, (one, other) in enumerate(zip(expected, actual)):
            found += differences(one, other, f"{path}[{index}]")
        return found
    return [] if expected == actual else [path]


def made_by_the_standin(collectors: list) -> dict:
    made = {}
    for given in collectors:
        # A stored resource has a uid; the stand-in then sets ownerReferences as the operator does.
        collector = copy.deepcopy(given)
        collector["metadata"]["uid"] = "uid-of-" + collector["metadata"]["name"]
        for obj in as_the_operator_runs_it(collector):
            made[(obj["kind"], obj["metadata"]["name"])] = with_api_defaults(obj)
    return made


def names(objects: dict) -> set:
    """The objects' (kind, name), without ServiceAccounts (the collection's own: compared apart)."""
    return {key for key in objects if key[0] != "ServiceAccount"}


def compare(golden: dict, made: dict, exact_hash: bool) -> dict:
    """ "Kind/name" or "Kind/name field.path" -> what differs."""
    if not exact_hash:  # the ConfigMap's name carries the configuration's hash: compare it as a mark
        golden, made = (
            {(kind, re.sub(r"(-collector-)[0-9a-f]{8}$", r"\1<hash>", name)): o for (kind, name), o in objects.items()}
            for objects in (golden, made)
        )
    found = {}
    for key in sorted(names(golden) - set(made)):
        found[f"{key[0]}/{key[1]}"] = "made by the real operator, not by the stand-in"
    for key in sorted(set(made) - names(golden)):
        found[f"{key[0]}/{key[1]}"] = "made by the stand-in, not by the real operator"
    for key in sorted(names(golden) & set(made)):
        expected, actual = comparable(golden[key], exact_hash), comparable(made[key], exact_hash)
        for path in differences(expected, actual):
            found[f"{key[0]}/{key[1]} {path}"] = "differs"
    return found


def test_the_standin_makes_what_the_operator_made_of_the_rendered_resources(golden, rendered):
    collectors = [o for o in rendered if o["kind"] == "OpenTelemetryCollector"]
    assert sorted(c["metadata"]["name"] for c in collectors) == ["otel-agent", "otel-cluster", "otel-gateway"]
    # The cluster collector came after reconciled/ was read back: the two the real operator reconciled.
    reconciled = [c for c in collectors if c["metadata"]["name"] in ("otel-agent", "otel-gateway")]
    found = compare(golden, made_by_the_standin(reconciled), exact_hash=False)
    assert found == ALLOWED, yaml.safe_dump(found)


def test_the_standin_makes_what_the_operator_made_of_the_resources_it_stored(golden, stored):
    # The real operator's stored resources (its defaults applied): the configuration hash in the
    # ConfigMap names, volumes and Pod annotations must be the operator's, to the byte.
    found = compare(golden, made_by_the_standin(stored), exact_hash=True)
    assert found == ALLOWED, yaml.safe_dump(found)
    for collector in stored:
        name = collector["metadata"]["name"]
        digest = config_hash(collector["spec"]["config"])
        assert ("ConfigMap", f"{name}-collector-{digest[:8]}") in golden


def test_the_service_accounts_are_the_collections(golden, rendered):
    # The operator makes a ServiceAccount only for a resource that names none; the collection names
    # its own (otel.kubernetes.rbac), and those are the ones the real operator's Pods ran with.
    collectors = [o for o in rendered if o["kind"] == "OpenTelemetryCollector"]
    assert not [key for key in made_by_the_standin(collectors) if key[0] == "ServiceAccount"]
    accounts = {k[1]: o["metadata"].get("labels") for k, o in golden.items() if k[0] == "ServiceAccount"}
    ours = {
        o["metadata"]["name"]: o["metadata"].get("labels")
        for o in rendered
        if o["kind"] == "ServiceAccount" and o["metadata"].get("namespace") == "observability"
    }
    managed = {"app.kubernetes.io/managed-by": "otel.kubernetes"}
    assert accounts == {n: managed for n in ("otel-agent", "otel-gateway")}
    # The cluster collector (issue 17) came after reconciled/ was read back; its account is made the same way.
    assert ours == {n: managed for n in ("otel-agent", "otel-cluster", "otel-gateway")}
    assert {c["spec"]["serviceAccount"] for c in collectors} == set(ours)


def test_the_instrumented_pod_sends_to_the_agents_node_local_service(rendered):
    # 03: the real pod webhook gave an instrumented Pod the endpoint of the collection's
    # Instrumentation, which is the agent's base Service as the stand-in makes it: node-local, 4318.
    (pod,) = [d for d in documents("03-instrumented-pod.yaml") if d["kind"] == "Pod"]
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    (instrumentation,) = [o for o in rendered if o["kind"] == "Instrumentation"]
    java = {e["name"]: e.get("value") for e in instrumentation["spec"]["java"]["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == java["OTEL_EXPORTER_OTLP_ENDPOINT"]
    host, port = env["OTEL_EXPORTER_OTLP_ENDPOINT"].removeprefix("http://").rsplit(":", 1)
    name, namespace = host.split(".")[:2]
    (agent,) = [o for o in rendered if o["kind"] == "OpenTelemetryCollector" and o["metadata"]["name"] == "otel-agent"]
    made = made_by_the_standin([agent])
    service = made[("Service", name)]
    assert service["metadata"]["namespace"] == namespace
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    assert service["spec"]["internalTrafficPolicy"] == "Local"
