"""The runners behind the thin module mains that need no cluster (collector_config's check)."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _validate as collector_validate
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import config_runner as collector_config_runner

GOOD = {
    "receivers": {"otlp": {"protocols": {"grpc": {}}}},
    "processors": {"memory_limiter": {"check_interval": "1s", "limit_percentage": 80}, "batch": {}},
    "exporters": {"debug": {}},
    "service": {
        "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["debug"]}
        }
    },
}


def params(config, **more) -> dict:
    base = {name: option.get("default") for name, option in collector_config_runner.ARGUMENT_SPEC.items()}
    base.update(config=config, **more)
    return base


@pytest.fixture(autouse=True)
def no_binary(monkeypatch):
    """No collector binary: the lint alone (the binary's validate is tested in tests/integration)."""
    monkeypatch.setattr(collector_validate, "second_opinion", lambda config, option, distribution: ([], [], None))


def test_a_good_config_passes_with_the_smallest_distribution():
    result, failure = collector_config_runner.check(params(GOOD))
    assert failure is None
    assert result["valid"] is True and result["changed"] is False and result["errors"] == []
    assert result["distribution"] == "core" and result["validated_with"] is None


def test_errors_fail_with_their_count_and_list():
    bad = dict(GOOD, service={"pipelines": {"traces": {"receivers": ["prometheus"], "exporters": ["debug"]}}})
    result, failure = collector_config_runner.check(params(bad))
    assert result["valid"] is False
    assert failure.startswith("the collector configuration has 1 error(s):\n- ")
    assert "prometheus" in failure


def test_warnings_fail_only_with_fail_on_warnings():
    order = {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["debug"]}
    warned = dict(GOOD, service={"pipelines": {"traces": order}})
    result, failure = collector_config_runner.check(params(warned))
    assert failure is None and result["lint_warnings"]
    result, failure = collector_config_runner.check(params(warned, fail_on_warnings=True))
    assert failure.startswith(f"the collector configuration has {len(result['lint_warnings'])} warning(s) and ")
    assert "fail_on_warnings is set" in failure
