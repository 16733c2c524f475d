"""Turning `<collector> validate` output into errors that name the place, alone (no binary here).

The outputs are those the real otelcol-k8s 0.159.0 printed; the integration test
test_collector_validate.py runs the real binary.
"""

from __future__ import annotations

import subprocess

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _validate as cv

LABEL = "the collector (otelcol-k8s validate)"
UNMARSHAL = (
    "Error: failed to get config: cannot unmarshal the configuration: decoding failed due to the following "
    "error(s):\n\n"
)


def test_unknown_keys_and_types_name_the_component():
    output = (
        UNMARSHAL + "'processors' error reading configuration for \"batch\": decoding failed due to the following "
        "error(s):\n\n'send_batch_size' expected type 'uint32', got unconvertible type 'string'\n"
        "'batchprocessor.Config' has invalid keys: timeoutz\n"
    )
    errors, warnings = cv.parse(output, LABEL)
    assert warnings == []
    assert errors == [
        f"processors.batch: {LABEL} refuses this: 'send_batch_size' expected type 'uint32', got unconvertible "
        "type 'string'; give a value of that type",
        f"processors.batch: {LABEL} refuses this: 'batchprocessor.Config' has invalid keys: timeoutz; remove or "
        "correct the key(s)",
    ]


def test_unknown_component_type_lists_what_the_binary_accepts():
    output = UNMARSHAL + (
        '\'exporters\' unknown type: "prometheus" for id: "prometheus/x" (valid values: [nop otlp debug])\n'
    )
    errors = cv.parse(output, LABEL)[0]
    assert errors == [f"exporters.prometheus/x: {LABEL} has no exporter type `prometheus`; it accepts debug, nop, otlp"]


def test_validation_errors_with_a_place_prefix():
    errors = cv.parse('Error: exporters::otlp: requires a non-empty "endpoint"\n', LABEL)[0]
    assert errors == [f'exporters.otlp: {LABEL} refuses this: requires a non-empty "endpoint"']
    errors = cv.parse(
        'Error: service::pipelines::traces: references processor "transform" which is not configured', LABEL
    )[0]
    assert errors[0].startswith("service.pipelines.traces: ")
    assert errors[0].endswith("define the component, or remove it from the pipeline")


def test_build_errors_name_the_component():
    output = (
        'Error: failed to build pipelines: failed to create "load_balancing" exporter for data type "traces": '
        "cannot configure loadbalancing traces exporter: no resolvers specified for the exporter"
    )
    errors = cv.parse(output, LABEL)[0]
    assert errors[0].startswith("exporters.load_balancing: ")
    assert "no resolvers specified" in errors[0]


def test_checks_of_this_machine_are_warnings():
    output = "Error: extensions::file_storage: directory must exist: stat /var/lib/otelcol: no such file or directory"
    errors, warnings = cv.parse(output, LABEL)
    assert errors == []
    assert warnings[0].startswith("extensions.file_storage: not checked on this machine")


def test_unrecognised_output_is_still_an_error():
    errors = cv.parse("panic: something\n", LABEL)[0]
    assert errors and errors[0].startswith("config: ") and "panic: something" in errors[0]


def test_find_binary():
    which = {"otelcol-k8s": "/opt/bin/otelcol-k8s"}.get
    assert cv.find_binary(None, "k8s", which) == ("/opt/bin/otelcol-k8s", None)
    assert cv.find_binary(None, "contrib", which) == (None, None)
    assert cv.find_binary(None, None, which) == (None, None)
    path, problem = cv.find_binary("/nonexistent/otelcol", "k8s", which)
    assert path is None
    assert problem.startswith("collector_binary: `/nonexistent/otelcol` is not an executable file")


def test_validate_runs_the_binary_with_env_placeholders_and_no_host_env(tmp_path):
    seen = {}

    def run(command, **kwargs):
        seen["command"], seen["env"] = command, kwargs["env"]
        with open(command[2].split(":", 1)[1], encoding="utf-8") as handle:
            seen["config"] = handle.read()
        return subprocess.CompletedProcess(command, 1, "", 'Error: exporters::otlp: requires a non-empty "endpoint"')

    config = {"receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "${env:MY_POD_IP}:4317"}}}}}
    env = [{"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, {"name": "A", "value": "b"}]
    errors, warnings = cv.validate("/opt/otelcol-k8s", config, env, run=run)
    assert seen["command"][:2] == ["/opt/otelcol-k8s", "validate"]
    assert seen["env"]["MY_POD_IP"] == "1"  # filled in by the kubelet: a placeholder
    assert seen["env"]["A"] == "b"
    assert set(seen["env"]) == {"PATH", "HOME", "MY_POD_IP", "A"}  # nothing of this machine's environment
    assert "${env:MY_POD_IP}" in seen["config"]
    assert errors and errors[0].startswith("exporters.otlp: the collector (otelcol-k8s validate)")
    assert warnings == []


def test_second_opinion_without_a_binary_is_silent():
    assert cv.second_opinion({}, None, "k8s", which=lambda _name: None) == ([], [], None)
