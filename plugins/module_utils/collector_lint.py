# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lint an OpenTelemetry Collector configuration before it reaches a cluster. Pure.

Errors are what the collector (or the pod) would die of: a pipeline naming a component
that is not defined, a component type the image does not contain (misspelled ones
included), a memory_limiter set at or above the container's memory limit, wrong types,
and the settings the collector refuses in its common components (unknown keys, missing
required fields, unknown tail-sampling policy types: ``collector_settings``). Warnings
are what runs but loses data or money: processor order, tail sampling behind a load balancer that ignores trace IDs,
a DaemonSet agent that watches every pod of the cluster, internal metrics on localhost.

Every message starts with the exact place in the configuration and ends with the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ansible_collections.otel.kubernetes.plugins.module_utils import collector_model, collector_settings
from ansible_collections.otel.kubernetes.plugins.module_utils import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector_model import (
    components_of,
    components_of_type,
    normalise,
    parse_config,
    split_id,
    to_mib,
)

# collector_render (another branch's) reads these two here; new code takes them from collector_model.
MIB = collector_model.MIB
parse_quantity = collector_model.parse_quantity

MODES = ("daemonset", "deployment", "statefulset", "sidecar")
SIGNALS = ("traces", "metrics", "logs", "profiles")
LOCALHOST = ("localhost", "127.0.0.1", "::1", "[::1]")
# The tail_sampling processor's defaults (factory.go, v0.159.0).
TAIL_SAMPLING_NUM_TRACES = 50000
TAIL_SAMPLING_DECISION_WAIT = 30.0
_TYPE_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")


@dataclass
class LintReport:
    valid: bool
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    config: dict = field(default_factory=dict)  # normalised (parsed, empty sections as {})
    distribution: str | None = None  # given, derived from the image, or the smallest that fits
    image: str | None = None  # the given image, or the image of the chosen distribution

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "config": self.config,
            "distribution": self.distribution,
            "image": self.image,
        }


# ------------------------------------------------------------------ parsing helpers


