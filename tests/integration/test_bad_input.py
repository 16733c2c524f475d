"""Bad input, refused: every case fails before anything is applied, says where, what and how to fix it.

One case per row of CASES (the README's "bad inputs tried" is ``len(CASES)``), across the modules
(apply, collector_config, collector, rbac, certs, instrumentation), the roles (include_role: their
argument_specs and their own checks) and playbooks/site.yml (a bad ``-e`` variable). Each case
asserts that the task failed; that its message names (1) the option, variable or place, (2) the
bad value and (3) the fix (a distinctive fragment of the hint); that no Python traceback was
printed; and that the cluster is unchanged: every object of every listable kind the collection
could write (``otel.kubernetes.apply`` writes any kind), cluster-wide, as (kind, namespace, name,
resourceVersion), is the same before and after.

Speed: the module and role cases share one ansible-playbook run (each a block whose rescue records
the failure), with one snapshot before and after it; the site.yml cases run one playbook each.
The connection cases (unreachable API server, expired or untrusted client certificate, missing
kubeconfig or CA file) give their connection options to the task, so they share the batch.

The snapshot is cluster-wide: run this file with the node's EXCLUSIVE lock when others share it
(``flock -x /tmp/otel-node.lock``), or their work shows up as changes.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from playbook import finish, run_playbook

ROOT = Path(__file__).resolve().parents[2]
NS = "bad-input"  # never created: every case must fail before its namespace would matter
ABSENT_NS = "bad-input-absent"
UNREACHABLE = "https://127.0.0.1:1"  # nothing listens on port 1: connection refused at once
SHARDS = 4  # ansible-playbook runs at once for the module and role cases

# Kinds that change by themselves (controllers, heartbeats, leader election): not the collection's writes.
CHANGING_BY_THEMSELVES = {
    "events",
    "leases",
    "pods",
    "endpoints",
    "endpointslices",
    "nodes",
    "componentstatuses",
    "controllerrevisions",
    "replicasets",
}

GATEWAY_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {"memory_limiter": {"check_interval": "1s", "limit_percentage": 80}, "batch": {}},
    "exporters": {"otlp": {"endpoint": "tempo:4317", "tls": {"insecure": True}}},
    "service": {
        "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["otlp"]}
        }
    },
}


def config_with(**sections) -> dict:
    """GATEWAY_CONFIG with sections replaced or merged (a value of None removes the section)."""
    config = json.loads(json.dumps(GATEWAY_CONFIG))
    for section, value in sections.items():
        if value is None:
            config.pop(section, None)
        elif isinstance(value, dict) and isinstance(config.get(section), dict):
            config[section].update(value)
        else:
            config[section] = value
    return config


def traces(processors=("memory_limiter", "batch"), exporters=("otlp",), receivers=("otlp",)) -> dict:
    return {
        "pipelines": {
            "traces": {"receivers": list(receivers), "processors": list(processors), "exporters": list(exporters)}
        }
    }


def configmap(name: str = "settings", namespace: str = NS) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"a": "b"},
    }


@dataclass
class Case:
    """One bad input: the task (or site.yml's -e variables) and three fragments its message must hold."""

    id: str
    place: str  # the option, variable or place the message must name
    value: str  # the bad value, as the message shows it
    fix: str  # a distinctive fragment of the hint
    task: dict | None = None  # a module task or an include_role task
    site_vars: dict = field(default_factory=dict)  # a site.yml case: these -e variables


def module(module_name: str, /, **args) -> dict:
    return {f"otel.kubernetes.{module_name}": args}


def role(role_name: str, /, **variables) -> dict:
    return {"ansible.builtin.include_role": {"name": f"otel.kubernetes.{role_name}"}, "vars": variables}


def connection_cases(pki_dir: str) -> list:
    """Cases whose bad input is the connection: they read files the fixture writes into pki_dir."""
    return [
        Case(
            "apply-unreachable-api-server",
            "host",
            UNREACHABLE,
            "check 'host'",
            module("apply", definition=configmap(), host=UNREACHABLE, api_key="token", retry_timeout=1),
        ),
        Case(
            "apply-expired-client-certificate",
            "client_cert",
            f"{pki_dir}/expired.crt",
            "expired on",
            module(
                "apply",
                definition=configmap(),
                host="{{ node_server }}",
                ca_cert="{{ node_ca }}",
                client_cert=f"{pki_dir}/expired.crt",
                client_key=f"{pki_dir}/expired.key",
            ),
        ),
        Case(
            "apply-client-certificate-of-another-ca",
            "client_cert",
            f"{pki_dir}/stranger.crt",
            "check 'kubeconfig'",
            module(
                "apply",
                definition=configmap(),
                host="{{ node_server }}",
                ca_cert="{{ node_ca }}",
                client_cert=f"{pki_dir}/stranger.crt",
                client_key=f"{pki_dir}/stranger.key",
            ),
        ),
        Case(
            "apply-missing-kubeconfig",
            "kubeconfig",
            f"{pki_dir}/no-such.kubeconfig",
            "fix 'kubeconfig'",
            module("apply", definition=configmap(), kubeconfig=f"{pki_dir}/no-such.kubeconfig"),
        ),
        Case(
            "apply-missing-ca-file",
            "ca_cert",
            f"{pki_dir}/no-such-ca.crt",
            "does not exist",
            module(
                "apply",
                definition=configmap(),
                host="{{ node_server }}",
                ca_cert=f"{pki_dir}/no-such-ca.crt",
                client_cert=f"{pki_dir}/stranger.crt",
                client_key=f"{pki_dir}/stranger.key",
            ),
        ),
        Case(
            "apply-ca-file-not-pem",
            "ca_cert",
            f"{pki_dir}/not-pem.crt",
            "give the PEM CA certificate",
            module(
                "apply",
                definition=configmap(),
                host="{{ node_server }}",
                ca_cert=f"{pki_dir}/not-pem.crt",
                client_cert=f"{pki_dir}/stranger.crt",
                client_key=f"{pki_dir}/stranger.key",
            ),
        ),
        Case(
            "apply-kubeconfig-not-yaml",
            f"kubeconfig {pki_dir}/broken.kubeconfig",
            "clusters: [",
            "fix the YAML",
            module("apply", definition=configmap(), kubeconfig=f"{pki_dir}/broken.kubeconfig"),
        ),
        Case(
            "apply-missing-client-key-file",
            "client_key",
            f"{pki_dir}/no-such.key",
            "does not exist",
            module(
                "apply",
                definition=configmap(),
                host="{{ node_server }}",
                ca_cert="{{ node_ca }}",
                client_cert=f"{pki_dir}/stranger.crt",
                client_key=f"{pki_dir}/no-such.key",
            ),
        ),
    ]


CASES = [
    # --- otel.kubernetes.apply ---
    Case(
        "apply-unparsable-yaml",
        "definition",
        "kind: [unclosed",
        "fix the YAML",
        module("apply", definition="kind: [unclosed"),
    ),
    Case(
        "apply-object-without-name",
        "metadata.name",
        "ConfigMap",
        "nothing was applied",
        module(
            "apply",
            definition=[
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bad-input-never"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
            ],
        ),
    ),
    Case(
        "apply-kind-not-served",
        "nope.example.com/v1",
        "Thing",
        "is not served",
        module(
            "apply",
            definition=[
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bad-input-never"}},
                {"apiVersion": "nope.example.com/v1", "kind": "Thing", "metadata": {"name": "x"}},
            ],
        ),
    ),
    Case(
        "apply-invalid-object-name",
        "metadata.name",
        "Bad_Name",
        "lowercase letters",
        module(
            "apply",
            definition=[
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bad-input-never"}},
                configmap("Bad_Name", "bad-input-never"),
            ],
        ),
    ),
    Case(
        "apply-namespace-does-not-exist",
        "namespace",
        ABSENT_NS,
        "create it first",
        module("apply", definition=configmap("settings", ABSENT_NS)),
    ),
    Case(
        "apply-unknown-state", "state", "gone", "present, absent", module("apply", definition=configmap(), state="gone")
    ),
    Case(
        "apply-missing-src-file",
        "src",
        "/nonexistent/objects.yaml",
        "fix 'src'",
        module("apply", src="/nonexistent/objects.yaml"),
    ),
    Case(
        "apply-wait-condition-without-type",
        "wait_condition",
        "type",
        "missing required arguments",
        module("apply", definition=configmap(), wait_condition={"status": "True"}),
    ),
    # --- otel.kubernetes.collector_config ---
    Case(
        "config-unparsable-yaml",
        "config",
        "receivers: [otlp",
        "not valid YAML",
        module("collector_config", config="receivers: [otlp"),
    ),
    Case(
        "config-unknown-component",
        "otlpp",
        "otlpp",
        "otlp",
        module(
            "collector_config",
            config=config_with(exporters={"otlpp": {"endpoint": "tempo:4317"}}, service=traces(exporters=["otlpp"])),
        ),
    ),
    Case(
        "config-unknown-key",
        "processors.batch",
        "timeoutz",
        "timeout",
        module("collector_config", config=config_with(processors={"batch": {"timeoutz": "1s"}})),
    ),
    Case(
        "config-missing-required-endpoint",
        "exporters.otlp",
        "endpoint",
        "endpoint",
        module("collector_config", config=config_with(exporters={"otlp": {"tls": {"insecure": True}}})),
    ),
    Case(
        "config-unknown-tail-sampling-policy-type",
        "tail_sampling",
        "sometimes",
        "probabilistic",
        module(
            "collector_config",
            config=config_with(
                processors={"tail_sampling": {"policies": [{"name": "p", "type": "sometimes"}]}},
                service=traces(processors=["memory_limiter", "tail_sampling", "batch"]),
            ),
        ),
    ),
    Case(
        "config-memory-limiter-at-the-container-limit",
        "limit_mib",
        "1024",
        "limit_percentage",
        module(
            "collector_config",
            memory_limit="1Gi",
            config=config_with(processors={"memory_limiter": {"check_interval": "1s", "limit_mib": 1024}}),
        ),
    ),
    Case(
        "config-loki-exporter",
        "loki",
        "loki",
        "otlphttp",
        module(
            "collector_config",
            config=config_with(
                exporters={"loki": {"endpoint": "http://loki:3100/loki/api/v1/push"}},
                service=traces(exporters=["loki"]),
            ),
        ),
    ),
    Case(
        "config-pipeline-names-undefined-component",
        "traces",
        "prometheus",
        "define",
        module("collector_config", config=config_with(service=traces(receivers=["otlp", "prometheus"]))),
    ),
    Case(
        "config-unknown-mode",
        "mode",
        "replicaset",
        "daemonset",
        module("collector_config", config=GATEWAY_CONFIG, mode="replicaset"),
    ),
    Case(
        "config-invalid-memory-quantity",
        "memory_limit",
        "2 GB",
        "Gi",
        module("collector_config", config=GATEWAY_CONFIG, memory_limit="2 GB"),
    ),
    # --- otel.kubernetes.collector ---
    Case(
        "collector-zero-replicas",
        "replicas",
        "0",
        "at least 1",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, replicas=0),
    ),
    Case(
        "collector-negative-replicas",
        "replicas",
        "-2",
        "at least 1",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, replicas=-2),
    ),
    Case(
        "collector-replicas-not-a-number",
        "replicas",
        "three",
        "int",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, replicas="three"),
    ),
    Case(
        "collector-min-above-max-replicas",
        "minReplicas",
        "5",
        "maxReplicas",
        module(
            "collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, autoscaler={"minReplicas": 5, "maxReplicas": 2}
        ),
    ),
    Case(
        "collector-helm-autoscaler-names",
        "enabled",
        "enabled",
        "maxReplicas",
        module(
            "collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, autoscaler={"enabled": True, "maxReplicas": 4}
        ),
    ),
    Case(
        "collector-unknown-mode",
        "mode",
        "replicaset",
        "daemonset",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, mode="replicaset"),
    ),
    Case(
        "collector-invalid-name",
        "name",
        "Gateway_1",
        "lowercase letters",
        module("collector", name="Gateway_1", namespace=NS, config=GATEWAY_CONFIG),
    ),
    Case(
        "collector-port-out-of-range",
        "ports",
        "70000",
        "65535",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, ports=[{"name": "extra", "port": 70000}]),
    ),
    Case(
        "collector-duplicate-port",
        "ports[1]",
        "9000",
        "give each port number and name once",
        module(
            "collector",
            name="gw",
            namespace=NS,
            config=GATEWAY_CONFIG,
            ports=[{"name": "one", "port": 9000}, {"name": "two", "port": 9000}],
        ),
    ),
    Case(
        "collector-invalid-memory-quantity",
        "resources",
        "2 GB",
        "Gi",
        module("collector", name="gw", namespace=NS, config=GATEWAY_CONFIG, resources={"limits": {"memory": "2 GB"}}),
    ),
    Case(
        "collector-memory-limiter-above-the-container-limit",
        "limit_mib",
        "600",
        "limit_percentage",
        module(
            "collector",
            name="gw",
            namespace=NS,
            resources={"limits": {"memory": "512Mi"}},
            config=config_with(processors={"memory_limiter": {"check_interval": "1s", "limit_mib": 600}}),
        ),
    ),
    Case(
        "collector-helm-values-unmappable-key",
        "helm_values.replicas",
        "replicas",
        "replicaCount",
        module(
            "collector",
            name="gw",
            namespace=NS,
            helm_values={"mode": "deployment", "config": GATEWAY_CONFIG, "replicas": 2},
        ),
    ),
    Case(
        "collector-preset-setting-typo",
        "preset_settings.container_log",
        "otel_agent_container_log does not exist",
        "use one of",
        module("collector", preset="agent", preset_settings={"namespace": NS, "container_log": True}),
    ),
    Case(
        "collector-cluster-preset-kubelet-settings",
        "preset_settings.kubelet_metrics",
        "otel_cluster_kubelet_metrics does not exist",
        "use one of",
        module("collector", preset="cluster", preset_settings={"namespace": NS, "kubelet_metrics": True}),
    ),
    Case(
        "collector-helm-values-unparsable-yaml",
        "helm_values",
        "config: [",
        "fix the YAML",
        module("collector", name="gw", namespace=NS, helm_values="config: [\n"),
    ),
    Case(
        "collector-without-config",
        "config",
        "state=present",
        "give config",
        module("collector", name="gw", namespace=NS),
    ),
    # --- otel.kubernetes.rbac ---
    Case(
        "rbac-rule-without-verbs",
        "extra_rules",
        "configmaps",
        "verbs",
        module(
            "rbac",
            name="agent",
            namespace=NS,
            config=GATEWAY_CONFIG,
            extra_rules=[{"apiGroups": [""], "resources": ["configmaps"]}],
        ),
    ),
    Case(
        "rbac-invalid-name",
        "name",
        "Agent.Reader!",
        "lowercase letters",
        module("rbac", name="Agent.Reader!", namespace=NS, config=GATEWAY_CONFIG),
    ),
    Case(
        "rbac-missing-namespace",
        "namespace",
        "missing",
        "required arguments",
        module("rbac", name="agent", config=GATEWAY_CONFIG),
    ),
    # --- otel.kubernetes.certs ---
    Case(
        "certs-renewal-longer-than-validity",
        "renew_before_days",
        "400",
        "must be more than renew_before_days",
        module(
            "certs",
            namespace=NS,
            certificates=[{"secret_name": "gw-tls", "dns_names": ["gw"], "validity_days": 365}],
            renew_before_days=400,
        ),
    ),
    Case(
        "certs-invalid-ip-address",
        "ip_addresses",
        "10.0.0.300",
        "not an IP address",
        module("certs", namespace=NS, certificates=[{"secret_name": "gw-tls", "ip_addresses": ["10.0.0.300"]}]),
    ),
    Case(
        "certs-unknown-key-type",
        "key_type",
        "dsa-1024",
        "ecdsa-p256",
        module("certs", namespace=NS, key_type="dsa-1024"),
    ),
    Case(
        "certs-invalid-secret-name",
        "secret_name",
        "GW_TLS",
        "lower-case letters",
        module("certs", namespace=NS, certificates=[{"secret_name": "GW_TLS", "dns_names": ["gw"]}]),
    ),
    # --- otel.kubernetes.instrumentation ---
    Case(
        "instrumentation-unknown-sampler",
        "sampler_type",
        "sometimes",
        "parentbased_traceidratio",
        module("instrumentation", name="inst", namespace=NS, sampler_type="sometimes"),
    ),
    Case(
        "instrumentation-ratio-above-one",
        "sampler_argument",
        "1.5",
        "from 0 to",
        module(
            "instrumentation",
            name="inst",
            namespace=NS,
            sampler_type="parentbased_traceidratio",
            sampler_argument="1.5",
        ),
    ),
    Case(
        "instrumentation-workload-kind-not-instrumentable",
        "kind",
        "CronJob",
        "Deployment, StatefulSet, DaemonSet",
        module(
            "instrumentation",
            name="inst",
            namespace=NS,
            workloads=[{"kind": "CronJob", "name": "nightly", "namespace": NS, "languages": ["java"]}],
        ),
    ),
    Case(
        "instrumentation-namespace-does-not-exist",
        ABSENT_NS,
        "Namespace",
        "create them first",
        module(
            "instrumentation", name="inst", namespace="default", namespaces=[{"name": ABSENT_NS, "languages": ["java"]}]
        ),
    ),
    Case(
        "instrumentation-seed-annotation",
        "inject-javaagent",
        "inject-javaagent",
        "inject-java",
        module(
            "instrumentation",
            name="inst",
            namespace=NS,
            extra_annotations={"instrumentation.opentelemetry.io/inject-javaagent": "true"},
        ),
    ),
    Case(
        "instrumentation-unknown-language",
        "languages",
        "cobol",
        "use one of",
        module("instrumentation", name="inst", namespace=NS, namespaces=[{"name": "default", "languages": ["cobol"]}]),
    ),
    Case(
        "instrumentation-port-out-of-range",
        "agent_http_port",
        "70000",
        "1 to 65535",
        module("instrumentation", name="inst", namespace=NS, agent_http_port=70000),
    ),
    # --- roles, through include_role (argument_specs and the roles' own checks) ---
    Case(
        "role-gateway-replicas-wrong-type",
        "otel_gateway_replicas",
        "three",
        "int",
        role("otel_gateway", otel_gateway_namespace=NS, otel_gateway_replicas="three"),
    ),
    Case(
        "role-gateway-min-above-max-replicas",
        "minReplicas",
        "8",
        "maxReplicas",
        role("otel_gateway", otel_gateway_namespace=NS, otel_gateway_autoscaler={"minReplicas": 8, "maxReplicas": 4}),
    ),
    Case(
        "role-gateway-memory-limiter-above-limit",
        "limit_percentage",
        "120",
        "between 1 and 100",
        role(
            "otel_gateway",
            otel_gateway_namespace=NS,
            otel_gateway_memory_limiter={"check_interval": "1s", "limit_percentage": 120},
        ),
    ),
    Case(
        "role-gateway-unknown-monitoring-choice",
        "otel_gateway_prometheus_monitoring",
        "sometimes",
        "set it to auto, true or false",
        role("otel_gateway", otel_gateway_namespace=NS, otel_gateway_prometheus_monitoring="sometimes"),
    ),
    Case(
        "role-gateway-helm-values-unmappable-key",
        "helm_values.replicas",
        "replicas",
        "replicaCount",
        role("otel_gateway", otel_gateway_namespace=NS, otel_gateway_helm_values={"replicas": 2}),
    ),
    Case(
        "role-agent-config-not-a-mapping",
        "otel_agent_config",
        "of type str",
        "convert to dict",
        role("otel_agent", otel_agent_namespace=NS, otel_agent_config="receivers: [otlp"),
    ),
    Case(
        "role-agent-invalid-port",
        "otel_agent_otlp_grpc_port",
        "0",
        "1 to 65535",
        role("otel_agent", otel_agent_namespace=NS, otel_agent_otlp_grpc_port=0),
    ),
    Case(
        "role-agent-container-logs-in-a-restricted-agent",
        "otel_agent_pod_security is restricted",
        "otel_agent_container_logs=true",
        "set otel_agent_host_collector to separate",
        role("otel_agent", otel_agent_namespace=NS, otel_agent_container_logs=True, otel_agent_host_collector="agent"),
    ),
    Case(
        "role-agent-host-metrics-in-a-baseline-agent",
        "otel_agent_pod_security is baseline",
        "otel_agent_host_metrics=true",
        "set otel_agent_pod_security to privileged",
        role(
            "otel_agent",
            otel_agent_namespace=NS,
            otel_agent_host_metrics=True,
            otel_agent_host_collector="agent",
            otel_agent_pod_security="baseline",
        ),
    ),
    Case(
        "role-agent-unknown-host-collector",
        "otel_agent_host_collector",
        "sidecar",
        "separate, agent",
        role(
            "otel_agent", otel_agent_namespace=NS, otel_agent_container_logs=True, otel_agent_host_collector="sidecar"
        ),
    ),
    Case(
        "role-agent-host-namespace-is-the-agents",
        "otel_agent_host_namespace",
        NS,
        "a namespace of its own",
        role("otel_agent", otel_agent_namespace=NS, otel_agent_host_metrics=True, otel_agent_host_namespace=NS),
    ),
    Case(
        "role-agent-unknown-kubelet-metric-group",
        "otel_agent_kubelet_metric_groups",
        '["nodes"]',
        "container, pod, node, volume",
        role("otel_agent", otel_agent_namespace=NS, otel_agent_kubelet_metric_groups=["nodes"]),
    ),
    Case(
        "role-cluster-nothing-to-collect",
        "otel_cluster_metrics and otel_cluster_events",
        "both false",
        "otel_cluster_state: absent",
        role("otel_cluster", otel_cluster_namespace=NS, otel_cluster_metrics=False, otel_cluster_events=False),
    ),
    Case(
        "role-cluster-unknown-allocatable-type",
        "otel_cluster_allocatable_types",
        '["gpu"]',
        "ephemeral-storage",
        role("otel_cluster", otel_cluster_namespace=NS, otel_cluster_allocatable_types=["gpu"]),
    ),
    Case(
        "role-certificates-renewal-longer-than-validity",
        "otel_certificates_renew_before_days",
        "400",
        "less than otel_certificates_validity_days",
        role("otel_certificates", otel_certificates_namespace=NS, otel_certificates_renew_before_days=400),
    ),
    Case(
        "role-certificates-unknown-key-type",
        "otel_certificates_key_type",
        "dsa-1024",
        "ecdsa-p256",
        role("otel_certificates", otel_certificates_namespace=NS, otel_certificates_key_type="dsa-1024"),
    ),
    Case(
        "role-instrumentation-workloads-wrong-type",
        "otel_instrumentation_workloads",
        "of type str",
        "convert to dict",
        role("otel_instrumentation", otel_instrumentation_namespace=NS, otel_instrumentation_workloads="web"),
    ),
    Case(
        "role-instrumentation-unknown-sampler",
        "sampler_type",
        "sometimes",
        "parentbased_traceidratio",
        role("otel_instrumentation", otel_instrumentation_namespace=NS, otel_instrumentation_sampler_type="sometimes"),
    ),
    Case(
        "role-operator-missing-manifest-file",
        "otel_operator_manifest_src",
        "/nonexistent/operator.yaml",
        "otel_operator_manifest_url",
        role("otel_operator", otel_operator_manifest_src="/nonexistent/operator.yaml"),
    ),
    # --- playbooks/site.yml with a bad -e variable: refused before the first role applies anything ---
    Case(
        "site-gateway-replicas-not-a-number",
        "otel_gateway_replicas",
        "three",
        "convert to int",
        site_vars={"otel_gateway_replicas": "three"},
    ),
    Case(
        "site-agent-unknown-state",
        "otel_agent_state",
        "gone",
        "present, absent",
        site_vars={"otel_agent_state": "gone"},
    ),
    # The roles' own checks run before the first role applies anything (tasks/check_roles.yml): the agent's
    # and the gateway's come after the operator's and the certificates' roles, which would otherwise apply.
    Case(
        "site-agent-container-logs-in-a-restricted-agent",
        "otel_agent_pod_security is restricted",
        "otel_agent_container_logs=true",
        "set otel_agent_host_collector to separate",
        site_vars={"otel_agent_container_logs": True, "otel_agent_host_collector": "agent"},
    ),
    Case(
        "site-gateway-zero-replicas",
        "replicas",
        "got 0",
        "use state: absent",
        site_vars={"otel_gateway_replicas": 0},
    ),
    Case(
        "site-cluster-nothing-to-collect",
        "otel_cluster_metrics and otel_cluster_events",
        "both false",
        "otel_cluster_state: absent",
        site_vars={"otel_cluster_metrics": False, "otel_cluster_events": False},
    ),
    Case(
        "site-certificates-unknown-key-type",
        "otel_certificates_key_type",
        "dsa-1024",
        "ecdsa-p256",
        site_vars={"otel_certificates_key_type": "dsa-1024"},
    ),
]


