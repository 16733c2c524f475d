"""certs: SANs, generation, renewal decisions and output hygiene, without a cluster or Ansible."""

from __future__ import annotations

import base64
import datetime
import json
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import _x509
from ansible_collections.otel.kubernetes.plugins.module_utils.certs import api as certs
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
NS = "observability"

GATEWAY_SANS = [
    "otel-gateway-collector",
    "otel-gateway-collector.observability",
    "otel-gateway-collector.observability.svc",
    "otel-gateway-collector.observability.svc.cluster.local",
    "otel-gateway-collector-headless",
    "otel-gateway-collector-headless.observability",
    "otel-gateway-collector-headless.observability.svc",
    "otel-gateway-collector-headless.observability.svc.cluster.local",
]


def params(**overrides) -> dict:
    base = {
        "namespace": NS,
        "ca": {"common_name": "test-ca"},
        "certificates": [
            {"secret_name": "gateway-tls", "usage": "server", "gateway": {"name": "otel-gateway"}},
            {"secret_name": "agent-tls", "usage": "client", "common_name": "otel-agent", "namespace": "agents"},
        ],
    }
    base.update(overrides)
    return base


def options(**overrides) -> certs.CertsOptions:
    return certs.CertsOptions.from_params(params(**overrides))


def store_of(plan: certs.CertPlan) -> dict:
    """The Secrets of a plan as the API server would return them."""
    return {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in plan.secrets()}


def reader(store: dict):
    return lambda namespace, name: store.get((namespace, name))


def cert_of(secret: dict, key: str = "tls.crt") -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(secret["data"][key]))


def first_plan(opts=None, now=NOW) -> certs.CertPlan:
    return certs.plan_self_signed(opts or options(), reader({}), now=now)


# ------------------------------------------------------------------ SANs and options
def test_gateway_sans_has_every_form_of_both_services():
    assert certs.gateway_sans("otel-gateway", NS) == GATEWAY_SANS
    assert certs.gateway_sans("gw", "ns", "corp.internal")[-1] == "gw-collector-headless.ns.svc.corp.internal"


def test_gateway_option_adds_sans_in_gateway_namespace_and_cluster_domain():
    opts = options(
        cluster_domain="k8s.example",
        certificates=[
            {
                "secret_name": "gw",
                "dns_names": ["Otel.Example.com."],
                "ip_addresses": ["10.0.0.1", "2001:DB8::0001"],
                "gateway": {"name": "otel-gateway", "namespace": "gateways"},
            },
        ],
    )
    request = opts.certificates[0]
    assert request.dns_names[0] == "otel.example.com"
    assert "otel-gateway-collector.gateways.svc.k8s.example" in request.dns_names
    assert "otel-gateway-collector-headless" in request.dns_names
    assert request.ip_addresses == ("10.0.0.1", "2001:db8::1")
    assert request.namespace == NS  # the Secret stays in the module's namespace


def test_services_option_gives_webhook_sans():
    opts = options(
        certificates=[
            {
                "secret_name": "webhook-cert",
                "namespace": "otel-operator",
                "services": ["opentelemetry-operator-webhook-service"],
            }
        ]
    )
    assert opts.certificates[0].dns_names == tuple(
        certs.service_sans("opentelemetry-operator-webhook-service", "otel-operator")
    )
    assert opts.ca.secret_name == "otel-ca"


def test_options_refuse_every_problem_at_once():
    with pytest.raises(OtelK8sError) as caught:
        options(
            renew_before_days=400,
            certificates=[
                {"secret_name": "no-sans", "usage": "server"},
                {"secret_name": "bad", "usage": "client", "ip_addresses": ["300.1.1.1"], "dns_names": ["a_b.example"]},
                {"secret_name": "otel-ca", "usage": "client"},
            ],
        )
    message = caught.value.message
    assert "nothing was applied" in message
    assert "needs dns_names, services, gateway or ip_addresses" in message
    assert "'300.1.1.1' in ip_addresses is not an IP address" in message
    assert "'a_b.example' is not a valid DNS name" in message
    assert "validity_days (365) must be more than renew_before_days (400)" in message
    assert "Secret observability/otel-ca is also ca" in message


