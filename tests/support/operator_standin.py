"""What the OpenTelemetry Operator makes of an OpenTelemetryCollector, for the tests that run collectors.

The operator cannot be had on these machines (the Go module proxy refuses its module), so the
tests that need the collectors' Pods make them the way it does: the config in a ConfigMap
mounted at /conf/collector.yaml, the resource's image, env, ports (host ports included),
volumes (hostPath ones and their mount propagation included), service account, security settings,
node selector and priority class, its annotations (on the workload and its pod
template), the health_check probes, and the Service and headless Service that agents resolve
(node-local for a daemonset, as the operator makes them). Only the collection's part is proven
with them, never the operator's.
"""

from __future__ import annotations

import json

import yaml


def as_the_operator_runs_it(collector: dict) -> list:
    """The workload, ConfigMap and Services the operator makes of an OpenTelemetryCollector."""
    name, namespace = collector["metadata"]["name"], collector["metadata"]["namespace"]
    spec = collector["spec"]
    labels = {"app.kubernetes.io/instance": f"{namespace}.{name}", "app.kubernetes.io/component": "test-collector"}
    container = {
        "name": "otc-container",
        "image": spec["image"],
        "args": ["--config=/conf/collector.yaml"],
        "env": spec.get("env", []),
        "ports": [
            {
                k: v
                for k, v in {
                    "name": p["name"],
                    "containerPort": p.get("targetPort", p["port"]),
                    "hostPort": p.get("hostPort"),
                    "protocol": p.get("protocol", "TCP"),
                }.items()
                if v
            }
            for p in spec.get("ports", [])
        ],
        "volumeMounts": [{"name": "otc-internal", "mountPath": "/conf"}, *spec.get("volumeMounts", [])],
        "resources": spec.get("resources", {}),
        "securityContext": spec.get("securityContext", {}),
        "readinessProbe": {"httpGet": {"path": "/", "port": 13133}, "periodSeconds": 2},
        # The operator derives the liveness probe from the health_check extension too.
        "livenessProbe": {"httpGet": {"path": "/", "port": 13133}},
    }
    pod = {
        "serviceAccountName": spec.get("serviceAccount", "default"),
        "securityContext": spec.get("podSecurityContext", {}),
        "tolerations": spec.get("tolerations", []),
        "nodeSelector": spec.get("nodeSelector", {}),
        "containers": [container],
        "volumes": [{"name": "otc-internal", "configMap": {"name": f"{name}-collector"}}, *spec.get("volumes", [])],
        "terminationGracePeriodSeconds": 2,
    }
    if spec.get("priorityClassName"):
        pod["priorityClassName"] = spec["priorityClassName"]
    kind = "DaemonSet" if spec["mode"] == "daemonset" else "Deployment"
    # As the operator's manifestutils.Annotations/PodAnnotations: the collector's annotations on the
    # workload; on the pod template spec.podAnnotations and, for keys it does not set, the collector's.
    annotations = dict(collector["metadata"].get("annotations") or {})
    pod_annotations = {**annotations, **(spec.get("podAnnotations") or {})}
    workload = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": f"{name}-collector", "namespace": namespace, "annotations": annotations},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels, "annotations": pod_annotations}, "spec": pod},
        },
    }
    if kind == "Deployment":
        workload["spec"]["replicas"] = spec.get("replicas", 1)
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-collector", "namespace": namespace},
        "data": {"collector.yaml": yaml.safe_dump(spec["config"])},
    }
    otlp = [{"name": "otlp-grpc", "port": 4317}, {"name": "otlp-http", "port": 4318}]
    # As the operator's Service() (internal/manifests/collector/service.go): a daemonset's Services
    # are node-local (internalTrafficPolicy Local); the headless one is a copy with clusterIP None.
    traffic = "Local" if spec["mode"] == "daemonset" else "Cluster"
    services = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": f"{name}-collector{suffix}",
                "namespace": namespace,
                "labels": {"operator.opentelemetry.io/collector-service-type": "headless" if suffix else "base"},
            },
            "spec": {
                "selector": labels,
                "ports": otlp,
                "internalTrafficPolicy": traffic,
                **({"clusterIP": "None"} if suffix else {}),
            },
        }
        for suffix in ("", "-headless")
    ]
    return [config_map, *services, workload]


def apply(node, objects: list) -> None:
    """Server-side apply of `objects` with the node's kubectl."""
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    node.kubectl_run("apply", "--server-side", "-f", "-", input_text=listed)


def rollout(node, namespace: str, *targets: str, timeout: int = 180) -> str:
    """Wait for the rollouts of `targets` ("deployment/x"); "" when done, else why not and the Pods.

    Rollouts, not `wait pod --all`: that sees only the Pods that exist when it starts, and a
    Deployment's Pod may not be created yet.
    """
    waited = node.kubectl_run("-n", namespace, "rollout", "status", *targets, f"--timeout={timeout}s", check=False)
    if waited.returncode == 0:
        return ""
    pods = node.kubectl_run("-n", namespace, "get", "pods", "-o", "wide", check=False).stdout
    return f"rollout of {targets} did not finish: {waited.stderr}\n{pods}"
