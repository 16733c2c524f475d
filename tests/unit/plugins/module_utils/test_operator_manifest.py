"""The operator role's computation (operator_manifest), without a cluster: the release manifest's
checks and patches on the operator's REAL v0.158.0 release manifest (read by path from
../shared/upstream, tests/support/upstream.py: the tests fail naming it when it is missing), the
download cache, and the order of the runner's steps (the engine, the certs module_utils and the
cluster are in tests/integration)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
import upstream
import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils import operator_manifest as om
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import Resource
from ansible_collections.otel.kubernetes.plugins.module_utils.engine import ApplyOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError

ROOT = Path(__file__).resolve().parents[4]
NS = "opentelemetry-operator-system"
DEPLOYMENT = "opentelemetry-operator-controller-manager"
INJECT = "cert-manager.io/inject-ca-from"
BUNDLE = "QUJDCg=="


@pytest.fixture(scope="module")
def release_documents():
    return om.load_manifest(str(upstream.operator_manifest()))


@pytest.fixture
def documents(release_documents):
    return copy.deepcopy(release_documents)


def options(**given) -> om.OperatorOptions:
    settings = {"version": "0.158.0", "manifest_src": str(upstream.manifest_path())}
    settings["variable_prefix"] = "otel_operator_"
    settings.update(given)
    return om.OperatorOptions(**settings)


def of_kind(objects: list, kind: str) -> list:
    return [o for o in objects if o["kind"] == kind]


# ---------------------------------------------------------------------------- options
def test_options_from_module_params_name_the_role_variables():
    params = {"version": "0.158.0", "manifest_url": "https://example.com/m.yaml", "wait": True, "manifest_src": None}
    made = om.OperatorOptions.from_params({**params, "variable_prefix": "otel_operator_"})
    assert made.manifest_url == "https://example.com/m.yaml" and made.manifest_src == ""
    assert made.name("wait_timeout") == "otel_operator_wait_timeout"
    assert om.OperatorOptions.from_params(params).name("wait_timeout") == "wait_timeout"


@pytest.mark.parametrize(
    "given, fragments",
    [
        (
            {"cert_renew_before_days": 400},
            [
                "otel_operator_cert_renew_before_days (400) must be at least 0 and less than",
                "otel_operator_cert_validity_days (365)",
                "renewed on every run",
            ],
        ),
        ({"cert_renew_before_days": -1}, ["otel_operator_cert_renew_before_days (-1)"]),
        ({"manifest_src": "", "manifest_url": ""}, ["Set otel_operator_manifest_url", "or otel_operator_manifest_src"]),
        ({"cert_backend": "vault"}, ["otel_operator_cert_backend", "'vault'", "auto, cert_manager, self_signed"]),
    ],
)
def test_bad_options_are_refused_with_the_variable_and_the_fix(given, fragments):
    with pytest.raises(OtelK8sError) as raised:
        options(**given).check()
    for fragment in fragments:
        assert fragment in raised.value.message


def test_certs_request_is_the_webhook_service_certificate():
    params = options(webhook_service="s" * 70, cert_validity_days=10, ca_validity_days=20).certs_params()
    assert params["ca"] == {"secret_name": "opentelemetry-operator-ca", "validity_days": 20}
    (leaf,) = params["certificates"]
    assert leaf["common_name"] == "s" * 64 and leaf["services"] == ["s" * 70]
    assert leaf["secret_name"] == "opentelemetry-operator-controller-manager-service-cert"
    assert leaf["usage"] == "server" and leaf["validity_days"] == 10
    assert params["backend"] == "self_signed" and params["prefix"] == "opentelemetry-operator"


# ---------------------------------------------------------------------------- manifest source
def test_missing_local_manifest_is_refused_by_name():
    with pytest.raises(OtelK8sError) as raised:
        om.fetch_manifest(options(manifest_src="/nonexistent/operator.yaml"))
    message = raised.value.message
    assert "otel_operator_manifest_src is /nonexistent/operator.yaml, which is not a file on this host" in message
    assert "(its default is the environment variable OTEL_OPERATOR_MANIFEST)" in message
    assert "leave it empty to download otel_operator_manifest_url" in message
    # The module alone (no role prefix) has no environment default to mention.
    with pytest.raises(OtelK8sError) as raised:
        om.fetch_manifest(options(manifest_src="/nonexistent/operator.yaml", variable_prefix=""))
    assert "environment" not in raised.value.message


def served_file(tmp_path) -> Path:
    """A file to download from (a file:// URL: nothing is downloaded from the network here)."""
    served = tmp_path / "served" / "opentelemetry-operator.yaml"
    served.parent.mkdir()
    served.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: opentelemetry-operator-system\n")
    return served


def test_download_is_cached_per_version_and_url(tmp_path):
    source = served_file(tmp_path)
    url = source.as_uri()
    cache = tmp_path / "cache"
    checksum = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    settings = {"manifest_src": "", "manifest_url": url, "manifest_checksum": checksum, "cache_dir": str(cache)}
    first = om.fetch_manifest(options(**settings))
    # The name the role's downloads always had: a cache filled before is used again.
    expected = cache / f"opentelemetry-operator-v0.158.0-{hashlib.sha256(url.encode()).hexdigest()[:12]}.yaml"
    assert first == {"path": str(expected), "dest": str(expected), "url": url, "changed": True}
    assert expected.read_bytes() == source.read_bytes()
    assert expected.stat().st_mode & 0o777 == 0o644
    assert om.fetch_manifest(options(**settings))["changed"] is False
    # A cached file that does not match the checksum is downloaded again.
    expected.write_text("tampered")
    assert om.fetch_manifest(options(**settings))["changed"] is True
    assert expected.read_bytes() == source.read_bytes()
    assert [p.name for p in cache.iterdir()] == [expected.name]  # no temporary file left


def test_download_with_a_wrong_checksum_fails_and_is_not_kept(tmp_path):
    settings = {
        "manifest_src": "",
        "manifest_url": served_file(tmp_path).as_uri(),
        "manifest_checksum": "sha256:" + "0" * 64,
        "cache_dir": str(tmp_path / "cache"),
    }
    with pytest.raises(OtelK8sError) as raised:
        om.fetch_manifest(options(**settings))
    assert "otel_operator_manifest_checksum: the checksum of" in raised.value.message
    assert list((tmp_path / "cache").iterdir()) == []
    with pytest.raises(OtelK8sError) as raised:
        om.fetch_manifest(options(**{**settings, "manifest_checksum": "nonsense"}))
    assert "<algorithm>:<hex digest>" in raised.value.message


def test_download_failure_names_the_url_and_the_local_alternative(tmp_path):
    missing = (tmp_path / "nowhere.yaml").as_uri()
    with pytest.raises(OtelK8sError) as raised:
        om.fetch_manifest(options(manifest_src="", manifest_url=missing, cache_dir=str(tmp_path / "cache")))
    assert f"otel_operator_manifest_url: {missing} could not be downloaded" in raised.value.message
    assert "otel_operator_manifest_src to a local copy" in raised.value.message


# ---------------------------------------------------------------------------- the manifest's shape
def test_the_release_is_the_operators_manifest(documents):
    om.check_manifest(documents, options())
    assert [d["metadata"]["name"] for d in om.crds(documents)] == [
        "instrumentations.opentelemetry.io",
        "opampbridges.opentelemetry.io",
        "opentelemetrycollectors.opentelemetry.io",
        "targetallocators.opentelemetry.io",
    ]
    assert [d["kind"] for d in om.cert_manager_documents(documents)] == ["Certificate", "Issuer"]


def test_another_manifest_is_refused_with_what_was_found(documents):
    only_namespace = [d for d in documents if d["kind"] == "Namespace"]
    with pytest.raises(OtelK8sError) as raised:
        om.check_manifest(only_namespace, options())
    message = raised.value.message
    assert message.startswith(f"{upstream.manifest_path()} does not look like the OpenTelemetry Operator's release")
    assert f"the Deployment {NS}/{DEPLOYMENT} (found: 0)" in message
    assert "Set otel_operator_namespace, otel_operator_deployment" in message

    # Webhooks calling another Service, and a Deployment that does not mount the Secret.
    for doc in documents:
        if doc["kind"] == "ValidatingWebhookConfiguration":
            doc["webhooks"][0]["clientConfig"]["service"]["name"] = "elsewhere"
    with pytest.raises(OtelK8sError) as raised:
        om.check_manifest(documents, options(webhook_cert_secret="other-secret"))
    message = raised.value.message
    assert f"{NS}/elsewhere" in message and "mounting the Secret other-secret" in message


# ---------------------------------------------------------------------------- patches
def test_restricted_gives_the_controller_pod_what_upstream_leaves_out(documents):
    before = json.dumps(documents)
    (published,) = of_kind(documents, "Deployment")
    assert "securityContext" not in published["spec"]["template"]["spec"]  # upstream sets none
    release = om.release_documents(documents, options())
    (deployment,) = of_kind(release, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert list(pod)[-1] == "securityContext"  # added last, as the role's output always had it
    assert json.dumps(documents) == before  # the input is not changed

    baseline = om.release_documents(documents, options(pod_security="baseline"))
    assert of_kind(baseline, "Deployment")[0] is published  # as published, not even copied


def test_the_manifests_own_security_values_win(documents):
    (deployment,) = of_kind(documents, "Deployment")
    deployment["spec"]["template"]["spec"]["securityContext"] = {"runAsNonRoot": False, "runAsUser": 1000}
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"capabilities": {"add": ["X"]}}
    (hardened,) = of_kind(om.release_documents(documents, options()), "Deployment")
    pod = hardened["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": False,
        "seccompProfile": {"type": "RuntimeDefault"},
        "runAsUser": 1000,
    }
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"], "add": ["X"]},
    }