# ------------------------------------------------------------------ generation
def test_ca_server_and_client_generation():
    plan = first_plan()
    assert [o.action for o in plan.outcomes] == ["issued", "issued", "issued"]
    assert plan.ca.reason == "no Secret observability/otel-ca"
    secrets = {s["metadata"]["name"]: s for s in plan.secrets()}
    ca, server, client = (cert_of(secrets[n]) for n in ("otel-ca", "gateway-tls", "agent-tls"))

    assert certs.is_ca_cert(ca) and certs.issued_by(ca, ca)
    for leaf in (server, client):
        assert certs.issued_by(leaf, ca)
        assert not certs.is_ca_cert(leaf)
    # A real path validation, the way a TLS client checks the gateway.
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .time(NOW)
        .build_server_verifier(DNSName("otel-gateway-collector-headless.observability.svc"))
    )
    chain = verifier.verify(server, [])
    assert chain[-1] == ca

    server_ekus = set(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    client_ekus = set(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert server_ekus == {ExtendedKeyUsageOID.SERVER_AUTH}
    assert client_ekus == {ExtendedKeyUsageOID.CLIENT_AUTH}
    assert certs.sans_of(server) == [f"DNS:{n}" for n in GATEWAY_SANS]
    assert certs.common_name_of(client) == "otel-agent"

    for secret in secrets.values():
        assert secret["type"] == "kubernetes.io/tls"
        assert set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
        assert secret["data"]["ca.crt"] == secrets["otel-ca"]["data"]["tls.crt"]
    assert secrets["agent-tls"]["metadata"]["namespace"] == "agents"
    assert certs.key_type_of(ca.public_key()) == "ecdsa-p256"
    assert certs.iso(_x509.utc(server, "not_valid_after")) == "2027-06-01T12:00:00Z"


def test_rsa_keys_and_leaf_capped_at_ca_expiry():
    opts = options(key_type="rsa-2048", ca={"validity_days": 100}, renew_before_days=10)
    plan = first_plan(opts)
    assert {certs.key_type_of(o.material.key) for o in plan.outcomes} == {"rsa-2048"}
    server = plan.certificates[0].material.cert
    assert _x509.utc(server, "not_valid_after") == _x509.utc(plan.ca.material.cert, "not_valid_after")
    usage = server.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment and usage.digital_signature


# ------------------------------------------------------------------ renewal decisions
def test_valid_certificates_are_kept_byte_for_byte():
    plan = first_plan()
    store = store_of(plan)
    again = certs.plan_self_signed(options(), reader(store), now=NOW + datetime.timedelta(days=30))
    assert [o.action for o in again.outcomes] == ["kept", "kept", "kept"]
    assert again.ca.reason.startswith("valid until 2036-05-29T12:00:00Z")
    assert again.secrets() == plan.secrets()


def test_missing_leaf_is_issued_others_kept():
    store = store_of(first_plan())
    del store[("agents", "agent-tls")]
    again = certs.plan_self_signed(options(), reader(store), now=NOW)
    assert [o.action for o in again.outcomes] == ["kept", "kept", "issued"]
    assert again.certificates[1].reason == "no Secret agents/agent-tls"


def backend_for(request, stored_secret, issuer, **kwargs) -> certs.CertificateBackend:
    return certs.CertificateBackend(
        request, certs.Stored.from_secret(stored_secret), issuer=issuer, renew_before_days=30, **kwargs
    )


def test_needs_regeneration_reasons():
    plan = first_plan()
    store = store_of(plan)
    ca = plan.ca.material
    gateway = options().certificates[0]
    stored = store[(NS, "gateway-tls")]

    assert backend_for(gateway, None, ca, now=NOW).needs_regeneration() == "no Secret observability/gateway-tls"
    assert backend_for(gateway, stored, ca, now=NOW).needs_regeneration() is None

    # Expiring within the window, and expired.
    soon = NOW + datetime.timedelta(days=340)
    assert backend_for(gateway, stored, ca, now=soon).needs_regeneration() == (
        "it expires on 2027-06-01T12:00:00Z, within renew_before_days (30)"
    )
    late = NOW + datetime.timedelta(days=400)
    assert backend_for(gateway, stored, ca, now=late).needs_regeneration() == "it expired on 2027-06-01T12:00:00Z"
    assert backend_for(gateway, stored, ca, now=NOW + datetime.timedelta(days=334)).needs_regeneration() is None

    # SANs changed.
    more = certs.CertRequest(**{**gateway.__dict__, "dns_names": (*gateway.dns_names, "otel.example.com")})
    assert backend_for(more, stored, ca, now=NOW).needs_regeneration() == (
        "subject alternative names changed: adds DNS:otel.example.com"
    )
    fewer = certs.CertRequest(**{**gateway.__dict__, "dns_names": gateway.dns_names[:4]})
    assert "drops DNS:otel-gateway-collector-headless" in backend_for(fewer, stored, ca, now=NOW).needs_regeneration()
    # Same SANs in another order: kept.
    shuffled = certs.CertRequest(**{**gateway.__dict__, "dns_names": gateway.dns_names[::-1]})
    assert backend_for(shuffled, stored, ca, now=NOW).needs_regeneration() is None

    # Key type, usage and common name changed.
    rsa = certs.CertRequest(**{**gateway.__dict__, "key_type": "rsa-2048"})
    assert backend_for(rsa, stored, ca, now=NOW).needs_regeneration() == "its key type is ecdsa-p256, asked rsa-2048"
    both = certs.CertRequest(**{**gateway.__dict__, "usage": "both"})
    assert backend_for(both, stored, ca, now=NOW).needs_regeneration() == "its usage is server, asked both"
    renamed = certs.CertRequest(**{**gateway.__dict__, "common_name": "gw"})
    assert backend_for(renamed, stored, ca, now=NOW).needs_regeneration() == (
        "its common name is 'gateway-tls', asked 'gw'"
    )

    # Signed by a different CA.
    other_ca = first_plan().ca.material
    assert backend_for(gateway, stored, other_ca, now=NOW).needs_regeneration() == (
        "it is not signed by the current CA"
    )

    # Private key of another certificate.
    mismatched = {**stored, "data": {**stored["data"], "tls.key": store[("agents", "agent-tls")]["data"]["tls.key"]}}
    assert backend_for(gateway, mismatched, ca, now=NOW).needs_regeneration() == (
        "its private key does not match the certificate"
    )

    # Unreadable material.
    broken = {**stored, "data": {**stored["data"], "tls.crt": base64.b64encode(b"not a cert").decode()}}
    assert backend_for(gateway, broken, ca, now=NOW).needs_regeneration() == "its tls.crt is not a PEM certificate"
    no_key = {**stored, "data": {"tls.crt": stored["data"]["tls.crt"]}}
    assert backend_for(gateway, no_key, ca, now=NOW).needs_regeneration() == "its Secret has no readable tls.key"

    # The CA was regenerated: re-issue whatever the leaf holds.
    assert backend_for(gateway, stored, ca, now=NOW, issuer_renewed=True).needs_regeneration() == (
        "the CA was regenerated"
    )


def test_ca_needs_regeneration_when_not_a_ca():
    plan = first_plan()
    store = store_of(plan)
    leaf_as_ca = store[(NS, "gateway-tls")]
    backend = certs.CertificateBackend(options().ca, certs.Stored.from_secret(leaf_as_ca), now=NOW)
    assert backend.needs_regeneration() == "the stored certificate is not a CA (basicConstraints CA:FALSE or missing)"


def test_ca_change_rotates_the_ca_in_three_phases_one_per_run():
    plan = first_plan()
    store = store_of(plan)
    old_ca = plan.ca.material.cert
    asked = options(ca={"common_name": "new-ca", "rotation_phase_seconds": 600})
    trusted_before = {key: bundle_of(secret) for key, secret in store.items()}

    # Phase 1: a new CA, trusted everywhere beside the old one; nothing is signed by it yet.
    one = certs.plan_self_signed(asked, reader(store), now=NOW)
    assert one.ca.action == "rotating"
    assert one.ca.reason.startswith("rotation phase 1 of 3 (its common name is 'test-ca', asked 'new-ca')")
    new_ca = one.ca.next_ca.cert
    assert certs.common_name_of(new_ca) == "new-ca" and one.ca.material.cert == old_ca
    assert [o.action for o in one.certificates] == ["kept", "kept"]
    assert all(certs.issued_by(o.material.cert, old_ca) for o in one.certificates)
    assert {tuple(bundle_of(s)) for s in one.secrets()} == {(old_ca, new_ca)}
    assert one.summary()["ca"]["rotation_phase"] == "trust"
    assert one.sensitive_values() >= _x509.key_forms(one.ca.next_ca.key_pem)
    store = store_of(one)
    assert set(store[(NS, "otel-ca")]["data"]) == {"tls.crt", "tls.key", "ca.crt", "next-ca.crt", "next-ca.key"}
    assert_both_sides_trust(trusted_before, one)

    # A run before rotation_phase_seconds have passed changes nothing.
    wait = certs.plan_self_signed(asked, reader(store), now=NOW + datetime.timedelta(seconds=599))
    assert [o.action for o in wait.outcomes] == ["kept"] * 3
    assert "the new CA signs on a run after 2026-06-01T12:10:00Z" in wait.ca.reason
    assert wait.secrets() == one.secrets()

    # Phase 2: the new CA signs; every leaf is issued again; both CAs still trusted.
    later = NOW + datetime.timedelta(seconds=600)
    two = certs.plan_self_signed(asked, reader(store), now=later)
    assert two.ca.action == "rotating" and two.ca.reason.startswith("rotation phase 2 of 3")
    assert two.ca.material.cert == new_ca and two.ca.next_ca is None
    assert [(o.action, o.reason) for o in two.certificates] == [
        ("renewed", "the CA rotation switched to the new CA")
    ] * 2
    assert all(certs.issued_by(o.material.cert, new_ca) for o in two.certificates)
    assert {tuple(bundle_of(s)) for s in two.secrets()} == {(new_ca, old_ca)}
    assert_both_sides_trust({k: bundle_of(v) for k, v in store.items()}, two)
    store = store_of(two)
    wait = certs.plan_self_signed(asked, reader(store), now=later + datetime.timedelta(seconds=1))
    assert [o.action for o in wait.outcomes] == ["kept"] * 3 and wait.secrets() == two.secrets()
    assert "the old CA is dropped on a run after 2026-06-01T12:20:00Z" in wait.ca.reason

    # Phase 3: the old CA leaves every ca.crt; the leaves themselves are kept.
    three = certs.plan_self_signed(asked, reader(store), now=later + datetime.timedelta(seconds=600))
    assert three.ca.action == "rotated" and three.ca.reason.startswith("rotation phase 3 of 3: done")
    assert [o.action for o in three.certificates] == ["kept", "kept"]
    assert [o.material.cert_pem for o in three.certificates] == [o.material.cert_pem for o in two.certificates]
    assert {tuple(bundle_of(s)) for s in three.secrets()} == {(new_ca,)}
    assert "annotations" not in store_of(three)[(NS, "otel-ca")]["metadata"]
    assert_both_sides_trust({k: bundle_of(v) for k, v in store.items()}, three)

    # Then stable: nothing to do on any later run.
    store = store_of(three)
    done = certs.plan_self_signed(asked, reader(store), now=later + datetime.timedelta(days=1))
    assert [o.action for o in done.outcomes] == ["kept"] * 3 and done.secrets() == three.secrets()


def bundle_of(secret: dict) -> list:
    return x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["ca.crt"]))


