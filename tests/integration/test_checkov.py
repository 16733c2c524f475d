"""checkov finds nothing in what the collection renders, nor in the workloads made from its collectors.

Two kinds of manifests are scanned with checkov (tests/support/scanner.py), every Kubernetes
check, and must have no failed check; a check that cannot pass is skipped by an annotation in
the manifest, with its reason, and the reasons are asserted here:

- the render directory of playbooks/render.yml, for inventories/local and inventories/seed
  (the operator's objects are its real v0.158.0 release manifest in both, read from
  OTEL_OPERATOR_MANIFEST). The collection's own objects have no failed check; the operator's
  controller Deployment fails exactly UPSTREAM_OPERATOR_FINDINGS, choices of upstream's
  manifest that the collection applies as published (it adds only the restricted
  securityContext);
- the objects the operator makes of the gateway and the agent (workloads, ConfigMaps, Services,
  NetworkPolicies, PodDisruptionBudget). The operator's manager is a stand-in here that
  reconciles nothing, so they are made from the OpenTelemetryCollector resources the roles
  stored, the way the operator makes them (tests/support/operator_standin.py, held to the real
  operator's output by tests/unit/support/test_operator_standin.py), applied, and read back
  FROM THE CLUSTER before the scan (the API server's defaults included).

The same render directories are searched for private key material: every tls.key of the
cluster's TLS Secrets, service-account tokens, the kubeconfig's client key, a token given to
the run in K8S_AUTH_API_KEY, and anything that looks like a PEM private key or a tls.key field.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from key_material import key_material, kubeconfig_material, scan_directory
from operator_install import ensure_operator
from operator_standin import apply, as_the_operator_runs_it
from pipeline import host_namespace, pipeline_settings
from playbook import render
from scanner import scan

from ansible_collections.otel.kubernetes.plugins.module_utils.collector._render import SCAN_SUPPRESSIONS

OPERATOR_DEPLOYMENT = "Deployment.opentelemetry-operator-system.opentelemetry-operator-controller-manager"
# What checkov finds in the operator's release Deployment, as upstream publishes it.
UPSTREAM_OPERATOR_FINDINGS = {
    "CKV_K8S_11": "no CPU limit (upstream sets requests only)",
    "CKV_K8S_13": "no memory limit (upstream sets requests only)",
    "CKV_K8S_15": "no imagePullPolicy Always (a release tag)",
    "CKV_K8S_22": "no readOnlyRootFilesystem",
    "CKV_K8S_38": "the service account token is mounted: the manager talks to the API server",
    "CKV_K8S_40": "no runAsUser in the manifest (the image's user is 65532)",
    "CKV_K8S_43": "the image by release tag, not digest",
    "CKV2_K8S_6": "no NetworkPolicy for the manager's Pod",
}
ROLES = ("otel_certificates", "otel_gateway", "otel_agent", "otel_cluster")
# The workloads exist to be read back, not to run: a node selector no node has keeps their Pods
# unscheduled, so the agent's host ports stay free for the other tests on the shared node.
NOWHERE = {"otel.test/scan-only": "true"}
# Fields the API server adds that are state, not the manifest.
SERVER_STATE = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")
REASON = dict(SCAN_SUPPRESSIONS.values())
PLANTED_TOKEN = "otel-test-token-" + uuid.uuid4().hex  # nosec B105 - a made-up token, looked for in the output


def skips(result, resource_prefix: str) -> dict:
    """check id -> reason, for the skipped checks of the resources whose id starts with `resource_prefix`."""
    return {check: reason for check, resource, reason in result.skipped if resource.startswith(resource_prefix)}


@pytest.mark.parametrize("inventory", ["local", "seed"])
def test_the_render_directory_passes_checkov(inventory, tmp_path):
    files = render(inventory, tmp_path)
    result = scan(tmp_path)
    print(f"\nrender {inventory}: {len(files)} files; {result.line()}")
    assert result.summary["parsing_errors"] == 0
    assert result.summary["resource_count"] >= len(files) - 3  # the CRs checkov does not model
    assert result.summary["passed"] > 100
    # The only workload rendered is the operator's release Deployment: what checkov finds there is
    # upstream's manifest, exactly these checks, on it and its Pod only; nothing of the collection's.
    findings = {(check, resource.split(".")[0]) for check, resource, _name, _file in result.failed}
    expected = {(c, "Pod" if c.startswith("CKV2_") else "Deployment") for c in UPSTREAM_OPERATOR_FINDINGS}
    assert findings == expected, "\n".join(map(str, result.failed))
    assert all(
        resource.startswith((OPERATOR_DEPLOYMENT, "Pod.opentelemetry-operator-system.opentelemetry-operator-"))
        for _check, resource, _name, _file in result.failed
    ), result.failed
    assert result.skipped == []
    # What the role adds to it (the restricted securityContext) passes.
    passed = {check for check, resource in result.passed if resource == OPERATOR_DEPLOYMENT}
    assert {"CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37"} <= passed


@pytest.fixture(scope="module")
def pipeline(cluster):
    """Certificates, gateway, agent (container logs and host metrics on: its host collector too) and cluster
    collector deployed by the roles into namespaces of their own."""
    ensure_operator(cluster)  # its real CRD and webhooks judge what the roles store
    namespace = "t-scan-" + uuid.uuid4().hex[:6]
    settings = pipeline_settings(
        namespace,
        otel_gateway_replicas=1,
        otel_gateway_autoscaler={},
        otel_gateway_node_selector=NOWHERE,
        otel_agent_node_selector=NOWHERE,
        otel_cluster_node_selector=NOWHERE,
        otel_agent_container_logs=True,
        otel_agent_host_metrics=True,
    )
    tasks = [{"name": role, "ansible.builtin.include_role": {"name": f"otel.kubernetes.{role}"}} for role in ROLES]
    run = cluster.run(tasks, vars=settings)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    yield namespace
    cluster.node.kubectl_run("delete", "namespace", namespace, host_namespace(namespace), "--wait=false")


def read_back(cluster, obj: dict) -> dict:
    """The object as the API server stores it, without its state."""
    api = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
    plural = {
        "Deployment": "deployments",
        "DaemonSet": "daemonsets",
        "ConfigMap": "configmaps",
        "Service": "services",
        "NetworkPolicy": "networkpolicies",
        "PodDisruptionBudget": "poddisruptionbudgets",
    }
    meta = obj["metadata"]
    stored = cluster.get(f"{api}/namespaces/{meta['namespace']}/{plural[obj['kind']]}/{meta['name']}")
    assert stored is not None, f"{obj['kind']} {meta['name']} is not in the cluster"
    stored.pop("status", None)
    for field in SERVER_STATE:
        stored["metadata"].pop(field, None)
    stored["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return stored


def test_the_workloads_made_from_the_stored_collectors_pass_checkov(cluster, pipeline, tmp_path):
    namespace = pipeline
    host = host_namespace(namespace)
    collectors = [
        cluster.get(f"/apis/opentelemetry.io/v1beta1/namespaces/{where}/opentelemetrycollectors/{name}")
        for where, name in (
            (namespace, "otel-gateway"),
            (namespace, "otel-agent"),
            (host, "otel-agent-host"),
            (namespace, "otel-cluster"),
        )
    ]
    made = [o for c in collectors for o in as_the_operator_runs_it(c)]
    apply(cluster.node, made)
    for obj in made:
        stored = read_back(cluster, obj)
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (tmp_path / name).write_text(yaml.safe_dump(stored, sort_keys=False))
    kinds = sorted(yaml.safe_load(p.read_text())["kind"] for p in Path(tmp_path).glob("*.yaml"))
    # Per collector: the workload, its ConfigMap and NetworkPolicy; four Services for the gateway and the
    # agent (OTLP receivers), two (monitoring and extension) for the host and cluster collectors, which
    # receive nothing; a PDB for each Deployment (the gateway's autoscaler is off here: no HPA).
    each = ["ConfigMap", "NetworkPolicy"]
    assert kinds == sorted(
        [*each, "Deployment", "PodDisruptionBudget", *["Service"] * 4]  # gateway
        + [*each, "DaemonSet", *["Service"] * 4]  # agent
        + [*each, "DaemonSet", *["Service"] * 2]  # the agent's host collector
        + [*each, "Deployment", "PodDisruptionBudget", *["Service"] * 2]  # cluster collector
    )

    result = scan(tmp_path)
    print(f"\nworkloads from the cluster ({namespace}): {result.line()}")
    assert result.summary["parsing_errors"] == 0
    assert result.summary["resource_count"] == len(kinds) + 4  # and the Pod of each workload's template
    assert not result.failed, "\n".join(map(str, result.failed))
    gateway = f"Deployment.{namespace}.otel-gateway-collector"
    agent = f"DaemonSet.{namespace}.otel-agent-collector"
    cluster_collector = f"Deployment.{namespace}.otel-cluster-collector"
    host_collector = f"DaemonSet.{host}.otel-agent-host-collector"
    # Exactly the collection's reasons, carried from the collectors' annotations by the stand-in
    # the way the operator carries them; no host-port skip: the agent opens none by default.
    usual = {c: REASON[c] for c in ("CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_38")}
    for workload in (gateway, agent, cluster_collector):
        assert skips(result, workload) == usual, workload
    # The host collector reads the host's files as root: those two checks cannot pass, and say why.
    assert skips(result, host_collector) == {
        **usual,
        "CKV_K8S_23": REASON["CKV_K8S_23"],
        "CKV_K8S_40": REASON["CKV_K8S_40"],
    }
    # The Pods of the templates: the NetworkPolicy check, skipped through the template's annotations.
    pods = {resource for check, resource, _reason in result.skipped if check == "CKV2_K8S_6"}
    assert len(pods) == 4 and all(p.startswith((f"Pod.{namespace}.otel-", f"Pod.{host}.otel-")) for p in pods), pods
    # The probes come from the health_check extension the roles configure; the non-root checks pass but
    # for the host collector.
    for workload in (gateway, agent, cluster_collector, host_collector):
        passed = {check for check, resource in result.passed if resource == workload}
        assert {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_20", "CKV_K8S_22"} <= passed, workload
        if workload != host_collector:
            assert {"CKV_K8S_23", "CKV_K8S_40"} <= passed, workload


@pytest.fixture(scope="module")
def certificates(cluster):
    """The pipeline's CA, gateway and agent keys, made by otel_certificates in a namespace of their own."""
    namespace = "t-keys-" + uuid.uuid4().hex[:6]
    task = {"name": "certificates", "ansible.builtin.include_role": {"name": "otel.kubernetes.otel_certificates"}}
    run = cluster.run([task], vars=pipeline_settings(namespace))
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    yield namespace
    cluster.node.kubectl_run("delete", "namespace", namespace, "--wait=false")


@pytest.mark.parametrize("inventory", ["local", "seed"])
def test_no_key_material_in_the_render_directory(cluster, certificates, inventory, tmp_path):
    material = {
        **key_material(cluster.node),
        **kubeconfig_material(cluster.node.admin_kubeconfig),
        "the token given in K8S_AUTH_API_KEY": PLANTED_TOKEN,
    }
    # The pipeline's CA, gateway and agent keys at least: the search looks for real keys.
    keys = [name for name in material if name.startswith(f"{certificates}/") and name.endswith("tls.key base64")]
    assert len(keys) >= 3, sorted(material)
    files = render(inventory, tmp_path, env={"K8S_AUTH_API_KEY": PLANTED_TOKEN})
    assert len(files) > 20
    hits = scan_directory(tmp_path, material)
    assert not hits, f"key material in the render directory: {hits}"