def _int_like(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fmt(items) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


# ------------------------------------------------------------------ distribution


def _fits(kind: str, type_name: str, name: str) -> bool:
    d = dist.DISTRIBUTIONS[name]
    return d.has(kind, type_name) or dist.similar(kind, type_name, name) is not None


def smallest_distribution(config) -> str:
    """core, k8s or contrib: the smallest distribution that has every component of config.

    Components that no distribution is known to have make it contrib (the lint says so).
    """
    parsed, error = parse_config(config)
    if error:
        return "contrib"
    parsed = normalise(parsed)
    needed = [(k, t) for k, _cid, t in components_of(parsed) if (k, dist.canonical(k, t)) not in dist.REMOVED]
    for name in dist.ORDER:
        if all(_fits(kind, type_name, name) for kind, type_name in needed):
            return name
    return "contrib"


def choose_image(config, version: str | None = None, distribution: str | None = None) -> str:
    """The collector image for this configuration: the smallest distribution with every component.

    ghcr.io/open-telemetry/opentelemetry-collector-releases/<image>:<version>, version
    defaulting to the release the component lists were read for.
    """
    name = distribution or smallest_distribution(config)
    return dist.DISTRIBUTIONS[name].image(version)


# ------------------------------------------------------------------ the lint
class _Lint:
    def __init__(self, config: dict, distribution: str | None, mode: str):
        self.config = config
        self.distribution = distribution
        self.mode = mode
        self.errors = []
        self.warnings = []

    def error(self, text: str) -> None:
        self.errors.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    # ---------------------------------------------------------- structure
    def sections(self) -> bool:
        """Type checks of the five sections and the service; False when there are no pipelines to check."""
        for kind in dist.KINDS:
            section = self.config.get(kind)
            if kind in self.config and not isinstance(section, dict):
                self.error(
                    f"{kind}: expected a mapping of component id to settings, got {type(section).__name__}; "
                    f"write for example `{kind}: {{}}` when there are none"
                )
                continue
            for cid, settings in (section or {}).items():
                type_name, name = split_id(cid)
                if not _TYPE_RE.match(type_name) or (name is not None and not name.strip()):
                    self.error(
                        f"{kind}.{cid}: not a valid component id; write `type` or `type/name` "
                        f"(type: letters, digits and _, starting with a letter)"
                    )
                if not isinstance(settings, dict):
                    self.error(
                        f"{kind}.{cid}: settings must be a mapping, got {type(settings).__name__}; "
                        f"write `{cid}: {{}}` for the defaults"
                    )
        service = self.config.get("service")
        if not isinstance(service, dict):
            what = "missing" if service is None else f"a {type(service).__name__}, not a mapping"
            self.error(
                f"service: {what}; a collector needs `service: {{pipelines: {{traces: {{receivers: [...], "
                f"exporters: [...]}}}}}}`"
            )
            return False
        pipelines = service.get("pipelines")
        if pipelines is None or pipelines == {}:
            self.error(
                "service.pipelines: missing or empty; define at least one pipeline, for example "
                "`traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}`"
            )
            return False
        if not isinstance(pipelines, dict):
            self.error(
                f"service.pipelines: expected a mapping of pipeline id to pipeline, got {type(pipelines).__name__}"
            )
            return False
        extensions = service.get("extensions")
        if extensions is not None and not isinstance(extensions, list):
            self.error(f"service.extensions: expected a list of extension ids, got {type(extensions).__name__}")
        return True

    # ---------------------------------------------------------- references
    def _defined(self, kind: str) -> dict:
        section = self.config.get(kind)
        return section if isinstance(section, dict) else {}

    def pipelines(self) -> None:
        pipelines = self.config["service"]["pipelines"]
        connectors = self._defined("connectors")
        as_exporter, as_receiver = {}, {}
        for pid, pipeline in pipelines.items():
            where = f"service.pipelines.{pid}"
            signal = split_id(pid)[0]
            if signal not in SIGNALS:
                self.error(
                    f"{where}: pipeline id must start with one of {', '.join(SIGNALS)} "
                    f"(for example `traces` or `traces/sampling`), got `{pid}`"
                )
            if not isinstance(pipeline, dict):
                self.error(
                    f"{where}: expected a mapping with receivers, processors and exporters, got "
                    f"{type(pipeline).__name__}"
                )
                continue
            for kind in ("receivers", "processors", "exporters"):
                entries = pipeline.get(kind)
                if entries is None:
                    if kind != "processors":
                        self.error(f"{where}.{kind}: missing; a pipeline needs at least one {dist.SINGULAR[kind]}")
                    continue
                if not isinstance(entries, list):
                    self.error(
                        f"{where}.{kind}: expected a list of component ids, got {type(entries).__name__}; "
                        f"write `{kind}: [{'...'}]`"
                    )
                    continue
                if not entries and kind != "processors":
                    self.error(f"{where}.{kind}: empty; a pipeline needs at least one {dist.SINGULAR[kind]}")
                seen = set()
                for entry in entries:
                    if not isinstance(entry, str):
                        self.error(f"{where}.{kind}: entries must be component ids (strings), got {entry!r}")
                        continue
                    if entry in seen:
                        self.error(f"{where}.{kind}: `{entry}` is listed twice; list each component once")
                    seen.add(entry)
                    self._reference(where, kind, entry, connectors, as_receiver, as_exporter, pid)
                    self._signal(f"{where}.{kind}", kind, entry, signal)
        for cid in connectors:
            used_in = sorted(set(as_exporter.get(cid, [])) | set(as_receiver.get(cid, [])))
            if not used_in:
                continue
            if cid not in as_exporter:
                self.error(
                    f"connectors.{cid}: used as a receiver in {_fmt(used_in)} but not as an exporter in any "
                    f"pipeline; add `{cid}` to the exporters of the pipeline that feeds it"
                )
            elif cid not in as_receiver:
                self.error(
                    f"connectors.{cid}: used as an exporter in {_fmt(used_in)} but not as a receiver in any "
                    f"pipeline; add `{cid}` to the receivers of the pipeline it feeds"
                )
        extensions = self.config["service"].get("extensions")
        if isinstance(extensions, list):
            defined = self._defined("extensions")
            for entry in extensions:
                if entry not in defined:
                    self.error(
                        f"service.extensions: `{entry}` is not defined under `extensions`; define it "
                        f"(`extensions: {{{entry}: {{}}}}`) or remove it from service.extensions"
                    )

    def _signal(self, where: str, kind: str, entry: str, signal: str) -> None:
        """A component in a pipeline of a signal it does not handle: the collector refuses to build it."""
        settings = self._defined(kind).get(entry)
        if signal not in ("traces", "metrics", "logs") or settings is None:
            return
        current = dist.canonical(kind, split_id(entry)[0])
        handled = dist.SIGNALS_OF.get((kind, current))
        if handled and signal not in handled:
            self.error(
                f"{where}: `{entry}` does not handle {signal} (only {', '.join(handled)}), and the collector refuses "
                f"to build the pipeline; move it to a {' or '.join(handled)} pipeline"
            )
        endpoints = settings if (kind, current) == ("exporters", "otlp_http") and isinstance(settings, dict) else None
        if endpoints is not None and not endpoints.get("endpoint") and not endpoints.get(f"{signal}_endpoint"):
            self.error(
                f"{where}: `{entry}` has neither `endpoint` nor `{signal}_endpoint`, and the collector refuses "
                f"it in a {signal} pipeline; set `endpoint` (the base URL), or `{signal}_endpoint`"
            )

    def _reference(self, where, kind, entry, connectors, as_receiver, as_exporter, pid) -> None:
        defined = self._defined(kind)
        if entry in defined:
            return
        if kind in ("receivers", "exporters") and entry in connectors:
            (as_receiver if kind == "receivers" else as_exporter).setdefault(entry, []).append(pid)
            return
        section = f"`{kind}`" + (" or `connectors`" if kind != "processors" else "")
        text = (
            f"{where}.{kind}: `{entry}` is not defined under {section}, so the collector refuses to start; "
            f"define it (`{kind}: {{{entry}: ...}}`) or remove it from this list"
        )
        if kind == "receivers" and split_id(entry)[0] == "prometheus":
            text += (
                ". To monitor the collector itself you need no receiver: internal metrics are served by "
                "service.telemetry.metrics.readers (pull, port 8888) for Prometheus to scrape "
                "(otel.kubernetes.collector: self_monitoring: true)"
            )
        self.error(text)

    # ---------------------------------------------------------- distribution
    def membership(self) -> None:
        name = self.distribution
        for kind, cid, type_name in components_of(self.config):
            where = f"{kind}.{cid}"
            current = dist.canonical(kind, type_name)
            removed = dist.REMOVED.get((kind, current))
            if removed:
                self.error(f"{where}: no collector distribution has the `{type_name}` {dist.SINGULAR[kind]}: {removed}")
                continue
            if name is None:
                continue
            d = dist.DISTRIBUTIONS[name]
            if d.has(kind, type_name):
                continue
            spelled = dist.similar(kind, type_name, name)
            if spelled:
                self.error(
                    f"{where}: `{type_name}` is not a {dist.SINGULAR[kind]} type {d.binary} "
                    f"{dist.COLLECTOR_VERSION} accepts, and the collector refuses to start with it; write "
                    f"`{'` or `'.join(dist.spellings(kind, spelled))}`"
                )
                continue
            others = dist.distributions_with(kind, type_name)
            if others:
                fits_all = smallest_distribution(self.config)
                smallest = dist.DISTRIBUTIONS[fits_all if fits_all in others else others[0]]
                text = (
                    f"{where}: the `{type_name}` {dist.SINGULAR[kind]} is not in the {name} distribution "
                    f"({d.binary} {dist.COLLECTOR_VERSION}); it is in {', '.join(others)}. Use the image "
                    f"{smallest.image()} (distribution: {smallest.name})"
                )
                hint = dist.HINTS.get((kind, current))
                if hint:
                    text += f", or {hint}" if kind == "exporters" else f" ({hint})"
                self.error(text)
            else:
                self.error(
                    f"{where}: `{type_name}` is not a {dist.SINGULAR[kind]} of the {name} distribution "
                    f"({d.binary} {dist.COLLECTOR_VERSION}), nor of any other this collection knows; fix the "
                    f"spelling, or use an image built with it (and set `image`)"
                )

    def component_settings(self) -> None:
        for kind in dist.KINDS:
            for cid, settings in self._defined(kind).items():
                if isinstance(settings, dict):
                    current = dist.canonical(kind, split_id(cid)[0])
                    self.errors.extend(collector_settings.check(kind, str(cid), current, settings))

    # ---------------------------------------------------------- processors
    def processor_order(self) -> None:
        pipelines = self.config["service"]["pipelines"]
        for pid, pipeline in pipelines.items():
            if not isinstance(pipeline, dict) or not isinstance(pipeline.get("processors"), list):
                continue
            entries = [e for e in pipeline["processors"] if isinstance(e, str)]
            types = [dist.canonical("processors", split_id(e)[0]) for e in entries]
            where = f"service.pipelines.{pid}.processors"
            suggestion = _fmt(_suggested_order(entries, types))
            if "memory_limiter" in types and types[0] != "memory_limiter":
                self.warn(
                    f"{where}: memory_limiter is at position {types.index('memory_limiter') + 1} of "
                    f"{_fmt(entries)}; it must come first to refuse data before other processors spend memory "
                    f"on it. Use {suggestion}"
                )
            if "batch" in types and types[-1] != "batch":
                self.warn(
                    f"{where}: batch is not last in {_fmt(entries)}; processors after it undo the batching "
                    f"and the queue it protects. Use {suggestion}"
                )
            if "k8s_attributes" in types and "batch" in types and types.index("k8s_attributes") > types.index("batch"):
                self.warn(
                    f"{where}: k8sattributes comes after batch in {_fmt(entries)}; batching drops the request "
                    f"context (the sender's IP) that k8sattributes reads, so pods are not identified. "
                    f"Use {suggestion}"
                )

    def memory_limiter(self, memory_limit) -> None:
        limit_mib_container = None
        if memory_limit is not None:
            try:
                limit_mib_container = to_mib(memory_limit)
            except ValueError as error:
                self.error(f"memory_limit: {error}")
        defined = components_of_type(self.config, "processors", "memory_limiter")
        if not defined:
            self.warn(
                "processors: no memory_limiter; without it a traffic spike OOM-kills the collector. Add "
                "`memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 25}` "
                "first in every pipeline"
            )
        for cid, settings in defined:
            if not isinstance(settings, dict):
                continue
            where = f"processors.{cid}"
            values = {}
            for key, low, high in (
                ("limit_mib", 1, None),
                ("spike_limit_mib", 0, None),
                ("limit_percentage", 1, 100),
                ("spike_limit_percentage", 0, 100),
            ):
                value = settings.get(key)
                if value is None or collector_settings.is_env(value):
                    continue
                if not _int_like(value):
                    unit = "MiB" if key.endswith("_mib") else "percent"
                    self.error(
                        f"{where}.{key}: expected a whole number of {unit}, got {value!r}"
                        + (
                            " (memory_limiter takes plain MiB numbers, not quantities like 512Mi)"
                            if isinstance(value, str)
                            else ""
                        )
                    )
                    continue
                if value < low or (high is not None and value > high):
                    bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                    self.error(f"{where}.{key}: {value} is out of range; it must be {bound}")
                    continue
                values[key] = value
            has_limit = any(settings.get(k) not in (None, 0) for k in ("limit_mib", "limit_percentage"))
            if not has_limit:
                self.error(
                    f"{where}: neither limit_mib nor limit_percentage is set, so the collector refuses to "
                    f"start; set `limit_percentage: 80` and `spike_limit_percentage: 25` (relative to the "
                    f"container memory limit)"
                )
            if settings.get("check_interval") in (None, 0, "0", "0s", ""):
                self.error(
                    f"{where}.check_interval: missing or zero, so the collector refuses to start; "
                    f"set `check_interval: 1s`"
                )
            has_spike = any(settings.get(k) is not None for k in ("spike_limit_mib", "spike_limit_percentage"))
            if has_limit and not has_spike:
                self.warn(
                    f"{where}: no spike limit (spike_limit_mib or spike_limit_percentage); the default, 20% of "
                    f"the limit, may be too small for bursts. Set spike_limit_percentage: 20-25, or "
                    f"spike_limit_mib at about a quarter of limit_mib"
                )
            percent, spike_percent = values.get("limit_percentage"), values.get("spike_limit_percentage")
            if percent is not None and spike_percent is not None and spike_percent >= percent:
                self.error(
                    f"{where}.spike_limit_percentage: {spike_percent} must be smaller than limit_percentage "
                    f"({percent}); use 20-25 with limit_percentage: 80"
                )
            limit = values.get("limit_mib")
            spike = values.get("spike_limit_mib")
            if limit is not None and spike is not None and spike >= limit:
                self.error(
                    f"{where}.spike_limit_mib: {spike} must be smaller than limit_mib ({limit}); the soft "
                    f"limit is limit_mib - spike_limit_mib. Use about a quarter of limit_mib: {limit // 4}"
                )
            if limit is not None and limit_mib_container is not None and limit >= limit_mib_container:
                suggested = int(limit_mib_container * 0.8)
                self.error(
                    f"{where}.limit_mib: {limit} MiB is at or above the container memory limit "
                    f"{memory_limit} ({limit_mib_container:g} MiB): the kernel OOM-kills the pod before the "
                    f"limiter acts. Set it BELOW the limit, about 80%: `limit_mib: {suggested}` with "
                    f"`spike_limit_mib: {suggested // 4}`, or use `limit_percentage: 80` and "
                    f"`spike_limit_percentage: 25`"
                )

    def k8sattributes_agent(self) -> None:
        if self.mode != "daemonset":
            return
        for cid, settings in components_of_type(self.config, "processors", "k8s_attributes"):
            if not isinstance(settings, dict) or settings.get("passthrough") is True:
                continue
            node_filter = settings.get("filter") if isinstance(settings.get("filter"), dict) else {}
            if not (node_filter.get("node_from_env_var") or node_filter.get("node")):
                self.warn(
                    f"processors.{cid}.filter: a DaemonSet agent without a node filter watches every pod of "
                    f"the cluster from every node (memory and API server load grow with the cluster). Set "
                    f"`filter: {{node_from_env_var: K8S_NODE_NAME}}` with K8S_NODE_NAME from the downward API "
                    f"spec.nodeName (otel.kubernetes.collector adds it for daemonsets)"
                )

    def tail_sampling(self, replicas, autoscaler, routed: bool) -> None:
        defined = components_of_type(self.config, "processors", "tail_sampling")
        if not defined or routed:
            return
        max_replicas = (autoscaler or {}).get("maxReplicas") if isinstance(autoscaler, dict) else None
        reasons = []
        if _int_like(replicas) and replicas > 1:
            reasons.append(f"replicas: {replicas}")
        if _int_like(max_replicas) and max_replicas > 1:
            reasons.append(f"autoscaler maxReplicas: {max_replicas}")
        if self.mode == "daemonset":
            reasons.append("mode: daemonset (one collector per node)")
        if not reasons:
            return
        for cid, _settings in defined:
            self.warn(
                f"processors.{cid}: tail sampling with several collectors ({', '.join(reasons)}) decides on "
                f"partial traces unless every span of a trace reaches the same replica. Make the agents send "
                f"traces through the `loadbalancing` exporter with `routing_key: traceID` to this collector's "
                f"headless Service (<name>-collector-headless, dns resolver) or the k8s resolver, then set "
                f"traces_routed_by_trace_id: true"
            )

    def num_traces(self, replicas, autoscaler, expected_new_traces_per_second) -> None:
        """num_traces below the new traces/s a replica gets x decision_wait: traces are evicted before
        their decision (sampling_trace_dropped_too_early)."""
        if not isinstance(expected_new_traces_per_second, (int, float)) or expected_new_traces_per_second <= 0:
            return
        counts = [
            n
            for n in (replicas, (autoscaler or {}).get("minReplicas") if isinstance(autoscaler, dict) else None)
            if _int_like(n) and n > 0
        ]
        fewest = min(counts) if counts else 1
        per_replica = expected_new_traces_per_second / fewest
        for cid, found in components_of_type(self.config, "processors", "tail_sampling"):
            settings = found if isinstance(found, dict) else {}
            given = settings.get("num_traces", TAIL_SAMPLING_NUM_TRACES)
            wait = collector_settings.duration_seconds(settings.get("decision_wait"), TAIL_SAMPLING_DECISION_WAIT)
            needed = per_replica * wait
            if _int_like(given) and given < needed:
                self.warn(
                    f"processors.{cid}.num_traces: {given} is below the new traces a replica gets while they wait "
                    f"for their decision: {expected_new_traces_per_second:g} traces/s expected / {fewest} replica(s) x "
                    f"{wait:g} s decision_wait = {needed:.0f}. The processor evicts the oldest traces before their "
                    f"decision (otelcol_processor_tail_sampling_sampling_trace_dropped_too_early); set num_traces to "
                    f"at least {math.ceil(needed * 2)} (twice that), or leave it at the role's default so that "
                    f"otel_gateway_expected_load derives it"
                )

    def telemetry(self) -> None:
        service = self.config.get("service")
        telemetry = service.get("telemetry") if isinstance(service, dict) else None
        metrics = telemetry.get("metrics") if isinstance(telemetry, dict) else None
        if not isinstance(metrics, dict):
            return
        address = metrics.get("address")
        if isinstance(address, str):
            host = address.rsplit(":", 1)[0] if ":" in address else address
            local = " and binds to localhost, so nothing outside the pod can scrape it" if host in LOCALHOST else ""
            self.warn(
                f"service.telemetry.metrics.address: `{address}` is deprecated, ignored since collector "
                f"v0.128.0{local}. Use `readers: [{{pull: {{exporter: {{prometheus: {{host: 0.0.0.0, "
                f"port: 8888}}}}}}}}]`"
            )
        readers = metrics.get("readers")
        if readers is not None and not isinstance(readers, list):
            self.error(f"service.telemetry.metrics.readers: expected a list, got {type(readers).__name__}")
            return
        for index, reader in enumerate(readers or []):
            prom = (
                (((reader or {}).get("pull") or {}).get("exporter") or {}).get("prometheus")
                if isinstance(reader, dict)
                else None
            )
            if isinstance(prom, dict) and str(prom.get("host", "")).strip() in LOCALHOST:
                self.warn(
                    f"service.telemetry.metrics.readers[{index}].pull.exporter.prometheus.host: "
                    f"`{prom.get('host')}` serves the collector's own metrics to the pod only, so Prometheus "
                    f"cannot scrape them; use `host: 0.0.0.0` (or the pod IP, `${{env:POD_IP}}`)"
                )


def _suggested_order(entries: list, types: list) -> list:
    """memory_limiter first, k8sattributes next, batch last, the rest in their order."""
    first = [e for e, t in zip(entries, types) if t == "memory_limiter"]
    attrs = [e for e, t in zip(entries, types) if t == "k8s_attributes"]
    last = [e for e, t in zip(entries, types) if t == "batch"]
    middle = [e for e, t in zip(entries, types) if t not in ("memory_limiter", "k8s_attributes", "batch")]
    return first + attrs + middle + last


def lint(
    config,
    *,
    distribution: str | None = None,
    image: str | None = None,
    memory_limit=None,
    mode: str = "deployment",
    replicas: int | None = None,
    autoscaler: dict | None = None,
    traces_routed_by_trace_id: bool = False,
    expected_new_traces_per_second: float | None = None,
    version: str | None = None,
) -> LintReport:
    """Check a collector configuration (dict or YAML text); see the module docstring.

    distribution: core, k8s or contrib. When not given it is derived from ``image``; when
    neither is given, the smallest distribution that has every component is chosen and
    returned (``report.distribution``), with its image (``report.image``, tag ``version``).
    """
    parsed, problem = parse_config(config)
    if problem:
        return LintReport(valid=False, errors=[problem], config={}, distribution=distribution, image=image)
    parsed = normalise(parsed)
    errors = []
    if mode not in MODES:
        errors.append(f"mode: `{mode}` is not a collector mode; use one of {', '.join(MODES)}")
    if distribution is not None and distribution not in dist.DISTRIBUTIONS:
        errors.append(f"distribution: `{distribution}` is not one of {', '.join(dist.ORDER)}")
        distribution = None
    from_image = dist.distribution_of_image(image) if image else None
    notes = []
    if distribution and from_image and distribution != from_image:
        errors.append(
            f"distribution: `{distribution}` does not match image {image}, which is the {from_image} "
            f"distribution; give one of them, or make them agree"
        )
    chosen = distribution or from_image
    if chosen is None and image:
        notes.append(
            f"image: {image} is not one of the known collector distributions (core, k8s, contrib), so the "
            f"components were not checked against it; set `distribution` to check them"
        )
    elif chosen is None:
        chosen = smallest_distribution(parsed)
    if chosen and not image:
        image = dist.DISTRIBUTIONS[chosen].image(version)
    checker = _Lint(parsed, chosen, mode if mode in MODES else "deployment")
    checker.errors.extend(errors)
    checker.warnings.extend(notes)
    if checker.sections():
        checker.pipelines()
        checker.processor_order()
    checker.membership()
    checker.component_settings()
    checker.memory_limiter(memory_limit)
    checker.k8sattributes_agent()
    checker.tail_sampling(replicas, autoscaler, traces_routed_by_trace_id)
    checker.num_traces(replicas, autoscaler, expected_new_traces_per_second)
    checker.telemetry()
    return LintReport(
        valid=not checker.errors,
        errors=checker.errors,
        warnings=checker.warnings,
        config=parsed,
        distribution=chosen,
        image=image,
    )