def assert_both_sides_trust(trusted_before: dict, plan: certs.CertPlan) -> None:
    """While the Secrets change, a collector may hold the old files or the new ones, on either side:
    every certificate of each must verify against every trust bundle of the other."""
    leaves_after = [o.material.cert for o in plan.certificates]
    bundles_after = [bundle_of(s) for s in plan.secrets()]
    for leaf in leaves_after:
        for bundle in [*trusted_before.values(), *bundles_after]:
            assert any(certs.issued_by(leaf, ca) for ca in bundle), (certs.common_name_of(leaf), bundle)


def test_ca_expiring_rotates_it_and_leaves_as_old_as_it_wait_for_the_rotation():
    # The leaves (365 days) are capped at the CA's expiry (100 days): renewing them before the
    # rotation switches would give them the same expiry again, on every run.
    short = options(ca={"common_name": "test-ca", "validity_days": 100})
    store = store_of(first_plan(short))
    later = NOW + datetime.timedelta(days=80)
    again = certs.plan_self_signed(short, reader(store), now=later)
    assert again.ca.action == "rotating" and "within renew_before_days (30)" in again.ca.reason
    assert [o.action for o in again.certificates] == ["kept", "kept"]
    rerun = certs.plan_self_signed(short, reader(store_of(again)), now=later)
    assert [o.action for o in rerun.outcomes] == ["kept"] * 3


