"""helm_values: the opentelemetry-collector chart's values onto collector options, and their refusals."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _helm_values as hv
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import _render as cr
from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector.options import CollectorOptions

# The seed's "Values File for Production", as written there.
SEED_VALUES = yaml.safe_load("""\
mode: daemonset

replicaCount: 1

resources:
  limits:
    cpu: 500m
    memory: 1Gi
  requests:
    cpu: 100m
    memory: 256Mi

config:
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
      spike_limit_mib: 128
      check_interval: 1s
    k8sattributes:
      extract:
        metadata:
          - k8s.namespace.name
          - k8s.pod.name
          - k8s.deployment.name
          - k8s.node.name
          - k8s.container.name
  exporters:
    otlp:
      endpoint: otel-gateway.observability:4317
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

serviceAccount:
  create: true
  name: otel-collector

ingress:
  enabled: true
  className: nginx
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
  hosts:
    - prometheus-gateway.observability.example.com
  tls:
    - secretName: otel-gateway-tls
      hosts:
        - prometheus-gateway.observability.example.com
""")

# Values of chart 0.170.0 that have no effect here, at their defaults: all accepted.
CHART_DEFAULTS = yaml.safe_load("""\
nameOverride: ""
fullnameOverride: ""
mode: deployment
apiVersion: apps/v1
namespaceOverride: ""
presets:
  logsCollection: {enabled: false, includeCollectorLogs: false, storeCheckpoints: false}
  hostMetrics: {enabled: false}
  kubernetesAttributes: {enabled: false, extractAllPodLabels: false}
  kubeletMetrics: {enabled: false}
  kubernetesEvents: {enabled: false}
  kubernetesObjects: {enabled: false, watch: false, core: {enabled: true}, autoscaling: {enabled: true,
                      vpa: {enabled: false}}}
  clusterMetrics: {enabled: false}
  annotationDiscovery: {logs: {enabled: false}, metrics: {enabled: false}}
  profiling: {enabled: false}
  resourceDetection: {enabled: false, env: {enabled: true}, k8s_api: {enabled: true}}
configMap: {create: true, existingName: ""}
internalTelemetryViaOTLP: {endpoint: "", headers: [], traces: {enabled: false}, metrics: {enabled: false},
                           logs: {enabled: false}}
rewriteDeprecatedComponentNames: true
alternateConfig: {}
image: {repository: "", pullPolicy: IfNotPresent, tag: "", digest: ""}
imagePullSecrets: []
command: {name: "", extraArgs: []}
serviceAccount: {create: true, annotations: {}, name: "", automountServiceAccountToken: true}
clusterRole: {create: false, annotations: {}, name: "", rules: [], clusterRoleBinding: {annotations: {}, name: ""}}
podSecurityContext: {}
securityContext: {}
nodeSelector: {}
tolerations: []
affinity: {}
topologySpreadConstraints: []
priorityClassName: ""
runtimeClassName: ""
terminationGracePeriodSeconds: 30
extraEnvs: []
extraEnvsFrom: []
extraVolumes: []
extraVolumeMounts: []
extraManifests: []
useGOMEMLIMIT: true
resizePolicy: []
resources: {}
enableConfigChecksumAnnotation: true
podAnnotations: {}
podLabels: {}
additionalLabels: {}
hostNetwork: false
hostPID: false
hostAliases: []
dnsPolicy: ""
dnsConfig: {}
schedulerName: ""
replicaCount: 1
revisionHistoryLimit: 10
annotations: {}
extraContainers: []
initContainers: []
lifecycleHooks: {}
livenessProbe: {httpGet: {port: 13133, path: /}}
readinessProbe: {httpGet: {port: 13133, path: /}}
startupProbe: {}
service: {type: ClusterIP, annotations: {}}
ingress: {enabled: false, additionalIngresses: []}
httproute: {enabled: false, apiVersion: "", annotations: {}, parentRefs: [], hostnames: [], rules: []}
podMonitor: {enabled: false, metricsEndpoints: [{port: metrics}], extraLabels: {}}
serviceMonitor: {enabled: false, metricsEndpoints: [{port: metrics}], extraLabels: {}, relabelings: []}
podDisruptionBudget: {enabled: false}
autoscaling: {enabled: false, minReplicas: 1, maxReplicas: 10, behavior: {}, targetCPUUtilizationPercentage: 80,
              additionalMetrics: []}
