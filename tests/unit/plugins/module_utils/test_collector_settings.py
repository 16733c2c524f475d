"""The settings checks of the common components (what the collector refuses), alone."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector_settings import (
    KEYS,
    POLICY_TYPES,
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
