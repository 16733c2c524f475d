"""collector_lint and distributions: one test per rule, each seed mistake as an input."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector._lint import (
    choose_image,
    lint,
    smallest_distribution,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.model import parse_quantity

# ---------------------------------------------------------------- the seed's configurations, verbatim
SEED_AGENT = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  batch:
    timeout: 1s
    send_batch_size: 1024
  memory_limiter:
    limit_mib: 512
    check_interval: 1s
  k8sattributes:
    extract:
      metadata:
        - k8s.namespace.name
        - k8s.pod.name
        - k8s.pod.uid
        - k8s.deployment.name
        - k8s.node.name
        - k8s.container.name
exporters:
  otlp:
    endpoint: otel-gateway:4317
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [k8sattributes, batch, memory_limiter]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [batch, memory_limiter]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      processors: [batch, memory_limiter]
      exporters: [otlp]
"""

SEED_GATEWAY = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  batch:
    timeout: 5s
    send_batch_size: 8192
  memory_limiter:
    limit_mib: 1024
    check_interval: 1s
  tail_sampling:
    decision_wait: 10s
    num_traces: 100000
    policies:
      - name: errors-policy
        type: status_code
        status_code: {status_codes: [ERROR]}
      - name: latency-slo-policy
        type: latency
        latency: {threshold_ms: 500}
      - name: probabilistic-policy
        type: probabilistic
        probabilistic: {sampling_percentage: 10}
exporters:
  otlp/tempo:
    endpoint: http://tempo:4317
    tls:
      insecure: true
  prometheus:
    endpoint: 0.0.0.0:8889
  loki:
    endpoint: http://loki:3100/otlp
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [tail_sampling, batch, memory_limiter]
      exporters: [otlp/tempo]
    metrics:
      receivers: [otlp]
      processors: [batch, memory_limiter]
      exporters: [prometheus]
    logs:
      receivers: [otlp]
      processors: [batch, memory_limiter]
      exporters: [loki]
"""

SEED_SELF_MONITORING = """
exporters:
  prometheus:
    endpoint: 0.0.0.0:8889
service:
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [prometheus]
"""

SEED_MEMORY_LIMITER = """
memory_limiter:
  limit_mib: 768       # ~20% above container limit
  spike_limit_mib: 256  # spike allowance
"""

# ---------------------------------------------------------------- the same, corrected
CORRECTED_AGENT = """
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 0.0.0.0:4317}
      http: {endpoint: 0.0.0.0:4318}
processors:
  memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 25}
  k8sattributes:
    filter: {node_from_env_var: K8S_NODE_NAME}
    extract:
      metadata: [k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.deployment.name, k8s.node.name]
  batch: {timeout: 1s, send_batch_size: 1024}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp: {tls: {insecure: true}}
    resolver:
      dns: {hostname: otel-gateway-collector-headless.observability.svc.cluster.local}
  otlp:
    endpoint: otel-gateway-collector.observability:4317
    tls: {insecure: true}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 0.0.0.0, port: 8888}}}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, k8sattributes, batch]
      exporters: [loadbalancing]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, k8sattributes, batch]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, k8sattributes, batch]
      exporters: [otlp]
"""

CORRECTED_GATEWAY = """
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 0.0.0.0:4317}
      http: {endpoint: 0.0.0.0:4318}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 800, spike_limit_mib: 200}
  tail_sampling:
    decision_wait: 10s
    num_traces: 100000
    policies:
      - {name: errors-policy, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: latency-slo-policy, type: latency, latency: {threshold_ms: 500}}
      - {name: probabilistic-policy, type: probabilistic, probabilistic: {sampling_percentage: 10}}
  batch: {timeout: 5s, send_batch_size: 8192}
