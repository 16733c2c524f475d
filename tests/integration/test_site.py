"""playbooks/site.yml and render.yml on the local node, cleared first of everything this project made."""

from __future__ import annotations

import subprocess
import time

import pytest
import yaml
from key_material import found_in, key_material
from playbook import ROOT, run_playbook

from ansible_collections.otel.kubernetes.plugins.module_utils.connection import KubeClient, resolve_connection
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OUR_GROUPS = ("opentelemetry.io", "monitoring.coreos.com", "cert-manager.io")


@pytest.fixture(scope="module")
def fresh(cluster):
    """The node with nothing of this project on it: uninstall.yml, then what other tests added by hand."""
    run = site(cluster.node, playbook="uninstall.yml")
    assert run.rc == 0, [t for t in run.tasks if t.get("failed")][:1] or run.stderr[-3000:]
    ours = [c["metadata"]["name"] for c in cluster.get(CRDS)["items"] if c["spec"]["group"] in OUR_GROUPS]
    for name in ours:
        cluster.request("DELETE", f"{CRDS}/{name}")
    deadline = time.monotonic() + 120
    while any(cluster.get(f"{CRDS}/{name}") for name in ours):
        assert time.monotonic() < deadline, f"CRDs still there: {ours}"
        time.sleep(0.5)
    return cluster.node


def exists(plane, path: str) -> bool:
    client = KubeClient(resolve_connection({"kubeconfig": str(plane.admin_kubeconfig)}))
    try:
        client.request("GET", path)
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def site(plane, *args, playbook="site.yml", env=None):
    env = {"K8S_AUTH_KUBECONFIG": str(plane.admin_kubeconfig), "KUBECONFIG": str(plane.admin_kubeconfig), **(env or {})}
    return run_playbook(ROOT / "playbooks" / playbook, "-i", str(ROOT / "inventories" / "local"), *args, env=env)


def test_check_mode_on_a_fresh_cluster_changes_nothing(fresh):
    run = site(fresh, "--check")
    failed = [t for t in run.tasks if t.get("failed")]
    assert run.rc == 0, failed[:1] or run.stderr[-3000:]
    assert not exists(fresh, "/api/v1/namespaces/observability")
    assert not exists(fresh, "/api/v1/namespaces/opentelemetry-operator-system")
    assert not exists(
        fresh, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/opentelemetrycollectors.opentelemetry.io"
    )


def test_converge_then_rerun_changes_nothing(fresh):
    first = site(fresh)
    assert first.rc == 0, [t for t in first.tasks if t.get("failed")][:1] or first.stderr[-3000:]
    assert exists(fresh, "/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors/otel-gateway")
    second = site(fresh)
    assert second.rc == 0
    changed = [t["task"] for t in second.tasks if t.get("changed")]
    assert changed == [], changed


def test_no_private_key_in_a_verbose_run_with_diff(fresh):
    # As a user runs it: the default output, -vvv, --diff; certificates (re)issued first.
    env = {"ANSIBLE_STDOUT_CALLBACK": "default"}
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


def test_render_output_applies_with_kubectl_server_dry_run(fresh, tmp_path):
    out = tmp_path / "rendered"
    run = site(fresh, "-e", f"otel_render_dir={out}", playbook="render.yml")
    assert run.rc == 0, [t for t in run.tasks if t.get("failed")][:1] or run.stderr[-3000:]
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
