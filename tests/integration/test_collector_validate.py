"""The collection's checks and the real collector agree, on every configuration it renders and on broken ones.

The binaries are the local node's collector build (tools/localnode/collector.py): otelcol-k8s
0.159.0 with the otelcol-k8s components the Go module proxy serves that day (build.json's
`missing` names the others), and the same plus the prometheus and prometheus_remote_write
exporters ("contrib" here). "The real collector refuses"
means its `validate` fails, or, for what only fails when components start (an unknown
tail-sampling policy type), the binary exits within seconds of starting. Each disagreement
fails with both messages.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import tempfile

import pytest
import yaml
from certificates import self_signed
from collector_configs import AGENT_CONFIG
from localnode.collector import VERSION, build_collectors, distribution_modules
from localnode.gobuild import cache_root
from playbook import render_objects, run_tasks
from real_collector import RealCollector

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector._lint import lint
from ansible_collections.otel.kubernetes.plugins.module_utils.collector._settings import KEYS, POLICY_TYPES

LIMITER = {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25}


@pytest.fixture(scope="module")
def build() -> dict:
    return build_collectors()


@pytest.fixture(scope="module")
def binaries(build) -> dict:
    built = build["binaries"]
    return {
        "k8s": RealCollector(built["k8s"]),
        "contrib": RealCollector(built["contrib"]),
        # The cluster collector's build (0.152.0: the proxy serves its receivers at no later release).
        "cluster": RealCollector(built["cluster"]),
    }


def base(**sections) -> dict:
    """A configuration both sides accept, to break one thing at a time."""
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}},
        "processors": {"memory_limiter": dict(LIMITER), "batch": {}},
        "exporters": {"debug": {}},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["debug"]}
            }
        },
    }
    traces = config["service"]["pipelines"]["traces"]
    for kind, components in sections.items():
        config.setdefault(kind, {}).update(components)
        new = [c for c in components if c not in traces.get(kind, [])]
        if kind == "processors":
            traces[kind][-1:-1] = new  # before batch, which stays last
        elif kind == "exporters":
            traces[kind] += new
    return config


def with_pipeline(config: dict, pid: str, pipeline: dict) -> dict:
    config = copy.deepcopy(config)
    config["service"]["pipelines"][pid] = pipeline
    return config


def server_pem() -> dict:
    """A server certificate and key as PEM text, for TLS blocks the collector really starts with."""
    cert_pem, key_pem = self_signed()
    return {"cert_pem": cert_pem.decode(), "key_pem": key_pem.decode()}


def otlp_tls(protocol: str, tls) -> dict:
    """base() with the OTLP receiver's one protocol serving with this `tls` block."""
    return {**base(), "receivers": {"otlp": {"protocols": {protocol: {"endpoint": "127.0.0.1:0", "tls": tls}}}}}


def with_extension(name: str, settings: dict) -> dict:
    config = base()
    config["extensions"] = {name: settings}
    config["service"]["extensions"] = [name]
    return config


