# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of one collector, written once. Pure.

:class:`CollectorOptions` is what ``_render.render()`` renders an OpenTelemetryCollector from, what a
preset computes for its collectors, and (through each field's metadata, k8s.option_spec) the
collector options of otel.kubernetes.collector's argument spec. The module's DOCUMENTATION is
checked against that argument spec by tests/unit/plugins/modules/test_documentation.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.option_spec import option

MODES = ("daemonset", "deployment", "statefulset", "sidecar")
UPGRADE_STRATEGIES = ("automatic", "none")
DEFAULT_MODE = "deployment"
# The resource metrics API an autoscaler's CPU and memory targets need (served by metrics-server).
RESOURCE_METRICS_API = "metrics.k8s.io/v1beta1"
RESOURCE_METRICS_KINDS = ("PodMetrics",)


def _objects():
    return option("list", elements="dict")


@dataclass
class CollectorOptions:
    """One collector's options. None is "not given": the Helm values (or render's defaults) fill it in."""

    namespace: str | None = option("str")
    config: object = option("raw")
    mode: str | None = option("str", choices=list(MODES))
    image: str | None = option("str")
    distribution: str | None = option("str", choices=list(dist.ORDER))
    # The release tag of the image chosen when none is given (default distributions.COLLECTOR_VERSION).
    collector_version: str | None = option("str")
    replicas: int | None = option("int")
    autoscaler: dict | None = option("dict")
    resources: dict | None = option("dict")
    env: list | None = _objects()
    node_env: bool | None = option("bool")
    volumes: list | None = _objects()
    volume_mounts: list | None = _objects()
    ports: list | None = _objects()
    service_account: str | None = option("str")
    tolerations: list | None = _objects()
    node_selector: dict | None = option("dict")
    affinity: dict | None = option("dict")
    priority_class_name: str | None = option("str")
    pod_disruption_budget: dict | None = option("dict")
    upgrade_strategy: str = option("str", default="automatic", choices=list(UPGRADE_STRATEGIES))
    self_monitoring: bool = option("bool", default=False)
    labels: dict | None = option("dict")
    annotations: dict | None = option("dict")
    security_context: dict | None = option("dict")
    pod_security_context: dict | None = option("dict")
    traces_routed_by_trace_id: bool = option("bool", default=False)
    extra_objects: list | None = _objects()
    # Not a module option: the gateway preset's expected load (new traces per second), for the lint's
    # num_traces check.
    expected_new_traces_per_second: float | None = None