def test_unusable_ca_is_replaced_at_once_with_every_leaf():
    store = store_of(first_plan())
    expired = NOW + datetime.timedelta(days=3651)
    again = certs.plan_self_signed(options(), reader(store), now=expired)
    assert again.ca.action == "renewed" and again.ca.reason == "it expired on 2036-05-29T12:00:00Z"
    assert [(o.action, o.reason) for o in again.certificates] == [("renewed", "the CA was regenerated")] * 2
    assert all(certs.issued_by(o.material.cert, again.ca.material.cert) for o in again.certificates)
    assert again.ca.next_ca is None and {tuple(bundle_of(s)) for s in again.secrets()} == {(again.ca.material.cert,)}


def test_raising_the_generation_rotates_once():
    plan = first_plan()
    assert "annotations" not in plan.ca.secret()["metadata"]  # generation 1 goes unrecorded
    assert plan.summary()["ca"]["generation"] == 1
    store = store_of(plan)
    same = certs.plan_self_signed(options(ca={"common_name": "test-ca", "generation": 1}), reader(store), now=NOW)
    assert [o.action for o in same.outcomes] == ["kept"] * 3 and same.secrets() == plan.secrets()
    asked = options(ca={"common_name": "test-ca", "generation": 2, "rotation_phase_seconds": 0})
    one = certs.plan_self_signed(asked, reader(store), now=NOW)
    assert one.ca.reason.startswith("rotation phase 1 of 3 (ca.generation is 2, the stored CA is generation 1)")
    assert one.summary()["ca"]["generation"] == 2
    two = certs.plan_self_signed(asked, reader(store_of(one)), now=NOW)
    three = certs.plan_self_signed(asked, reader(store_of(two)), now=NOW)
    done = certs.plan_self_signed(asked, reader(store_of(three)), now=NOW)
    assert [p.ca.action for p in (two, three, done)] == ["rotating", "rotated", "kept"]
    assert done.secrets() == three.secrets()
    assert done.ca.secret()["metadata"]["annotations"] == {"otel.kubernetes/ca-generation": "2"}


