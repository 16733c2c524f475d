#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instrumentation
short_description: Auto-instrumentation with the OpenTelemetry Operator, sending to the node-local agent
version_added: 0.1.0
description:
  - Applies an C(Instrumentation) (C(opentelemetry.io/v1alpha1)) and annotates Namespaces and workload pod
    templates so that the operator injects it.
  - By default the SDKs send to the agent on their own node through the agent's Service O(agent_service) -
    for a C(daemonset) collector the operator makes the Service C(<name>-collector) with
    C(internalTrafficPolicy=Local), so traffic stays on the sender's node and no host port is needed (the
    agent's namespace can stay at the restricted Pod Security level). The exporter endpoint is then
    "http://otel-agent-collector.observability.svc.cluster.local:4317" (O(agent_service), O(cluster_domain),
    O(agent_grpc_port)).
  - With O(agent_service) empty, the SDKs send to the node IP and the agent's host ports instead (the agent
    role's C(otel_agent_host_ports)). The operator puts C(OTEL_NODE_IP) (the downward API's C(status.hostIP))
    first in every instrumented container since v0.97.0; the Instrumentation also carries it in C(spec.env) for
    older operators, and the endpoint is "http://$(OTEL_NODE_IP):4317".
  - The injected Java (agent 2.x), Node.js, Python, .NET and Go SDKs send OTLP over HTTP by default. The operator's
    README gives Python, .NET and Go a per-language C(OTEL_EXPORTER_OTLP_ENDPOINT) on 4318 when the main endpoint is
    gRPC; its end-to-end tests show Java and Node.js on 4318 as well. Each of these five gets
    C(OTEL_EXPORTER_OTLP_ENDPOINT) on O(agent_http_port) (4318) of the same agent in its block, unless set there.
  - Annotations are C(instrumentation.opentelemetry.io/inject-<language>) with the value
    C(<namespace>/<name>) of this Instrumentation, which is valid from any namespace and never ambiguous.
  - Annotations are written with server-side apply of partial objects (the identity and the annotations only,
    C(spec.template.metadata.annotations) for workloads; the API server merges them into the existing object) under
    a field manager of their own, O(annotation_field_manager). The annotations of the user and of other tools are
    never touched. O(state=absent), or a target listed with no language, removes exactly the annotations this module
    added. Targets must exist already; the module only annotates them.
  - Refused before anything is applied, with the right way named, are the annotations that do not exist (the seed's
    C(inject-javaagent), C(inject-contrib), C(service-name), C(otel-traces-sampler),
    C(otel-traces-sampler-argument), C(exporter-endpoint)) and any other unknown key under
    C(instrumentation.opentelemetry.io/), languages that are not the operator's, samplers and propagators the
    Instrumentation does not accept, sampler ratios outside 0 to 1, and per-language fields the API would drop.
  - Warned about is an O(exporter_endpoint) that names a Service other than O(agent_service) (not node-local), and Go
    or nginx injection, which
    the operator leaves off unless started with C(--enable-go-instrumentation) / C(--enable-nginx-instrumentation).
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  name:
    description:
      - Name of the Instrumentation.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the Instrumentation. It must exist.
    type: str
    required: true
  exporter_endpoint:
    description:
      - OTLP endpoint of the SDKs (C(spec.exporter.endpoint)), a URL with scheme and port.
      - When not set, the node-local agent (O(agent_service), or the node IP when that is empty) on
        O(agent_grpc_port), with the per-language HTTP endpoints described above. A Service name other than
        O(agent_service) here draws a warning - it is not node-local.
    type: str
  exporter_tls:
    description:
      - C(spec.exporter.tls) - C(secretName), C(configMapName), C(ca_file), C(cert_file), C(key_file). Used with an
        C(https://) endpoint.
    type: dict
  propagators:
    description:
      - Context propagators, among C(tracecontext), C(baggage), C(b3), C(b3multi), C(jaeger), C(xray), C(ottrace),
        C(none).
    type: list
    elements: str
    default: [tracecontext, baggage]
  sampler_type:
    description:
      - The trace sampler (C(spec.sampler.type)). One of C(always_on), C(always_off), C(traceidratio),
        C(parentbased_always_on), C(parentbased_always_off), C(parentbased_traceidratio), C(jaeger_remote), C(xray).
      - C(parentbased_jaeger_remote) is a valid C(OTEL_TRACES_SAMPLER) but the operator's CRD refuses it; give it with
        O(env) instead.
      - When not set, the SDK default (C(parentbased_always_on)).
    type: str
  sampler_argument:
    description:
      - The sampler argument, a string. For the ratio samplers a number from 0 to 1, for example V("0.1").
    type: str
  resource_attributes:
    description:
      - Resource attributes for every instrumented pod (C(spec.resource.resourceAttributes)).
    type: dict
  env:
    description:
      - Environment variables for every instrumented container (C(spec.env)), as Kubernetes EnvVars.
    type: list
    elements: dict
  java:
    description:
      - The C(java) block (C(image), C(env), C(resources), C(extensions), C(volumeLimitSize), C(volumeClaimTemplate)).
    type: dict
  nodejs:
    description:
      - The C(nodejs) block (C(image), C(env), C(resourceRequirements), C(volumeLimitSize), C(volumeClaimTemplate)).
    type: dict
  python:
    description:
      - The C(python) block (C(image), C(env), C(resourceRequirements), C(volumeLimitSize), C(volumeClaimTemplate)).
    type: dict
  dotnet:
    description:
      - The C(dotnet) block (C(image), C(env), C(resourceRequirements), C(volumeLimitSize), C(volumeClaimTemplate)).
    type: dict
  go:
    description:
      - The C(go) block (C(image), C(env), C(resourceRequirements), C(securityContext), C(volumeLimitSize),
        C(volumeClaimTemplate)).
    type: dict
  apache_httpd:
    description:
      - The C(apacheHttpd) block (C(image), C(env), C(attrs), C(version), C(configPath), C(resourceRequirements), ...).
    type: dict
    aliases: [apacheHttpd]
  nginx:
    description:
      - The C(nginx) block (C(image), C(env), C(attrs), C(configFile), C(resourceRequirements), ...).
    type: dict
  agent_service:
    description:
      - The agent's node-local Service as C(<service>.<namespace>) - for the agent role, C(<otel_agent_name>-collector)
        in C(otel_agent_namespace). The default endpoint is "http://<agent_service>.svc.<cluster_domain>:<port>".
      - An empty string sends to "http://$(OTEL_NODE_IP):<port>" instead - the node IP and the agent's host ports,
        which the agent must then open (C(otel_agent_host_ports), privileged Pod Security level).
    type: str
    default: otel-agent-collector.observability
  cluster_domain:
    description:
      - The cluster's DNS domain, for the Service name of O(agent_service).
    type: str
    default: cluster.local
  agent_grpc_port:
    description:
      - The node-local agent's OTLP gRPC port, for the default endpoint.
    type: int
    default: 4317
  agent_http_port:
    description:
      - The node-local agent's OTLP HTTP port, for the languages that send OTLP over HTTP.
    type: int
    default: 4318
  namespaces:
    description:
      - Existing Namespaces to annotate, so that every new pod in them is instrumented.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The namespace.
        type: str
        required: true
      languages:
        description:
          - Languages to inject - C(java), C(nodejs), C(python), C(dotnet), C(go), C(sdk), C(apache-httpd), C(nginx).
          - An empty list removes the annotations this module added to the namespace.
        type: list
        elements: str
        default: []
      annotations:
        description: More annotations for this namespace, checked like O(extra_annotations).
        type: dict
  workloads:
    description:
      - Existing Deployments, StatefulSets or DaemonSets whose pod template is annotated. Changing the pod template
        rolls the workload out.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: The workload kind.
        type: str
        required: true
        choices: [Deployment, StatefulSet, DaemonSet]
      name:
        description: The workload's name.
        type: str
        required: true
      namespace:
        description: The workload's namespace. Defaults to O(namespace).
        type: str
      languages:
        description:
          - Languages to inject, as for O(namespaces). An empty list removes the annotations this module added.
        type: list
        elements: str
        default: []
      container_names:
        description:
          - Containers to instrument (C(container-names), or C(<language>-container-names) with several languages).
        type: list
        elements: str
      annotations:
        description:
          - More pod template annotations, for example C(instrumentation.opentelemetry.io/otel-go-auto-target-exe) or
            C(resource.opentelemetry.io/service.name), checked like O(extra_annotations).
        type: dict
  extra_annotations:
    description:
      - Annotations added to every annotated namespace and pod template.
      - Keys under C(instrumentation.opentelemetry.io/) must be annotations the operator reads; the ones that do not
        exist are refused with the right way named.
    type: dict
  annotation_field_manager:
    description:
      - The server-side apply field manager of the annotations. It must differ from O(field_manager).
    type: str
    default: otel.kubernetes-instrumentation
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
notes:
  - The Instrumentation kind must be served, that is the OpenTelemetry Operator (or its CRDs) installed.
  - With O(render_only=true) the targets are not checked for existence (nothing is read).
  - A namespace or workload dropped from the options keeps its annotations; list it with no language (or use
    O(state=absent)) to remove them.
"""

EXAMPLES = r"""
- name: Instrument Java and Python in the shop namespace, through the node-local agent
  otel.kubernetes.instrumentation:
    name: default
    namespace: observability
    propagators: [tracecontext, baggage]
    sampler_type: parentbased_traceidratio
    sampler_argument: "0.1"
    namespaces:
      - name: shop
        languages: [java, python]

- name: Instrument one Deployment's app container, naming its service
  otel.kubernetes.instrumentation:
    name: default
    namespace: observability
    workloads:
      - kind: Deployment
        name: checkout
        namespace: shop
        languages: [nodejs]
        container_names: [app]
        annotations:
          resource.opentelemetry.io/service.name: checkout

- name: Render the Instrumentation and the annotation objects for a GitOps repository
  otel.kubernetes.instrumentation:
    name: default
    namespace: observability
    namespaces:
      - name: shop
        languages: [java, python]
    render_only: true
  register: instrumentation

- name: Remove the Instrumentation and exactly the annotations it added
  otel.kubernetes.instrumentation:
    name: default
    namespace: observability
    namespaces:
      - name: shop
        languages: [java, python]
    state: absent
"""

RETURN = r"""
objects:
  description:
    - The rendered objects - the Instrumentation, then the partial Namespace and workload objects that carry the
      annotations (applied with O(annotation_field_manager)).
    - With O(render_only=true) the same objects, ready to be written out. The annotation objects are partial
      (identity and annotations only) and so need server-side apply with a field manager of their own
      (for example C(kubectl apply --server-side --field-manager=otel.kubernetes-instrumentation), or Argo CD's
      C(ServerSideApply=true)); a client-side apply would try to create or replace the whole object.
  returned: always
  type: list
  elements: dict
results:
  description:
    - One entry per object applied or deleted, as returned by M(otel.kubernetes.apply). For annotated targets the
      action is C(updated) when annotations were added or removed, C(unchanged) otherwise.
    - Empty with O(render_only=true).
  returned: always
  type: list
  elements: dict
diff:
  description: Before and after of each changed object.
  returned: in diff mode
  type: list
  elements: dict
status:
  description:
    - What role C(otel.kubernetes.otel_instrumentation) publishes as C(otel_instrumentation_status) (and
      M(otel.kubernetes.summary) reads) - C(name), C(namespace), C(exporter_endpoint) (where the injected SDKs send)
      and C(targets), each annotated namespace or workload with its C(kind), C(namespace), C(name) and the
      C(languages) injected into it.
    - Empty with O(state=absent).
  returned: always
  type: dict
  sample:
    name: otel-instrumentation
    namespace: observability
    exporter_endpoint: http://otel-agent-collector.observability.svc.cluster.local:4317
    targets:
      - {kind: Namespace, namespace: null, name: shop, languages: [java, python]}
api_requests:
  description: HTTP requests made to the API server by this task, the existence checks included (0 with
    O(render_only=true)).
  returned: always
  type: int
"""


from ansible_collections.otel.kubernetes.plugins.module_utils.instrumentation import runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
