"""presets/_sizing: the gateway's size from its expected load, and the num_traces warning."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _lint as collector_lint
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as collector_render
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.model import duration_seconds
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _sizing as sizing
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import gateway


@pytest.mark.parametrize(
    "text, seconds", [("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("", 30.0), ("ten", 30.0)]
)
def test_durations(text, seconds):
    assert duration_seconds(text, 30.0) == seconds


@pytest.mark.parametrize("text, cores", [("1", 1.0), ("1.5", 1.5), ("500m", 0.5), ("", 0.0), ("lots", 0.0)])
def test_cpu_quantities(text, cores):
    assert sizing.cpu_cores(text) == cores


def test_the_rule_step_by_step():
    sized = sizing.size({"spans_per_second": 36000, "log_records_per_second": 4000}, decision_wait=10, cpu_limit=1)
    cores = 36000 / sizing.SPANS_PER_CORE + 4000 / sizing.LOG_RECORDS_PER_CORE
    assert sized.cores == pytest.approx(cores)
    assert sized.replicas == max(2, -(-cores // sizing.TARGET_CPU))
    assert sized.max_replicas == 2 * sized.replicas
    per_replica = 36000 / sizing.SPANS_PER_TRACE / sized.replicas
    assert sized.traces_per_second_per_replica == pytest.approx(per_replica)
    assert sized.num_traces >= per_replica * 10 * 2 and sized.num_traces % 1000 == 0
    waiting_mib = (
        per_replica * sizing.SPANS_PER_TRACE * (10 + sizing.BATCH_SECONDS) * sizing.BYTES_PER_WAITING_SPAN / 2**20
    )
    assert sized.memory_request_mib >= sizing.BASE_MEMORY_MIB + waiting_mib
    assert sized.memory_limit_mib * 0.8 >= sizing.BASE_MEMORY_MIB + 2 * waiting_mib
    assert len(sized.arithmetic()) == 5 and str(sized.num_traces) in sized.arithmetic()[3]


def test_a_small_load_still_gets_two_replicas_and_more_spans_per_trace_fewer_traces():
    small = sizing.size({"spans_per_second": 100}, decision_wait=10, cpu_limit=1)
    assert small.replicas == 2 and small.num_traces == 1000
    long_traces = sizing.size({"spans_per_second": 100000, "spans_per_trace": 50}, decision_wait=10, cpu_limit=1)
    short_traces = sizing.size({"spans_per_second": 100000, "spans_per_trace": 5}, decision_wait=10, cpu_limit=1)
    assert long_traces.num_traces < short_traces.num_traces


@pytest.mark.parametrize(
    "expected, fragment",
    [
        ("lots", "give a mapping"),
        ({"spans": 1}, "expected_load.spans: not a key"),
        ({"spans_per_second": -1}, "spans_per_second is -1"),
        ({"spans_per_second": "many"}, 'spans_per_second is "many"'),
        ({"spans_per_trace": 5}, "neither spans_per_second nor log_records_per_second"),
        ({"spans_per_second": 10, "spans_per_trace": 0}, "a trace has at least 1 span"),
    ],
)
def test_bad_expected_loads_name_the_variable_and_the_fix(expected, fragment):
    errors = gateway.build({"expected_load": expected}).errors
    assert len(errors) == 1 and fragment in errors[0] and "otel_gateway_expected_load" in errors[0]


def test_the_gateway_derives_what_is_left_at_its_default():
    built = gateway.build({"expected_load": {"spans_per_second": 50000}})
    sized = sizing.size({"spans_per_second": 50000}, 10, 1)
    assert built.errors == []
    assert built.options["replicas"] == sized.replicas
    assert built.options["autoscaler"]["minReplicas"] == sized.replicas
    assert built.options["autoscaler"]["maxReplicas"] == sized.max_replicas
    assert built.options["autoscaler"]["targetCPUUtilization"] == 60
    assert built.options["config"]["processors"]["tail_sampling"]["num_traces"] == sized.num_traces
    assert built.options["resources"]["limits"] == {"cpu": "1", "memory": f"{sized.memory_limit_mib}Mi"}
    assert built.options["resources"]["requests"]["memory"] == f"{sized.memory_request_mib}Mi"
    assert built.status["sizing"] == sized.arithmetic()
    assert built.options["expected_new_traces_per_second"] == 10000


def test_values_of_the_users_own_are_kept():
    own = {
        "expected_load": {"spans_per_second": 50000},
        "replicas": 4,
        "autoscaler": {},
        "resources": {"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"memory": "1Gi"}},
        "tail_sampling": dict(gateway.SETTINGS["tail_sampling"].default, num_traces=250000),
    }
    built = gateway.build(own)
    assert built.options["replicas"] == 4
    assert built.options["autoscaler"] is None
    assert built.options["resources"] == own["resources"]
    assert built.options["config"]["processors"]["tail_sampling"]["num_traces"] == 250000
    # A CPU limit of 2 per replica halves the replicas the rule asks for.
    assert built.status["sizing"] == sizing.size({"spans_per_second": 50000}, 10, 2).arithmetic()


def test_without_an_expected_load_nothing_changes():
    built = gateway.build({})
    assert built.options["replicas"] == 3 and built.status["sizing"] == []
    assert built.options["expected_new_traces_per_second"] is None


def num_traces_warnings(num_traces, expected, replicas=3, autoscaler=None, decision_wait="10s") -> list:
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {}}}},
        "processors": {"tail_sampling": {"decision_wait": decision_wait, "num_traces": num_traces, "policies": []}},
        "exporters": {"debug": {}},
        "service": {
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["tail_sampling"], "exporters": ["debug"]}}
        },
    }
    report = collector_lint.lint(
        config,
        replicas=replicas,
        autoscaler=autoscaler,
        traces_routed_by_trace_id=True,
        expected_new_traces_per_second=expected,
    )
    return [w for w in report.warnings if "num_traces" in w]


def test_num_traces_below_new_traces_per_second_times_decision_wait_is_warned_about():
    # 3,000 traces/s over 3 replicas, 10 s: 10,000 wait in each.
    assert num_traces_warnings(9999, 3000) and not num_traces_warnings(10000, 3000)
    warning = num_traces_warnings(5000, 3000)[0]
    assert "3000 traces/s expected / 3 replica(s) x 10 s decision_wait = 10000" in warning
    assert "at least 20000" in warning and "dropped_too_early" in warning
    # The fewest replicas count: the autoscaler may go down to 2.
    assert num_traces_warnings(12000, 3000, autoscaler={"minReplicas": 2, "maxReplicas": 6})
    # The processor's defaults when the settings leave them out: 50,000 traces, 30 s.
    assert num_traces_warnings(50000, 6000, replicas=3, decision_wait="30s")
    # No expected load: nothing to compare with.
    assert num_traces_warnings(10, None) == []


def test_the_role_path_warns_when_its_own_num_traces_is_too_small():
    own = {
        "expected_load": {"spans_per_second": 100000},
        "tail_sampling": dict(gateway.SETTINGS["tail_sampling"].default, num_traces=5000),
    }
    built = gateway.build(own)
    rendered = collector_render.render(built.name, CollectorOptions(**built.options))
    assert rendered.errors == []
    assert [w for w in rendered.warnings if "num_traces: 5000" in w]
    derived = gateway.build({"expected_load": {"spans_per_second": 100000}})
    assert not [
        w
        for w in collector_render.render(derived.name, CollectorOptions(**derived.options)).warnings
        if "num_traces" in w
    ]