exporters:
  otlp/tempo:
    endpoint: tempo:4317
    tls: {insecure: true}
  otlphttp/prometheus:
    endpoint: http://prometheus:9090/api/v1/otlp
  otlphttp/loki:
    endpoint: http://loki:3100/otlp
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 0.0.0.0, port: 8888}}}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: [otlp/tempo]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlphttp/prometheus]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlphttp/loki]
"""

GATEWAY_SCALING = {"replicas": 3, "autoscaler": {"minReplicas": 3, "maxReplicas": 10, "targetCPUUtilization": 60}}


def minimal(**sections) -> dict:
    """A valid config to bend: otlp in, memory_limiter+batch, debug out."""
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {}}}},
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
        },
        "exporters": {"debug": {}},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["debug"]}
            }
        },
    }
    config.update(sections)
    return config


def with_pipeline(processors: list, extra_processors: dict | None = None, **lint_args):
    config = minimal()
    config["processors"].update(extra_processors or {})
    config["service"]["pipelines"]["traces"]["processors"] = processors
    return lint(config, **lint_args)


def matching(messages: list, *needles: str) -> list:
    return [m for m in messages if all(n in m for n in needles)]


# ---------------------------------------------------------------- distributions (data)
def test_distribution_component_facts():
    core, k8s, contrib = (dist.DISTRIBUTIONS[n] for n in ("core", "k8s", "contrib"))
    for kind, name in (
        ("processors", "k8sattributes"),
        ("processors", "tail_sampling"),
        ("exporters", "loadbalancing"),
    ):
        assert not core.has(kind, name)
        assert k8s.has(kind, name)
        assert contrib.has(kind, name)
    assert not k8s.has("exporters", "prometheus")
    assert contrib.has("exporters", "prometheus")
    # Upstream otelcol (core) manifest v0.159.0 does list exporter/prometheusexporter.
    assert core.has("exporters", "prometheus")
    assert not any(d.has("exporters", "loki") for d in dist.DISTRIBUTIONS.values())
    assert ("exporters", "loki") in dist.REMOVED


def test_contrib_has_everything_core_and_k8s_have():
    for kind in dist.KINDS:
        assert dist.DISTRIBUTIONS["core"].components[kind] <= dist.DISTRIBUTIONS["contrib"].components[kind]
        assert dist.DISTRIBUTIONS["k8s"].components[kind] <= dist.DISTRIBUTIONS["contrib"].components[kind]


def test_aliases_resolve_to_names_the_distributions_hold():
    assert dist.DISTRIBUTIONS["k8s"].has("processors", "k8s_attributes")
    assert dist.DISTRIBUTIONS["k8s"].has("processors", "k8sattributes")
    assert dist.DISTRIBUTIONS["core"].has("exporters", "otlp")
    assert dist.DISTRIBUTIONS["core"].has("exporters", "otlp_grpc")
    for kind, aliases in dist.ALIASES.items():
        for old, new in aliases.items():
            assert any(new in d.components[kind] for d in dist.DISTRIBUTIONS.values()), (kind, old, new)


@pytest.mark.parametrize(
    "image, expected",
    [
        ("otel/opentelemetry-collector:0.159.0", "core"),
        ("ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.159.0", "k8s"),
        ("docker.io/otel/opentelemetry-collector-contrib:0.130.0", "contrib"),
        ("registry.example:5000/mirror/otel/opentelemetry-collector-k8s@sha256:" + "a" * 64, "k8s"),
        ("otel/opentelemetry-collector-contrib", "contrib"),
        ("registry.example/team/my-collector:1.0", None),
    ],
)
def test_distribution_is_derived_from_the_image_repository(image, expected):
    assert dist.distribution_of_image(image) == expected


# ---------------------------------------------------------------- quantities
@pytest.mark.parametrize(
    "value, expected",
    [
        ("512Mi", 512 * 1024**2),
        ("1Gi", 1024**3),
        ("1G", 10**9),
        ("500M", 500 * 10**6),
        ("64Ki", 64 * 1024),
        ("1073741824", 1024**3),
        (1073741824, 1024**3),
        ("1e9", 10**9),
        ("0.5Gi", 512 * 1024**2),
    ],
)
def test_parse_quantity(value, expected):
    assert parse_quantity(value) == expected


@pytest.mark.parametrize("value", ["512MB", "lots", "", "-1Gi", True])
def test_parse_quantity_refuses_what_kubernetes_refuses(value):
    with pytest.raises(ValueError):
        parse_quantity(value)


# ---------------------------------------------------------------- errors: references
def test_seed_self_monitoring_pipeline_names_an_undefined_receiver():
    report = lint(SEED_SELF_MONITORING)
    assert not report.valid
    found = matching(report.errors, "service.pipelines.metrics.receivers", "`prometheus`", "not defined")
    assert len(found) == 1
    assert "service.telemetry.metrics.readers" in found[0]  # the fix for self-monitoring is named


def test_undefined_processor_and_exporter_are_errors():
    config = minimal()
    config["service"]["pipelines"]["traces"]["processors"] = ["memory_limiter", "attributes/env", "batch"]
    config["service"]["pipelines"]["traces"]["exporters"] = ["debug", "otlp/tempo"]
    report = lint(config)
    assert matching(report.errors, "service.pipelines.traces.processors", "`attributes/env`", "not defined")
    assert matching(report.errors, "service.pipelines.traces.exporters", "`otlp/tempo`", "not defined")
    assert not report.valid


def test_service_extension_not_defined_is_an_error():
    config = minimal(extensions={"health_check": {}})
    config["service"]["extensions"] = ["health_check", "pprof"]
    report = lint(config)
    assert matching(report.errors, "service.extensions", "`pprof`", "not defined")
    assert not matching(report.errors, "`health_check`")


def test_connector_must_be_both_exporter_and_receiver():
    config = minimal(connectors={"spanmetrics": {}})
    config["service"]["pipelines"]["traces"]["exporters"] = ["debug", "spanmetrics"]
    report = lint(config, distribution="k8s")
    assert matching(report.errors, "connectors.spanmetrics", "not as a receiver")
    config["service"]["pipelines"]["metrics"] = {"receivers": ["spanmetrics"], "exporters": ["debug"]}
    assert lint(config, distribution="k8s").valid


def test_connector_used_only_as_receiver_is_an_error():
    config = minimal(connectors={"count": {}})
    config["service"]["pipelines"]["metrics"] = {"receivers": ["count"], "exporters": ["debug"]}
    report = lint(config, distribution="k8s")
    assert matching(report.errors, "connectors.count", "not as an exporter")


def test_pipeline_without_receivers_or_exporters_and_bad_pipeline_id():
    config = minimal()
    config["service"]["pipelines"] = {"spans": {"receivers": [], "exporters": ["debug"]}}
    report = lint(config)
    assert matching(report.errors, "service.pipelines.spans", "must start with one of traces")
    assert matching(report.errors, "service.pipelines.spans.receivers", "empty")


def test_duplicate_entry_in_a_pipeline_is_an_error():
    report = with_pipeline(["memory_limiter", "batch", "batch"])
    assert matching(report.errors, "service.pipelines.traces.processors", "`batch` is listed twice")


# ---------------------------------------------------------------- errors: distribution
def test_seed_prometheus_exporter_with_the_k8s_distribution():
    config = yaml.safe_load(SEED_GATEWAY)
    report = lint(config, distribution="k8s", replicas=3)
    found = matching(report.errors, "exporters.prometheus", "not in the k8s distribution")
    assert len(found) == 1
    assert "opentelemetry-collector-contrib" in found[0]  # the image that has it (and tail_sampling)
    assert "otlphttp" in found[0]  # the way to stay on otelcol-k8s


def test_prometheus_exporter_from_a_k8s_image_is_an_error():
    report = lint(
        minimal(exporters={"debug": {}, "prometheus": {"endpoint": "0.0.0.0:8889"}}),
        image="otel/opentelemetry-collector-k8s:0.159.0",
    )
    assert report.distribution == "k8s"
    assert matching(report.errors, "exporters.prometheus", "not in the k8s distribution")


def test_tail_sampling_in_core_is_an_error():
    report = with_pipeline(
        ["memory_limiter", "tail_sampling", "batch"], {"tail_sampling": {"policies": []}}, distribution="core"
    )
    found = matching(report.errors, "processors.tail_sampling", "not in the core distribution")
    assert found and "k8s" in found[0]


def test_k8sattributes_in_core_image_is_an_error():
    report = with_pipeline(
        ["memory_limiter", "k8sattributes", "batch"],
        {"k8sattributes": {}},
        image="ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.158.0",
    )
    assert report.distribution == "core"
    assert matching(report.errors, "processors.k8sattributes", "not in the core distribution")


@pytest.mark.parametrize("distribution", [None, "core", "k8s", "contrib"])
def test_seed_loki_exporter_is_an_error_everywhere_with_the_replacement(distribution):
    config = minimal(exporters={"debug": {}, "loki": {"endpoint": "http://loki:3100/loki/api/v1/push"}})
    config["service"]["pipelines"]["logs"] = {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "batch"],
        "exporters": ["loki"],
    }
    report = lint(config, distribution=distribution)
    found = matching(report.errors, "exporters.loki", "no collector distribution has the `loki` exporter")
    assert len(found) == 1
    assert "`otlphttp`" in found[0] and ":3100/otlp" in found[0] and "v0.131.0" in found[0]


def test_loki_receiver_is_not_the_removed_exporter():
    config = minimal(receivers={"otlp": {}, "loki": {"protocols": {"http": {}}}})
    report = lint(config, distribution="contrib")
    assert not matching(report.errors, "loki")


@pytest.mark.parametrize("distribution", ["core", "k8s", "contrib"])
def test_unknown_component_is_an_error_in_every_distribution(distribution):
    # The collector refuses to start with a type it does not know: `'exporters' unknown type`.
    report = lint(minimal(exporters={"debug": {}, "otlpp": {}}), distribution=distribution)
    assert matching(report.errors, "exporters.otlpp", "nor of any other")


def test_spelling_that_differs_only_by_underscores_is_an_error_that_names_the_spelling():
    report = with_pipeline(["memory_limiter", "tailsampling", "batch"], {"tailsampling": {}}, distribution="k8s")
    assert matching(report.errors, "processors.tailsampling", "refuses to start", "`tail_sampling`")


@pytest.mark.parametrize(
    ("kind", "old", "new"),
    [
        ("exporters", "loadbalancing", "load_balancing"),
        ("processors", "cumulativetodelta", "cumulative_to_delta"),
        ("processors", "metricstransform", "metrics_transform"),
        ("connectors", "spanmetrics", "span_metrics"),
    ],
)
def test_the_renames_of_0_159_are_known_both_ways(kind, old, new):
    assert dist.DISTRIBUTIONS["k8s"].has(kind, old)
    assert dist.DISTRIBUTIONS["k8s"].has(kind, new)


def test_experimental_metricsgeneration_is_refused_with_its_new_name():
    report = with_pipeline(
        ["memory_limiter", "experimental_metricsgeneration", "batch"],
        {"experimental_metricsgeneration": {}},
        distribution="k8s",
    )
    assert matching(report.errors, "processors.experimental_metricsgeneration", "`metricsgeneration`")


def test_snake_case_and_old_spellings_are_both_accepted():
    for spelling in ("k8sattributes", "k8s_attributes"):
        report = with_pipeline(["memory_limiter", spelling, "batch"], {spelling: {}}, distribution="k8s")
        assert report.valid, report.errors
        assert not matching(report.warnings, spelling)


def test_distribution_and_image_that_disagree_is_an_error():
    report = lint(minimal(), distribution="k8s", image="otel/opentelemetry-collector-contrib:0.159.0")
    assert matching(report.errors, "distribution", "does not match image")


def test_custom_image_skips_the_component_check_with_a_warning():
    report = lint(minimal(exporters={"debug": {}, "prometheus": {}}), image="registry.example/my-otelcol:1")
    assert report.valid
    assert report.distribution is None
    assert matching(report.warnings, "image: registry.example/my-otelcol:1", "set `distribution`")


# ---------------------------------------------------------------- errors: memory
def test_seed_memory_limiter_above_the_container_limit():
    config = minimal()
    config["processors"]["memory_limiter"] = dict(
        yaml.safe_load(SEED_MEMORY_LIMITER)["memory_limiter"], check_interval="1s"
    )
    report = lint(config, memory_limit="512Mi")
    found = matching(report.errors, "processors.memory_limiter.limit_mib", "768 MiB", "512Mi")
    assert len(found) == 1
    assert "limit_mib: 409" in found[0] and "limit_percentage: 80" in found[0]


@pytest.mark.parametrize(
    "limit_mib, memory_limit, is_error",
    [
        (1024, "1Gi", True),
        (1100, "1Gi", True),
        (1000, "1G", True),
        (819, "1Gi", False),
        (400, "512Mi", False),
    ],
)
def test_memory_limiter_at_or_above_the_limit(limit_mib, memory_limit, is_error):
    config = minimal()
    config["processors"]["memory_limiter"] = {
        "check_interval": "1s",
        "limit_mib": limit_mib,
        "spike_limit_mib": limit_mib // 4,
    }
    report = lint(config, memory_limit=memory_limit)
    assert bool(matching(report.errors, "processors.memory_limiter.limit_mib", "at or above")) is is_error


def test_memory_limiter_needs_a_limit_and_a_check_interval():
    config = minimal()
    config["processors"]["memory_limiter"] = {}
    report = lint(config)
    assert matching(report.errors, "processors.memory_limiter", "neither limit_mib nor limit_percentage")
    assert matching(report.errors, "processors.memory_limiter.check_interval", "check_interval: 1s")


def test_spike_limit_must_be_below_the_limit():
    config = minimal()
    config["processors"]["memory_limiter"] = {"check_interval": "1s", "limit_mib": 400, "spike_limit_mib": 400}
    assert matching(lint(config).errors, "processors.memory_limiter.spike_limit_mib", "smaller than limit_mib")


def test_invalid_memory_limit_option_is_an_error():
    assert matching(lint(minimal(), memory_limit="half a gig").errors, "memory_limit", "not a Kubernetes quantity")


# ---------------------------------------------------------------- errors: types
def test_limit_mib_as_a_quantity_string_is_a_type_error():
    config = minimal()
    config["processors"]["memory_limiter"] = {"check_interval": "1s", "limit_mib": "512Mi", "spike_limit_mib": 128}
    found = matching(lint(config).errors, "processors.memory_limiter.limit_mib", "whole number", "512Mi")
    assert found and "not quantities" in found[0]


def test_environment_references_are_not_type_errors():
    config = minimal()
    config["processors"]["memory_limiter"] = {
        "check_interval": "1s",
        "limit_mib": "${env:LIMIT_MIB}",
        "spike_limit_mib": 100,
    }
    assert lint(config, memory_limit="512Mi").valid


def test_pipelines_must_be_a_mapping():
    config = minimal()
    config["service"]["pipelines"] = [{"receivers": ["otlp"]}]
    assert matching(lint(config).errors, "service.pipelines", "expected a mapping")


def test_processors_list_must_be_a_list():
    config = minimal()
    config["service"]["pipelines"]["traces"]["processors"] = "memory_limiter, batch"
    assert matching(lint(config).errors, "service.pipelines.traces.processors", "expected a list")


def test_section_and_component_settings_must_be_mappings():
    config = minimal(exporters=["debug"])
    assert matching(lint(config).errors, "exporters:", "expected a mapping")
    config = minimal(exporters={"debug": "verbose"})
    assert matching(lint(config).errors, "exporters.debug", "settings must be a mapping")


@pytest.mark.parametrize(
    "config, where",
    [
        ({"receivers": {"otlp": {}}}, "service: missing"),
        ({"receivers": {"otlp": {}}, "service": {"extensions": []}}, "service.pipelines: missing"),
        ({"receivers": {"otlp": {}}, "service": {"pipelines": {}}}, "service.pipelines: missing or empty"),
    ],
)
def test_a_config_without_pipelines_is_an_error(config, where):
    report = lint(config)
    assert not report.valid
    assert matching(report.errors, where)


@pytest.mark.parametrize(
    "config, needle",
    [
        ("receivers: [unclosed", "config: not valid YAML"),
        ("- a\n- b\n", "config: expected a mapping"),
        ("", "config: empty"),
    ],
)
def test_config_that_is_not_a_mapping(config, needle):
    report = lint(config)
    assert not report.valid
    assert matching(report.errors, needle)


def test_yaml_text_is_parsed_and_empty_sections_normalised():
    report = lint(
        "receivers:\n  nop:\nprocessors:\n  batch:\n  memory_limiter: {check_interval: 1s, "
        "limit_percentage: 80, spike_limit_percentage: 25}\nexporters:\n  debug:\nconnectors:\n"
        "service:\n  pipelines:\n    logs: {receivers: [nop], processors: [memory_limiter, batch], "
        "exporters: [debug]}\n"
    )
    assert report.valid, report.errors
    assert report.config["receivers"] == {"nop": {}}
    assert report.config["processors"]["batch"] == {}
    assert report.config["connectors"] == {}


def test_the_input_is_not_changed():
    config = minimal(connectors=None)
    lint(config)
    assert config["connectors"] is None


# ---------------------------------------------------------------- warnings: processor order
def test_seed_agent_processor_order():
    report = lint(SEED_AGENT, mode="daemonset", memory_limit="1Gi")
    first = matching(report.warnings, "service.pipelines.traces.processors", "memory_limiter is at position 3")
    last = matching(report.warnings, "service.pipelines.traces.processors", "batch is not last")
    assert first and last
    assert "[memory_limiter, k8sattributes, batch]" in first[0]
    for pipeline in ("metrics", "logs"):
        assert matching(report.warnings, f"service.pipelines.{pipeline}.processors", "[memory_limiter, batch]")


def test_seed_gateway_processor_order():
    report = lint(SEED_GATEWAY, distribution="contrib")
    found = matching(report.warnings, "service.pipelines.traces.processors", "memory_limiter is at position 3")
    assert found and "[memory_limiter, tail_sampling, batch]" in found[0]


def test_k8sattributes_after_batch():
    report = with_pipeline(["memory_limiter", "batch", "k8sattributes"], {"k8sattributes": {}})
    found = matching(report.warnings, "service.pipelines.traces.processors", "k8sattributes comes after batch")
    assert found and "[memory_limiter, k8sattributes, batch]" in found[0]


def test_good_order_has_no_order_warnings():
    report = with_pipeline(
        ["memory_limiter", "k8sattributes", "attributes", "batch"], {"k8sattributes": {}, "attributes": {"actions": []}}
    )
    assert not matching(report.warnings, "service.pipelines")


def test_named_instances_count_by_type():
    report = with_pipeline(
        ["batch/big", "memory_limiter/gw"],
        {"batch/big": {}, "memory_limiter/gw": {"check_interval": "1s", "limit_mib": 100, "spike_limit_mib": 20}},
    )
    assert matching(report.warnings, "memory_limiter is at position 2")
    assert matching(report.warnings, "batch is not last")


# ---------------------------------------------------------------- warnings: memory_limiter spike
def test_memory_limiter_without_spike_limit():
    config = minimal()
    config["processors"]["memory_limiter"] = {"check_interval": "1s", "limit_mib": 400}
    report = lint(config, memory_limit="512Mi")
    assert report.valid
    assert matching(report.warnings, "processors.memory_limiter", "no spike limit")


def test_no_memory_limiter_at_all_is_a_warning():
    config = minimal()
    del config["processors"]["memory_limiter"]
    config["service"]["pipelines"]["traces"]["processors"] = ["batch"]
    assert matching(lint(config).warnings, "processors: no memory_limiter")


# ---------------------------------------------------------------- warnings: agents
def test_daemonset_k8sattributes_without_node_filter():
    report = with_pipeline(["memory_limiter", "k8sattributes", "batch"], {"k8sattributes": {}}, mode="daemonset")
    found = matching(report.warnings, "processors.k8sattributes.filter", "every pod")
    assert found and "node_from_env_var: K8S_NODE_NAME" in found[0]


@pytest.mark.parametrize(
    "settings, mode",
    [
        ({"filter": {"node_from_env_var": "K8S_NODE_NAME"}}, "daemonset"),
        ({"filter": {"node": "worker-1"}}, "daemonset"),
        ({"passthrough": True}, "daemonset"),
        ({}, "deployment"),
    ],
)
def test_no_node_filter_warning_when_not_needed(settings, mode):
    report = with_pipeline(["memory_limiter", "k8s_attributes", "batch"], {"k8s_attributes": settings}, mode=mode)
    assert not matching(report.warnings, "filter")


def test_seed_agent_has_the_node_filter_warning():
    assert matching(lint(SEED_AGENT, mode="daemonset").warnings, "processors.k8sattributes.filter")


# ---------------------------------------------------------------- warnings: tail sampling
def test_seed_tail_sampling_with_three_replicas_not_routed_by_trace_id():
    report = lint(SEED_GATEWAY, distribution="contrib", replicas=3)
    found = matching(report.warnings, "processors.tail_sampling", "replicas: 3")
    assert found and "loadbalancing" in found[0] and "routing_key: traceID" in found[0]


def test_tail_sampling_with_autoscaler():
    report = lint(CORRECTED_GATEWAY, autoscaler={"maxReplicas": 10})
    assert matching(report.warnings, "processors.tail_sampling", "autoscaler maxReplicas: 10")


@pytest.mark.parametrize(
    "args",
    [
        {"replicas": 3, "traces_routed_by_trace_id": True},
        {"replicas": 1},
        {"autoscaler": {"maxReplicas": 1}},
        {},
    ],
)
def test_no_tail_sampling_warning_for_a_single_or_routed_collector(args):
    assert not matching(lint(CORRECTED_GATEWAY, **args).warnings, "tail_sampling")


# ---------------------------------------------------------------- warnings: internal metrics
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_internal_metrics_reader_on_localhost(host):
    config = minimal()
    config["service"]["telemetry"] = {
        "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": host, "port": 8888}}}}]}
    }
    found = matching(lint(config).warnings, "service.telemetry.metrics.readers[0].pull.exporter.prometheus.host")
    assert found and "0.0.0.0" in found[0]


def test_legacy_metrics_address_on_localhost():
    config = minimal()
    config["service"]["telemetry"] = {"metrics": {"address": "localhost:8888"}}
    found = matching(lint(config).warnings, "service.telemetry.metrics.address", "localhost")
    assert found and "readers" in found[0]


def test_metrics_reader_on_all_interfaces_is_fine():
    config = minimal()
    config["service"]["telemetry"] = {
        "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}
    }
    assert not matching(lint(config).warnings, "telemetry")


# ---------------------------------------------------------------- choosing the distribution
def test_smallest_distribution_that_has_every_component():
    assert smallest_distribution(minimal()) == "core"
    assert smallest_distribution(CORRECTED_AGENT) == "k8s"
    assert smallest_distribution(CORRECTED_GATEWAY) == "k8s"
    assert smallest_distribution(SEED_GATEWAY) == "contrib"  # prometheus exporter + tail_sampling


def test_lint_returns_the_chosen_distribution_and_image():
    report = lint(CORRECTED_AGENT, mode="daemonset")
    assert report.distribution == "k8s"
    assert report.image == f"{dist.GHCR}/opentelemetry-collector-k8s:{dist.COLLECTOR_VERSION}"


def test_choose_image():
    assert choose_image(minimal(), version="0.158.0") == f"{dist.GHCR}/opentelemetry-collector:0.158.0"
    assert choose_image(CORRECTED_AGENT).endswith(f"opentelemetry-collector-k8s:{dist.COLLECTOR_VERSION}")
    assert "opentelemetry-collector-contrib:" in choose_image(SEED_GATEWAY)


# ---------------------------------------------------------------- the corrected seed passes clean
def test_corrected_agent_passes_clean():
    report = lint(CORRECTED_AGENT, mode="daemonset", memory_limit="512Mi")
    assert report.valid, report.errors
    assert report.warnings == []


def test_corrected_gateway_passes_clean():
    report = lint(CORRECTED_GATEWAY, memory_limit="1Gi", traces_routed_by_trace_id=True, **GATEWAY_SCALING)
    assert report.valid, report.errors
    assert report.warnings == []
    assert report.distribution == "k8s"


def test_every_message_starts_with_a_place():
    report = lint(SEED_GATEWAY, distribution="k8s", replicas=3, memory_limit="1Gi")
    places = ("service.", "processors.", "exporters.", "receivers.", "connectors.", "extensions.")
    assert report.errors and report.warnings
    for message in report.errors + report.warnings:
        assert message.startswith(places), message


def test_a_component_in_a_pipeline_of_a_signal_it_does_not_handle_is_an_error():
    config = minimal()
    config["processors"]["cumulativetodelta"] = {}
    config["service"]["pipelines"]["traces"]["processors"] = ["memory_limiter", "cumulativetodelta", "batch"]
    report = lint(config, distribution="k8s")
    assert matching(
        report.errors, "service.pipelines.traces.processors: `cumulativetodelta` does not handle traces", "metrics"
    )
    config["service"]["pipelines"] = {"metrics": config["service"]["pipelines"]["traces"]}
    assert lint(config, distribution="k8s").valid


def test_otlphttp_needs_the_endpoint_of_each_signal_it_exports():
    config = minimal(exporters={"otlphttp/loki": {"logs_endpoint": "http://loki:3100/otlp/v1/logs"}})
    config["service"]["pipelines"]["traces"]["exporters"] = ["otlphttp/loki"]
    report = lint(config, distribution="k8s")
    assert matching(report.errors, "service.pipelines.traces.exporters", "neither `endpoint` nor `traces_endpoint`")
    config["service"]["pipelines"] = {"logs": config["service"]["pipelines"]["traces"]}
    assert lint(config, distribution="k8s").valid
