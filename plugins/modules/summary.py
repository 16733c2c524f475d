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
    collector), the OpenTelemetryCollector resources and the
    TLS Secrets of the gateway's namespace, and describes each in one line (phase, readiness, restarts,
    images; mode and replicas; certificate expiry), followed by the endpoints applications and agents use.
  - Reads only, through the collection's client and its retries (see M(otel.kubernetes.info)).
  - Of a TLS Secret only the certificate is parsed; no private key is returned.
  - Reads namespaced lists only, so a deployer bound per namespace (C(playbooks/deployer_rbac.yml)) may run it.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  operator_namespace:
    description:
      - The namespace of the OpenTelemetry Operator's controller.
    type: str
    default: opentelemetry-operator-system
  gateway:
    description:
      - The gateway collector.
    type: dict
    default: {}
    suboptions:
      name:
        description:
          - The gateway's name (its OpenTelemetryCollector).
        type: str
        default: otel-gateway
      namespace:
        description:
          - The gateway's namespace; its TLS Secrets are read there too.
        type: str
        default: observability
  agent:
    description:
      - The node agent collector.
    type: dict
    default: {}
    suboptions:
      name:
        description:
          - The agent's name (its OpenTelemetryCollector).
        type: str
        default: otel-agent
      namespace:
        description:
          - The agent's namespace.
        type: str
        default: observability
      otlp_grpc_port:
        description:
          - The agent's OTLP gRPC port.
        type: int
        default: 4317
      otlp_http_port:
        description:
          - The agent's OTLP HTTP port.
        type: int
        default: 4318
      gateway_port:
        description:
          - The gateway port the agent exports to.
        type: int
        default: 4317
      mtls:
        description:
          - Whether the agent talks to the gateway with mutual TLS.
        type: bool
        default: true
      host_collector:
        description:
          - The agent's separate host collector (container logs, host metrics), as C(otel_agent_status) names it;
            unset when the agent has none. Its Pods are listed too.
        type: dict
        suboptions:
          name:
            description:
              - Its name (its OpenTelemetryCollector).
            type: str
            required: true
          namespace:
            description:
              - Its namespace.
            type: str
            required: true
  cluster:
    description:
      - The cluster collector (role C(otel_cluster)).
    type: dict
    default: {}
    suboptions:
      enabled:
        description:
          - Whether it is deployed; V(false) leaves it out of the summary.
        type: bool
        default: true
      name:
        description:
          - Its name (its OpenTelemetryCollector).
        type: str
        default: otel-cluster
      namespace:
        description:
          - Its namespace.
        type: str
        default: observability
      gateway_port:
        description:
          - The gateway port it exports to.
        type: int
        default: 4317
      mtls:
        description:
          - Whether it talks to the gateway with mutual TLS.
        type: bool
        default: true
extends_documentation_fragment:
  - otel.kubernetes.auth
notes:
  - Supports check mode; it reads only.
"""

EXAMPLES = r"""
- name: Describe what is deployed
  otel.kubernetes.summary:
    gateway:
      name: otel-gateway
      namespace: observability
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
    - The TLS Secrets of the gateway's namespace, each with namespace, name and not_after.
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

from ansible_collections.otel.kubernetes.plugins.module_utils.ansible_module import connect, fail, reader_module
from ansible_collections.otel.kubernetes.plugins.module_utils.discovery import Discovery
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.summary import SummaryRunner


def main():
    module = reader_module(
        {
            "operator_namespace": {"type": "str", "default": "opentelemetry-operator-system"},
            "gateway": {
                "type": "dict",
                "default": {},
                "options": {
                    "name": {"type": "str", "default": "otel-gateway"},
                    "namespace": {"type": "str", "default": "observability"},
                },
            },
            "agent": {
                "type": "dict",
                "default": {},
                "options": {
                    "name": {"type": "str", "default": "otel-agent"},
                    "namespace": {"type": "str", "default": "observability"},
                    "otlp_grpc_port": {"type": "int", "default": 4317},
                    "otlp_http_port": {"type": "int", "default": 4318},
                    "gateway_port": {"type": "int", "default": 4317},
                    "mtls": {"type": "bool", "default": True},
                    "host_collector": {
                        "type": "dict",
                        "options": {
                            "name": {"type": "str", "required": True},
                            "namespace": {"type": "str", "required": True},
                        },
                    },
                },
            },
            "cluster": {
                "type": "dict",
                "default": {},
                "options": {
                    "enabled": {"type": "bool", "default": True},
                    "name": {"type": "str", "default": "otel-cluster"},
                    "namespace": {"type": "str", "default": "observability"},
                    "gateway_port": {"type": "int", "default": 4317},
                    "mtls": {"type": "bool", "default": True},
                },
            },
        }
    )
    params = module.params
    try:
        client = connect(module)
        result = SummaryRunner(client, Discovery(client)).run(
            params["operator_namespace"], params["gateway"], params["agent"], params["cluster"]
        )
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