def test_phase_one_without_its_incoming_ca_begins_again():
    store = store_of(first_plan())
    one = certs.plan_self_signed(options(ca={"common_name": "new-ca"}), reader(store), now=NOW)
    store = store_of(one)
    del store[(NS, "otel-ca")]["data"]["next-ca.key"]
    again = certs.plan_self_signed(options(ca={"common_name": "new-ca"}), reader(store), now=NOW)
    assert again.ca.action == "rotating"
    assert "the incoming CA (next-ca.crt, next-ca.key) is missing or unreadable" in again.ca.reason
    assert again.ca.next_ca is not None and again.ca.material.cert == one.ca.material.cert


def test_rotation_options_are_checked():
    with pytest.raises(OtelK8sError) as error:
        options(ca={"generation": 0, "rotation_phase_seconds": -1})
    assert "ca.generation must be a whole number of 1 or more, got 0" in str(error.value)
    assert "ca.rotation_phase_seconds must be 0 or more, got -1" in str(error.value)


def test_leaf_with_stale_ca_crt_is_kept_and_ca_crt_corrected():
    plan = first_plan()
    store = store_of(plan)
    other = first_plan().ca_bundle
    store[(NS, "gateway-tls")]["data"]["ca.crt"] = other
    again = certs.plan_self_signed(options(), reader(store), now=NOW)
    gateway = again.certificates[0]
    assert gateway.action == "kept"
    assert gateway.reason.endswith("; ca.crt set to the trusted CA certificates")
    assert gateway.secret()["data"]["ca.crt"] == plan.ca_bundle
    assert gateway.secret()["data"]["tls.crt"] == plan.certificates[0].secret()["data"]["tls.crt"]


def test_secret_of_another_type_is_refused():
    store = store_of(first_plan())
    store[(NS, "gateway-tls")]["type"] = "Opaque"
    with pytest.raises(OtelK8sError, match="exists with type Opaque; a Secret's type cannot change"):
        certs.plan_self_signed(options(), reader(store), now=NOW)


