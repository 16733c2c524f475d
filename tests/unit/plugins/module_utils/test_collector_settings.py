"""The settings checks of the common components (what the collector refuses), alone."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector._settings import (
    KEYS,
    POLICY_TYPES,
    SERVER_TLS,
    check,
    is_duration,
)


def errors(kind, current, settings, cid=None):
    return check(kind, cid or current, current, settings)


@pytest.mark.parametrize(
    ("kind", "current", "settings", "needles"),
    [
        (
            "processors",
            "batch",
            {"timeoutz": "1s"},
            ["processors.batch", "timeoutz", "invalid keys", "send_batch_size"],
        ),
        ("processors", "batch", {"timeout": "5"}, ["processors.batch.timeout", "'5'", "duration"]),
        ("processors", "batch", {"send_batch_size": -1}, ["send_batch_size", "-1", "whole number"]),
        ("processors", "batch", {"send_batch_size": "abc"}, ["send_batch_size", "'abc'"]),
        (
            "processors",
            "batch",
            {"send_batch_size": 100, "send_batch_max_size": 10},
            ["send_batch_max_size", "10", "at least 100"],
        ),
        ("receivers", "otlp", {}, ["receivers.otlp.protocols", "at least one protocol", "grpc"]),
        ("receivers", "otlp", {"protocols": {"grpc": {}, "thrift": {}}}, ["receivers.otlp.protocols", "thrift"]),
        ("receivers", "host_metrics", {}, ["receivers.host_metrics", "scrapers is required", "cpu"]),
        ("exporters", "otlp_grpc", {"tls": {"insecure": True}}, ["exporters.otlp_grpc", "endpoint is required"]),
        ("exporters", "otlp_http", {}, ["exporters.otlp_http", "one of endpoint, traces_endpoint"]),
        ("exporters", "file", {"path": ""}, ["exporters.file", "path is required"]),
        ("exporters", "load_balancing", {"protocol": {"otlp": {}}}, ["exporters.load_balancing.resolver", "dns"]),
        ("exporters", "debug", {"verbosity": "loud"}, ["exporters.debug.verbosity", "'loud'", "detailed"]),
        ("processors", "attributes", {}, ["processors.attributes", "actions is required"]),
        ("processors", "resource", {"attributes": []}, ["processors.resource", "attributes is required"]),
        ("extensions", "bearertokenauth", {}, ["extensions.bearertokenauth", "token, filename, tokens"]),
        ("processors", "memory_limiter", {"limit_mb": 100}, ["processors.memory_limiter", "limit_mb"]),
        ("processors", "k8s_attributes", {"filters": {}}, ["processors.k8s_attributes", "filters"]),
        ("processors", "tail_sampling", {"decision_wait": 10}, ["tail_sampling.decision_wait", "10"]),
        ("processors", "tail_sampling", {"policies": {"a": 1}}, ["tail_sampling.policies", "list"]),
        (
            "processors",
            "tail_sampling",
            {"policies": [{"name": "a", "type": "errors"}]},
            ["tail_sampling.policies[0].type", "'errors'", "status_code"],
        ),
        ("processors", "tail_sampling", {"policies": [{"type": "latency"}]}, ["policies[0].name", "missing"]),
        (
            "processors",
            "tail_sampling",
            {"policies": [{"name": "a", "type": "latency"}, {"name": "a", "type": "status_code"}]},
            ["policies[1].name", "`a` is used twice"],
        ),
        (
            "processors",
            "tail_sampling",
            {"policies": [{"name": "a", "type": "and", "and": {"and_sub_policy": [{"name": "b", "type": "nope"}]}}]},
            ["policies[0].and.and_sub_policy[0].type", "'nope'"],
        ),
    ],
)
def test_what_the_collector_refuses_is_an_error_naming_place_value_and_fix(kind, current, settings, needles):
    found = errors(kind, current, settings)
    assert any(all(n in e for n in needles) for e in found), found


@pytest.mark.parametrize(
    ("kind", "current", "settings"),
    [
        ("processors", "batch", {"timeout": "200ms", "send_batch_size": 8192, "send_batch_max_size": 0}),
        ("processors", "batch", {"timeout": "${env:BATCH_TIMEOUT}"}),
        ("receivers", "otlp", {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}),
        ("exporters", "otlp_grpc", {"endpoint": "gateway:4317"}),
        ("exporters", "otlp_http", {"logs_endpoint": "http://loki:3100/otlp/v1/logs"}),
        ("exporters", "load_balancing", {"protocol": {"otlp": {}}, "resolver": {"dns": {"hostname": "gw"}}}),
        ("exporters", "debug", {"verbosity": "Detailed"}),
        ("exporters", "prometheus", {"anything": 1}),  # no key list for it: only known components are checked
        (
            "processors",
            "tail_sampling",
            {
                "decision_wait": "10s",
                "num_traces": 50000,
                "policies": [
                    {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                    {"name": "both", "type": "and", "and": {"and_sub_policy": [{"name": "x", "type": "latency"}]}},
                ],
            },
        ),
    ],
)
def test_what_the_collector_takes_passes(kind, current, settings):
    assert errors(kind, current, settings) == []


def test_the_place_uses_the_component_id_as_written():
    found = check("processors", "batch/traces", "batch", {"timeoutz": 1})
    assert found and found[0].startswith("processors.batch/traces: unknown key(s) timeoutz")


def test_durations():
    assert all(is_duration(v) for v in ("0", "1s", "200ms", "1m30s", "1.5h", "${env:X}"))
    assert not any(is_duration(v) for v in ("5", "1 s", "s", 10, None, "1d"))


def test_facts_the_checks_rest_on():
    assert "protocols" in KEYS[("receivers", "otlp")]
    assert {"always_sample", "latency", "status_code", "probabilistic", "and", "composite"} <= POLICY_TYPES


# ---------------------------------------------------------------- server TLS blocks
def at(path: str, value) -> dict:
    """{'protocols': {'grpc': {'tls': value}}} from 'protocols.grpc.tls'."""
    for step in reversed(path.split(".")):
        value = {step: value}
    return value


SERVERS = [(kind, current, path) for (kind, current), paths in SERVER_TLS.items() for path in paths]


@pytest.mark.parametrize(("kind", "current", "path"), SERVERS)
@pytest.mark.parametrize(
    ("tls", "sets"),
    [
        ({"min_version": "1.2"}, "sets min_version;"),
        ({"cipher_suites": ["TLS_AES_128_GCM_SHA256"]}, "sets cipher_suites;"),
        ({"client_ca_file": "/etc/otelcol/tls/ca.crt", "min_version": "1.3"}, "sets client_ca_file, min_version;"),
        ({}, "sets nothing;"),
    ],
)
def test_a_server_tls_block_without_certificate_and_key_is_refused(kind, current, path, tls, sets):
    found = errors(kind, current, at(path, tls))
    assert len(found) == 1, found
    assert found[0].startswith(f"{kind}.{current}.{path}: a server's TLS block needs its certificate and key")
    assert sets in found[0]
    assert "must include both certificate and key for server connections" in found[0]
    assert "Add cert_file and key_file" in found[0] and "remove `tls`" in found[0]


@pytest.mark.parametrize(
    ("tls", "needles"),
    [
        (
            {"cert_file": "/tls/tls.crt"},
            ["cert_file gives the certificate but nothing gives the key", "key_file or key_pem"],
        ),
        ({"key_pem": "PEM"}, ["key_pem gives the key but nothing gives the certificate", "cert_file or cert_pem"]),
        (
            {"cert_file": "/tls/tls.crt", "cert_pem": "PEM", "key_file": "/tls/tls.key"},
            ["both cert_file and cert_pem give the certificate", "keep one"],
        ),
    ],
)
def test_half_a_key_pair_or_one_half_twice_is_refused(tls, needles):
    found = errors("receivers", "otlp", at("protocols.http.tls", tls))
    assert len(found) == 1 and found[0].startswith("receivers.otlp.protocols.http.tls: "), found
    assert all(needle in found[0] for needle in needles), found


@pytest.mark.parametrize(
    "tls",
    [
        None,  # `tls:` with no value: plain text
        {"cert_file": "/tls/tls.crt", "key_file": "/tls/tls.key"},
        {"cert_pem": "PEM", "key_pem": "PEM", "min_version": "1.3", "client_ca_file": "/tls/ca.crt"},
        {"cert_file": "${env:TLS_CERT}", "key_file": "${env:TLS_KEY}"},  # set in the collector's container
    ],
)
def test_a_server_tls_block_with_certificate_and_key_passes(tls):
    assert errors("receivers", "otlp", at("protocols.grpc.tls", tls)) == []
    assert errors("extensions", "health_check", {"endpoint": "0.0.0.0:13133", "tls": tls}) == []


def test_client_tls_blocks_are_not_server_blocks():
    # An exporter's tls is a client's: no certificate needed (the server's CA, or the system's).
    assert errors("exporters", "otlp_grpc", {"endpoint": "gateway:4317", "tls": {"min_version": "1.2"}}) == []
    assert errors("exporters", "otlp_http", {"endpoint": "https://x", "tls": {}}) == []


def test_a_tls_block_that_is_not_a_mapping():
    found = errors("extensions", "zpages", {"tls": "on"})
    assert found == ["extensions.zpages.tls: expected a mapping with cert_file and key_file, got 'on'"]
