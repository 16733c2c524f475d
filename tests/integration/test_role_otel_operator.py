"""The otel.kubernetes.otel_operator role through ansible-playbook on the local node (Kubernetes 1.34).

The role installs the operator's REAL v0.158.0 release manifest (read by path from
../shared/upstream, tests/support/upstream.py), exactly as users install the downloaded file:
its four CRDs (the collector's two versions with their conversion webhook, CEL rules), RBAC,
Services, cert-manager objects and webhook configurations (failurePolicy Fail). Only the
manager's image differs (otel_operator_manager_image): the local node's test stand-in
(tools/localnode/operator_manager.py), which serves the probes, the admission webhooks (allow,
no patch) and the conversion webhook with the certificate the role made. So the API server
really calls the webhooks through the CA bundle the role injected: a wrong one makes a
collector fail to apply, with the API server's message.

The tests of this module share one cluster and run in file order; each one that needs the
operator installed installs it when it is missing, and the module removes everything it
made before it starts and when it ends.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import threading
import time
from pathlib import Path

import pytest
import upstream
import yaml
from certificates import self_signed
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError

MANIFEST = upstream.manifest_path()
ROLE = "otel.kubernetes.otel_operator"
PREFIX = f"{ROLE} : "

NS = "opentelemetry-operator-system"
DEPLOYMENT = "opentelemetry-operator-controller-manager"
SERVICE = "opentelemetry-operator-webhook-service"
SECRET = "opentelemetry-operator-controller-manager-service-cert"
CA_SECRET = "opentelemetry-operator-ca"
INJECT = "cert-manager.io/inject-ca-from"
UPSTREAM_URL = (
    "https://github.com/open-telemetry/opentelemetry-operator/releases/download/v0.158.0/opentelemetry-operator.yaml"
)

ADMISSION = "/apis/admissionregistration.k8s.io/v1"
WEBHOOK_CONFIGS = [
    f"{ADMISSION}/mutatingwebhookconfigurations/opentelemetry-operator-mutating-webhook-configuration",
    f"{ADMISSION}/validatingwebhookconfigurations/opentelemetry-operator-validating-webhook-configuration",
]
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
COLLECTORS_CRD = "opentelemetrycollectors.opentelemetry.io"  # the one with a conversion webhook
CRDS = [
    COLLECTORS_CRD,
    "instrumentations.opentelemetry.io",
    "opampbridges.opentelemetry.io",
    "targetallocators.opentelemetry.io",
]
CERT_MANAGER_CRDS = ["issuers.cert-manager.io", "certificates.cert-manager.io"]
CLUSTER_SCOPED = [
    f"/apis/rbac.authorization.k8s.io/v1/clusterroles/opentelemetry-operator-{name}"
    for name in ("manager-role", "metrics-reader", "proxy-role")
] + [
    f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/opentelemetry-operator-{name}"
    for name in ("manager-rolebinding", "proxy-rolebinding")
]
DEPLOYMENT_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments/{DEPLOYMENT}"
SECRET_PATH = f"/api/v1/namespaces/{NS}/secrets/{SECRET}"
CA_SECRET_PATH = f"/api/v1/namespaces/{NS}/secrets/{CA_SECRET}"


# ---------------------------------------------------------------------------- helpers
def role(**variables) -> list:
    """The role as users include it, by FQCN through the collection link, on the release manifest
    (named here, not only by the environment), with the stand-in manager's image."""
    settings = {
        "otel_operator_manifest_src": str(MANIFEST),
        "otel_operator_manager_image": upstream.MANAGER_IMAGE,
        "otel_operator_wait": False,
    }
    settings.update(variables)
    return [{"name": "operator", "ansible.builtin.include_role": {"name": ROLE}, "vars": settings}]


def task(run, name: str) -> dict:
    return run.task(PREFIX + name)


def task_starting(run, start: str) -> dict:
    found = [t for t in run.tasks if t["task"].startswith(PREFIX + start)]
    assert found, f"no task {start!r} in {[t['task'] for t in run.tasks]}"
    return found[0]


def changed_tasks(run) -> list:
    return [t["task"] for t in run.tasks if t.get("changed")]


def ok(run) -> None:
    assert run.rc == 0, (run.tasks[-1].get("msg") if run.tasks else "") or run.stdout[-4000:] + run.stderr[-3000:]