KEY_PAIR = server_pem()
TRACES_TO_DEBUG = {"receivers": ["otlp"], "exporters": ["debug"]}
BROKEN = {
    "unparsable-type-of-section": {**base(), "processors": ["batch"]},
    "unknown-exporter-type": base(exporters={"otlpp": {"endpoint": "x:4317"}}),
    "misspelled-processor": base(processors={"tailsampling": {}}),
    "old-experimental-name": base(processors={"experimental_metricsgeneration": {}}),
    "not-in-k8s-distribution": base(exporters={"kafka": {}}),
    "undeclared-processor-in-pipeline": with_pipeline(
        base(), "traces", {"receivers": ["otlp"], "processors": ["transform"], "exporters": ["debug"]}
    ),
    "pipeline-without-receivers": with_pipeline(base(), "traces", {"exporters": ["debug"]}),
    "no-pipelines": {**base(), "service": {"pipelines": {}}},
    "unknown-batch-key": base(processors={"batch": {"timeoutz": "1s"}}),
    "batch-timeout-not-a-duration": base(processors={"batch": {"timeout": "5"}}),
    "batch-size-negative": base(processors={"batch": {"send_batch_size": -1}}),
    "batch-max-below-size": base(processors={"batch": {"send_batch_size": 100, "send_batch_max_size": 10}}),
    "otlp-exporter-without-endpoint": base(exporters={"otlp": {"tls": {"insecure": True}}}),
    "otlphttp-exporter-without-endpoint": base(exporters={"otlphttp": {}}),
    "otlp-receiver-without-protocols": {**base(), "receivers": {"otlp": {}}},
    "memory-limiter-without-limit": base(processors={"memory_limiter": {"check_interval": "1s"}}),
    "memory-limiter-unknown-key": base(processors={"memory_limiter": {**LIMITER, "limit_mb": 100}}),
    "memory-limiter-spike-above-limit": base(
        processors={"memory_limiter": {"check_interval": "1s", "limit_mib": 100, "spike_limit_mib": 200}}
    ),
    "tail-sampling-unknown-policy-type": base(
        processors={"tail_sampling": {"policies": [{"name": "errors", "type": "errors_only"}]}}
    ),
    "tail-sampling-policy-without-name": base(processors={"tail_sampling": {"policies": [{"type": "latency"}]}}),
    "tail-sampling-duplicate-policy-names": base(
        processors={
            "tail_sampling": {
                "policies": [{"name": "a", "type": "always_sample"}, {"name": "a", "type": "always_sample"}]
            }
        }
    ),
    "tail-sampling-bad-sub-policy": base(
        processors={
            "tail_sampling": {
                "policies": [
                    {"name": "a", "type": "and", "and": {"and_sub_policy": [{"name": "b", "type": "slowness"}]}}
                ]
            }
        }
    ),
    "tail-sampling-decision-wait-number": base(
        processors={"tail_sampling": {"decision_wait": "ten", "policies": [{"name": "a", "type": "always_sample"}]}}
    ),
    "load-balancing-without-resolver": base(exporters={"loadbalancing": {"protocol": {"otlp": {}}}}),
    "debug-unknown-verbosity": base(exporters={"debug": {"verbosity": "loud"}}),
    "k8sattributes-unknown-key": base(processors={"k8sattributes": {"filters": {}}}),
    "attributes-without-actions": base(processors={"attributes": {}}),
    "resource-without-attributes": base(processors={"resource": {}}),
    "host-metrics-without-scrapers": {
        **base(),
        "receivers": {"hostmetrics": {}},
        "service": {"pipelines": {"metrics": {"receivers": ["hostmetrics"], "exporters": ["debug"]}}},
    },
    "metrics-only-processor-in-traces": base(processors={"cumulativetodelta": {}}),
    "metrics-only-exporter-in-traces": base(exporters={"prometheus": {"endpoint": "0.0.0.0:8889"}}),
    "otlphttp-without-the-signals-endpoint": base(exporters={"otlphttp/loki": {"logs_endpoint": "http://loki/otlp"}}),
    "connector-only-used-as-exporter": with_pipeline(
        base(connectors={"spanmetrics": {}}), "traces", {"receivers": ["otlp"], "exporters": ["spanmetrics"]}
    ),
    # A server's TLS block needs its certificate and key, whatever else it sets.
    "otlp-grpc-tls-min-version-only": otlp_tls("grpc", {"min_version": "1.2"}),
    "otlp-http-tls-cipher-suites-only": otlp_tls("http", {"cipher_suites": ["TLS_AES_128_GCM_SHA256"]}),
    "otlp-grpc-tls-client-ca-only": otlp_tls("grpc", {"client_ca_file": "/etc/otelcol/tls/ca.crt"}),
    "otlp-http-tls-empty": otlp_tls("http", {}),
    "otlp-grpc-tls-certificate-without-key": otlp_tls("grpc", {"cert_pem": KEY_PAIR["cert_pem"]}),
    "otlp-grpc-tls-key-without-certificate": otlp_tls("grpc", {"key_file": "/etc/otelcol/tls/tls.key"}),
    "otlp-grpc-tls-certificate-as-file-and-pem": otlp_tls(
        "grpc", {**KEY_PAIR, "cert_file": "/etc/otelcol/tls/tls.crt"}
    ),
    "health-check-tls-min-version-only": with_extension(
        "health_check", {"endpoint": "127.0.0.1:0", "tls": {"min_version": "1.2"}}
    ),
    "health-check-http-tls-without-certificate": with_extension(
        "health_check", {"http": {"endpoint": "127.0.0.1:0", "tls": {"min_version": "1.3"}}}
    ),
    "zpages-tls-min-version-only": with_extension("zpages", {"endpoint": "127.0.0.1:0", "tls": {"min_version": "1.2"}}),
}
VALID = {
    "fixture-agent": AGENT_CONFIG,
    "base": base(),
    "old-and-new-spellings": {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}},
        "processors": {"k8sattributes": {}, "k8s_attributes/2": {}, "cumulativetodelta": {}, "metrics_transform": {}},
        "exporters": {
            "debug": {},
            "loadbalancing": {"protocol": {"otlp": {}}, "resolver": {"dns": {"hostname": "gateway"}}},
        },
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["k8sattributes", "k8s_attributes/2"],
                    "exporters": ["loadbalancing"],
                },
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": ["cumulativetodelta", "metrics_transform"],
                    "exporters": ["debug"],
                },
            }
        },
    },
    "tail-sampling-of-the-seed": base(
        processors={
            "tail_sampling": {
                "decision_wait": "10s",
                "num_traces": 100000,
                "policies": [
                    {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                    {"name": "slow", "type": "latency", "latency": {"threshold_ms": 500}},
                    {"name": "rest", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}},
                    {"name": "both", "type": "and", "and": {"and_sub_policy": [{"name": "x", "type": "latency"}]}},
                ],
            }
        }
    ),
    "otlphttp-with-the-signals-endpoint-only": {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:0"}}}},
        "exporters": {"otlphttp/loki": {"logs_endpoint": "http://loki:3100/otlp/v1/logs"}},
        "service": {"pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["otlphttp/loki"]}}},
    },
    "debug-verbosity-detailed": base(exporters={"debug": {"verbosity": "detailed"}}),
    "otlp-tls-with-certificate-and-key": otlp_tls("grpc", {**KEY_PAIR, "min_version": "1.3"}),
    "otlp-tls-null-serves-plain-text": otlp_tls("http", None),
    "health-check-tls-with-certificate-and-key": with_extension(
        "health_check", {"endpoint": "127.0.0.1:0", "tls": dict(KEY_PAIR)}
    ),
    "spanmetrics-connector": {
        **base(connectors={"spanmetrics": {}}),
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "exporters": ["spanmetrics"]},
                "metrics": {"receivers": ["spanmetrics"], "exporters": ["debug"]},
            }
        },
    },
}


