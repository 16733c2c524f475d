#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: collector_config
short_description: Validate and lint an OpenTelemetry Collector configuration, without a cluster
version_added: 0.1.0
description:
  - Checks a collector configuration the way the collector would at start-up, and for the mistakes that
    run but lose data, before anything reaches a cluster. No connection to Kubernetes is made.
  - Errors (the task fails, every error listed, each naming the exact place and the fix) are a pipeline
    or C(service.extensions) naming a component that is not defined in its section; a component the chosen
    collector distribution does not contain (for example the C(prometheus) exporter in C(otelcol-k8s),
    C(tail_sampling) in the core C(otelcol), or the removed C(loki) exporter anywhere); an unknown or
    misspelled component type, in every distribution; a memory_limiter C(limit_mib) at or above the container
    memory limit; wrong types; no C(service.pipelines); and what the collector refuses in its common
    components' settings - unknown keys (otlp receiver, batch, memory_limiter, tail_sampling, k8sattributes,
    load_balancing, debug), missing required fields (an exporter's C(endpoint), the OTLP receiver's protocols,
    a load_balancing resolver), values that are not durations or counts, tail-sampling policies of unknown
    type, without a name or named twice, a component in a pipeline of a signal it does not handle
    (C(cumulativetodelta) in traces), an C(otlphttp) exporter without the pipeline signal's endpoint, a
    server's C(tls) block (the OTLP receiver's protocols, health_check, zpages, the prometheus exporter) without
    both its certificate and its key.
  - These checks agree with the real collector on every configuration the collection renders and on a set
    of broken ones (a test runs both); with O(collector_binary) or the distribution's binary on PATH, that
    binary's C(validate) runs too.
  - Warnings (shown, and returned in RV(lint_warnings)) are memory_limiter not first or batch not last in a
    pipeline, k8sattributes after batch, a memory_limiter without a spike limit, a DaemonSet agent whose
    k8sattributes has no node filter, tail sampling in a collector with several replicas whose traces are
    not routed by trace ID, and internal metrics bound to localhost.
  - The distribution is O(distribution), else derived from O(image), else the smallest distribution
    (core, then k8s, then contrib) that has every component; it is returned with its image.
  - The component lists are those of the collector release named in RV(collector_version).
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  config:
    description:
      - The collector configuration, as a dictionary or as YAML text (the form of C(spec.config) of an
        OpenTelemetryCollector v1beta1, or of a collector's config file).
    type: raw
    required: true
  distribution:
    description:
      - The collector distribution the configuration is for.
      - C(core) is C(otelcol), the operator's default image; C(k8s) is C(otelcol-k8s); C(contrib) is
        C(otelcol-contrib).
    type: str
    choices: [core, k8s, contrib]
  image:
    description:
      - The collector image; its repository name tells the distribution (mirrors included), for example
        C(otel/opentelemetry-collector-k8s:0.159.0).
      - An image that is none of the three distributions turns the component check off, with a warning.
    type: str
  memory_limit:
    description:
      - The collector container's memory limit, as a Kubernetes quantity (C(512Mi), C(1Gi)).
      - With it, a memory_limiter C(limit_mib) at or above the limit is an error.
    type: str
  mode:
    description:
      - How the collector runs. C(daemonset) turns on the agent checks (k8sattributes node filter).
    type: str
    choices: [daemonset, deployment, statefulset, sidecar]
    default: deployment
  replicas:
    description:
      - Number of collector replicas; more than one makes tail sampling need trace-ID routing.
    type: int
  autoscaler:
    description:
      - The collector's autoscaler (the operator's C(spec.autoscaler)); a C(maxReplicas) above 1 makes tail
        sampling need trace-ID routing.
    type: dict
  traces_routed_by_trace_id:
    description:
      - Set when the senders route every span of a trace to the same replica (the C(loadbalancing) exporter
        with C(routing_key=traceID)); silences the tail-sampling warning.
    type: bool
    default: false
  fail_on_warnings:
    description:
      - Fail the task when there are warnings, too.
    type: bool
    default: false
  collector_binary:
    description:
      - A collector binary (path, or a name looked up on PATH) whose C(validate) command checks the
        configuration after the lint found no error, for example the official C(otelcol-k8s) or
        C(otelcol-contrib) of the release you deploy. Its refusals become errors naming the place,
        for example C(exporters.otlp) for an exporter without an endpoint.
      - When not given, the chosen distribution's binary (C(otelcol), C(otelcol-k8s) or C(otelcol-contrib)) is
        used if it is on PATH; when none is found, only the lint runs (RV(validated_with) is null).
      - It runs on the machine the module runs on; checks that depend on that machine (a C(file_storage)
        directory that must exist) become warnings. C(${env:NAME}) references resolve to C(1).
    type: str
