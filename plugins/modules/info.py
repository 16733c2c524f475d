#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: info
short_description: Read Kubernetes objects with the collection's client and its retries
version_added: 0.1.0
description:
  - Reads one object by name, or lists the objects of a kind in a namespace or in all namespaces,
    optionally filtered by label and field selectors.
  - Uses the same client as M(otel.kubernetes.apply), so a read rides out an API server restart
    within O(retry_timeout) like every write of the collection does.
  - Reports whether the kind is served at all (RV(api_found)); a kind that is not served is not an error.
  - The option and return names follow M(kubernetes.core.k8s_info), so tasks move over unchanged.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  api_version:
    description:
      - The apiVersion of the kind, for example C(apps/v1) or C(opentelemetry.io/v1beta1).
    type: str
    default: v1
  kind:
    description:
      - The kind to read, for example C(Pod) or C(CustomResourceDefinition).
    type: str
    required: true
  namespace:
    description:
      - The namespace to read in. Without it, a list covers all namespaces, and a named object is read in
        the kubeconfig context's namespace (else C(default)). Ignored for cluster-scoped kinds.
    type: str
  name:
    description:
      - The name of one object. Without it, every object of the kind is listed.
    type: str
  label_selectors:
    description:
      - Label selector terms, joined with commas, for example C(app.kubernetes.io/name=otel). Lists only.
    type: list
    elements: str
  field_selectors:
    description:
      - Field selector terms, joined with commas, for example C(type=kubernetes.io/tls). Lists only.
    type: list
    elements: str
extends_documentation_fragment:
  - otel.kubernetes.auth
notes:
  - Supports check mode; it reads only.
"""

EXAMPLES = r"""
- name: Find out whether the cluster serves OpenTelemetryCollector
  otel.kubernetes.info:
    api_version: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    name: opentelemetrycollectors.opentelemetry.io
  register: collector_crd

- name: Read the TLS Secrets of a namespace
  otel.kubernetes.info:
    kind: Secret
    namespace: observability
    field_selectors:
      - type=kubernetes.io/tls
  register: tls_secrets
  no_log: true

- name: Read every OpenTelemetryCollector of the cluster
  otel.kubernetes.info:
    api_version: opentelemetry.io/v1beta1
    kind: OpenTelemetryCollector
  register: collectors
"""

RETURN = r"""
resources:
  description: The objects found; empty when none matched, the named object does not exist or the kind is not served.
  returned: always
  type: list
  elements: dict
api_found:
  description: Whether the API server serves this apiVersion and kind.
  returned: always
  type: bool
  sample: true
api_requests:
  description: HTTP requests made to the API server by this task, discovery included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import info as runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