def agree(binaries, label: str, distribution: str, config: dict, env=None) -> None:
    report = lint(config, distribution=distribution)
    refused = binaries[distribution].refuses(config, env)
    ours = "valid" if report.valid else "invalid:\n  " + "\n  ".join(report.errors)
    theirs = "valid" if not refused else f"invalid:\n  {refused}"
    assert report.valid == (not refused), (
        f"{label} ({distribution}): the collection says {ours}\nthe real collector says {theirs}"
    )


@pytest.mark.parametrize("label", sorted(BROKEN))
def test_broken_configurations_are_refused_by_both(binaries, label):
    agree(binaries, label, "k8s", BROKEN[label])


@pytest.mark.parametrize("label", sorted(VALID))
def test_valid_configurations_are_taken_by_both(binaries, label):
    agree(binaries, label, "k8s", VALID[label])


PROMETHEUS_TLS = {"without-certificate": {"min_version": "1.2"}, "with-certificate-and-key": KEY_PAIR}


@pytest.mark.parametrize("label", sorted(PROMETHEUS_TLS))
def test_the_prometheus_exporters_server_tls_agrees(binaries, label):
    """The prometheus exporter serves /metrics: its `tls` is a server's (contrib here, not in k8s)."""
    config = base(exporters={"prometheus": {"endpoint": "127.0.0.1:0", "tls": PROMETHEUS_TLS[label]}})
    config["service"]["pipelines"] = {"metrics": {"receivers": ["otlp"], "exporters": ["prometheus"]}}
    agree(binaries, f"prometheus-tls-{label}", "contrib", config)


# Each inventory as it is, and with container logs and host metrics on: read by the separate host collector
# (default) and by the agent itself.
VARIANTS = {
    "": (),
    "+host": ("otel_agent_container_logs=true", "otel_agent_host_metrics=true"),
    "+host-in-agent": (
        "otel_agent_container_logs=true",
        "otel_agent_host_metrics=true",
        "otel_agent_host_collector=agent",
        "otel_agent_pod_security=privileged",
        "otel_agent_namespace=node-agents",
    ),
}
CLUSTER_RECEIVERS = {"k8s_cluster", "k8s_events", "k8s_objects", "k8sobjects"}


