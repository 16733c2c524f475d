"""otel.kubernetes.certs through ansible-playbook on the local node (a real Kubernetes 1.34)."""

from __future__ import annotations

import base64
import datetime

from cryptography import x509
from cryptography.x509.verification import DNSName, PolicyBuilder, Store

# base64 of a PEM private key begins with one of these, whatever the key.
KEY_PEM_B64_PREFIXES = [
    base64.b64encode(f"-----BEGIN {kind}PRIVATE KEY-----".encode()).decode()[:32] for kind in ("", "EC ", "RSA ")
]


def certs_task(namespace: str, certificates: list, **options) -> dict:
    return {
        "name": "certs",
        "otel.kubernetes.certs": {
            "namespace": namespace,
            "ca": {"common_name": "integration-ca"},
            "certificates": certificates,
            **options,
        },
    }


def mtls(namespace: str, agents: str, extra_dns: list | None = None) -> list:
    return [
        {
            "secret_name": "gateway-tls",
            "usage": "server",
            "gateway": {"name": "otel-gateway"},
            "dns_names": extra_dns or [],
        },
        {"secret_name": "agent-tls", "usage": "client", "common_name": "otel-agent", "namespace": agents},
    ]


def secret(cluster, namespace: str, name: str):
    return cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")


def pem(obj: dict, key: str) -> bytes:
    return base64.b64decode(obj["data"][key])


def assert_no_key_material(run, stored_keys: set) -> None:
    """Neither PEM private keys nor the base64 Secret values of any stored key in the output."""
    for text in (run.stdout, run.stderr):
        assert "PRIVATE KEY" not in text
        for prefix in KEY_PEM_B64_PREFIXES:
            assert prefix not in text
        for key in stored_keys:
            assert key not in text
            assert base64.b64decode(key).decode().strip() not in text