def install(cluster, **variables):
    run = cluster.run(role(**variables))
    ok(run)
    return run


def ensure_installed(cluster) -> None:
    """Installed, and its manager Available (so that the API server can call the webhooks)."""
    deployment = cluster.get(DEPLOYMENT_PATH)
    available = deployment and (deployment.get("status") or {}).get("availableReplicas")
    if not available or cluster.get(SECRET_PATH) is None:
        install(cluster, otel_operator_wait=True, otel_operator_wait_timeout=180)


def operator_task(run) -> dict:
    """The role's one module task (otel.kubernetes.operator) that installs, upgrades or renders."""
    return task_starting(run, "Apply or remove the objects of OpenTelemetry Operator")


def step(run, name: str) -> dict:
    """One step of that task: namespace_applied, cert_manager_objects_removed, webhook_certificate,
    webhook_ca_removed (or, for the removal task, custom_resources_removed and webhook_certificate_removed)."""
    return operator_task(run)[name]


def applied(run) -> list:
    return operator_task(run)["results"]


def pem(secret: dict, key: str = "tls.crt") -> bytes:
    return base64.b64decode(secret["data"][key])


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    public_key = ca.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
            )
        else:
            return False
    except Exception:  # noqa: BLE001 - any verification failure means "not signed by"
        return False
    return cert.issuer == ca.subject


def ca_bundles(cluster) -> dict:
    """Every caBundle the API server would use to call the operator: webhook name -> value."""
    bundles = {}
    for path in WEBHOOK_CONFIGS:
        for hook in cluster.get(path)["webhooks"]:
            bundles[hook["name"]] = hook["clientConfig"].get("caBundle")
    conversion = cluster.get(f"{CRD_PATH}/{COLLECTORS_CRD}")["spec"]["conversion"]
    bundles["conversion of " + COLLECTORS_CRD] = conversion["webhook"]["clientConfig"].get("caBundle")
    return bundles


def annotations(cluster) -> dict:
    paths = [*WEBHOOK_CONFIGS, f"{CRD_PATH}/{COLLECTORS_CRD}"]
    return {path.rsplit("/", 1)[1]: cluster.get(path)["metadata"].get("annotations") or {} for path in paths}


def delete(cluster, path: str) -> None:
    if cluster.get(path) is not None:
        with contextlib.suppress(ApiError):  # gone meanwhile
            cluster.request("DELETE", path)


