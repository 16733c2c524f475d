#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: summary
short_description: Describe the deployed OpenTelemetry pipeline, read back from the cluster
version_added: 0.1.0
description:
  - Lists the Pods of the operator and of the collectors (the gateway, the agent and its host collector, the cluster
    collector), the OpenTelemetryCollector resources and the TLS Secrets of the certificates' namespace, and
    describes each in one line (phase, readiness, restarts, images; mode and replicas; certificate expiry), followed
    by the endpoints applications and collectors use and what is instrumented.
  - What to read and describe comes from the status facts the roles publish (C(otel_<role>_status)), passed as they
    are (C(playbooks/tasks/summary.yml)); it repeats no role default.
  - Reads only, through the collection's client and its retries (see M(otel.kubernetes.info)).
  - Of a TLS Secret only the certificate is parsed; no private key is returned.
  - Reads namespaced lists only, so a deployer bound per namespace (C(playbooks/deployer_rbac.yml)) may run it.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  operator:
    description:
      - The status the role C(otel.kubernetes.otel_operator) publishes, C(otel_operator_status); its controller's
        Pods are listed (C(namespace)).
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
  certificates:
    description:
      - The status the role C(otel.kubernetes.otel_certificates) publishes, C(otel_certificates_status); the TLS
        Secrets of its namespace are read (C(namespace)); only their certificates' expiry is returned.
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
  gateway:
    description:
      - The status the role C(otel.kubernetes.otel_gateway) publishes, C(otel_gateway_status); its namespace's
        collectors and Pods are listed (C(namespace)).
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
  agent:
    description:
      - The status the role C(otel.kubernetes.otel_agent) publishes, C(otel_agent_status); its namespace's (and its
        host collector's) collectors and Pods are listed, and where applications send and where it sends are
        described (C(namespace), C(service), C(otlp_grpc_port), C(otlp_http_port), C(gateway_traces),
        C(gateway_metrics_logs), C(mtls), C(host_collector)).
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
  cluster:
    description:
      - The status the role C(otel.kubernetes.otel_cluster) publishes, C(otel_cluster_status); its namespace's
        collectors and Pods are listed and where it sends is described (C(namespace), C(name), C(gateway), C(mtls)).
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
  instrumentation:
    description:
      - The status the role C(otel.kubernetes.otel_instrumentation) publishes, C(otel_instrumentation_status); where
        the injected SDKs send and what is instrumented are described (C(namespace), C(name), C(exporter_endpoint),
        C(targets)).
      - Empty (the role did not run, or removed what it made) leaves it out.
    type: dict
    default: {}
extends_documentation_fragment:
  - otel.kubernetes.auth
notes:
  - Supports check mode; it reads only.
"""

EXAMPLES = r"""
- name: Describe what the roles of this play deployed
  otel.kubernetes.summary:
    operator: "{{ otel_operator_status | default({}) }}"
    certificates: "{{ otel_certificates_status | default({}) }}"
    gateway: "{{ otel_gateway_status | default({}) }}"
    agent: "{{ otel_agent_status | default({}) }}"
    cluster: "{{ otel_cluster_status | default({}) }}"
    instrumentation: "{{ otel_instrumentation_status | default({}) }}"
  register: pipeline

- name: Show it
  ansible.builtin.debug:
    msg: "{{ pipeline.lines }}"
"""

RETURN = r"""
lines:
  description: One line per Pod, collector and certificate, then the endpoints.
  returned: always
  type: list
  elements: str
  sample:
    - "pod observability/otel-gateway-collector-5d9c7-x2x9q: Running, ready 1/1, restarts 0, image collector:0.159.0"
    - "certificate observability/otel-gateway-tls expires 2027-11-30T02:00:00Z"
pods:
  description: The Pods read, each with namespace, name, phase, ready (every container ready) and restarts.
  returned: always
  type: list
  elements: dict
collectors:
  description:
    - The OpenTelemetryCollector resources read, each with namespace, name, mode and image.
    - A collector with an autoscaler also has C(autoscaler) - C(min_replicas), C(max_replicas) and C(active), false
      when the cluster does not serve the resource metrics API (C(metrics.k8s.io), from metrics-server) and the
      autoscaler can never scale; its line then says so, with the fix.
  returned: always
  type: list
  elements: dict
certificates:
  description:
    - The TLS Secrets of the certificates' namespace, each with namespace, name and not_after.
    - not_after is UTC, ISO 8601; null when the Secret holds no certificate that parses.
  returned: always
  type: list
  elements: dict
api_requests:
  description: HTTP requests made to the API server by this task, discovery included.
  returned: always
  type: int
  sample: 5
"""

from ansible_collections.otel.kubernetes.plugins.module_utils import summary as runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