def all_cases() -> list:
    return CASES + connection_cases("{pki}")


# What Kubernetes' own controllers put into every namespace, also into one an earlier test created
# a moment ago.
IN_EVERY_NAMESPACE = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}


def settled(cluster, timeout: float = 180.0) -> None:
    """Wait until no namespace is being deleted (earlier tests delete theirs without waiting): the
    objects the namespace controller removes meanwhile are not the collection's doing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        namespaces = cluster.get("/api/v1/namespaces")["items"]
        if not any(n["status"].get("phase") == "Terminating" for n in namespaces):
            return
        time.sleep(1)


def snapshot(cluster) -> dict:
    """(kind, namespace, name) -> (resourceVersion, writes) of every object of every listable kind, cluster-wide.

    writes: the object's managedFields entries other than the status subresource's, so that a
    controller updating the status of someone else's object (a Deployment's rollout) does not count
    as a change; any write to an object's spec, data or metadata does. What Kubernetes puts into
    every namespace is left out.
    """
    settled(cluster)
    groups = ["/api/v1"] + [
        f"/apis/{version['groupVersion']}"
        for group in cluster.get("/apis")["groups"]
        for version in [group["preferredVersion"]]
    ]
    objects = {}
    for prefix in groups:
        for resource in cluster.get(prefix)["resources"]:
            name = resource["name"]
            if "/" in name or "list" not in resource.get("verbs", []) or name in CHANGING_BY_THEMSELVES:
                continue
            for item in cluster.get(f"{prefix}/{name}")["items"]:
                meta = item["metadata"]
                writes = sorted(
                    (entry.get("manager", ""), entry.get("operation", ""), entry.get("time", ""))
                    for entry in meta.get("managedFields") or []
                    if entry.get("subresource") != "status"
                )
                if (resource["kind"], meta["name"]) in IN_EVERY_NAMESPACE:
                    continue
                objects[(resource["kind"], meta.get("namespace", ""), meta["name"])] = (meta["resourceVersion"], writes)
    return objects


def changes(before: dict, after: dict) -> list:
    return sorted(
        [("added", *key) for key in after.keys() - before.keys()]
        + [("removed", *key) for key in before.keys() - after.keys()]
        + [
            ("modified", *key)
            for key in before.keys() & after.keys()
            # a new resourceVersion with the same writes: a status update (or an object with no managedFields)
            if before[key][1] != after[key][1] or (not after[key][1] and before[key][0] != after[key][0])
        ]
    )


def expired_and_stranger_certificates(cluster, directory: Path) -> None:
    """expired.crt: from the node's CA, notAfter in the past; stranger.crt: from a CA the node does not trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from localnode.pki import Pki, _name, _write_key

    pki = cluster.node.pki
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("otel-admin", "system:masters"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "expired.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "not-pem.crt").write_text("this is not a certificate\n")
    (directory / "broken.kubeconfig").write_text("apiVersion: v1\nclusters: [\n")
    _write_key(key, directory / "expired.key")
    stranger = Pki(directory / "stranger-ca")
    stranger.create_ca()
    cert_path, key_path = stranger.issue("stranger", "otel-admin", "system:masters")
    cert_path.rename(directory / "stranger.crt")
    key_path.rename(directory / "stranger.key")


@dataclass
class Batch:
    failures: dict  # case id -> the failed task's result (None: the case did not fail)
    output: str  # the run's stdout and stderr
    changed: list  # changes() of the cluster across the run


def case_block(case: Case) -> dict:
    return {
        "name": f"case {case.id}",
        "block": [dict(case.task, name=case.id)],
        "rescue": [
            {
                "name": f"record {case.id}",
                "ansible.builtin.set_fact": {
                    "bad_input_failures": "{{ bad_input_failures | combine({'"
                    + case.id
                    + "': ansible_failed_result}) }}",  # noqa: E501
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def pki_dir(cluster, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    expired_and_stranger_certificates(cluster, directory)
    return directory


@pytest.fixture(scope="module")
def batch(cluster, pki_dir, tmp_path_factory) -> Batch:
    """Every module and role case in one ansible-playbook run, between two snapshots of the cluster."""
    cases = [c for c in CASES if c.task] + connection_cases(str(pki_dir))

    def play(shard: list) -> list:
        return [
            {
                "name": "bad input",
                "hosts": "localhost",
                "gather_facts": False,
                "vars": {
                    "bad_input_failures": {},
                    "node_server": cluster.node.server,
                    "node_ca": str(cluster.node.pki.ca_cert),
                },
                "tasks": [case_block(c) for c in shard]
                + [{"name": "failures", "ansible.builtin.debug": {"var": "bad_input_failures"}}],
            }
        ]

    directory = tmp_path_factory.mktemp("play")
    before = snapshot(cluster)
    processes = []
    for index in range(SHARDS):  # the cases are independent: several playbooks at once
        path = directory / f"bad_input_{index}.yml"
        path.write_text(yaml.safe_dump(play(cases[index::SHARDS]), sort_keys=False))
        processes.append(run_playbook(path, env=cluster.env, background=True))
    runs = [finish(process) for process in processes]
    after = snapshot(cluster)
    recorded = {}
    for run in runs:
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
        recorded.update(run.task("failures")["bad_input_failures"])
    output = "".join(run.stdout + run.stderr for run in runs)
    return Batch({c.id: recorded.get(c.id) for c in cases}, output, changes(before, after))


def assert_refused(case: Case, result: dict | None, output: str, changed: list) -> None:
    assert result is not None, f"{case.id}: the task did not fail"
    assert result.get("failed") is True, result
    # A loop's failure holds each item's message.
    message = "\n".join(str(r.get("msg", "")) for r in [result, *(result.get("results") or [])] if isinstance(r, dict))
    for what, fragment in (("the place", case.place), ("the bad value", case.value), ("the fix", case.fix)):
        assert fragment in message, f"{case.id}: {what} ({fragment!r}) is not in the message:\n{message}"
    text = json.dumps(result)
    assert "Traceback" not in text and "Traceback" not in output
    assert not changed, f"the cluster changed: {changed}"


@pytest.mark.parametrize("case_id", [c.id for c in all_cases() if c.task], ids=str)
def test_module_and_role_case_is_refused(case_id, batch, pki_dir):
    case = next(c for c in CASES + connection_cases(str(pki_dir)) if c.id == case_id)
    assert_refused(case, batch.failures[case.id], batch.output, batch.changed)


@pytest.mark.parametrize("case", [c for c in CASES if c.site_vars], ids=lambda c: c.id)
def test_site_playbook_case_is_refused(case, cluster, tmp_path):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(case.site_vars))
    before = snapshot(cluster)
    run = run_playbook("playbooks/site.yml", "-e", f"@{extra}", env=cluster.env)
    after = snapshot(cluster)
    assert run.rc != 0
    failed = [t for t in run.tasks if t.get("failed")]
    assert failed, run.stdout[-3000:]
    assert_refused(case, failed[-1], run.stdout + run.stderr, changes(before, after))


def test_the_count_is_at_least_forty():
    assert len(all_cases()) >= 40
    assert len({c.id for c in all_cases()}) == len(all_cases())