# ------------------------------------------------------------------ output hygiene
def test_private_keys_are_not_in_the_result_structure():
    plan = first_plan()
    summary = json.dumps(plan.summary())
    keys = [o.secret()["data"]["tls.key"] for o in plan.outcomes]
    assert "PRIVATE KEY" not in summary
    for key in keys:
        assert key not in summary
        assert base64.b64decode(key).decode() in plan.sensitive_values()
        assert key in plan.sensitive_values()
    ca = plan.summary()["ca"]
    assert ca["ca_bundle"] == plan.ca_bundle
    assert "BEGIN CERTIFICATE" in ca["certificate"]
    entry = plan.summary()["certificates"][0]
    assert set(entry) == {
        "secret_name",
        "namespace",
        "usage",
        "action",
        "reason",
        "common_name",
        "not_before",
        "not_after",
        "serial",
        "sans",
        "key_type",
        "fingerprint_sha256",
    }
    assert entry["serial"] == format(plan.certificates[0].material.cert.serial_number, "x")


# ------------------------------------------------------------------ cert-manager and backends
def test_render_cert_manager():
    opts = options(
        certificates=[
            {"secret_name": "gateway-tls", "usage": "server", "gateway": {"name": "otel-gateway"}},
            {"secret_name": "agent-tls", "usage": "client", "common_name": "otel-agent"},
        ]
    )
    objects = certs.render_cert_manager(opts)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Issuer", "otel-selfsigned"),
        ("Certificate", "otel-ca"),
        ("Issuer", "otel-ca-issuer"),
        ("Certificate", "gateway-tls"),
        ("Certificate", "agent-tls"),
    ]
    ca_cert, gateway, agent = objects[1]["spec"], objects[3]["spec"], objects[4]["spec"]
    assert ca_cert["isCA"] is True and ca_cert["secretName"] == "otel-ca"
    assert ca_cert["issuerRef"]["name"] == "otel-selfsigned"
    assert objects[2]["spec"] == {"ca": {"secretName": "otel-ca"}}
    assert gateway["dnsNames"] == GATEWAY_SANS
    assert gateway["usages"] == ["digital signature", "server auth"]
    assert agent["usages"] == ["digital signature", "client auth"]
    assert gateway["issuerRef"]["name"] == "otel-ca-issuer"
    assert gateway["duration"] == "8760h" and gateway["renewBefore"] == "720h"
    assert gateway["privateKey"]["algorithm"] == "ECDSA"


def test_cert_manager_refuses_other_namespaces():
    with pytest.raises(OtelK8sError, match="agents/agent-tls would be in another namespace"):
        certs.render_cert_manager(options())


def test_resolve_backend():
    def never():
        raise AssertionError("the API server must not be asked")

    assert certs.resolve_backend("self_signed", never) == "self_signed"
    assert certs.resolve_backend("cert_manager", never, "absent") == "cert_manager"
    assert certs.resolve_backend("auto", lambda: True) == "cert_manager"
    assert certs.resolve_backend("auto", lambda: False) == "self_signed"
    with pytest.raises(OtelK8sError, match="does not serve cert-manager.io/v1 Issuer and Certificate"):
        certs.resolve_backend("cert_manager", lambda: False)


class FakeClient:
    """Answers GETs from a dict of path -> object; 404 otherwise."""

    def __init__(self, objects: dict):
        self.objects = objects
        self.paths = []

    def request(self, method, path, *args, **kwargs):
        assert method == "GET"
        self.paths.append(path)
        if path in self.objects:
            return SimpleNamespace(data=self.objects[path])
        raise ApiError(404, "NotFound", f"{path} not found")


def test_execute_masks_keys_before_applying_and_returns_none():
    protected = set()
    applied = []

    def apply(objects, condition, live=None):
        assert condition is None and live == []  # nothing stored yet
        for obj in objects:  # masking must be in place before anything is sent
            assert obj["data"]["tls.key"] in protected
        applied.extend(objects)
        return {"changed": True, "results": [], "api_requests": 1}

    result = certs.execute(options(), FakeClient({}), apply, protected.update)
    assert result["backend"] == "self_signed"
    assert [o["metadata"]["name"] for o in applied] == ["otel-ca", "gateway-tls", "agent-tls"]
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text
    assert all(o["data"]["tls.key"] not in text for o in applied)

    # Second run: the stored Secrets are read, kept and their keys masked too.
    stored = {f"/api/v1/namespaces/{o['metadata']['namespace']}/secrets/{o['metadata']['name']}": o for o in applied}
    protected.clear()
    again, read = [], []
    result = certs.execute(
        options(),
        FakeClient(stored),
        lambda objs, _, live: again.extend(objs) or read.extend(live) or {"results": []},
        protected.update,
    )
    assert [c["action"] for c in [result["ca"], *result["certificates"]]] == ["kept"] * 3
    assert again == applied
    # The engine gets the Secrets as read: one that holds what is kept is not sent again.
    assert read == applied


