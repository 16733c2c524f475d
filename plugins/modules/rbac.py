#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rbac
short_description: Least-privilege RBAC for an OpenTelemetry collector, derived from its configuration
version_added: 0.1.0
description:
  - Creates the ServiceAccount of a collector and exactly the permissions its configuration needs, read from
    the components its pipelines use, as their upstream READMEs document them. If the configuration needs
    no permission, only the ServiceAccount is created.
  - C(k8sattributes) (also C(k8s_attributes)) gets get/list/watch on C(pods) and C(namespaces); C(replicasets)
    (apps) when C(k8s.deployment.name) (a default), C(k8s.deployment.uid) or C(service.name) is extracted, unless
    C(extract.deployment_name_from_replicaset); C(nodes) only for C(k8s.node.uid) or node labels/annotations
    (C(k8s.node.name) comes from the pod); workload kinds only for their labels/annotations. With
    C(filter.namespace), a Role in that namespace replaces the cluster-wide pod access. C(passthrough) needs nothing.
  - C(kubeletstats) (also C(kubelet_stats)) with C(auth_type=serviceAccount) gets get on C(nodes/stats), and on
    C(nodes/pods) (or C(nodes/proxy), see O(kubelet_fine_grained_authz)) when C(extra_metadata_labels) or a
    limit/request utilization metric reads the kubelet's C(/pods); C(auth_type=kubeConfig) needs C(nodes/proxy).
    The receiver's default C(auth_type=tls) does not use the service account.
  - The C(k8s) resolver of the C(loadbalancing) (also C(load_balancing)) exporter gets get/list/watch on
    C(endpoints) and C(endpointslices) (discovery.k8s.io) in the gateway Service's namespace only, through a
    Role and RoleBinding there.
  - C(k8s_cluster) gets its documented read-only ClusterRole; C(k8s_events) gets C(events); C(k8sobjects) gets
    C(list) (pull) or C(list)/C(watch) (watch) on the configured objects, in their namespaces when given.
  - Components that read the API in ways not derived here (C(k8s_observer), C(resourcedetection) with the
    C(k8snode) detector, C(prometheus) with C(kubernetes_sd_configs)...) are reported as warnings; add their rules
    with O(extra_rules).
  - Nothing is a wildcard and nothing reads Secrets.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  name:
    description:
      - Name of the ClusterRole, ClusterRoleBinding, Roles and RoleBindings, and of the ServiceAccount unless
        O(service_account) is given.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the collector and its ServiceAccount. It must exist.
    type: str
    required: true
  config:
    description:
      - The collector configuration, as in the C(spec.config) of an C(OpenTelemetryCollector) v1beta1, as a dictionary
        or YAML text.
      - Only components named by C(service.pipelines) (and C(service.extensions)) count.
      - Values the permissions depend on (C(filter.namespace), C(resolver.k8s.service)) must be literal, not
        C(${env:...}).
    type: raw
  service_account:
    description:
      - Name of the ServiceAccount. Defaults to O(name).
    type: str
  extra_rules:
    description:
      - PolicyRules (C(apiGroups), C(resources), C(verbs), C(resourceNames), C(nonResourceURLs)) added to the
        ClusterRole, for what the configuration does not show.
      - Wildcards are refused. Rules broader than the configuration needs are applied but reported as warnings.
    type: list
    elements: dict
    default: []
  kubelet_fine_grained_authz:
    description:
      - Whether the kubelets check the fine-grained C(nodes/pods) subresource (Kubernetes 1.33 and later, the
        C(KubeletFineGrainedAuthz) feature). When V(false), C(nodes/proxy) is granted instead, which also opens
        the kubelet's exec endpoints.
    type: bool
    default: true
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
notes:
  - O(state=absent) deletes the objects this configuration would create. Roles made for an earlier, broader
    configuration are not found that way; remove them with that configuration.
"""

EXAMPLES = r"""
- name: RBAC of a node agent with k8sattributes and kubeletstats
  otel.kubernetes.rbac:
    name: otel-agent
    namespace: observability
    config:
      receivers:
        otlp:
          protocols:
            grpc: {}
        kubeletstats:
          auth_type: serviceAccount
          endpoint: "https://${env:K8S_NODE_NAME}:10250"
      processors:
        k8sattributes:
          filter:
            node_from_env_var: K8S_NODE_NAME
      exporters:
        loadbalancing:
          routing_key: traceID
          protocol:
            otlp:
              tls:
                insecure: true
          resolver:
            k8s:
              service: otel-gateway-collector-headless.observability
      service:
        pipelines:
          traces:
            receivers: [otlp]
            processors: [k8sattributes]
            exporters: [loadbalancing]
          metrics:
            receivers: [kubeletstats]
            processors: [k8sattributes]
            exporters: [loadbalancing]

- name: RBAC from the config file the collector uses
  otel.kubernetes.rbac:
    name: otel-gateway
    namespace: observability
    config: "{{ lookup('file', 'gateway-config.yaml') }}"

- name: Render them for a GitOps repository, without a cluster
  otel.kubernetes.rbac:
    name: otel-agent
    namespace: observability
    config: "{{ agent_config }}"
    render_only: true
  register: agent_rbac

- name: Remove it
  otel.kubernetes.rbac:
    name: otel-agent
    namespace: observability
    config: "{{ agent_config }}"
    state: absent
"""

RETURN = r"""
objects:
  description:
    - The rendered objects (the ServiceAccount, then ClusterRole/Binding and Role/Binding as needed).
    - With O(render_only=true), in apply order, ready to be written out for a GitOps tool.
  returned: always
  type: list
  elements: dict
permissions:
  description: Why each permission is granted, one line per component and resource set.
  returned: always
  type: list
  elements: str
  sample:
    - "processors.k8sattributes: get/list/watch pods (cluster-wide) - the pods whose metadata it adds"
results:
  description: One entry per object applied or deleted, as returned by M(otel.kubernetes.apply); empty with
    O(render_only=true).
  returned: always
  type: list
  elements: dict
diff:
  description: Before and after of each changed object.
  returned: in diff mode
  type: list
  elements: dict
api_requests:
  description: HTTP requests made to the API server by this task (0 with O(render_only=true)).
  returned: always
  type: int
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import runner


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
