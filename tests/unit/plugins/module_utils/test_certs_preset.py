"""otel.kubernetes.certs' pipeline preset (role otel_certificates): the requests, the checks naming the
role's variables, the status, and the runner's render, check-mode and apply paths with no cluster."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils import certs, certs_runner
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import certificates


def test_the_defaults_ask_for_the_ca_the_gateway_the_agent_and_the_cluster_collector():
    built = certificates.build({})
    assert built.errors == []
    assert (built.namespace, built.create_namespace, built.pod_security) == ("observability", True, "restricted")
    assert built.params == {
        "namespace": "observability",
        "backend": "self_signed",
        "ca": {
            "secret_name": "otel-ca",
            "common_name": "otel-ca",
            "validity_days": 3650,
            "generation": 1,
            "rotation_phase_seconds": 3900,
        },
        "certificates": [
            {
                "secret_name": "otel-gateway-tls",
                "usage": "server",
                "common_name": "otel-gateway-collector",
                "gateway": {"name": "otel-gateway"},
                "dns_names": [],
                "validity_days": 365,
            },
            {"secret_name": "otel-agent-tls", "usage": "client", "common_name": "otel-agent", "validity_days": 365},
            {
                "secret_name": "otel-cluster-tls",
                "usage": "client",
                "common_name": "otel-cluster",
                "validity_days": 365,
            },
        ],
        "key_type": "ecdsa-p256",
        "renew_before_days": 30,
        "cluster_domain": "cluster.local",
    }
    options = certs.CertsOptions.from_params(built.params)
    gateway = options.certificates[0]
    assert "DNS:otel-gateway-collector-headless.observability.svc.cluster.local" in gateway.sans
    assert options.ca_generation == 1 and options.rotation_phase_seconds == 3900


def test_an_empty_cluster_secret_issues_no_cluster_certificate():
    built = certificates.build({"cluster_secret": "", "cluster_common_name": "ignored"})
    assert [c["secret_name"] for c in built.params["certificates"]] == ["otel-gateway-tls", "otel-agent-tls"]
    named = certificates.build({"cluster_secret": "cluster-client", "cluster_common_name": "cluster-cn"})
    assert named.params["certificates"][-1] == {
        "secret_name": "cluster-client",
        "usage": "client",
        "common_name": "cluster-cn",
        "validity_days": 365,
    }


def test_settings_given_as_text_are_read_as_the_role_read_them():
    # -e on the command line gives text.
    built = certificates.build(
        {
            "validity_days": "400",
            "renew_before_days": "399",
            "create_namespace": "false",
            "gateway_extra_dns_names": ["gw.example"],
        }
    )
    assert built.errors == []
    assert built.params["certificates"][0]["validity_days"] == 400 and built.params["renew_before_days"] == 399
    assert built.params["certificates"][0]["dns_names"] == ["gw.example"]
    assert built.create_namespace is False


def test_rendering_always_uses_cert_manager():
    assert certificates.build({"backend": "self_signed"}, rendering=True).params["backend"] == "cert_manager"
    assert certificates.build({"backend": "auto"}).params["backend"] == "auto"


@pytest.mark.parametrize(
    "settings, named",
    [
        (
            {"renew_before_days": 400},
            "otel_certificates_renew_before_days (400) must be at least 0 and less than "
            "otel_certificates_validity_days (365)",
        ),
        ({"renew_before_days": -1}, "otel_certificates_renew_before_days (-1)"),
        ({"validity_days": 4000, "renew_before_days": 3650}, "otel_certificates_ca_validity_days (3650)"),
        ({"ca_generation": 0}, "otel_certificates_ca_generation (0) must be 1 or more"),
        ({"ca_rotation_phase_seconds": -5}, "otel_certificates_ca_rotation_phase_seconds (-5) must be 0 or more"),
        ({"key_type": "dsa-1024"}, 'otel_certificates_key_type is "dsa-1024"; use one of ecdsa-p256'),
        ({"backend": "vault"}, 'otel_certificates_backend is "vault"'),
        ({"pod_security": "lax"}, 'otel_certificates_pod_security is "lax"; use one of privileged'),
        ({"validity_days": "a year"}, 'otel_certificates_validity_days is "a year"; give a whole number.'),
        ({"gateway_extra_dns_names": "gw.example"}, "otel_certificates_gateway_extra_dns_names (gw.example) must be"),
        ({"ca_name": "x"}, "role variable otel_certificates_ca_name does not exist"),
    ],
)
def test_bad_settings_name_the_role_variable(settings, named):
    errors = certificates.build(settings).errors
    assert any(named in error for error in errors), errors


def test_the_status_is_what_the_role_published():
    built = certificates.build({})
    ca = {"secret_name": "otel-ca", "not_after": "2036-01-01T00:00:00Z"}
    leaves = [
        {"secret_name": "otel-gateway-tls", "not_after": None},
        {"secret_name": "otel-agent-tls", "not_after": "x"},
    ]
    status = built.status({"backend": "self_signed", "ca": ca, "certificates": leaves})
    assert status == {
        "backend": "self_signed",
        "namespace": "observability",
        "ca": ca,
        "certificates": leaves,
        "not_after": {"otel-ca": "2036-01-01T00:00:00Z", "otel-gateway-tls": None, "otel-agent-tls": "x"},
    }
    # Nothing sent (check mode, new namespace): the asked backend, nothing issued.
    assert built.status({"backend": "auto"}) == {
        "backend": "auto",
        "namespace": "observability",
        "ca": {},
        "certificates": [],
        "not_after": {},
    }


class Exited(Exception):
    pass


class FakeModule:
    """What the runner uses of an AnsibleModule."""

    def __init__(self, check_mode=False, **given):
        self.params = {name: option.get("default") for name, option in certs_runner.ARGUMENT_SPEC.items()}
        self.params.update(state="present", render_only=False, preset="pipeline", preset_settings={})
        self.params.update(given)
        self.check_mode = check_mode
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Exited(dict(result, failed=True))


def run(module) -> dict:
    with pytest.raises(Exited) as exited:
        certs_runner.run_module(module)
    return exited.value.args[0]


@pytest.fixture
def no_cluster(monkeypatch):
    """Every apply recorded; the namespace is reported as created (it does not exist yet)."""
    applied = []

    class Client:
        requests = 1

    def apply(module, objects, namespace=None, wait_condition=None, client=None, **more):
        if module.params["render_only"]:
            return {"changed": False, "objects": objects, "results": [], "api_requests": 0}
        applied.append(objects)
        results = [{"kind": o["kind"], "name": o["metadata"]["name"], "action": "created"} for o in objects]
        return {"changed": True, "results": results}

    monkeypatch.setattr(certs_runner, "apply_objects", apply)
    monkeypatch.setattr(certs_runner, "connect", lambda module: Client())
    return applied


def test_render_gives_the_namespace_then_the_cert_manager_objects(no_cluster):
    result = run(FakeModule(render_only=True))
    kinds = [(o["kind"], o["metadata"]["name"]) for o in result["objects"]]
    assert kinds[0] == ("Namespace", "observability")
    assert result["objects"][0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ("Certificate", "otel-gateway-tls") in kinds and ("Certificate", "otel-agent-tls") in kinds
    assert ("Certificate", "otel-cluster-tls") in kinds
    assert result["backend"] == "cert_manager" and result["status"]["not_after"] == {
        "otel-ca": None,
        "otel-gateway-tls": None,
        "otel-agent-tls": None,
        "otel-cluster-tls": None,
    }
    assert no_cluster == []


def test_check_mode_into_a_new_namespace_sends_no_certificate(no_cluster):
    result = run(FakeModule(check_mode=True))
    assert [[o["kind"] for o in objects] for objects in no_cluster] == [["Namespace"]]
    assert (
        "does not exist yet, so the CA otel-ca and the certificates otel-gateway-tls, otel-agent-tls and "
        "otel-cluster-tls" in (result["msg"])
    )
    assert result["status"]["certificates"] == [] and result["status"]["backend"] == "self_signed"


def test_bad_settings_fail_before_anything_is_contacted(no_cluster):
    result = run(FakeModule(preset_settings={"renew_before_days": 400}))
    assert result["failed"] and "otel_certificates_renew_before_days (400)" in result["msg"]
    assert "nothing was applied" in result["msg"] and no_cluster == []


def test_module_options_of_the_preset_are_refused_with_it(no_cluster):
    result = run(FakeModule(namespace="elsewhere"))
    assert result["failed"] and "namespace cannot be given with a preset" in result["msg"]
    result = run(FakeModule(certificates=[{"secret_name": "x"}], ca={"secret_name": "ca"}))
    assert result["failed"] and "ca, certificates cannot be given with a preset" in result["msg"]


def test_a_ca_left_at_its_suboptions_defaults_is_not_given(no_cluster):
    filled = {"secret_name": None, "common_name": None, "validity_days": 3650, "generation": None}
    result = run(FakeModule(render_only=True, ca=dict(filled, rotation_phase_seconds=3900)))
    assert "failed" not in result and result["objects"]
