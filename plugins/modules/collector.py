#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: collector
short_description: Manage an OpenTelemetry Collector of the OpenTelemetry Operator (OpenTelemetryCollector v1beta1)
version_added: 0.1.0
description:
  - Renders an C(opentelemetry.io/v1beta1) OpenTelemetryCollector from options, lints it, and applies it with
    server-side apply through the collection's engine (honest C(changed), check mode by server dry run, diff).
  - The configuration is always written as the structured v1beta1 C(spec.config); YAML text is parsed first.
    The deprecated v1alpha1 string form is never written.
  - Before anything is applied, the configuration goes through M(otel.kubernetes.collector_config)'s lint with
    this collector's mode, replicas, autoscaler and memory limit, then, when a collector binary is available
    (O(collector_binary), or the distribution's binary on PATH), through that binary's C(validate). Any error
    fails the task and nothing is applied; warnings are shown and returned.
  - When O(image) is not given, the image is the smallest collector distribution that has every component
    of the configuration (core C(otelcol), then C(otelcol-k8s), then C(otelcol-contrib)). The operator's own
    default is the core distribution, which has no k8sattributes, tail_sampling or loadbalancing.
  - Secure defaults; runs as non-root user 10001 with a read-only root file system, no privilege escalation,
    all capabilities dropped, and the RuntimeDefault seccomp profile. O(security_context) and
    O(pod_security_context) are merged over them.
  - A memory_limiter with neither C(limit_mib) nor C(limit_percentage) gets C(limit_percentage=80) and
    C(spike_limit_percentage=25) (and C(check_interval=1s) when missing), with a warning. With a memory limit
    in O(resources), the environment variable C(GOMEMLIMIT) is set to about 80% of it.
  - The operator creates the collector's HorizontalPodAutoscaler itself from O(autoscaler). A second HPA on the
    same collector fights it, so an HPA in O(extra_objects) that targets this collector is an error. HPAs made
    outside this task are not looked for.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  name:
    description:
      - Name of the OpenTelemetryCollector. The operator names its workload and Service C(<name>-collector).
      - Required unless O(preset) is given (the preset's C(name) setting names it then).
    type: str
  preset:
    description:
      - Render and apply a whole component of the collection from O(preset_settings) in one task - V(agent) is
        what role C(otel.kubernetes.otel_agent) deploys (a DaemonSet sending to the gateway over mTLS, with the
        kubelet's metrics, and its host collector when container logs or host metrics are read by a separate
        DaemonSet), V(gateway) what role C(otel.kubernetes.otel_gateway) deploys (the tail-sampling Deployment, its
        ServiceMonitors and PrometheusRule, its Ingress), V(cluster) what role C(otel.kubernetes.otel_cluster)
        deploys (one replica reading the cluster's state and events).
      - One engine run applies the component's Namespace (at its Pod Security level), its ServiceAccount and the
        RBAC derived from its configuration (as M(otel.kubernetes.rbac) does), the OpenTelemetryCollector and the
        gateway's other objects; with O(state=absent) they are removed (never the Namespace).
      - Everything is rendered and validated before the cluster is contacted. The OpenTelemetryCollector CRD must
        be served (the task fails, naming the operator role, when it is not; in check mode the collector is then
        reported as not validated by the server). The gateway's Prometheus Operator objects follow its
        C(prometheus_monitoring) setting; V(auto) asks API discovery whether C(monitoring.coreos.com/v1) serves
        them (never when rendering).
      - The collector options of this module (O(config), O(mode), O(helm_values)...) are not used with a preset;
        giving one is an error.
    type: str
    choices: [agent, cluster, gateway]
    version_added: 0.1.0
  preset_settings:
    description:
      - The settings of O(preset) - the variables of its role without their C(otel_agent_), C(otel_gateway_) or
        C(otel_cluster_) prefix (C(otlp_grpc_port) for C(otel_agent_otlp_grpc_port)), with the role's defaults for
        those not given. See the roles' README files for each.
      - The role variables the task can see are taken as settings - a task with O(preset=agent) in a play that sets
        C(otel_agent_otlp_grpc_port) (or inside the role) gets it, templated, as C(otlp_grpc_port). Settings given
        here win, one by one, over those variables; give them here when calling the module outside the role.
      - Errors name the role variable (C(otel_agent_otlp_grpc_port)) and the fix.
    type: dict
    default: {}
    version_added: 0.1.0
  namespace:
    description:
      - Namespace of the collector. Defaults to the kubeconfig context's namespace, else C(default).
    type: str
  config:
    description:
      - The collector configuration (receivers, processors, exporters, connectors, extensions, service), as a
        dictionary or as YAML text. Required with O(state=present), unless O(helm_values) gives C(config).
    type: raw
  mode:
    description:
      - How the operator runs the collector. C(daemonset) is the node agent; C(deployment) or C(statefulset) the
        gateway; C(sidecar) is injected into annotated pods.
      - When not set, the C(mode) of O(helm_values), else V(deployment).
    type: str
    choices: [daemonset, deployment, statefulset, sidecar]
  image:
    description:
      - The collector image. Default, the smallest distribution that has every component of O(config), from
        C(ghcr.io/open-telemetry/opentelemetry-collector-releases), tag O(collector_version).
    type: str
  distribution:
    description:
      - Check the configuration against this distribution (and use its image when O(image) is not given).
    type: str
    choices: [core, k8s, contrib]
  collector_version:
    description:
      - Tag of the chosen image when O(image) is not given. Defaults to the release the component lists were
        read for.
    type: str
  replicas:
    description:
      - Number of replicas (C(deployment) and C(statefulset) only), at least 1.
      - To remove the collector use O(state=absent).
    type: int
  autoscaler:
    description:
      - The operator's C(spec.autoscaler) - C(minReplicas), C(maxReplicas), C(targetCPUUtilization),
        C(targetMemoryUtilization), C(behavior), C(metrics). Setting C(maxReplicas) turns autoscaling on.
      - C(enabled), C(targetCPUUtilizationPercentage) and C(targetMemoryUtilizationPercentage) (the Helm chart's
        names) are refused with the right names.
    type: dict
  resources:
    description:
      - Container resources (C(limits), C(requests)). C(limits.memory) is checked against the memory_limiter and
        sets C(GOMEMLIMIT).
    type: dict
  env:
    description:
      - Environment variables of the collector container (Kubernetes EnvVar list).
    type: list
    elements: dict
  node_env:
    description:
      - Add C(K8S_NODE_NAME) (downward API C(spec.nodeName)) and C(K8S_NODE_IP) (C(status.hostIP)) to the
        environment, for k8sattributes C(filter.node_from_env_var) and node-local endpoints.
      - Default true for O(mode=daemonset), false otherwise. Variables of the same name in O(env) win.
    type: bool
  volumes:
    description:
      - Pod volumes, for example Secret volumes with TLS certificates.
    type: list
    elements: dict
  volume_mounts:
    description:
      - Volume mounts of the collector container.
    type: list
    elements: dict
  ports:
    description:
      - Extra ports of the collector's Service (C(name), C(port), C(protocol), C(targetPort), C(nodePort),
        C(appProtocol)) and C(hostPort) for node agents.
      - C(protocol) is always written (default C(TCP)); some API servers refuse server-side apply without it.
      - Each port number (per protocol) and each name may be given once, as in a Service.
      - The operator also infers ports from the receivers of the configuration.
    type: list
    elements: dict
  service_account:
    description:
      - Service account of the collector pods (C(spec.serviceAccount)); see M(otel.kubernetes.rbac).
    type: str
  tolerations:
    description:
      - Pod tolerations, for example to run the agent on control-plane nodes. Not for O(mode=sidecar).
    type: list
    elements: dict
  node_selector:
    description:
      - Pod node selector.
    type: dict
  affinity:
    description:
      - Pod affinity. Not for O(mode=sidecar).
    type: dict
  priority_class_name:
    description:
      - Pod priority class. Not for O(mode=sidecar).
    type: str
  pod_disruption_budget:
    description:
      - The operator's C(spec.podDisruptionBudget) - C(maxUnavailable) or C(minAvailable).
    type: dict
  upgrade_strategy:
    description:
      - Whether the operator upgrades this collector's configuration when the operator is upgraded.
    type: str
    choices: [automatic, none]
    default: automatic
  self_monitoring:
    description:
      - Set C(spec.observability.metrics.enableMetrics) (the operator then creates a ServiceMonitor or PodMonitor)
        and make C(service.telemetry.metrics) serve the collector's own metrics on C(0.0.0.0:8888), so they can be
        scraped from outside the pod. A reader bound to localhost is moved to C(0.0.0.0).
    type: bool
    default: false
  labels:
    description:
      - Labels of the OpenTelemetryCollector.
    type: dict
  annotations:
    description:
      - Annotations of the OpenTelemetryCollector. The operator copies them to the collector's workload and its
        pod template.
      - For a deployment, daemonset or statefulset collector the module adds C(checkov.io/skip1), C(skip2), ...
        annotations that tell the checkov scanner which of its checks a collector cannot pass, and why (the
        image is pinned by release tag, not digest, CKV_K8S_43; no imagePullPolicy Always, CKV_K8S_15; the
        operator's API has no automountServiceAccountToken field, CKV_K8S_38; the operator makes the
        NetworkPolicy itself, CKV2_K8S_6; host ports, only when O(ports) has one, CKV_K8S_26; user 0, only when
        O(security_context) sets C(runAsUser=0) to read the host's files, CKV_K8S_23 and CKV_K8S_40). The
        annotations given here win, key by key.
    type: dict
  security_context:
    description:
      - Container security context, merged over the secure defaults.
    type: dict
  pod_security_context:
    description:
      - Pod security context (C(fsGroup) belongs here), merged over the secure defaults.
    type: dict
  traces_routed_by_trace_id:
    description:
      - The senders route every span of a trace to the same replica (C(loadbalancing) exporter with
        C(routing_key=traceID)); silences the tail-sampling warning for several replicas.
    type: bool
    default: false
  collector_binary:
    description:
      - A collector binary (path, or a name on PATH) whose C(validate) command checks the rendered configuration
        once the lint found no error; see M(otel.kubernetes.collector_config)'s option of the same name. When not
        given, the distribution's binary (C(otelcol-k8s), C(otelcol-contrib), C(otelcol)) is used if it is on PATH.
    type: str
  extra_objects:
    description:
      - Other objects to apply (or delete) with the collector, in the same task, for example a Secret or a
        ConfigMap it mounts. A HorizontalPodAutoscaler that targets this collector is refused.
    type: list
    elements: dict
  helm_values:
    description:
      - The values of the C(opentelemetry-collector) Helm chart (its C(values.yaml), as a dictionary or as YAML
        text), mapped onto this module's options, so that a Helm installation can move to the operator. Options
        given to the module win over the values, each as a whole (a module O(resources) replaces the values'
        C(resources)).
      - C(mode) -> O(mode) (C(daemonset), C(deployment) or C(statefulset)); C(replicaCount) -> O(replicas)
        (deployment and statefulset only, and not while autoscaling is on, as in the chart); C(resources);
        C(config) (or C(alternateConfig)) -> O(config); C(serviceAccount.name) -> O(service_account);
        C(autoscaling) with C(enabled=true) -> O(autoscaler) (C(minReplicas), C(maxReplicas),
        C(targetCPUUtilizationPercentage) -> C(targetCPUUtilization), C(targetMemoryUtilizationPercentage) ->
        C(targetMemoryUtilization), C(behavior), with the chart's defaults 1, 10 and 80 for those not given);
        C(podDisruptionBudget) with C(enabled=true) -> O(pod_disruption_budget); C(tolerations),
        C(nodeSelector), C(affinity), C(priorityClassName); C(image.repository) with C(image.tag) or
        C(image.digest) -> O(image); C(extraEnvs) -> O(env); C(extraVolumes) -> O(volumes);
        C(extraVolumeMounts) -> O(volume_mounts); C(ports) (the chart's mapping of name to C(enabled),
        C(containerPort), C(servicePort), C(hostPort), C(protocol), C(appProtocol), C(nodePort)) -> O(ports),
        enabled ports only, C(protocol) always written, C(hostPort) for daemonsets only (as in the chart);
        C(podLabels) and C(additionalLabels) -> O(labels) and C(annotations) and C(podAnnotations) ->
        O(annotations) (the operator copies the collector's labels and annotations to its pods and its other
        objects); C(securityContext) and C(podSecurityContext) -> O(security_context) and
        O(pod_security_context) (merged over the secure defaults).
      - C(config) is the whole configuration. The chart merges it over its own default configuration (jaeger,
        zipkin and prometheus receivers, debug exporter...); here nothing is added, and a V(null) in it (the
        chart's way to delete a default) is refused. The chart's default C(ports) are not added either; the
        operator opens the ports of the configured receivers. The variables the chart always sets
        (C(MY_POD_IP), C(OTEL_K8S_NODE_NAME), C(OTEL_K8S_NODE_IP), C(OTEL_K8S_NAMESPACE), C(OTEL_K8S_POD_NAME),
        C(OTEL_K8S_POD_IP)) are added to O(env) from the downward API when the configuration references them.
      - C(serviceAccount.create) makes no ServiceAccount here; create it with M(otel.kubernetes.rbac), which
        also grants what the configuration needs (a warning says so). Without C(serviceAccount.name), the
        operator creates and uses C(<name>-collector).
      - C(ingress) with C(enabled=true) (and its C(additionalIngresses)) becomes C(networking.k8s.io/v1)
        Ingress objects, applied and deleted with the collector like O(extra_objects). They route to the
        operator's Service C(<name>-collector), and are named C(<name>-collector) (and
        C(<name>-collector-<additional name>)). The chart's schema is enforced - C(ingressClassName), and
        C(hosts) as a list of C(host) with C(paths), each a C(path), C(pathType) and the collector C(port) to route to.
      - Refused, with the key named and what to do instead, is every value that cannot be mapped and would
        otherwise be dropped - unknown keys, C(presets) turned on, C(configMap.create=false) or
        C(configMap.existingName), C(command), C(clusterRole), C(hostNetwork), C(imagePullSecrets),
        C(extraEnvsFrom), C(extraContainers), C(initContainers), probes other than the chart's default,
        C(service) other than a plain ClusterIP, C(serviceMonitor)/C(podMonitor) (use O(self_monitoring)),
        C(autoscaling.additionalMetrics), C(serviceAccount.annotations), and the like. Values at the chart's
        defaults are accepted.
    type: raw
    version_added: 0.1.0
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
notes:
  - With O(render_only=true), O(wait) is ignored; nothing is contacted.
  - O(wait=true) waits for the workload the operator creates, C(<name>-collector) (a Deployment, DaemonSet or
    StatefulSet by O(mode)), to be rolled out, and for the operator to have reconciled the collector when it
    reports C(status.observedGeneration). Sidecars have no workload of their own. Without a running operator
    the workload never appears and the wait times out, saying so.
  - The OpenTelemetryCollector CRD (the OpenTelemetry Operator) must be installed.
seealso:
  - module: otel.kubernetes.collector_config
  - module: otel.kubernetes.apply
"""

EXAMPLES = r"""
- name: Node agent, reached on the node IP
  otel.kubernetes.collector:
    name: otel-agent
    namespace: observability
    mode: daemonset
    service_account: otel-collector
    resources:
      limits: {cpu: 500m, memory: 512Mi}
      requests: {cpu: 100m, memory: 256Mi}
    ports:
      - {name: otlp-grpc, port: 4317, hostPort: 4317}
      - {name: otlp-http, port: 4318, hostPort: 4318}
    config:
      receivers:
        otlp:
          protocols:
            grpc: {endpoint: 0.0.0.0:4317}
            http: {endpoint: 0.0.0.0:4318}
      processors:
        memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 25}
        k8sattributes:
          filter: {node_from_env_var: K8S_NODE_NAME}
        batch: {}
      exporters:
        loadbalancing:
          routing_key: traceID
          protocol:
            otlp: {tls: {insecure: true}}
          resolver:
            dns: {hostname: otel-gateway-collector-headless.observability.svc.cluster.local}
      service:
        pipelines:
          traces:
            receivers: [otlp]
            processors: [memory_limiter, k8sattributes, batch]
            exporters: [loadbalancing]

- name: Tail-sampling gateway with the operator's autoscaler, waiting for its Deployment
  otel.kubernetes.collector:
    name: otel-gateway
    namespace: observability
    mode: deployment
    replicas: 3
    autoscaler: {minReplicas: 3, maxReplicas: 10, targetCPUUtilization: 60, targetMemoryUtilization: 80}
    traces_routed_by_trace_id: true
    self_monitoring: true
    resources:
      limits: {memory: 1Gi}
    pod_disruption_budget: {maxUnavailable: 1}
    config: "{{ lookup('ansible.builtin.file', 'gateway-config.yaml') }}"
    wait: true
    wait_timeout: 300

- name: Move a Helm installation to the operator, from its values file
  otel.kubernetes.collector:
    name: otel-agent
    namespace: observability
    helm_values: "{{ lookup('ansible.builtin.file', 'values.yaml') }}"
    image: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.159.0

- name: Render the gateway for a GitOps repository, without a cluster
  otel.kubernetes.collector:
    name: otel-gateway
    namespace: observability
    config: "{{ lookup('ansible.builtin.file', 'gateway-config.yaml') }}"
    render_only: true
  register: gateway

- name: The node agent of role otel_agent, with its namespace and RBAC, in one task
  otel.kubernetes.collector:
    preset: agent
    preset_settings:
      namespace: observability
      gateway_namespace: observability
      host_ports: false
  register: agent

- name: Remove the gateway
  otel.kubernetes.collector:
    name: otel-gateway
    namespace: observability
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the collector (or an extra object) was, or in check mode would be, changed.
  returned: always
  type: bool
object:
  description: The rendered OpenTelemetryCollector, as sent to the API server.
  returned: always
  type: dict
  sample:
    apiVersion: opentelemetry.io/v1beta1
    kind: OpenTelemetryCollector
    metadata: {name: otel-gateway, namespace: observability}
    spec:
      mode: deployment
      image: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.159.0
image:
  description: The collector image (given, or chosen from the configuration's components).
  returned: with state=present
  type: str
  sample: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.159.0
distribution:
  description: The distribution the configuration was checked against; null for an image of no known distribution.
  returned: with state=present
  type: str
  sample: k8s
errors:
  description: The lint and option errors that stopped the task (nothing was applied).
  returned: on failure before applying
  type: list
  elements: str
validated_with:
  description: The collector binary whose C(validate) also checked the configuration; null when none was used.
  returned: when the configuration was checked (state=present)
  type: str
  sample: /usr/local/bin/otelcol-contrib
lint_warnings:
  description:
    - Lint and rendering warnings, each naming the place and the fix, and what O(helm_values) mapped differently
      from the chart; also shown as task warnings.
    - Not named C(warnings), a key Ansible reserves for its own warnings.
  returned: always
  type: list
  elements: str
objects:
  description:
    - With O(render_only=true), every object the task would apply, in apply order - the OpenTelemetryCollector,
      the Ingresses of O(helm_values), and O(extra_objects) (whose Secret values are masked in the output).
    - With O(preset), the Namespace, the ServiceAccount and RBAC, the collector, then the component's other objects.
  returned: with O(render_only=true)
  type: list
  elements: dict
  version_added: 0.1.0
results:
  description: One entry per applied object, as returned by M(otel.kubernetes.apply); empty with O(render_only=true).
  returned: when the cluster was contacted, and with O(render_only=true)
  type: list
  elements: dict
  contains:
    apiVersion:
      description: The object's apiVersion.
      type: str
    kind:
      description: The object's kind.
      type: str
    name:
      description: The object's name.
      type: str
    namespace:
      description: The object's namespace.
      type: str
    action:
      description: What was done (or, in check mode, what would be done).
      type: str
      choices: [created, updated, unchanged, deleted, absent]
    changed:
      description: Whether this object was (or would be) changed.
      type: bool
status:
  description:
    - With O(preset), what its role publishes as C(otel_agent_status) or C(otel_gateway_status) - the name,
      namespace and image, the endpoints and ports, whether TLS is on, and the lint warnings (the agent also its
      permissions, the gateway the monitoring kinds it applied). Empty with O(state=absent).
  returned: with O(preset)
  type: dict
  version_added: 0.1.0
permissions:
  description: With O(preset), why each permission of the component's RBAC is granted (see M(otel.kubernetes.rbac)).
  returned: with O(preset)
  type: list
  elements: str
  version_added: 0.1.0
resource_metrics_served:
  description:
    - Whether the cluster serves the resource metrics API (C(metrics.k8s.io), from metrics-server) that the
      collector's C(autoscaler) needs.
    - When it does not, the task warns, naming the fix (install metrics-server, or unset the autoscaler), since the
      HorizontalPodAutoscaler the operator makes would report C(FailedGetResourceMetric) and never scale.
  returned: with state=present, outside render_only, when the collector has an autoscaler
  type: bool
  version_added: 0.1.0
workload:
  description: The operator-created workload that was waited for.
  returned: with wait=true, state=present and a mode other than sidecar, outside check mode
  type: dict
  sample: {apiVersion: apps/v1, kind: Deployment, name: otel-gateway-collector, namespace: observability}
diff:
  description: Before and after of each changed object.
  returned: in diff mode
  type: list
  elements: dict
api_requests:
  description: HTTP requests made to the API server by this task (0 with O(render_only=true)).
  returned: when the cluster was contacted, and with O(render_only=true)
  type: int
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
