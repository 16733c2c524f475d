# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster collector (role otel_cluster): the cluster's state and events, from one replica.

A Deployment of exactly one replica: ``k8s_cluster`` (Deployments, Pod phases, container restarts, node
conditions and allocatable resources) as metrics and ``k8s_objects`` watching ``events.k8s.io`` Events as
logs, both read from the API server once for the whole cluster (one per node would report everything
once per node). It sends them to the gateway's Service over OTLP with mTLS, with its own client
certificate. Its RBAC is derived from the configuration (list and watch of what the receivers read).
"""

from __future__ import annotations

import json

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import _common as presets
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.cluster_settings import SETTINGS

# The role variable of a setting, for messages.
var = SETTINGS.variable
ALLOCATABLE_TYPES = ("cpu", "memory", "ephemeral-storage", "pods")


def gateway_service(s: dict) -> str:
    return f"{s['gateway_name']}-collector.{s['gateway_namespace']}.svc.{s['cluster_domain']}"


def builtin_config(s: dict, gateway_port: int) -> dict:
    """k8s_cluster to the metrics pipeline, k8s_objects on events.k8s.io Events (watch, DELETED left out) to the
    logs pipeline; memory_limiter first, batch last; the gateway over mTLS."""
    receivers, pipelines = {}, {}
    processors = ["memory_limiter", "batch"]
    if s["metrics"]:
        receivers["k8s_cluster"] = {
            "auth_type": "serviceAccount",
            "collection_interval": s["collection_interval"],
            "node_conditions_to_report": list(s["node_conditions"]),
            "allocatable_types_to_report": list(s["allocatable_types"]),
        }
        pipelines["metrics"] = {"receivers": ["k8s_cluster"], "processors": processors, "exporters": ["otlp/gateway"]}
    if s["events"]:
        receivers["k8s_objects"] = {
            "auth_type": "serviceAccount",
            "objects": [
                # An Event's removal (its TTL, an hour by default) is not news.
                {"name": "events", "group": "events.k8s.io", "mode": "watch", "exclude_watch_type": ["DELETED"]}
            ],
        }
        pipelines["logs"] = {"receivers": ["k8s_objects"], "processors": processors, "exporters": ["otlp/gateway"]}
    return {
        "receivers": receivers,
        "processors": {"memory_limiter": s["memory_limiter"], "batch": s["batch"]},
        "exporters": {
            "otlp/gateway": {"endpoint": f"{gateway_service(s)}:{gateway_port}", "tls": presets.client_tls(s)}
        },
        "extensions": presets.health_check(),
        "service": {
            "extensions": list(presets.health_check()),
            "telemetry": presets.self_telemetry(),
            "pipelines": pipelines,
        },
    }


def _check(s: dict, errors: list) -> None:
    if not s["metrics"] and not s["events"] and not s["config"]:
        errors.append(
            f"{var('metrics')} and {var('events')} are both false: the cluster collector would collect "
            f"nothing. Turn one on, or remove the collector with {var('state')}: absent."
        )
    conditions = s["node_conditions"]
    if not isinstance(conditions, list) or not all(isinstance(c, str) and c[:1].isupper() for c in conditions):
        errors.append(
            f"{var('node_conditions')} is {json.dumps(conditions)}; give a list of node condition types as the "
            "API writes them (Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable)."
        )
    types = s["allocatable_types"]
    if not isinstance(types, list) or any(t not in ALLOCATABLE_TYPES for t in types):
        errors.append(
            f"{var('allocatable_types')} is {json.dumps(types)}; give a list of {', '.join(ALLOCATABLE_TYPES)}."
        )


def build(given: dict | None, state: str = "present") -> presets.Component:
    """The cluster collector from its role's settings; errors name the role variables and the fix."""
    s = SETTINGS.merged(given)
    errors = SETTINGS.unknown(given)
    s["metrics"], s["events"] = presets.as_bool(s["metrics"]), presets.as_bool(s["events"])
    presets.check_mappings(s, ("config", "config_extra"), SETTINGS, "cluster.yaml", errors)
    gateway_port = presets.check_port(s, "gateway_port", SETTINGS, errors)
    if state == "present":
        _check(s, errors)
    config = {}
    if not errors:
        base = s["config"] or builtin_config(s, gateway_port)
        config = presets.combine(base, s["config_extra"])
    options = {
        "namespace": s["namespace"],
        "config": config,
        "mode": "deployment",
        # One replica, always: k8s_cluster and k8s_objects read the whole cluster, a second would double it.
        "replicas": 1,
        "image": s["image"] or None,
        "resources": s["resources"] or None,
        "service_account": s["service_account"],
        **presets.pod_options(s, {}),
    }
    status = {
        "name": s["name"],
        "namespace": s["namespace"],
        "metrics": bool(s["metrics"]),
        "events": bool(s["events"]),
        "gateway": f"{gateway_service(s)}:{gateway_port}",
        "mtls": bool(s["tls_enabled"]),
    }
    return presets.Component.from_settings(
        "cluster collector",
        s,
        options,
        rbac_name=s["rbac_name"],
        service_account=s["service_account"],
        helm_values=None,
        errors=errors,
        status=status,
        published=("permissions", "lint_warnings"),
    )