def wait_gone(cluster, paths: list, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while any(cluster.get(p) is not None for p in paths):
        assert time.monotonic() < deadline, f"still there after {timeout}s: {[p for p in paths if cluster.get(p)]}"
        time.sleep(0.5)


def remove_everything(cluster) -> None:
    """Direct API clean-up (not the role): what this module and the release manifest make."""
    paths = [
        *WEBHOOK_CONFIGS,
        *CLUSTER_SCOPED,
        *(f"{CRD_PATH}/{n}" for n in CRDS + CERT_MANAGER_CRDS),
        f"/api/v1/namespaces/{NS}",
    ]
    for path in paths:
        delete(cluster, path)
    wait_gone(cluster, paths)


@pytest.fixture(scope="module", autouse=True)
def clean_cluster(cluster):
    remove_everything(cluster)
    yield
    remove_everything(cluster)


# ---------------------------------------------------------------------------- tests
def test_defaults_install_the_pinned_upstream_release(cluster):
    # The role's defaults, loaded (import_role exposes them to the play) without running it.
    show = {
        "name": "show",
        "ansible.builtin.debug": {
            "msg": {
                "url": "{{ otel_operator_manifest_url }}",
                "version": "{{ otel_operator_version }}",
                "src": "{{ otel_operator_manifest_src }}",
                "image": "{{ otel_operator_manager_image }}",
                "backend": "{{ otel_operator_cert_backend }}",
                "wait": "{{ otel_operator_wait }}",
            }
        },
    }
    load = {"name": "load the role", "ansible.builtin.import_role": {"name": ROLE}, "when": False}
    # A user's environment without OTEL_OPERATOR_MANIFEST: the release is downloaded.
    run = cluster.run([load, show], env={upstream.ENV: ""})
    ok(run)
    assert run.task("show")["msg"] == {
        "url": UPSTREAM_URL,
        "version": "0.158.0",
        "src": "",
        "image": "",
        "backend": "auto",
        "wait": True,
    }
    # The URL follows the pinned version.
    bumped = cluster.run([load, show], "-e", "otel_operator_version=0.159.0", env={upstream.ENV: ""})
    ok(bumped)
    assert bumped.task("show")["msg"]["url"] == UPSTREAM_URL.replace("v0.158.0", "v0.159.0")
    # OTEL_OPERATOR_MANIFEST names a local copy: it is the default of otel_operator_manifest_src.
    named = cluster.run([load, show], env={upstream.ENV: "/srv/manifests/opentelemetry-operator.yaml"})
    ok(named)
    assert named.task("show")["msg"]["src"] == "/srv/manifests/opentelemetry-operator.yaml"


def test_check_mode_on_a_fresh_cluster_changes_nothing(cluster, tmp_path):
    # The URL path (download into the cache, as with the default upstream URL), served from
    # a file:// URL since nothing can be downloaded here; the checksum is the release's.
    checksum = "sha256:" + upstream.SHA256
    assert hashlib.sha256(MANIFEST.read_bytes()).hexdigest() == upstream.SHA256
    cache = tmp_path / "cache"
    run = cluster.run(
        role(
            otel_operator_manifest_src="",
            otel_operator_manifest_url=MANIFEST.as_uri(),
            otel_operator_manifest_checksum=checksum,
            otel_operator_cache_dir=str(cache),
        ),
        "--check",
    )
    ok(run)
    download = step(run, "manifest")
    assert download["changed"] is True and Path(download["dest"]).parent == cache
    assert Path(download["dest"]).read_bytes() == MANIFEST.read_bytes()
    assert step(run, "webhook_certificate")["skipped"] is True
    results = applied(run)
    assert {r["action"] for r in results} == {"created"}
    kinds = {r["kind"] for r in results}
    assert {
        "Namespace",
        "CustomResourceDefinition",
        "Deployment",
        "Service",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    } <= kinds
    assert not kinds & {"Issuer", "Certificate"}  # cert-manager is not installed: left out
    # The server validated (dry run) what it could: cluster-scoped objects have no note.
    notes = {r["kind"]: r.get("note") for r in results}
    assert notes["ClusterRole"] is None and notes["ValidatingWebhookConfiguration"] is None
    assert "namespace opentelemetry-operator-system is created by this input" in notes["Deployment"]
    # Nothing stored.
    assert cluster.get(f"/api/v1/namespaces/{NS}") is None
    for path in [*WEBHOOK_CONFIGS, *CLUSTER_SCOPED, *(f"{CRD_PATH}/{n}" for n in CRDS)]:
        assert cluster.get(path) is None, path

    # The cached download is used again: not downloaded twice.
    again = cluster.run(
        role(
            otel_operator_manifest_src="",
            otel_operator_manifest_url=MANIFEST.as_uri(),
            otel_operator_manifest_checksum=checksum,
            otel_operator_cache_dir=str(cache),
        ),
        "--check",
    )
    ok(again)
    assert step(again, "manifest")["changed"] is False


def test_bad_manifest_or_missing_cert_manager_fail_before_anything_is_applied(cluster, tmp_path):
    wrong = tmp_path / "wrong-checksum"
    run = cluster.run(
        role(
            otel_operator_manifest_src="",
            otel_operator_manifest_url=MANIFEST.as_uri(),
            otel_operator_manifest_checksum="sha256:" + "0" * 64,
            otel_operator_cache_dir=str(wrong),
        )
    )
    assert run.rc != 0
    assert "checksum" in run.tasks[-1]["msg"].lower()

    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump_all([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}]))
    run = cluster.run(role(otel_operator_manifest_src=str(other)))
    assert run.rc != 0
    msg = run.tasks[-1]["msg"]
    assert "does not look like the OpenTelemetry Operator's release manifest" in msg
    assert f"{NS}/{DEPLOYMENT}" in msg

    run = cluster.run(role(otel_operator_cert_backend="cert_manager"))
    assert run.rc != 0
    assert "cert-manager is not installed" in run.tasks[-1]["msg"]
    assert cluster.get(f"/api/v1/namespaces/{NS}") is None