@pytest.fixture(scope="module")
def rendered() -> list:
    """(label, distribution, config, env) of every collector the playbooks render, both inventories."""
    found = []
    for inventory in ("local", "seed"):
        # The operator's release manifest comes from OTEL_OPERATOR_MANIFEST (tests/integration/conftest.py).
        for variant, extra in VARIANTS.items():
            for obj in render_objects(inventory, *extra):
                if obj["kind"] == "OpenTelemetryCollector":
                    distribution = dist.distribution_of_image(obj["spec"]["image"])
                    label = f"{inventory}{variant}/{obj['metadata']['name']}"
                    found.append((label, distribution, obj["spec"]["config"], obj["spec"]))
    names = sorted({label.split("/")[1] for label, *_rest in found})
    assert names == ["otel-agent", "otel-agent-host", "otel-cluster", "otel-gateway"], names
    assert len(found) == 2 * (3 + 4 + 3), [f[0] for f in found]
    return found


def binary_for(binaries, distribution: str, config: dict):
    """The build that has the configuration's components: the cluster collector's receivers are only in the
    0.152.0 build (the proxy serves them at no later release)."""
    receivers = {name.split("/")[0] for name in config.get("receivers") or {}}
    return binaries["cluster"] if receivers & CLUSTER_RECEIVERS else binaries[distribution]


def test_every_rendered_configuration_is_taken_by_both(binaries, rendered):
    for label, distribution, config, spec in rendered:
        report = lint(config, distribution=distribution, mode=spec.get("mode", "deployment"))
        assert report.valid, f"{label}: {report.errors}"
        binary = binary_for(binaries, distribution, config)
        accepted, error = binary.validate_in_pod_files(config, spec.get("env"))
        assert accepted, f"{label}: the collection renders it, {binary.binary} refuses it: {error}"
    cluster = [label for label, _d, config, _s in rendered if "k8s_cluster" in config.get("receivers", {})]
    assert len(cluster) == 6, cluster  # validated by the 0.152.0 build, in both inventories and every variant


def test_the_cluster_build_knows_what_the_collection_knows_of_its_components(binaries):
    """The cluster build's spellings and signals are the collection's (distributions.py), as for the others."""
    binary = binaries["cluster"]
    accepted = binary.accepted_types()
    components = binary.components()
    for kind in dist.KINDS:
        unknown = sorted(t for t in accepted.get(kind, set()) if not dist.DISTRIBUTIONS["k8s"].has(kind, t))
        assert not unknown, f"the cluster build accepts {kind} the collection does not know: {unknown}"
    for kind in ("receivers", "processors", "exporters"):
        for component in components.get(kind) or []:
            handled = tuple(sorted(s for s, level in component["stability"].items() if level != "Undefined"))
            ours = dist.SIGNALS_OF.get((kind, component["name"]), ("logs", "metrics", "traces"))
            assert tuple(sorted(ours)) == handled, (kind, component["name"])
    assert {c["name"] for c in components["receivers"]} == {"k8s_cluster", "k8s_events", "k8s_objects"}


# ---------------------------------------------------------------- the lint's facts, from the real build
def test_every_spelling_the_binary_accepts_is_known_and_every_known_spelling_is_accepted(binaries, build):
    """Each component the local build has is held to the table, both ways: the binary accepts
    exactly the spellings the table gives those components, no more and no fewer. The build has
    whatever part of its distribution the proxy serves that day; the rest is in `missing`."""
    modules = distribution_modules()
    for name in ("k8s", "contrib"):  # the cluster build: test_the_cluster_build_knows_...
        binary = binaries[name]
        distribution = dist.DISTRIBUTIONS["contrib" if name == "contrib" else "k8s"]
        missing = {item["module"] for item in build["missing"] if name in item["builds"]}
        accepted = binary.accepted_types()
        assert set(accepted) == set(dist.KINDS), accepted
        listed = binary.components()
        for kind in dist.KINDS:
            built = [m for m in modules[name][kind] if m not in missing]
            has = sorted(c["name"] for c in listed.get(kind) or [])
            assert len(has) == len(built), f"{name} {kind}: built from {built}, the binary lists {has}"
            unknown = [c for c in has if c not in distribution.components[kind]]
            assert not unknown, f"{name} has {kind} that {distribution.name} does not list by that name: {unknown}"
            expected = {spelling for c in has for spelling in dist.spellings(kind, c)}
            assert accepted[kind] == expected, (
                f"{name} {kind}: the binary accepts {sorted(accepted[kind] - expected)} that the collection does not "
                f"know for its components, and refuses {sorted(expected - accepted[kind])} that the collection accepts"
            )