rollout: {rollingUpdate: {}, strategy: RollingUpdate}
prometheusRule: {enabled: false, groups: [], defaultRules: {enabled: false}, extraLabels: {}}
statefulset: {volumeClaimTemplates: [], podManagementPolicy: Parallel,
              persistentVolumeClaimRetentionPolicy: {enabled: false, whenDeleted: Retain, whenScaled: Retain}}
networkPolicy: {enabled: false, annotations: {}, allowIngressFrom: [], extraIngressRules: [], egressRules: []}
shareProcessNamespace: false
""")


def mapped(values, **kwargs):
    notes = []
    options, errors = hv.collector_options_from_helm_values(values, notes=notes, **kwargs)
    return options, errors, notes


def test_seed_values_map_and_the_lint_then_catches_the_seed_mistakes():
    options, errors, notes = mapped(copy.deepcopy(SEED_VALUES))
    assert errors == []
    assert options == {
        "mode": "daemonset",
        "config": SEED_VALUES["config"],
        "resources": SEED_VALUES["resources"],
        "service_account": "otel-collector",
    }  # replicaCount is ignored for a daemonset, as the chart does; ingress is rendered separately
    assert any("serviceAccount.create" in n and "otel.kubernetes.rbac" in n for n in notes)

    rendered = cr.render("otel-agent", CollectorOptions(namespace="observability", **options))
    assert rendered.errors == []
    spec = rendered.object["spec"]
    assert spec["mode"] == "daemonset" and spec["serviceAccount"] == "otel-collector"
    assert spec["resources"] == SEED_VALUES["resources"]
    assert any(
        "memory_limiter is at position 3 of [k8sattributes, batch, memory_limiter]" in w for w in rendered.warnings
    )
    assert any("without a node filter" in w for w in rendered.warnings)


def test_seed_ingress_is_refused_with_the_chart_schema_named():
    objects, errors = hv.ingress_from_helm_values(SEED_VALUES, "otel-agent", "observability")
    assert any(e.startswith("helm_values.ingress.className:") and "ingressClassName" in e for e in errors)
    assert any(e.startswith("helm_values.ingress.hosts[0]:") and "paths" in e and "port" in e for e in errors)
    assert len(objects) == 1  # rendered to show, never to apply with errors


def test_ingress_renders_networking_v1_objects_routed_to_the_operator_service():
    values = copy.deepcopy(SEED_VALUES)
    ingress = values["ingress"]
    ingress["ingressClassName"] = ingress.pop("className")
    ingress["hosts"] = [
        {
            "host": "prometheus-gateway.observability.example.com",
            "paths": [{"path": "/", "pathType": "Prefix", "port": 8889}],
        }
    ]
    ingress["additionalIngresses"] = [
        {
            "name": "otlp",
            "hosts": [{"host": "otlp.example.com", "paths": [{"path": "/v1", "pathType": "Prefix", "port": 4318}]}],
        }
    ]
    objects, errors = hv.ingress_from_helm_values(values, "otel-agent", "observability")
    assert errors == []
    main, extra = objects
    assert main == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "otel-agent-collector",
            "namespace": "observability",
            "labels": {
                "app.kubernetes.io/managed-by": "otel.kubernetes",
                "app.kubernetes.io/component": "opentelemetry-collector",
            },
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["prometheus-gateway.observability.example.com"], "secretName": "otel-gateway-tls"}],
            "rules": [
                {
                    "host": "prometheus-gateway.observability.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "otel-agent-collector", "port": {"number": 8889}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    assert extra["metadata"]["name"] == "otel-agent-collector-otlp"
    assert extra["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"number": 4318}
    assert hv.ingress_names(values, "otel-agent") == ["otel-agent-collector", "otel-agent-collector-otlp"]
    assert hv.ingress_from_helm_values({"ingress": {"enabled": False, "hosts": "junk"}}, "x") == ([], [])


def test_ingress_path_problems():
    values = {
        "ingress": {
            "enabled": True,
            "hosts": [{"host": "a.example.com", "paths": [{"path": "v1", "pathType": "Glob", "port": "http"}]}],
        }
    }
    _objects, errors = hv.ingress_from_helm_values(values, "gw")
    assert any(".port:" in e for e in errors)
    assert any(".pathType:" in e for e in errors)
    assert any(".path:" in e for e in errors)


def test_chart_defaults_are_accepted():
    options, errors, _notes = mapped(copy.deepcopy(CHART_DEFAULTS))
    assert errors == []
    assert options == {"mode": "deployment", "replicas": 1}


def test_gateway_replicas_and_autoscaling_like_the_chart():
    options, errors, notes = mapped({"mode": "deployment", "replicaCount": 3})
    assert errors == [] and options == {"mode": "deployment", "replicas": 3}

    scaled = {
        "mode": "deployment",
        "replicaCount": 3,
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 10,
            "targetCPUUtilizationPercentage": 60,
            "targetMemoryUtilizationPercentage": 60,
        },
    }
    options, errors, notes = mapped(scaled)
    assert errors == []
    assert options == {
        "mode": "deployment",
        "autoscaler": {"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilization": 60, "targetMemoryUtilization": 60},
    }
    assert any("replicaCount: ignored while autoscaling" in n for n in notes)
    assert cr.render("gw", CollectorOptions(config={}, **options)).object["spec"]["autoscaler"] == options["autoscaler"]

    # The chart's defaults fill what the values leave out; disabled autoscaling maps to nothing.
    options, _errors, _notes = mapped({"autoscaling": {"enabled": True, "maxReplicas": 5}})
    assert options["autoscaler"] == {"minReplicas": 1, "maxReplicas": 5, "targetCPUUtilization": 80}
    options, _errors, _notes = mapped({"autoscaling": {"enabled": False, "maxReplicas": 5}})
    assert "autoscaler" not in options


def test_mode_given_by_the_caller_decides_replicas_and_host_ports():
    values = {
        "mode": "deployment",
        "replicaCount": 2,
        "ports": {"otlp": {"enabled": True, "containerPort": 4317, "servicePort": 4317, "hostPort": 4317}},
    }
    options, _errors, _notes = mapped(values)
    assert options["replicas"] == 2 and "hostPort" not in options["ports"][0]
    options, _errors, _notes = mapped(values, mode="daemonset")
    assert "replicas" not in options and options["ports"][0]["hostPort"] == 4317


def test_ports_map_to_the_list_form_with_protocol():
    values = {
        "mode": "daemonset",
        "ports": {
            "otlp": {
                "enabled": True,
                "containerPort": 4317,
                "servicePort": 4317,
                "hostPort": 4317,
                "protocol": "TCP",
                "appProtocol": "grpc",
            },
            "otlp-http": {"enabled": True, "containerPort": 4318, "servicePort": 14318},
            "jaeger-compact": {"enabled": False, "containerPort": 6831, "protocol": "UDP"},
            "metrics": {"containerPort": 8888},
        },
    }
    options, errors, notes = mapped(values)
    assert errors == []
    assert options["ports"] == [
        {"name": "otlp", "port": 4317, "protocol": "TCP", "appProtocol": "grpc", "hostPort": 4317},
        {"name": "otlp-http", "port": 14318, "protocol": "TCP", "targetPort": 4318},
    ]
    assert any(n.startswith("ports.metrics: skipped") for n in notes)


def test_image_forms():
    assert mapped({"image": {"repository": "otel/opentelemetry-collector-k8s", "tag": "0.158.0"}})[0] == {
        "image": "otel/opentelemetry-collector-k8s:0.158.0"
    }
    assert mapped({"image": {"repository": "r/c", "tag": "1", "digest": "sha256:abc"}})[0] == {
        "image": "r/c@sha256:abc"
    }
    options, errors, notes = mapped({"image": {"repository": "r/c", "tag": ""}})
    assert options == {"image": f"r/c:{dist.COLLECTOR_VERSION}"} and errors == []
    assert any(n.startswith("image.tag: empty") for n in notes)


def test_environment_volumes_labels_and_security():
    values = {
        "config": {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "${env:MY_POD_IP}:4317"}}}},
            "service": {"telemetry": {"resource": {"k8s.node.name": "${env:OTEL_K8S_NODE_NAME}"}}},
        },
        "extraEnvs": [{"name": "GOGC", "value": "80"}],
        "extraVolumes": [{"name": "certs", "secret": {"secretName": "otel-certs"}}],
        "extraVolumeMounts": [{"name": "certs", "mountPath": "/etc/otel/certs"}],
        "podLabels": {"team": "obs"},
        "additionalLabels": {"app.kubernetes.io/part-of": "otel"},
        "podAnnotations": {"sidecar.istio.io/inject": False},
        "annotations": {"owner": "sre"},
        "securityContext": {"runAsUser": 1000},
        "podSecurityContext": {"fsGroup": 1000},
        "tolerations": [{"operator": "Exists"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "priorityClassName": "system-node-critical",
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    }
    options, errors, _notes = mapped(values)
    assert errors == []
    assert options["env"] == [
        {"name": "GOGC", "value": "80"},
        {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "OTEL_K8S_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]
    assert options["volumes"] == values["extraVolumes"] and options["volume_mounts"] == values["extraVolumeMounts"]
    assert options["labels"] == {"app.kubernetes.io/part-of": "otel", "team": "obs"}
    assert options["annotations"] == {"owner": "sre", "sidecar.istio.io/inject": "false"}
    assert options["security_context"] == {"runAsUser": 1000}
    assert options["pod_security_context"] == {"fsGroup": 1000}
    assert options["tolerations"] == [{"operator": "Exists"}]
    assert options["node_selector"] == {"kubernetes.io/os": "linux"}
    assert options["priority_class_name"] == "system-node-critical"
    assert options["pod_disruption_budget"] == {"maxUnavailable": 1}


def test_service_account_without_name():
    options, _errors, notes = mapped({"serviceAccount": {"create": True}})
    assert "service_account" not in options and any("<name>-collector" in n for n in notes)
    assert mapped({"serviceAccount": {"create": False}})[0] == {"service_account": "default"}


def test_alternate_config_is_the_config():
    config = {"receivers": {"otlp": {"protocols": {"grpc": {}}}}}
    assert mapped({"alternateConfig": config})[0] == {"config": config}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"env": [{"name": "A", "value": "1"}]},
            "env: not a value of the opentelemetry-collector chart (did you mean extraEnvs?)",
        ),
        ({"replicas": 3}, "did you mean replicaCount?"),
        ({"tolerationz": []}, "did you mean tolerations?"),
        ({"presets": {"logsCollection": {"enabled": True}}}, "presets.logsCollection.enabled: presets add"),
        (
            {"presets": {"annotationDiscovery": {"metrics": {"enabled": True}}}},
            "presets.annotationDiscovery.metrics.enabled",
        ),
        ({"configMap": {"create": False}}, "configMap: "),
        ({"configMap": {"existingName": "my-config"}}, "an existing ConfigMap cannot be used"),
        ({"command": {"name": "otelcol"}}, "choose the image instead of command.name"),
        ({"command": {"extraArgs": ["--feature-gates=x"]}}, "command.extraArgs has no option here"),
        ({"clusterRole": {"create": True}}, "otel.kubernetes.rbac derives the ClusterRole"),
        ({"clusterRole": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}}, "extra_rules"),
        ({"hostNetwork": True}, "hostNetwork: "),
        ({"imagePullSecrets": [{"name": "regcred"}]}, "add them to the collector's ServiceAccount"),
        ({"extraEnvsFrom": [{"secretRef": {"name": "s"}}]}, "no envFrom option"),
        ({"extraContainers": [{"name": "c"}]}, "extraContainers: "),
        ({"initContainers": [{"name": "c"}]}, "initContainers: "),
        ({"livenessProbe": {"httpGet": {"port": 13133, "path": "/"}, "periodSeconds": 5}}, "sets the probes"),
        ({"service": {"type": "LoadBalancer"}}, "makes the collector's Services itself"),
        ({"serviceMonitor": {"enabled": True}}, "self_monitoring: true"),
        ({"podMonitor": {"enabled": True}}, "self_monitoring: true"),
        ({"httproute": {"enabled": True}}, "render the HTTPRoute yourself"),
        ({"networkPolicy": {"enabled": True}}, "NetworkPolicy in extra_objects"),
        ({"useGOMEMLIMIT": False}, "always sets GOMEMLIMIT"),
        ({"nameOverride": "gw"}, "set the module's name"),
        ({"namespaceOverride": "obs"}, "set the module's namespace"),
        ({"topologySpreadConstraints": [{"maxSkew": 1}]}, "topology spread"),
        ({"statefulset": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}, "volume claim templates"),
        (
            {"serviceAccount": {"name": "sa", "annotations": {"eks.amazonaws.com/role-arn": "x"}}},
            "serviceAccount.annotations",
        ),
        ({"serviceAccount": {"automountServiceAccountToken": False}}, "automountServiceAccountToken"),
        (
            {"autoscaling": {"enabled": True, "additionalMetrics": [{"type": "External"}]}},
            "autoscaling.additionalMetrics",
        ),
        ({"autoscaling": {"enabled": True, "targetCPU": 50}}, "autoscaling.targetCPU: not a value"),
        ({"podDisruptionBudget": {"enabled": True, "minAvaliable": 1}}, "podDisruptionBudget.minAvaliable"),
        ({"image": {"repository": "r/c", "tag": "1", "pullPolicy": "Always"}}, "image.pullPolicy: Always"),
        ({"image": {"registry": "ghcr.io"}}, "image.registry: not a value"),
        ({"image": {"tag": "1"}}, "image.repository: required"),
        ({"config": {"processors": {"memory_limiter": None}}}, "config.processors.memory_limiter: null"),
        ({"config": {"exporters": {"otlp": {"endpoint": "{{ .Values.gateway }}"}}}}, "Helm template text"),
        ({"config": {"receivers": {}}, "alternateConfig": {"receivers": {}}}, "alternateConfig: given together"),
        ({"agentCollector": {"enabled": True}}, "removed from the opentelemetry-collector chart in 0.19.0"),
        ({"mode": "sidecar"}, "set the module's mode: sidecar"),
        ({"ports": [{"name": "otlp", "port": 4317}]}, "use the module's ports option"),
        ({"ports": {"otlp": {"enabled": True, "containerPort": 4317, "targetPort": 4317}}}, "unknown field(s)"),
        ({"extraVolumes": "{{ .Values.volumes }}"}, "template text is rendered by Helm only"),
        ({"podLabels": {"a": "1"}, "additionalLabels": {"a": "2"}}, "podLabels.a: also given"),
        ({"internalTelemetryViaOTLP": {"traces": {"enabled": True}}}, "config.service.telemetry"),
        ({"replicaCount": "3"}, "replicaCount: expected a whole number"),
    ],
)
def test_refusals_name_the_key_and_the_way_out(values, expected):
    options, errors, _notes = mapped(values)
    assert any(expected in e for e in errors), errors


def test_not_a_mapping():
    assert hv.collector_options_from_helm_values(["mode", "daemonset"])[1] == [
        "helm_values: expected the chart's values as a mapping, got list"
    ]
    assert hv.collector_options_from_helm_values(None) == ({}, [])


def test_parse_values_takes_a_mapping_or_yaml_text():
    assert hv.parse_values({"mode": "daemonset"}) == ({"mode": "daemonset"}, None)
    assert hv.parse_values("mode: daemonset\nreplicaCount: 1\n") == ({"mode": "daemonset", "replicaCount": 1}, None)
    assert hv.parse_values("") == ({}, None)
    assert hv.parse_values(None) == (None, None)
    assert "not valid YAML" in hv.parse_values("mode: [daemonset")[1]
    assert "got list" in hv.parse_values("- mode")[1]