def test_install_without_cert_manager(cluster):
    first = install(cluster)
    assert step(first, "namespace_applied")["changed"] is True
    certs = step(first, "webhook_certificate")
    assert certs["backend"] == "self_signed"
    assert certs["ca"]["action"] == "issued" and certs["certificates"][0]["action"] == "issued"
    results = applied(first)
    assert {r["action"] for r in results} == {"created"}
    # The Namespace was applied once, before the webhook Secrets, and is listed once.
    assert [r["kind"] for r in results].count("Namespace") == 1 and results[0]["kind"] == "Namespace"

    # cert-manager is not served, and its objects were neither applied nor a failure.
    assert cluster.get("/apis/cert-manager.io/v1") is None
    assert not {r["kind"] for r in results} & {"Issuer", "Certificate"}

    # The CRDs are Established.
    for name in CRDS:
        conditions = {c["type"]: c["status"] for c in cluster.get(f"{CRD_PATH}/{name}")["status"]["conditions"]}
        assert conditions["Established"] == "True"

    # The Secret the controller mounts: kubernetes.io/tls, for the webhook Service's names,
    # signed by the CA whose certificate is in every caBundle.
    secret = cluster.get(SECRET_PATH)
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    mounted = cluster.get(DEPLOYMENT_PATH)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "cert", "secret": {"secretName": SECRET, "defaultMode": 420}} in mounted
    leaf = x509.load_pem_x509_certificate(pem(secret))
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {SERVICE, f"{SERVICE}.{NS}", f"{SERVICE}.{NS}.svc", f"{SERVICE}.{NS}.svc.cluster.local"} <= set(sans)
    ca_secret = cluster.get(CA_SECRET_PATH)
    ca = x509.load_pem_x509_certificate(pem(ca_secret))
    assert signed_by(leaf, ca)
    assert pem(secret, "ca.crt") == pem(ca_secret)

    bundles = ca_bundles(cluster)
    assert len(bundles) == 14  # 5 mutating webhooks, 8 validating webhooks, 1 CRD conversion webhook
    for name, bundle in bundles.items():
        assert bundle is not None, name
        assert base64.b64decode(bundle) == pem(ca_secret), name
    assert bundles["minstrumentation.kb.io"] == certs["ca"]["ca_bundle"]
    # No cert-manager CA injection is asked for any more.
    for name, found in annotations(cluster).items():
        assert INJECT not in found, name

    # Second run: nothing changes, the certificate is kept byte for byte.
    time.sleep(1.1)
    second = cluster.run(role())
    ok(second)
    assert changed_tasks(second) == []
    certs = step(second, "webhook_certificate")
    assert certs["ca"]["action"] == "kept" and certs["certificates"][0]["action"] == "kept"
    assert {r["action"] for r in applied(second)} == {"unchanged"}
    kept = cluster.get(SECRET_PATH)
    assert kept["data"] == secret["data"]
    assert kept["metadata"]["resourceVersion"] == secret["metadata"]["resourceVersion"]
    assert ca_bundles(cluster) == bundles
    # Check mode on the installed operator: nothing would change.
    check = cluster.run(role(), "--check")
    ok(check)
    assert changed_tasks(check) == []
    assert step(check, "webhook_certificate")["ca"]["action"] == "kept"

    # No private key in the output.
    for key in (secret["data"]["tls.key"], ca_secret["data"]["tls.key"]):
        body = base64.b64decode(key).decode().splitlines()[1]  # the first line of the key's base64 body
        for output in (first.stdout + first.stderr, second.stdout + second.stderr):
            assert key not in output and body not in output


def other_ca_bundle() -> str:
    """base64 of a CA certificate that signed nothing the operator serves."""
    return base64.b64encode(self_signed("not the webhook's CA", ca=True)[0]).decode()


def manager_logs(cluster) -> str:
    return cluster.node.kubectl_run("-n", NS, "logs", f"deployment/{DEPLOYMENT}").stdout


def collector_apply(name: str, namespace: str, replicas: int) -> dict:
    """A gateway-like collector applied with otel.kubernetes.apply, retrying an API server error for
    3 s only (a webhook the API server cannot call answers 500, which the client retries)."""
    collector = {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "mode": "deployment",
            "replicas": replicas,
            "config": {
                "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
                "exporters": {"debug": {}},
                "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}},
            },
        },
    }
    return {"name": "collector", "otel.kubernetes.apply": {"definition": [collector], "retry_timeout": 3}}


