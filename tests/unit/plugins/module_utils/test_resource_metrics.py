"""An autoscaler on a cluster without the resource metrics API (metrics.k8s.io): the collector module
warns, naming the fix; the summary says the autoscaler is inactive. A fake client stands for the
API server (the local node, which has no metrics-server, is in tests/integration/test_collector.py)."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as cr
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.runner import (
    PRESETS,
    CollectorRunner,
    autoscaler_fix,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError
from ansible_collections.otel.kubernetes.plugins.module_utils.summary import SummaryRunner, collector_line

from .test_info import SERVED, FakeClient, FakeDiscovery

METRICS = "/apis/metrics.k8s.io/v1beta1"
SERVED_METRICS = {"resources": [{"kind": "NodeMetrics"}, {"kind": "PodMetrics"}]}
AUTOSCALER = {"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60, "targetMemoryUtilization": 80}


class Module:
    def __init__(self):
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def check(answers: dict, spec: dict, setting="otel_gateway_autoscaler", unset="set otel_gateway_autoscaler: {}"):
    """CollectorRunner's check alone, on a collector as rendered: (warnings, result, client)."""
    runner = object.__new__(CollectorRunner)
    runner.module, runner.result = Module(), {}
    client = FakeClient(answers)
    runner._check_resource_metrics(client, {"spec": spec}, setting, unset)
    return runner.module.warnings, runner.result, client


def test_the_message_names_the_setting_the_numbers_and_both_fixes():
    message = cr.autoscaler_without_metrics(AUTOSCALER, 3, "otel_gateway_autoscaler", "set otel_gateway_autoscaler: {}")
    assert message.startswith("otel_gateway_autoscaler asks for 2..10 replicas by CPU 60% and memory 80%")
    assert "does not serve the resource metrics API (metrics.k8s.io/v1beta1)" in message
    assert "FailedGetResourceMetric" in message and "stays at 3 replicas" in message
    assert message.endswith(
        "Install metrics-server, or set otel_gateway_autoscaler: {} to run a fixed number of replicas."
    )
    # Without replicas the operator runs minReplicas.
    assert "stays at 2 replicas" in cr.autoscaler_without_metrics(AUTOSCALER, None, "autoscaler", "remove autoscaler")


def test_an_autoscaler_without_the_metrics_api_is_warned_about():
    warnings, result, client = check({}, {"replicas": 3, "autoscaler": AUTOSCALER})
    assert client.calls == [("GET", METRICS, {})]
    assert result == {"resource_metrics_served": False}
    (warning,) = warnings
    assert "otel_gateway_autoscaler asks for 2..10 replicas" in warning
    assert "Install metrics-server, or set otel_gateway_autoscaler: {}" in warning


def test_no_warning_when_the_metrics_api_is_served_or_there_is_no_autoscaler():
    warnings, result, _client = check({METRICS: SERVED_METRICS}, {"replicas": 3, "autoscaler": AUTOSCALER})
    assert warnings == [] and result == {"resource_metrics_served": True}
    # Served, but without PodMetrics: of no use to the autoscaler.
    warnings, result, _client = check({METRICS: {"resources": [{"kind": "NodeMetrics"}]}}, {"autoscaler": AUTOSCALER})
    assert result == {"resource_metrics_served": False} and len(warnings) == 1
    # No autoscaler (otel_gateway_autoscaler: {}): nothing asked, nothing said.
    for spec in ({"replicas": 2}, {"replicas": 2, "autoscaler": {}}):
        warnings, result, client = check({}, spec)
        assert warnings == [] and result == {} and client.calls == []


def test_a_registered_metrics_api_that_does_not_answer_counts_as_not_served():
    down = ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
    warnings, result, _client = check({METRICS: down}, {"replicas": 3, "autoscaler": AUTOSCALER})
    assert result == {"resource_metrics_served": False}
    assert warnings[0] == f"metrics.k8s.io/v1beta1 is registered but did not answer: HTTP 503 {down.message}"
    assert "never scales" in warnings[1]


@pytest.mark.parametrize("served", [True, False])
def test_the_summary_says_whether_the_autoscaler_can_work(served):
    gateway = {
        "metadata": {"namespace": "observability", "name": "otel-gateway"},
        "spec": {"mode": "deployment", "replicas": 3, "autoscaler": AUTOSCALER},
    }
    answers = {
        "/apis/opentelemetry.io/v1beta1/namespaces/observability/opentelemetrycollectors": {"items": [gateway]},
        "/api/v1/namespaces/opentelemetry-operator-system/pods": {"items": []},
        "/api/v1/namespaces/observability/pods": {"items": []},
        "/api/v1/namespaces/observability/secrets": {"items": []},
    }
    if served:
        answers[METRICS] = SERVED_METRICS
    discovery = FakeDiscovery({**SERVED, ("v1", "Pod"): ("pods", True)})
    statuses = {
        "operator": {"namespace": "opentelemetry-operator-system"},
        "certificates": {"namespace": "observability"},
        "gateway": {"name": "otel-gateway", "namespace": "observability"},
    }
    result = SummaryRunner(FakeClient(answers), discovery).run(statuses)
    (line,) = [line for line in result["lines"] if line.startswith("collector ")]
    assert line.startswith("collector observability/otel-gateway: mode deployment, replicas 3, autoscaler 2..10")
    if served:
        assert "INACTIVE" not in line
    else:
        assert "autoscaler 2..10 INACTIVE (the cluster does not serve metrics.k8s.io, so it never scales" in line
        assert "install metrics-server, or set otel_gateway_autoscaler: {})" in line
    assert result["collectors"][0]["autoscaler"] == {"min_replicas": 2, "max_replicas": 10, "active": served}


def test_the_summary_does_not_ask_without_an_autoscaler():
    agent = {"metadata": {"namespace": "o", "name": "a"}, "spec": {"mode": "daemonset"}}
    assert (
        collector_line(agent, metrics_served=False)
        == "collector o/a: mode daemonset, replicas one per node, image operator default"
    )
    runner = SummaryRunner(FakeClient({}), FakeDiscovery(SERVED))
    assert runner.resource_metrics_served([agent]) is True and runner.client.calls == []


def test_a_presets_autoscaler_warning_names_its_role_variables():
    gateway = PRESETS["gateway"].SETTINGS
    assert autoscaler_fix(gateway, False) == ("otel_gateway_autoscaler", "set otel_gateway_autoscaler: {}")
    assert autoscaler_fix(gateway, True) == (
        "otel_gateway_helm_values autoscaling",
        "set autoscaling.enabled: false in otel_gateway_helm_values",
    )
    assert autoscaler_fix(PRESETS["agent"].SETTINGS, True)[0] == "otel_agent_helm_values autoscaling"