def test_execute_cert_manager_missing_fails_before_applying():
    def apply(objects, condition, live=None):
        raise AssertionError("nothing may be applied")

    client = FakeClient({})
    opts = options(backend="cert_manager", certificates=[{"secret_name": "gw", "dns_names": ["gw.example"]}])
    with pytest.raises(OtelK8sError, match="install cert-manager first"):
        certs.execute(opts, client, apply, set().update)
    assert client.paths == ["/apis/cert-manager.io/v1"]


def test_execute_cert_manager_served():
    discovery = {"resources": [{"kind": "Issuer", "name": "issuers"}, {"kind": "Certificate", "name": "certificates"}]}
    client = FakeClient({"/apis/cert-manager.io/v1": discovery})
    opts = options(backend="auto", certificates=[{"secret_name": "gw", "dns_names": ["gw.example"]}])
    seen = {}

    def apply(objects, condition):
        seen["kinds"] = [o["kind"] for o in objects]
        seen["condition"] = condition
        return {
            "changed": True,
            "results": [{"kind": "Certificate", "name": "gw", "namespace": NS, "action": "created", "changed": True}],
        }

    result = certs.execute(opts, client, apply, set().update)
    assert result["backend"] == "cert_manager"
    assert seen == {
        "kinds": ["Issuer", "Certificate", "Issuer", "Certificate"],
        "condition": {"type": "Ready", "status": "True"},
    }
    assert result["certificates"][0]["action"] == "issued"
    assert result["ca"]["ca_bundle"] is None  # cert-manager has not written the CA yet


def test_execute_absent_removes_secrets_and_cert_manager_objects():
    captured = []
    certs.execute(
        options(backend="auto"),
        FakeClient({}),
        lambda objs, _: captured.extend(objs) or {},
        set().update,
        state="absent",
    )
    assert ("Secret", "agents", "agent-tls") in [
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in captured
    ]
    assert {o["kind"] for o in captured} == {"Secret", "Certificate", "Issuer"}
    captured.clear()
    certs.execute(options(), FakeClient({}), lambda objs, _: captured.extend(objs) or {}, set().update, state="absent")
    assert {o["kind"] for o in captured} == {"Secret"}
    assert all("data" not in o for o in captured)


def test_render_only_renders_cert_manager_objects_and_no_key():
    opts = options(certificates=[{"secret_name": "gateway-tls", "gateway": {"name": "otel-gateway"}}])
    objects, summary, warnings = certs.render_only_result(opts)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Issuer", "otel-selfsigned"),
        ("Certificate", "otel-ca"),
        ("Issuer", "otel-ca-issuer"),
        ("Certificate", "gateway-tls"),
    ]
    assert objects == certs.render_cert_manager(opts)
    text = json.dumps([objects, summary])
    assert "PRIVATE KEY" not in text and '"kind": "Secret"' not in text
    assert summary["ca"]["action"] == "rendered" and summary["ca"]["ca_bundle"] is None
    assert [c["action"] for c in summary["certificates"]] == ["rendered"]
    assert summary["certificates"][0]["sans"] == [f"DNS:{n}" for n in GATEWAY_SANS]
    # The default backend is self_signed: the task warns that cert-manager objects were rendered instead.
    assert warnings == [certs.RENDER_ONLY_NOTE]
    assert certs.render_only_result(options(backend="cert_manager", certificates=[]))[2] == []


def test_render_only_refuses_other_namespaces_with_its_own_reason():
    with pytest.raises(OtelK8sError, match="render_only renders cert-manager objects") as caught:
        certs.render_only_result(options())
    assert "self_signed" not in caught.value.message