def test_the_api_server_calls_the_webhooks_through_the_ca_bundle_the_role_injected(cluster, namespace):
    ensure_installed(cluster)
    collector_path = f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/gw"
    ok(cluster.run([collector_apply("gw", namespace, 1)]))
    # The API server called the stand-in's defaulting and validating webhooks for the collector,
    # over TLS, trusting the certificate through the caBundle the role wrote (failurePolicy Fail).
    logs = manager_logs(cluster)
    for hook in ("mutate", "validate"):
        called = (
            f"admission /{hook}-opentelemetry-io-v1beta1-opentelemetrycollector CREATE "
            f"opentelemetry.io/v1beta1 OpenTelemetryCollector {namespace}/gw: allowed"
        )
        assert called in logs, logs[-3000:]

    # Another CA in the validating webhooks' caBundle: the API server cannot trust the webhook's
    # certificate, and the collector is refused with its message.
    validating = cluster.get(WEBHOOK_CONFIGS[1])
    assert {h["failurePolicy"] for h in validating["webhooks"] if "createupdate" in h["name"]} == {"Fail"}
    for hook in validating["webhooks"]:
        hook["clientConfig"]["caBundle"] = other_ca_bundle()
    cluster.request("PUT", WEBHOOK_CONFIGS[1], validating, query={"fieldManager": "someone-else"})
    refused = cluster.run([collector_apply("gw", namespace, 2)])
    assert refused.rc != 0
    message = refused.tasks[-1]["msg"]
    assert 'failed calling webhook "vopentelemetrycollectorcreateupdatebeta.kb.io"' in message, message
    assert "x509" in message and "certificate signed by unknown authority" in message, message
    assert cluster.get(collector_path)["spec"]["replicas"] == 1  # not changed

    # The role's next run names the field and who changed it; with force_conflicts it takes its CA
    # back, and the change goes through.
    conflict = cluster.run(role())
    assert conflict.rc != 0
    assert ".clientConfig.caBundle" in conflict.tasks[-1]["msg"] and '"someone-else"' in conflict.tasks[-1]["msg"]
    repaired = install(cluster, otel_operator_force_conflicts=True)
    assert ("ValidatingWebhookConfiguration", "updated") in {(r["kind"], r["action"]) for r in applied(repaired)}
    ok(cluster.run([collector_apply("gw", namespace, 2)]))
    assert cluster.get(collector_path)["spec"]["replicas"] == 2


def test_the_conversion_webhook_serves_the_collector_as_v1alpha1(cluster, namespace):
    ensure_installed(cluster)
    ok(cluster.run([collector_apply("old-reader", namespace, 1)]))
    # A v1alpha1 read: the API server asks the CRD's conversion webhook (through its caBundle).
    old = cluster.get(f"/apis/opentelemetry.io/v1alpha1/namespaces/{namespace}/opentelemetrycollectors/old-reader")
    assert old["apiVersion"] == "opentelemetry.io/v1alpha1"
    assert isinstance(old["spec"]["config"], str)  # v1alpha1's config is text (YAML; JSON here)
    assert json.loads(old["spec"]["config"])["receivers"] == {
        "otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}
    }
    assert old["spec"]["replicas"] == 1
    assert "conversion of 1 object(s) to opentelemetry.io/v1alpha1: Success" in manager_logs(cluster)