def test_signal_lists_are_the_collectors(binaries):
    components = yaml.safe_load(
        subprocess.run(
            [str(binaries["contrib"].binary), "components"], capture_output=True, text=True, check=True
        ).stdout
    )
    for kind in ("receivers", "processors", "exporters"):
        for component in components[kind]:
            handled = tuple(sorted(s for s, level in component["stability"].items() if level != "Undefined"))
            ours = dist.SIGNALS_OF.get((kind, component["name"]), ("logs", "metrics", "traces"))
            assert tuple(sorted(ours)) == handled, (kind, component["name"])


def test_key_lists_are_the_keys_the_collector_prints(binaries):
    binary = binaries["contrib"]
    config = {kind: {} for kind in dist.KINDS}
    for kind, type_name in KEYS:
        config[kind][type_name] = {}
    config["service"] = {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(yaml.safe_dump(config))
        handle.flush()
        printed = subprocess.run(
            [str(binary.binary), "print-config", "--validate=false", f"--config=file:{handle.name}"],
            capture_output=True,
            text=True,
            check=True,
        )
    defaults = yaml.safe_load(printed.stdout)
    for (kind, type_name), keys in KEYS.items():
        printed_keys = set(defaults[kind][type_name] or {})
        # `verbosity` is `omitempty` in the debug exporter: not printed, but a key (checked below).
        assert keys == printed_keys | ({"verbosity"} if type_name == "debug" else set()), (kind, type_name)
    accepted, error = binary.validate(base(exporters={"debug": {"verbosity": "basic"}}))
    assert accepted, error


def test_policy_types_are_the_tail_sampling_processors_own():
    sources = cache_root() / "go" / "mod" / "github.com" / "open-telemetry" / "opentelemetry-collector-contrib"
    config_go = sources / "processor" / f"tailsamplingprocessor@v{VERSION}" / "config.go"
    assert config_go.exists(), f"{config_go}: the collector build puts the processor's source there"
    assert set(re.findall(r'PolicyType = "(\w+)"', config_go.read_text())) == POLICY_TYPES


# ---------------------------------------------------------------- through the modules, as users run them
def failing_config() -> dict:
    """Passes the lint, refused by the collector: an error mode the filter processor does not have."""
    return base(processors={"filter": {"error_mode": "loudly"}})


def test_collector_config_reports_the_binarys_refusal_with_the_place(binaries):
    binary = str(binaries["k8s"].binary)
    assert lint(failing_config(), distribution="k8s").valid
    run = run_tasks(
        [{"otel.kubernetes.collector_config": {"config": failing_config(), "collector_binary": binary}}],
        vars={},
    )
    result = run.last
    assert result.get("failed"), result
    assert result["validated_with"] == binary
    assert any(
        e.startswith("processors.filter: the collector (otelcol-k8s validate) refuses this:")
        and "unknown error mode loudly" in e
        for e in result["errors"]
    ), result["errors"]
    assert "Traceback" not in run.stdout + run.stderr


def test_the_distributions_binary_on_path_is_used_and_nothing_is_rendered(binaries, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "otelcol-k8s").symlink_to(binaries["k8s"].binary)
    path = f"{folder}:{os.environ['PATH']}"
    tasks = [
        {
            "name": "collector",
            "otel.kubernetes.collector": {
                "name": "agent",
                "namespace": "observability",
                "config": failing_config(),
                "distribution": "k8s",
                "render_only": True,
            },
        }
    ]
    run = run_tasks(tasks, env={"PATH": path})
    result = run.last
    assert result.get("failed"), result
    assert result["validated_with"] == str(folder / "otelcol-k8s")
    assert "nothing was applied" in result["msg"]
    assert "processors.filter: the collector (otelcol-k8s validate) refuses this" in result["msg"]
    # Without the binary on PATH the lint alone decides, and this configuration passes it.
    tasks[0]["otel.kubernetes.collector"]["config"] = base()
    ok = run_tasks(tasks, env={"PATH": path}).last
    assert not ok.get("failed"), ok
    assert ok["validated_with"] == str(folder / "otelcol-k8s")
    plain = run_tasks(tasks).last
    assert not plain.get("failed") and plain.get("validated_with") is None, plain


def test_a_collector_binary_that_is_not_there_is_an_option_error():
    run = run_tasks([{"otel.kubernetes.collector_config": {"config": base(), "collector_binary": "/nope/otelcol"}}])
    result = run.last
    assert result.get("failed")
    assert "collector_binary: `/nope/otelcol` is not an executable file" in result["msg"]