def test_manager_image_replaces_only_the_managers_image(documents):
    mirror = "mirror.example/opentelemetry-operator:0.158.0"
    before = json.dumps(documents)
    for level in ("restricted", "baseline"):
        release = om.release_documents(documents, options(manager_image=mirror, pod_security=level))
        (deployment,) = of_kind(release, "Deployment")
        (published,) = of_kind(documents, "Deployment")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["name"] == "manager" and container["image"] == mirror
        # Nothing else of the Deployment differs (but the restricted securityContext).
        unchanged = copy.deepcopy(deployment)
        unchanged["spec"]["template"]["spec"]["containers"][0]["image"] = published["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        if level == "restricted":
            unchanged["spec"]["template"]["spec"].pop("securityContext")
            unchanged["spec"]["template"]["spec"]["containers"][0].pop("securityContext")
        assert unchanged == published
        assert [d for d in release if d["kind"] != "Deployment"] == [d for d in documents if d["kind"] != "Deployment"]
    assert json.dumps(documents) == before
    # Rendered alike.
    (rendered,) = of_kind(om.render(documents, options(manager_image=mirror)), "Deployment")
    assert rendered["spec"]["template"]["spec"]["containers"][0]["image"] == mirror
    # Without it: the release's image.
    (kept,) = of_kind(om.release_documents(documents, options()), "Deployment")
    image = kept["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/open-telemetry/opentelemetry-operator/opentelemetry-operator:0.158.0"


def test_manager_image_without_a_manager_container_is_refused_naming_the_variable(documents):
    (deployment,) = of_kind(documents, "Deployment")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    containers[0]["name"] = "controller"
    om.check_manifest(documents, options(manager_image="mirror.example/x:1"))  # the only container: that one
    containers.append({"name": "proxy", "image": "proxy:1"})
    om.check_manifest(documents, options())  # not asked to replace anything: fine
    with pytest.raises(OtelK8sError) as raised:
        om.check_manifest(documents, options(manager_image="mirror.example/x:1"))
    message = raised.value.message
    assert "otel_operator_manager_image is 'mirror.example/x:1'" in message
    assert "no container named 'manager'" in message and "(controller, proxy)" in message
    assert "Leave otel_operator_manager_image empty" in message


def test_without_cert_manager_the_roles_ca_is_in_every_ca_bundle(documents):
    before = json.dumps(documents)
    objects = om.applied_objects(documents, cert_manager=False, ca_bundle=BUNDLE)
    assert json.dumps(documents) == before
    assert not [o for o in objects if o["apiVersion"].startswith("cert-manager.io/")]
    assert len(objects) == len(documents) - 2
    hooks = [h for o in objects if o["kind"].endswith("WebhookConfiguration") for h in o["webhooks"]]
    assert len(hooks) == 13  # 5 mutating, 8 validating
    assert {h["clientConfig"]["caBundle"] for h in hooks} == {BUNDLE}
    assert all(rule["scope"] == "*" and next(iter(rule)) == "scope" for h in hooks for rule in h["rules"])
    (converting,) = [o for o in objects if (o.get("spec") or {}).get("conversion", {}).get("strategy") == "Webhook"]
    assert converting["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"] == BUNDLE
    for obj in objects:
        assert INJECT not in (obj["metadata"].get("annotations") or {}), obj["metadata"]["name"]


def test_other_annotations_stay_and_a_rules_own_scope_wins(documents):
    (mutating,) = of_kind(documents, "MutatingWebhookConfiguration")
    mutating["metadata"]["annotations"]["example.com/keep"] = "yes"
    mutating["webhooks"][0]["rules"][0]["scope"] = "Namespaced"
    (patched,) = of_kind(
        om.applied_objects(documents, cert_manager=False, ca_bundle=""), "MutatingWebhookConfiguration"
    )
    assert patched["metadata"]["annotations"] == {"example.com/keep": "yes"}
    assert list(patched["metadata"])[-1] == "annotations"
    assert patched["webhooks"][0]["rules"][0]["scope"] == "Namespaced"
    # Check mode on a fresh cluster: no CA yet, no caBundle.
    assert all("caBundle" not in h["clientConfig"] for h in patched["webhooks"])


def test_with_cert_manager_only_the_rule_scopes_change(documents):
    objects = om.applied_objects(documents, cert_manager=True, ca_bundle=BUNDLE)
    assert [o["kind"] for o in objects] == [d["kind"] for d in documents]
    for given, applied in zip(documents, objects):
        if given["kind"].endswith("WebhookConfiguration"):
            for hook in applied["webhooks"]:
                assert "caBundle" not in hook["clientConfig"]
                hook["rules"] = [{k: v for k, v in r.items() if k != "scope"} for r in hook["rules"]]
        assert applied == given


def test_render_is_the_release_with_its_cert_manager_objects(documents):
    rendered = om.render(documents, options())
    kinds = [o["kind"] for o in rendered]
    assert {"Issuer", "Certificate"} <= set(kinds) and kinds[-2:] == [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ]
    (namespace,) = of_kind(rendered, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert of_kind(rendered, "MutatingWebhookConfiguration")[0]["metadata"]["annotations"][INJECT]
    assert "scope" not in of_kind(rendered, "MutatingWebhookConfiguration")[0]["webhooks"][0]["rules"][0]


def test_timeout_message_names_the_deployment_the_variable_and_the_causes():
    for cert_manager, cause in ((False, "or the Secret"), (True, "cert-manager must issue the Certificate")):
        message = om.timeout_message(options(wait_timeout=5), cert_manager, "timed out after 5s waiting for ready")
        assert f"controller Deployment {NS}/{DEPLOYMENT} was not Available within 5 seconds" in message
        assert "(otel_operator_wait_timeout)" in message and "an image that cannot be pulled" in message
        assert cause in message and message.endswith("Details: timed out after 5s waiting for ready")


# ---------------------------------------------------------------------------- the runner's steps
class FakeDiscovery:
    def __init__(self, served):
        self.served = served
        self.invalidated = []

    def find(self, api_version, kind):
        return Resource(api_version, kind, kind.lower() + "s", True) if (api_version, kind) in self.served else None

    def invalidate(self, api_version):
        self.invalidated.append(api_version)


class FakeClient:
    requests = 3


class RecordingRunner(om.OperatorRunner):
    """The runner with the engine and the certs module_utils replaced by a record of the calls."""

    def __init__(self, served=(), check_mode=False, wait=False, fail_with=None, **given):
        super().__init__(
            FakeClient(),
            FakeDiscovery(set(served)),
            options(**given),
            ApplyOptions(check_mode=check_mode, wait=wait),
            protect=None,
        )
        self.calls = []
        self.fail_with = fail_with

    def _engine_run(self, objects, **overrides):
        state = overrides.get("state", "present")
        self.calls.append((state, [o["kind"] for o in objects], overrides))
        if self.fail_with and state == "present" and len(objects) > 1:
            raise OtelK8sError(self.fail_with)
        action = "created" if state == "present" else "deleted"
        return {"changed": True, "results": [{"kind": o["kind"], "action": action} for o in objects]}

    def _certificates(self, state):
        self.calls.append(("certificates", state))
        return {"changed": True, "ca": {"ca_bundle": BUNDLE, "secret_name": "ca", "not_after": "2036"}}


CERT_MANAGER = {("cert-manager.io/v1", "Issuer"), ("cert-manager.io/v1", "Certificate")}


def test_self_signed_steps_in_order(documents):
    runner = RecordingRunner()
    result = runner.present(documents)
    assert runner.discovery.invalidated == ["cert-manager.io/v1"]  # a fresh read, never a cached answer
    assert [c[0] for c in runner.calls] == ["present", "absent", "certificates", "present"]
    assert runner.calls[0][1] == ["Namespace"] and runner.calls[1][1] == ["Certificate", "Issuer"]
    assert result["backend"] == "self_signed" and result["changed"] is True and result["api_requests"] == 3
    assert "Issuer" not in runner.calls[3][1]
    # The namespace is applied once, before its Secrets; the results still list it first.
    assert "Namespace" not in runner.calls[3][1]
    assert result["results"][0]["kind"] == "Namespace" and len(result["results"]) == len(runner.calls[3][1]) + 1
    assert om.status(runner.options, result)["not_after"] == {"ca": "2036"}


def test_self_signed_backend_asks_nothing_about_cert_manager(documents):
    runner = RecordingRunner(served=CERT_MANAGER, cert_backend="self_signed")
    assert runner.present(documents)["backend"] == "self_signed"
    assert runner.discovery.invalidated == []


def test_check_mode_on_a_fresh_cluster_skips_the_certificate(documents):
    runner = RecordingRunner(check_mode=True)
    result = runner.present(documents)
    assert result["webhook_certificate"]["skipped"] is True
    assert ("certificates", "present") not in runner.calls
    # The namespace goes with its contents again, so that the engine says this input creates it.
    assert runner.calls[-1][1][0] == "Namespace"


def test_cert_manager_applies_the_release_and_removes_the_roles_ca(documents):
    runner = RecordingRunner(served=CERT_MANAGER)
    result = runner.present(documents)
    assert result["backend"] == "cert_manager"
    assert [c[0] for c in runner.calls] == ["present", "absent"]
    assert {"Issuer", "Certificate"} <= set(runner.calls[0][1]) and runner.calls[1][1] == ["Secret"]


def test_cert_manager_asked_for_but_not_served_fails_before_anything_is_applied(documents):
    runner = RecordingRunner(served={("cert-manager.io/v1", "Certificate")}, cert_backend="cert_manager")
    with pytest.raises(OtelK8sError) as raised:
        runner.present(documents)
    assert "cert-manager is not installed" in raised.value.message and "Nothing was applied" in raised.value.message
    assert runner.calls == []


def test_a_wait_that_runs_out_gets_the_roles_message(documents):
    runner = RecordingRunner(wait=True, wait_timeout=5, fail_with="timed out after 5s waiting for ready: x")
    with pytest.raises(OtelK8sError) as raised:
        runner.present(documents)
    assert "was not Available within 5 seconds (otel_operator_wait_timeout)" in raised.value.message
    other = RecordingRunner(wait=True, fail_with="the API server refused applying x")
    with pytest.raises(OtelK8sError) as raised:
        other.present(documents)
    assert raised.value.message == "the API server refused applying x"


def test_removal_takes_custom_resources_first(documents, monkeypatch):
    collector = {"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector", "metadata": {"name": "g"}}

    def read(self, api_version, kind, *args):
        return {"resources": [collector] if kind == "OpenTelemetryCollector" else []}

    monkeypatch.setattr(om.InfoRunner, "run", read)
    runner = RecordingRunner()
    result = runner.absent(documents)
    assert [c[0] for c in runner.calls] == ["absent", "certificates", "absent"]
    assert runner.calls[0][1] == ["OpenTelemetryCollector"] and runner.calls[0][2]["wait"] is True
    assert len(runner.calls[2][1]) == len(documents)
    assert result["changed"] is True


def test_the_release_loads_as_yaml_documents():
    # load_manifest drops empty documents and keeps the order of the file.
    path = upstream.operator_manifest()
    expected = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert len(expected) == 20
    assert om.load_manifest(str(path)) == expected
