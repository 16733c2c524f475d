"""The pure parts of benchmarks/pipeline_benchmark.py: the load's plan, telemetrygen's report, the counts,
the verdict of a step and the size of a span on the wire."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from pipelinelib import (  # noqa: E402
    SPANS_PER_TRACE,
    StepCount,
    delta,
    expected_sampled_share,
    ladder,
    latency_summary,
    losses,
    metric_sum,
    parse_generated,
    per_core,
    read_counters,
    report_lines,
    senders,
    span_attributes,
    span_wire_bytes,
    spans_lost,
)

REPORT = """\
== errors ==
2026-12-06T07:23:46.130Z\tINFO\ttraces/worker.go:180\ttraces generated\t{"worker": 0, "traces": 501}
export errors: 0
== ordinary ==
2026-12-06T07:23:46.105Z\tINFO\ttraces/worker.go:180\ttraces generated\t{"worker": 0, "traces": 1491}
2026-12-06T07:23:46.105Z\tINFO\ttraces/worker.go:180\ttraces generated\t{"worker": 1, "traces": 1492}
export errors: 3
2026-12-06T07:23:46Z\tERROR\ttraces exporter failed: rpc error: code = Unavailable
== logs ==
2026-12-06T07:23:46.112Z\tINFO\tlogs/worker.go:118\tlogs generated\t{"worker": 0, "logs": 2500}
"""


def test_senders_split_the_rate_by_the_shares_and_spread_it_over_workers():
    plan = {s.kind: s for s in senders(10000)}
    assert plan["errors"].spans_per_second == pytest.approx(500, rel=1e-3)
    assert plan["slow"].spans_per_second == pytest.approx(500, rel=1e-3) and plan["slow"].span_duration == "600ms"
    assert plan["ordinary"].spans_per_second == pytest.approx(9000)
    assert plan["ordinary"].workers == 45 and plan["ordinary"].rate_per_worker == 200
    assert plan["errors"].status == "Error" and plan["ordinary"].status == "Unset"
    assert sum(s.spans_per_second for s in senders(3000)) == pytest.approx(3000, rel=1e-3)


def test_twenty_attributes_a_span_in_telemetrygens_key_value_form():
    attributes = span_attributes()
    assert len(attributes) == 18  # and telemetrygen's own two
    assert all(a.count('"') == 2 and a.endswith('"') and '="' in a for a in attributes)


def test_telemetrygens_report_is_added_up_per_sender():
    found = parse_generated(REPORT)
    assert found == {
        "errors": {"traces": 501, "export_errors": 0},
        "ordinary": {"traces": 2983, "export_errors": 3},
        "logs": {"logs": 2500},
    }


def test_counters_with_and_without_the_total_suffix_and_labels():
    text = (
        'otelcol_exporter_sent_spans{exporter="loadbalancing",service_name="x"} 10\n'
        'otelcol_exporter_sent_spans{exporter="otlp/gateway"} 99\n'
        'otelcol_receiver_accepted_spans_total{receiver="otlp"} 7\n'
        "otelcol_receiver_accepted_spans_other 5\n"
    )
    assert metric_sum(text, "otelcol_exporter_sent_spans", exporter="loadbalancing") == 10
    counters = read_counters(text, {"accepted": ("otelcol_receiver_accepted_spans", {})})
    assert counters == {"accepted": 7}
    assert delta({"a": 1.0}, {"a": 4.0, "b": 2.0}) == {"a": 3.0, "b": 2.0}


def whole(traces: int) -> StepCount:
    spans = traces * SPANS_PER_TRACE
    return StepCount(
        seconds=60,
        generated_traces=traces,
        generated_logs=100,
        agent={"accepted": spans, "logs_accepted": 100, "refused": 0, "queue_full": 0},
        gateways={"accepted": spans, "decided": traces, "dropped_too_early": 0},
    )


def test_a_step_where_every_stage_saw_everything_lost_nothing():
    assert losses(whole(1000)) == []


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda c: c.agent.update(accepted=4990), "agent accepted 4990 of 5000 spans sent"),
        (lambda c: c.gateways.update(accepted=4000), "gateways accepted 4000 of 5000"),
        (lambda c: c.gateways.update(decided=990), "gateways decided 990 of 1000 traces"),
        (lambda c: c.gateways.update(dropped_too_early=3), "gateways dropped too early: 3"),
        (lambda c: c.agent.update(queue_full=1), "agent queue full: 1"),
        (lambda c: c.agent.update(logs_accepted=90), "agent accepted 90 of 100 log records"),
        (lambda c: setattr(c, "restarts", 1), "1 collector restart(s)"),
        (lambda c: setattr(c, "oom_killed", 1), "1 OOM kill(s)"),
    ],
)
def test_each_kind_of_loss_is_named(change, reason):
    count = whole(1000)
    change(count)
    assert reason in losses(count)


def test_arithmetic_of_the_figures():
    assert per_core(9000, 1.0) == 9000
    assert math.isnan(per_core(10, 0))
    assert ladder(1000, 1.5, 4) == [1000, 1500, 2200, 3400]
    assert expected_sampled_share() == pytest.approx(0.05 + 0.05 + 0.09)
    summary = latency_summary([float(i) for i in range(1, 101)])
    assert (summary["p50"], summary["p95"], summary["max"]) == (50.0, 95.0, 100.0)
    assert latency_summary([]) == {"count": 0}


SPAN = {
    "traceId": "8cb5507c03bb4d6123a8dcf2c39afcc9",
    "spanId": "afa2a5eef2ac64d2",
    "parentSpanId": "5216532587c4e0f2",
    "flags": 257,
    "name": "okey-dokey-0",
    "kind": 2,
    "startTimeUnixNano": "1796541560824149192",
    "endTimeUnixNano": "1796541560824272192",
    "attributes": [
        {"key": "network.peer.address", "value": {"stringValue": "1.2.3.4"}},
        {"key": "bench.arrival_unix_nano", "value": {"intValue": "1796541560826800797"}},
    ],
    "status": {},
}


def test_the_size_of_a_span_in_an_otlp_request():
    # trace id 2+16, span id 2+8, parent 2+8, name 2+12, kind 2, start and end 9 each,
    # the attribute 2 + (2+20) + 2 + (2+7) = 35 (the arrival stamp is the stand-in's, left out),
    # status 2, flags 2+4: 115, and the span's own tag and length in ScopeSpans: 2 + 115.
    assert span_wire_bytes(SPAN) == 117
    assert span_wire_bytes(SPAN, skip_attributes=()) > 117
    error = dict(SPAN, status={"code": 2})
    assert span_wire_bytes(error) == 119


def test_the_report_has_a_column_per_configuration_and_names_the_references():
    step = {
        "rate": 2000,
        "seconds": 60,
        "spans_per_second_sent": 2000.0,
        "spans_sent": 120000,
        "logs_sent": 12000,
        "losses": [],
        "agent_spans_per_core": 20000.0,
        "gateway_spans_per_core": 9000.0,
        "pipeline_spans_per_core": 6000.0,
        "agent_cpu_per_1000": 0.05,
        "gateway_cpu_per_1000": {"g1": 0.11, "g2": 0.12},
        "peak_memory": {"otel-agent-collector-x": 100 * 2**20, "otel-gateway-collector-y": 300 * 2**20},
        "latency": {"count": 5, "p50": 11.0, "p95": 12.5},
        "span_bytes": 1080.0,
        "cpu": {"agent": 6.0, "gateways": {"g1": 7.0}, "generator": 12.0, "other": 30.0, "wall": 60.0},
    }
    figures = {"configs": {"tuned": {"held": 2000.0, "ramp": [step, dict(step, rate=3000, losses=["x"])]}}}
    text = "\n".join(report_lines(figures))
    assert "rate held 60 s, nothing lost (spans/s)" in text and "2000" in text
    assert "3000: x" in text and "300" in text and "11.0 / 12.5" in text
    assert "collector doc, with tail sampling 9,000" in text


def test_the_helm_baseline_is_the_charts_config_with_the_pipelines_exporters_and_renders():
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "support"))
    import pipeline_benchmark

    from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as collector_render
    from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions
    from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent, gateway

    settings = pipeline_benchmark.Bench.settings_for("helm", "bench-x")
    values = {k: settings[k]["config"] for k in ("otel_gateway_helm_values", "otel_agent_helm_values")}
    gateway_config, agent_config = values["otel_gateway_helm_values"], values["otel_agent_helm_values"]
    assert gateway_config["processors"]["batch"] == {} and agent_config["processors"]["batch"] == {}
    assert gateway_config["processors"]["memory_limiter"]["check_interval"] == "5s"
    assert gateway_config["service"]["pipelines"]["traces"]["processors"] == [
        "memory_limiter",
        "tail_sampling",
        "batch",
    ]
    assert list(agent_config["exporters"]) == ["loadbalancing", "otlp/gateway"]
    assert "prometheus" in agent_config["service"]["pipelines"]["metrics"]["receivers"]
    for preset, prefix in ((gateway, "otel_gateway_"), (agent, "otel_agent_")):
        given = {k[len(prefix) :]: v for k, v in settings.items() if k.startswith(prefix)}
        built = preset.build(given)
        assert built.errors == []
        options = dict(built.options, config=given["helm_values"]["config"])
        rendered = collector_render.render(built.name, CollectorOptions(**options))
        assert rendered.errors == [], rendered.errors


def test_the_limited_configuration_is_the_defaults_with_a_smaller_gateway_memory_limit():
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "support"))
    import pipeline_benchmark

    from ansible_collections.otel.kubernetes.plugins.module_utils.presets import gateway

    tuned = pipeline_benchmark.Bench.settings_for("tuned", "bench-x")
    limited = pipeline_benchmark.Bench.settings_for("limited", "bench-x")
    assert {k: v for k, v in limited.items() if k != "otel_gateway_resources"} == tuned
    given = {k[len("otel_gateway_") :]: v for k, v in limited.items() if k.startswith("otel_gateway_")}
    built = gateway.build(given)
    assert built.errors == []
    assert built.options["resources"]["limits"]["memory"] == "768Mi"
    assert built.options["config"]["processors"]["memory_limiter"]["limit_percentage"] == 80


def test_spans_lost_takes_the_larger_of_the_error_share_and_what_never_passed_the_first_stage():
    # The tuned run's agent deletion: 2,368 of 24,285 error spans lost (9.8% of 485,505: 47,341), but the
    # gateways decided 74,103 of 97,101 traces: 115,000 spans never reached a decision.
    agent_step = {
        "spans_sent": 485505,
        "error_spans": {"sent": 24285, "arrived": 21917},
        "agent": {"accepted": 360405},
        "gateways": {"decided": 74103},
    }
    assert spans_lost(agent_step, agent_deleted=True) == 485505 - 74103 * SPANS_PER_TRACE
    # A gateway deletion: every error span arrived; the busiest sender's 169 spans never reached the agent
    # (the gateways decided more traces than were sent: re-sent duplicates, so decided is not used).
    gateway_step = {
        "spans_sent": 476370,
        "error_spans": {"sent": 23935, "arrived": 23935},
        "agent": {"accepted": 476201},
        "gateways": {"decided": 95274},
    }
    assert spans_lost(gateway_step, agent_deleted=False) == 169
    lost_errors = dict(gateway_step, error_spans={"sent": 1000, "arrived": 990})
    assert spans_lost(lost_errors, agent_deleted=False) == round(0.01 * 476370)
    assert spans_lost({"spans_sent": 10, "agent": {"accepted": 12}}, agent_deleted=False) == 0


def test_the_report_says_what_the_overload_lost_and_the_agent_restarts_loss_from_the_decisions():
    overload = {"spans_per_second_sent": 12399, "losses": ["gateways export failed: 131845"], "agent": {}}
    agent_fault = {
        "spans_sent": 1000,
        "error_spans": {"sent": 100, "arrived": 100},
        "agent": {"accepted": 1000},
        "gateways": {"decided": 150},
    }
    figures = {"configs": {"before": {"held": 6446, "overload": overload, "fault_agent": agent_fault}}}
    text = "\n".join(report_lines(figures))
    assert "gateways export failed: 131845" in text
    assert "250 of 1000" in text