def test_waits_for_the_controller_deployment(cluster):
    ensure_installed(cluster)
    # A manager image that cannot be pulled (the local node pulls nothing, as a mirror without the
    # image): the wait runs out with a message naming the Deployment, the variable and the usual causes.
    run = cluster.run(
        role(
            otel_operator_wait=True,
            otel_operator_wait_timeout=5,
            otel_operator_manager_image="registry.example/opentelemetry-operator:0.158.0",
        )
    )
    assert run.rc != 0
    msg = run.tasks[-1]["msg"]
    assert f"controller Deployment {NS}/{DEPLOYMENT} was not Available within 5 seconds" in msg
    assert "otel_operator_wait_timeout" in msg
    assert "an image that cannot be pulled" in msg
    assert f"Deployment {NS}/{DEPLOYMENT}" in msg
    assert "Traceback" not in run.stdout + run.stderr
    # Only the manager's image was swapped: the rest is the release's Deployment.
    container = cluster.get(DEPLOYMENT_PATH)["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "manager" and container["image"] == "registry.example/opentelemetry-operator:0.158.0"
    assert container["args"] == ["--zap-log-level=info", "--zap-time-encoding=rfc3339nano"]

    # Back to the stand-in: the kubelet starts the Pod, Ready once its /readyz answers (the webhook
    # certificate the role made is mounted), and the role waits for the rollout.
    waited = cluster.run(role(otel_operator_wait=True, otel_operator_wait_timeout=180))
    ok(waited)
    conditions = {c["type"]: c["status"] for c in cluster.get(DEPLOYMENT_PATH)["status"]["conditions"]}
    assert conditions["Available"] == "True"
    pods = cluster.get(f"/api/v1/namespaces/{NS}/pods")["items"]
    running = [p for p in pods if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
    assert running and all(c["ready"] for p in running for c in p["status"]["containerStatuses"])
    assert {c["image"] for p in running for c in p["spec"]["containers"]} == {upstream.MANAGER_IMAGE}


def test_upgrade_to_a_new_pinned_version(cluster, tmp_path):
    ensure_installed(cluster)
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    newer = copy.deepcopy(documents)
    for doc in newer:
        if doc["kind"] == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["args"].append("--feature-gates=+release.0.159.0")
            del container["env"]  # a field the new release no longer sets
        if doc["kind"] == "ClusterRole" and doc["metadata"]["name"] == "opentelemetry-operator-manager-role":
            doc["rules"].append(
                {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]}
            )
    manifest = tmp_path / "opentelemetry-operator-0.159.0.yaml"
    manifest.write_text(yaml.safe_dump_all(newer, sort_keys=False))

    run = cluster.run(
        role(
            otel_operator_version="0.159.0",
            otel_operator_manifest_src=str(manifest),
            otel_operator_wait=True,
            otel_operator_wait_timeout=120,
        )
    )
    ok(run)
    updated = {(r["kind"], r["name"]) for r in applied(run) if r["action"] == "updated"}
    assert updated == {("Deployment", DEPLOYMENT), ("ClusterRole", "opentelemetry-operator-manager-role")}
    container = cluster.get(DEPLOYMENT_PATH)["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][-1] == "--feature-gates=+release.0.159.0"
    assert "env" not in container  # removed by server-side apply: the field manager no longer sets it
    rules = cluster.get(CLUSTER_SCOPED[0])["rules"]
    assert any("ingresses" in r.get("resources", []) for r in rules)
    # The new ReplicaSet rolled out (the role waited for it).
    status = cluster.get(DEPLOYMENT_PATH)["status"]
    assert status["updatedReplicas"] == status["availableReplicas"] == 1

    again = cluster.run(role(otel_operator_version="0.159.0", otel_operator_manifest_src=str(manifest)))
    ok(again)
    assert changed_tasks(again) == []

    # And back to the pinned release, for the tests that follow.
    install(cluster, otel_operator_wait=True, otel_operator_wait_timeout=180)


def test_certificate_renewal_updates_every_ca_bundle(cluster):
    ensure_installed(cluster)
    certs_task = "webhook_certificate"

    # A serving certificate valid for 10 days, with the default CA.
    delete(cluster, SECRET_PATH)
    short = install(cluster, otel_operator_cert_validity_days=10, otel_operator_cert_renew_before_days=5)
    result = step(short, certs_task)
    assert result["ca"]["action"] == "kept" and result["certificates"][0]["action"] == "issued"
    ca_before = cluster.get(CA_SECRET_PATH)["data"]["tls.crt"]
    leaf_before = cluster.get(SECRET_PATH)["data"]["tls.crt"]

    # The default renewal window (30 days) takes it: re-issued by the same CA, caBundles unchanged.
    renewed = install(cluster)
    result = step(renewed, certs_task)
    assert result["ca"]["action"] == "kept"
    assert result["certificates"][0]["action"] == "renewed"
    assert "expire" in result["certificates"][0]["reason"]
    assert cluster.get(SECRET_PATH)["data"]["tls.crt"] != leaf_before
    assert set(ca_bundles(cluster).values()) == {ca_before}

    # A CA valid for 20 days: the default window (30 days) makes it due. Phase 1 of its rotation
    # puts a new CA beside the old one into every caBundle while the old CA still signs (the
    # serving certificate, due too, is renewed by it, up to the old CA's expiry).
    delete(cluster, CA_SECRET_PATH)
    install(
        cluster,
        otel_operator_ca_validity_days=20,
        otel_operator_cert_validity_days=10,
        otel_operator_cert_renew_before_days=5,
    )
    short_ca = cluster.get(CA_SECRET_PATH)["data"]["tls.crt"]
    assert set(ca_bundles(cluster).values()) == {short_ca}

    renewed = install(cluster)
    result = step(renewed, certs_task)
    assert result["ca"]["action"] == "rotating" and "expire" in result["ca"]["reason"]
    assert result["ca"]["rotation_phase"] == "trust"
    assert result["certificates"][0]["action"] == "renewed"
    ca_secret = cluster.get(CA_SECRET_PATH)
    assert ca_secret["data"]["tls.crt"] == short_ca
    both = ca_secret["data"]["ca.crt"]
    assert base64.b64decode(both) == base64.b64decode(short_ca) + base64.b64decode(ca_secret["data"]["next-ca.crt"])
    assert set(ca_bundles(cluster).values()) == {both}
    apply_changes = {(r["kind"], r["action"]) for r in applied(renewed) if r["changed"]}
    assert apply_changes == {
        ("MutatingWebhookConfiguration", "updated"),
        ("ValidatingWebhookConfiguration", "updated"),
        ("CustomResourceDefinition", "updated"),
    }
    leaf = x509.load_pem_x509_certificate(pem(cluster.get(SECRET_PATH)))
    assert signed_by(leaf, x509.load_pem_x509_certificate(base64.b64decode(short_ca)))

    # Within the phase (3900 s by default), a run changes nothing.
    time.sleep(1.1)
    again = cluster.run(role())
    ok(again)
    assert changed_tasks(again) == []


def cert_manager_crd(kind: str, plural: str) -> dict:
    """A test double of a cert-manager CRD (no cert-manager controller runs here)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io",
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def test_with_cert_manager_the_manifest_is_applied_as_released(cluster):
    ensure_installed(cluster)
    cert_manager = [cert_manager_crd("Issuer", "issuers"), cert_manager_crd("Certificate", "certificates")]
    install_crds = cluster.run([{"name": "cert-manager CRDs", "otel.kubernetes.apply": {"definition": cert_manager}}])
    ok(install_crds)
    try:
        run = install(cluster)  # otel_operator_cert_backend: auto
        assert operator_task(run)["backend"] == "cert_manager" and "webhook_certificate" not in operator_task(run)
        kinds = {(r["kind"], r["name"]) for r in applied(run)}
        assert {
            ("Issuer", "opentelemetry-operator-selfsigned-issuer"),
            ("Certificate", "opentelemetry-operator-serving-cert"),
        } <= kinds
        certificate = cluster.get(
            f"/apis/cert-manager.io/v1/namespaces/{NS}/certificates/opentelemetry-operator-serving-cert"
        )
        assert certificate["spec"]["secretName"] == SECRET
        for name, found in annotations(cluster).items():
            assert found.get(INJECT) == f"{NS}/opentelemetry-operator-serving-cert", name
        # The role no longer owns the caBundle fields: cert-manager's CA injector fills them in.
        assert set(ca_bundles(cluster).values()) == {None}
        # Its own CA (and private key) is removed; the serving Secret is cert-manager's now.
        assert step(run, "webhook_ca_removed")["results"][0]["action"] == "deleted"
        assert cluster.get(CA_SECRET_PATH) is None

        # Back to self-signed while cert-manager is still installed: its objects are removed
        # (cert-manager would overwrite the Secret), and the role's CA is back in every caBundle.
        back = install(cluster, otel_operator_cert_backend="self_signed")
        removed = step(back, "cert_manager_objects_removed")
        assert {r["action"] for r in removed["results"]} == {"deleted"}
        assert (
            cluster.get(f"/apis/cert-manager.io/v1/namespaces/{NS}/issuers/opentelemetry-operator-selfsigned-issuer")
            is None
        )
        certs = step(back, "webhook_certificate")
        assert certs["ca"]["action"] == "issued" and certs["certificates"][0]["action"] == "renewed"
        ca = cluster.get(CA_SECRET_PATH)["data"]["tls.crt"]
        assert set(ca_bundles(cluster).values()) == {ca}
        leaf = x509.load_pem_x509_certificate(pem(cluster.get(SECRET_PATH)))
        assert signed_by(leaf, x509.load_pem_x509_certificate(base64.b64decode(ca)))
        for name, found in annotations(cluster).items():
            assert INJECT not in found, name
    finally:
        removal = {"definition": cert_manager, "state": "absent", "wait": True}
        cleanup = cluster.run([{"name": "remove cert-manager CRDs", "otel.kubernetes.apply": removal}])
        ok(cleanup)
    # And with cert-manager gone, auto is self-signed again and nothing changes.
    after = cluster.run(role())
    ok(after)
    assert changed_tasks(after) == []


def test_uninstall_removes_custom_resources_before_crds(cluster, namespace):
    ensure_installed(cluster)
    finalizer = "otel.kubernetes.test/operator-double"
    collector = {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": "gateway", "namespace": namespace, "finalizers": [finalizer]},
        "spec": {
            "mode": "deployment",
            "config": {
                "receivers": {"otlp": {"protocols": {"grpc": {}}}},
                "exporters": {"debug": {}},
                "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}},
            },
        },
    }
    instrumentation = {
        "apiVersion": "opentelemetry.io/v1alpha1",
        "kind": "Instrumentation",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {"exporter": {"endpoint": "http://gateway-collector:4318"}},
    }
    collector_path = f"/apis/opentelemetry.io/v1beta1/namespaces/{namespace}/opentelemetrycollectors/gateway"
    objects = [collector, instrumentation]
    made = cluster.run([{"name": "custom resources", "otel.kubernetes.apply": {"definition": objects}}])
    ok(made)

    # A test double of the running operator: when the collector is being deleted, it notes what
    # still exists (the CRD, the controller), then releases its finalizer.
    seen = {}

    def operator_double():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            live = cluster.get(collector_path)
            if live is None:
                return
            if live["metadata"].get("deletionTimestamp"):
                seen["crd"] = cluster.get(f"{CRD_PATH}/{COLLECTORS_CRD}") is not None
                seen["deployment"] = cluster.get(DEPLOYMENT_PATH) is not None
                seen["webhooks"] = all(cluster.get(p) is not None for p in WEBHOOK_CONFIGS)
                cluster.request(
                    "PATCH", collector_path, {"metadata": {"finalizers": None}}, "application/merge-patch+json"
                )
                return
            time.sleep(0.2)

    thread = threading.Thread(target=operator_double, daemon=True)
    thread.start()
    run = cluster.run(role(otel_operator_state="absent", otel_operator_wait=True, otel_operator_wait_timeout=120))
    thread.join(timeout=10)
    ok(run)
    assert seen == {"crd": True, "deployment": True, "webhooks": True}

    # Custom resources first, and waited for (the double saw the CRD, the controller and the
    # webhooks still there); then the manifest in reverse order. One task does both.
    names = [t["task"] for t in run.tasks if t.get("changed")]
    assert names == [f"{PREFIX}Apply or remove the objects of OpenTelemetry Operator v0.158.0"]
    removal = task(run, "Apply or remove the objects of OpenTelemetry Operator v0.158.0")
    assert removal["custom_resources_removed"]["changed"] is True
    crs = removal["custom_resources_removed"]["results"]
    assert {(r["kind"], r["action"]) for r in crs} == {
        ("OpenTelemetryCollector", "deleted"),
        ("Instrumentation", "deleted"),
    }
    order = [r["kind"] for r in task_starting(run, "Apply or remove the objects of OpenTelemetry Operator")["results"]]
    assert order[:2] == ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] or order[:2] == [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ]
    assert order[-1] == "Namespace"
    assert order.index("Deployment") < order.index("CustomResourceDefinition")
    assert {"Issuer", "Certificate"} <= set(order)  # not served: reported absent, not an error

    assert cluster.get(collector_path) is None
    for name in CRDS:
        assert cluster.get(f"{CRD_PATH}/{name}") is None, name
    for path in [*WEBHOOK_CONFIGS, *CLUSTER_SCOPED]:
        assert cluster.get(path) is None, path
    operator_ns = cluster.get(f"/api/v1/namespaces/{NS}")
    assert operator_ns is None or operator_ns["status"]["phase"] == "Terminating"

    again = cluster.run(role(otel_operator_state="absent"))
    ok(again)
    assert changed_tasks(again) == []