attributes:
  check_mode:
    description: Can run in check mode and return the same results as without it.
    support: full
    details: Nothing is changed in any mode.
  diff_mode:
    description: Would return details on what has changed in diff mode.
    support: none
notes:
  - The module never reports C(changed).
seealso:
  - module: otel.kubernetes.collector
"""

EXAMPLES = r"""
- name: Lint the gateway configuration for the k8s distribution
  otel.kubernetes.collector_config:
    config: "{{ lookup('ansible.builtin.file', 'gateway-config.yaml') }}"
    distribution: k8s
    memory_limit: 1Gi
    replicas: 3
    traces_routed_by_trace_id: true

- name: Find the smallest image for a configuration
  otel.kubernetes.collector_config:
    config:
      receivers:
        otlp:
          protocols:
            grpc:
              endpoint: 0.0.0.0:4317
      processors:
        memory_limiter:
          check_interval: 1s
          limit_percentage: 80
          spike_limit_percentage: 25
        k8sattributes: {}
        batch: {}
      exporters:
        otlp:
          endpoint: otel-gateway-collector-headless.observability:4317
      service:
        pipelines:
          traces:
            receivers: [otlp]
            processors: [memory_limiter, k8sattributes, batch]
            exporters: [otlp]
  register: agent_lint

- name: Use it
  ansible.builtin.debug:
    msg: "{{ agent_lint.image }}"

- name: Fail a CI job on warnings too
  otel.kubernetes.collector_config:
    config: "{{ collector_config }}"
    image: otel/opentelemetry-collector-contrib:0.159.0
    mode: daemonset
    memory_limit: 512Mi
    fail_on_warnings: true

- name: Also ask the official collector binary of the release you deploy
  otel.kubernetes.collector_config:
    config: "{{ lookup('ansible.builtin.file', 'gateway.yaml') }}"
    distribution: contrib
    collector_binary: /usr/local/bin/otelcol-contrib
"""

RETURN = r"""
valid:
  description: Whether the configuration has no errors.
  returned: always
  type: bool
  sample: true
errors:
  description: Every error, each naming the place in the configuration and the fix.
  returned: always
  type: list
  elements: str
  sample:
    - "service.pipelines.metrics.receivers: `prometheus` is not defined under `receivers` or `connectors`, ..."
lint_warnings:
  description:
    - Every warning, each naming the place and the fix. They are also shown as task warnings.
    - Not named C(warnings), a key Ansible reserves for its own warnings.
  returned: always
  type: list
  elements: str
  sample:
    - "service.pipelines.traces.processors: memory_limiter is at position 3 of [k8sattributes, batch, ...]; ..."
distribution:
  description:
    - The distribution checked against (C(core), C(k8s) or C(contrib)); null for an image of no known
      distribution.
  returned: always
  type: str
  sample: k8s
image:
  description: The given image, or the image of the chosen distribution.
  returned: always
  type: str
  sample: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.159.0
validated_with:
  description: The collector binary whose C(validate) also checked the configuration, or null when none was used.
  returned: always
  type: str
  sample: /usr/local/bin/otelcol-k8s
collector_version:
  description: The collector release whose component lists were used.
  returned: always
  type: str
  sample: 0.159.0
config:
  description: The configuration as checked, parsed from YAML, with empty sections as C({}).
  returned: always
  type: dict
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import config_runner as runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
