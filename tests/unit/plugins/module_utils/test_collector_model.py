"""collector_model: the one reading of a collector configuration that lint, render and rbac share."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _lint as collector_lint
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import model as collector_model
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import render as rbac_render

CONFIG = """
receivers:
  otlp:
    protocols: {grpc: {}}
  kubeletstats/node:
processors:
  batch:
  k8s_attributes/agent: {}
  memory_limiter: {limit_percentage: 80}
exporters:
  otlp/gateway: {endpoint: gateway:4317}
  debug:
extensions:
  health_check:
  pprof:
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, k8s_attributes/agent, batch], exporters: [otlp/gateway]}
"""


def test_lint_and_rbac_read_the_config_with_the_same_functions():
    assert collector_lint.parse_config is collector_model.parse_config
    assert collector_lint.normalise is collector_model.normalise
    assert collector_lint.split_id is collector_model.split_id
    assert collector_lint.components_of_type is collector_model.components_of_type
    assert rbac_render.load_config is collector_model.load_config
    assert rbac_render.used_components is collector_model.used_components
    assert rbac_render.component_type is collector_model.component_type


def test_yaml_text_parses_and_normalises_empty_settings_to_maps():
    parsed, problem = collector_model.parse_config(CONFIG)
    assert problem is None
    config = collector_model.normalise(parsed)
    assert config["processors"]["batch"] == {}
    assert config["receivers"]["kubeletstats/node"] == {}
    assert config["exporters"]["debug"] == {}


def test_parse_config_never_changes_its_input_and_reports_rather_than_raises():
    given = {"processors": {"batch": None}}
    parsed, problem = collector_model.parse_config(given)
    collector_model.normalise(parsed)
    assert given == {"processors": {"batch": None}} and problem is None
    assert collector_model.parse_config("[1, 2]") == (
        None,
        "config: expected a mapping (receivers, processors, exporters, service), got list",
    )
    parsed, problem = collector_model.parse_config("receivers: [")
    assert parsed is None and problem.startswith("config: not valid YAML: ")


def test_load_config_no_config_is_no_permissions_and_a_list_is_refused():
    assert collector_model.load_config(None) == {} and collector_model.load_config("") == {}
    with pytest.raises(OtelK8sError, match="expected the collector configuration as a mapping, got list"):
        collector_model.load_config([1])
    with pytest.raises(OtelK8sError, match="^config is not valid YAML: "):
        collector_model.load_config("receivers: [")


@pytest.mark.parametrize(
    ("component_id", "expected"),
    [("otlp/tempo", ("otlp", "tempo")), ("batch", ("batch", None)), ("a/b/c", ("a", "b/c")), ("x/", ("x", None))],
)
def test_component_ids_are_type_and_name(component_id, expected):
    assert collector_model.split_id(component_id) == expected
    assert collector_model.component_type(component_id) == expected[0]


def test_components_of_lists_every_defined_component_with_its_type():
    config = collector_model.normalise(collector_model.parse_config(CONFIG)[0])
    assert ("exporters", "otlp/gateway", "otlp") in collector_model.components_of(config)
    assert len(collector_model.components_of(config)) == 9


def test_components_of_type_finds_both_spellings():
    config = collector_model.normalise(collector_model.parse_config(CONFIG)[0])
    found = collector_model.components_of_type(config, "processors", "k8s_attributes")
    assert [cid for cid, _settings in found] == ["k8s_attributes/agent"]


def test_used_components_are_those_a_pipeline_or_service_extensions_start():
    used = collector_model.used_components(collector_model.load_config(CONFIG))
    assert set(used["receivers"]) == {"otlp"}
    assert set(used["processors"]) == {"memory_limiter", "k8s_attributes/agent", "batch"}
    assert set(used["exporters"]) == {"otlp/gateway"}
    assert set(used["extensions"]) == {"health_check"}


def test_without_a_service_every_defined_component_counts():
    used = collector_model.used_components({"receivers": {"k8s_cluster": None}})
    assert used["receivers"] == {"k8s_cluster": {}}


def test_quantities():
    assert collector_model.parse_quantity("512Mi") == 512 * collector_model.MIB
    assert collector_model.to_mib("1Gi") == 1024
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        collector_model.parse_quantity("lots")