def make_namespace(cluster, name: str) -> str:
    cluster.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_issue_keep_renew_and_remove(cluster, namespace):
    agents = make_namespace(cluster, f"{namespace}-agents")
    names = [(namespace, "otel-ca"), (namespace, "gateway-tls"), (agents, "agent-tls")]
    keys = set()
    runs = []

    first = cluster.run([certs_task(namespace, mtls(namespace, agents))])
    runs.append(first)
    assert first.rc == 0, first.stdout
    result = first.last
    assert result["changed"] is True
    assert result["backend"] == "self_signed"
    assert not result.get("warnings") and not result.get("deprecations")
    assert result["ca"]["action"] == "issued"
    assert [c["action"] for c in result["certificates"]] == ["issued", "issued"]
    assert result["certificates"][0]["reason"] == f"no Secret {namespace}/gateway-tls"
    stored = {n: secret(cluster, *n) for n in names}
    for obj in stored.values():
        assert obj["type"] == "kubernetes.io/tls"
        assert set(obj["data"]) == {"tls.crt", "tls.key", "ca.crt"}
        keys.add(obj["data"]["tls.key"])
    ca_obj = stored[(namespace, "otel-ca")]
    assert result["ca"]["ca_bundle"] == ca_obj["data"]["tls.crt"]
    ca = x509.load_pem_x509_certificate(pem(ca_obj, "tls.crt"))
    gateway = x509.load_pem_x509_certificate(pem(stored[(namespace, "gateway-tls")], "tls.crt"))
    assert pem(stored[(namespace, "gateway-tls")], "ca.crt") == pem(ca_obj, "tls.crt")
    assert pem(stored[(agents, "agent-tls")], "ca.crt") == pem(ca_obj, "tls.crt")
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .time(datetime.datetime.now(datetime.timezone.utc))
        .build_server_verifier(DNSName(f"otel-gateway-collector.{namespace}.svc.cluster.local"))
    )
    assert verifier.verify(gateway, [])[-1] == ca
    gateway_summary = result["certificates"][0]
    assert f"DNS:otel-gateway-collector-headless.{namespace}.svc" in gateway_summary["sans"]
    assert gateway_summary["serial"] == format(gateway.serial_number, "x")
    assert gateway_summary["not_after"].endswith("Z")

    # Re-run: every certificate kept, Secrets untouched, byte for byte.
    rerun = cluster.run([certs_task(namespace, mtls(namespace, agents))], "--diff")
    runs.append(rerun)
    assert rerun.rc == 0, rerun.stdout
    assert rerun.last["changed"] is False
    assert [c["action"] for c in [rerun.last["ca"], *rerun.last["certificates"]]] == ["kept"] * 3
    assert {r["action"] for r in rerun.last["results"]} == {"unchanged"}
    again = {n: secret(cluster, *n) for n in names}
    for name in names:
        assert again[name]["data"] == stored[name]["data"]
        assert again[name]["metadata"]["resourceVersion"] == stored[name]["metadata"]["resourceVersion"]

    # New SAN: only the gateway's certificate is renewed, with a new key.
    renew = cluster.run([certs_task(namespace, mtls(namespace, agents, ["otel.example.com"]))], "--diff")
    runs.append(renew)
    assert renew.rc == 0, renew.stdout
    assert renew.last["changed"] is True
    actions = [(c["secret_name"], c["action"]) for c in [renew.last["ca"], *renew.last["certificates"]]]
    assert actions == [("otel-ca", "kept"), ("gateway-tls", "renewed"), ("agent-tls", "kept")]
    assert renew.last["certificates"][0]["reason"] == "subject alternative names changed: adds DNS:otel.example.com"
    after = {n: secret(cluster, *n) for n in names}
    keys.update(obj["data"]["tls.key"] for obj in after.values())
    assert after[(namespace, "otel-ca")]["data"] == stored[(namespace, "otel-ca")]["data"]
    assert after[(agents, "agent-tls")]["data"] == stored[(agents, "agent-tls")]["data"]
    renewed = after[(namespace, "gateway-tls")]["data"]
    assert renewed["tls.crt"] != stored[(namespace, "gateway-tls")]["data"]["tls.crt"]
    assert renewed["tls.key"] != stored[(namespace, "gateway-tls")]["data"]["tls.key"]
    assert "DNS:otel.example.com" in renew.last["certificates"][0]["sans"]
    # The diff shows the Secret changed, with its values redacted.
    diffs = [d for d in renew.last["diff"] if "gateway-tls" in d["after_header"]]
    assert len(diffs) == 1 and "VALUE_REDACTED (changed)" in diffs[0]["after"]

    gone = cluster.run([certs_task(namespace, mtls(namespace, agents, ["otel.example.com"]), state="absent")])
    runs.append(gone)
    assert gone.rc == 0, gone.stdout
    assert gone.last["changed"] is True
    assert {(r["kind"], r["action"]) for r in gone.last["results"]} == {("Secret", "deleted")}
    assert all(secret(cluster, *n) is None for n in names)
    gone_again = cluster.run([certs_task(namespace, mtls(namespace, agents), state="absent")])
    runs.append(gone_again)
    assert gone_again.last["changed"] is False

    for run in runs:
        assert_no_key_material(run, keys)


def test_check_mode_on_a_fresh_namespace_stores_nothing(cluster, namespace):
    run = cluster.run([certs_task(namespace, mtls(namespace, namespace))], "--check", "--diff")
    assert run.rc == 0, run.stdout
    result = run.last
    assert result["changed"] is True
    assert [c["action"] for c in [result["ca"], *result["certificates"]]] == ["issued"] * 3
    assert [r["action"] for r in result["results"]] == ["created"] * 3
    for name in ("otel-ca", "gateway-tls", "agent-tls"):
        assert secret(cluster, namespace, name) is None
    assert_no_key_material(run, set())


