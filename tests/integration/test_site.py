"""playbooks/site.yml and render.yml on the local node, cleared first of everything this project made."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from key_material import found_in, key_material, kubeconfig_material, scan_directory
from site_runs import clear, exists, first_failure, site

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.pod_security import namespace_labels


@pytest.fixture(scope="module")
def fresh(cluster):
    """The node with nothing of this project on it."""
    clear(cluster)
    return cluster.node


def test_check_mode_on_a_fresh_cluster_changes_nothing(fresh):
    run = site(fresh, "--check")
    assert run.rc == 0, first_failure(run)
    assert not exists(fresh, "/api/v1/namespaces/observability")
    assert not exists(fresh, "/api/v1/namespaces/opentelemetry-operator-system")
    assert not exists(
        fresh, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/opentelemetrycollectors.opentelemetry.io"
    )


def test_converge_then_rerun_changes_nothing(fresh):
    first = site(fresh)
    assert first.rc == 0, first_failure(first)
    assert exists(fresh, "/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors/otel-gateway")
    # Every namespace site.yml applies is at the restricted Pod Security level, and the operator's
    # controller Pod (the release's Deployment, the stand-in manager) was admitted there and is
    # Ready (the role waited for it).
    client = KubeClient(resolve_connection({"kubeconfig": str(fresh.admin_kubeconfig)}))
    for namespace in ("observability", "opentelemetry-operator-system"):
        labels = client.request("GET", f"/api/v1/namespaces/{namespace}").data["metadata"]["labels"]
        assert {k: v for k, v in labels.items() if k.startswith("pod-security.")} == namespace_labels("restricted")
    pods = client.request("GET", "/api/v1/namespaces/opentelemetry-operator-system/pods").data["items"]
    assert pods and all(
        any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])) for p in pods
    ), [p["status"] for p in pods]
    # The local node has no metrics-server: the summary says the gateway's autoscaler cannot work.
    summary = first.task("Summary of the deployed pipeline")["msg"]
    (gateway,) = [line for line in summary if line.startswith("collector observability/otel-gateway:")]
    assert "autoscaler 2..10 INACTIVE (the cluster does not serve metrics.k8s.io" in gateway, summary
    assert "install metrics-server, or set otel_gateway_autoscaler: {}" in gateway
    second = site(fresh)
    assert second.rc == 0
    changed = [t["task"] for t in second.tasks if t.get("changed")]
    assert changed == [], changed


def test_no_private_key_in_a_verbose_run_with_diff(fresh, tmp_path):
    # As a user runs it: the default output, -vvv, --diff; certificates (re)issued first. Their
    # own temporary directory is searched too: every module run had left the kubeconfig's
    # client key there.
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {"ANSIBLE_STDOUT_CALLBACK": "default", "TMPDIR": str(temp)}
    renew = ("-e", "otel_certificates_validity_days=400", "-e", "otel_certificates_renew_before_days=399")
    runs = [site(fresh, "-vvv", "--diff", *renew, env=env)]
    runs.append(site(fresh, "-vvv", "--diff", env=env))
    secrets = key_material(fresh)
    tls_keys = [k for k in secrets if k.endswith("tls.key base64")]
    assert len(tls_keys) >= 3, sorted(secrets)  # CA, gateway, agent at least
    for run in runs:
        assert run.rc == 0, run.stdout[-3000:]
        output = run.stdout + run.stderr
        leaked = found_in(output, secrets)
        assert not leaked, f"private key material in the output: {leaked}"
    left = scan_directory(temp, {**secrets, **kubeconfig_material(fresh.admin_kubeconfig)})
    assert not left, f"private key material left in TMPDIR: {left}"


def test_render_output_applies_with_kubectl_server_dry_run(fresh, tmp_path):
    out = tmp_path / "rendered"
    run = site(fresh, "-e", f"otel_render_dir={out}", playbook="render.yml")
    assert run.rc == 0, first_failure(run)
    files = sorted(out.glob("*.yaml"))
    assert len(files) > 10
    kinds = {f.name.split("-")[1] for f in files}
    assert {"opentelemetrycollector", "instrumentation", "customresourcedefinition"} <= kinds
    assert "secret" not in kinds  # TLS is rendered as cert-manager objects: no private key in Git
    kubectl = fresh.kubectl  # the node's own, same version as the API server
    # cert-manager is not installed here: its objects are checked by the modules, not by this server.
    applicable = [f for f in files if not yaml.safe_load(f.read_text())["apiVersion"].startswith("cert-manager.io/")]
    # --force-conflicts: after the converge test, site.yml's field manager owns these objects with the
    # values of a real install (CA bundles injected); this test checks that the server accepts the
    # rendered objects, not who owns their fields.
    base = [
        kubectl,
        "--kubeconfig",
        str(fresh.admin_kubeconfig),
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager",
        "render-check",
    ]
    # A server dry run cannot create what later objects need (namespaces, CRDs): those go first, for real.
    first = [f for f in applicable if f.name.split("-")[1] in ("namespace", "customresourcedefinition")]
    done = subprocess.run(
        base + [arg for f in first for arg in ("-f", str(f))], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run(
        base + ["--dry-run=server"] + [arg for f in applicable for arg in ("-f", str(f))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("serverside-applied") == len(applicable)