def test_renewal_in_check_mode_keeps_what_is_stored(cluster, namespace):
    first = cluster.run([certs_task(namespace, mtls(namespace, namespace))])
    assert first.rc == 0, first.stdout
    before = secret(cluster, namespace, "otel-ca")
    run = cluster.run([certs_task(namespace, mtls(namespace, namespace), key_type="rsa-2048")], "--check", "--diff")
    assert run.rc == 0, run.stdout
    assert run.last["changed"] is True
    assert run.last["ca"]["reason"].startswith("rotation phase 1 of 3 (its key type is ecdsa-p256, asked rsa-2048)")
    assert [c["reason"] for c in run.last["certificates"]] == ["its key type is ecdsa-p256, asked rsa-2048"] * 2
    assert secret(cluster, namespace, "otel-ca")["data"] == before["data"]
    assert_no_key_material(run, {before["data"]["tls.key"]})


def test_ca_rotation_in_three_runs_then_nothing_to_do(cluster, namespace):
    """The phases through ansible-playbook: check mode stores nothing, each run one phase, no key printed."""
    certificates = mtls(namespace, namespace)
    first = cluster.run([certs_task(namespace, certificates)])
    assert first.rc == 0, first.stdout
    old_ca = pem(secret(cluster, namespace, "otel-ca"), "tls.crt")
    rotate = {"ca": {"common_name": "integration-ca", "generation": 2, "rotation_phase_seconds": 0}}
    checked = cluster.run([certs_task(namespace, certificates, **rotate)], "--check", "--diff")
    assert checked.rc == 0 and checked.last["changed"] is True, checked.stdout
    assert checked.last["ca"]["action"] == "rotating"
    assert pem(secret(cluster, namespace, "otel-ca"), "tls.crt") == old_ca
    assert "annotations" not in secret(cluster, namespace, "otel-ca")["metadata"]

    runs, keys, seen = [checked], set(), []
    for expected in (("rotating", "trust"), ("rotating", "switch"), ("rotated", None), ("kept", None)):
        run = cluster.run([certs_task(namespace, certificates, **rotate)], "--diff")
        runs.append(run)
        assert run.rc == 0, run.stdout
        assert (run.last["ca"]["action"], run.last["ca"]["rotation_phase"]) == expected, run.last["ca"]
        assert run.last["changed"] is (expected[0] != "kept")
        stored = [secret(cluster, namespace, n) for n in ("otel-ca", "gateway-tls", "agent-tls")]
        keys.update(o["data"][k] for o in stored for k in ("tls.key", "next-ca.key") if k in o["data"])
        seen.append(stored)
    trust, switch, done, again = seen
    assert trust[0]["metadata"]["annotations"]["otel.kubernetes/ca-rotation-phase"] == "trust"
    new_ca = pem(trust[0], "next-ca.crt")
    assert {pem(o, "ca.crt") for o in trust} == {old_ca + new_ca}
    assert {pem(o, "ca.crt") for o in switch} == {new_ca + old_ca}
    assert pem(switch[0], "tls.crt") == new_ca and "next-ca.key" not in switch[0]["data"]
    new_cert = x509.load_pem_x509_certificate(new_ca)
    for leaf in switch[1:]:
        assert x509.load_pem_x509_certificate(pem(leaf, "tls.crt")).issuer == new_cert.subject
    assert {pem(o, "ca.crt") for o in done} == {new_ca}
    assert done[0]["metadata"]["annotations"] == {"otel.kubernetes/ca-generation": "2"}
    assert [o["metadata"]["resourceVersion"] for o in again] == [o["metadata"]["resourceVersion"] for o in done]
    for run in runs:
        assert_no_key_material(run, keys)


def test_cert_manager_asked_but_not_installed(cluster, namespace):
    assert cluster.get("/apis/cert-manager.io/v1") is None, "precondition: cert-manager CRDs must not be installed"
    run = cluster.run(
        [certs_task(namespace, [{"secret_name": "gateway-tls", "gateway": {"name": "gw"}}], backend="cert_manager")]
    )
    assert run.rc != 0
    assert run.last["failed"] is True
    assert "does not serve cert-manager.io/v1 Issuer and Certificate" in run.last["msg"]
    assert "install cert-manager first" in run.last["msg"]
    assert secret(cluster, namespace, "otel-ca") is None
    assert secret(cluster, namespace, "gateway-tls") is None
