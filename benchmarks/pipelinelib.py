"""The pure parts of pipeline_benchmark.py: the load it sends, what it counts, and its verdicts.

Nothing here touches the node; tests/unit/benchmarks/test_pipelinelib.py checks it.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass, field

# The traffic: a trace is a parent and CHILD_SPANS children (telemetrygen chains them), each span
# with telemetrygen's 2 attributes (network.peer.address, service.peer.name) and SPAN_ATTRIBUTES
# of our own, about 1 KB a span on the wire (printed, measured on the spans that arrive).
CHILD_SPANS = 4
SPANS_PER_TRACE = CHILD_SPANS + 1
SPAN_ATTRIBUTES = 18
ATTRIBUTE_VALUE = "x" * 30
# Shares of the traces: errors (status Error: the errors policy keeps them all), slow (600 ms
# spans: the latency policy, > 500 ms, keeps them all) and ordinary (the 10% probabilistic policy).
SHARES = {"errors": 0.05, "slow": 0.05, "ordinary": 0.90}
SLOW_SPAN = "600ms"
# One telemetrygen worker paces itself span by span (a limiter of burst 1, sleeping between spans):
# at 750 spans/s a worker sent 88% of its rate here, so the load is spread over more, slower workers.
SPANS_PER_WORKER = 200
ARRIVAL_ATTRIBUTE = "bench.arrival_unix_nano"  # set by the trace stand-in when a span arrives
STEP_ATTRIBUTE = "bench.step"  # a resource attribute naming the step that sent the span


def span_attributes() -> list:
    """The --telemetry-attributes values of every span (key="value", as telemetrygen wants them)."""
    return [f'app.attribute.{i:02d}="value-{i:02d}-{ATTRIBUTE_VALUE}"' for i in range(1, SPAN_ATTRIBUTES + 1)]


@dataclass
class Sender:
    """One telemetrygen traces process of a step."""

    kind: str  # errors, slow, ordinary
    workers: int
    rate_per_worker: float  # spans/s
    status: str = "Unset"
    span_duration: str = ""

    @property
    def spans_per_second(self) -> float:
        return self.workers * self.rate_per_worker


def senders(spans_per_second: float) -> list:
    """The traces processes that together send `spans_per_second`, split by SHARES."""
    found = []
    for kind, share in SHARES.items():
        rate = spans_per_second * share
        if rate <= 0:
            continue
        workers = max(1, math.ceil(rate / SPANS_PER_WORKER))
        found.append(
            Sender(
                kind=kind,
                workers=workers,
                rate_per_worker=round(rate / workers, 2),
                status="Error" if kind == "errors" else "Unset",
                span_duration=SLOW_SPAN if kind == "slow" else "",
            )
        )
    return found


def expected_sampled_share(probabilistic_percent: float = 10.0) -> float:
    """The share of traces the default policies keep: every error and slow trace, p% of the rest."""
    return SHARES["errors"] + SHARES["slow"] + SHARES["ordinary"] * probabilistic_percent / 100


# telemetrygen's own report: 'traces generated {"worker": 0, "traces": 1234}', the same for logs and metrics.
_GENERATED = re.compile(r"(traces|logs|metrics) generated\s+(\{.*\})")
_SENDER_LINE = re.compile(r"^== (\w+) ==$")
_EXPORT_ERRORS = re.compile(r"^export errors: (\d+)$")


def parse_generated(text: str) -> dict:
    """{sender: {"traces"|"logs"|"metrics": count}} from the generator Pod's output, where each sender's
    lines follow a line `== NAME ==` (the benchmark's script prints them)."""
    found: dict = {}
    current = "?"
    for line in text.splitlines():
        header = _SENDER_LINE.match(line.strip())
        if header:
            current = header.group(1)
            continue
        errors = _EXPORT_ERRORS.match(line.strip())
        if errors:
            found.setdefault(current, {})["export_errors"] = int(errors.group(1))
            continue
        match = _GENERATED.search(line)
        if not match:
            continue
        try:
            fields = json.loads(match.group(2))
        except ValueError:
            continue
        kind = match.group(1)
        found.setdefault(current, {}).setdefault(kind, 0)
        found[current][kind] += int(fields.get(kind, 0))
    return found


def metric_sum(text: str, name: str, **labels) -> float:
    """The sum of a Prometheus metric's samples (name exactly, labels that must match)."""
    total = 0.0
    for line in text.splitlines():
        if not (line.startswith(name + "{") or line.startswith(name + " ")):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            try:
                total += float(line.rsplit(" ", 1)[1])
            except ValueError:
                continue
    return total


# What is read off each collector's :8888 (names as the 0.159.0 collector exposes them; a counter
# may carry a _total suffix with other exporters, both are read).
AGENT_COUNTERS = {
    "accepted": ("otelcol_receiver_accepted_spans", {}),
    "refused": ("otelcol_receiver_refused_spans", {}),
    "exported": ("otelcol_exporter_sent_spans", {"exporter": "loadbalancing"}),
    "export_failed": ("otelcol_exporter_send_failed_spans", {"exporter": "loadbalancing"}),
    "queue_full": ("otelcol_exporter_enqueue_failed_spans", {}),
    "logs_accepted": ("otelcol_receiver_accepted_log_records", {}),
    "logs_refused": ("otelcol_receiver_refused_log_records", {}),
    "points_accepted": ("otelcol_receiver_accepted_metric_points", {}),
}
GATEWAY_COUNTERS = {
    "accepted": ("otelcol_receiver_accepted_spans", {}),
    "refused": ("otelcol_receiver_refused_spans", {}),
    "decided": ("otelcol_processor_tail_sampling_global_count_traces_sampled", {}),
    "sampled": ("otelcol_processor_tail_sampling_global_count_traces_sampled", {"sampled": "true"}),
    "dropped_too_early": ("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early", {}),
    "new_traces": ("otelcol_processor_tail_sampling_new_trace_id_received", {}),
    "exported": ("otelcol_exporter_sent_spans", {"exporter": "otlp/tempo"}),
    "export_failed": ("otelcol_exporter_send_failed_spans", {}),
    "queue_full": ("otelcol_exporter_enqueue_failed_spans", {}),
    "logs_accepted": ("otelcol_receiver_accepted_log_records", {}),
    "logs_refused": ("otelcol_receiver_refused_log_records", {}),
    "logs_exported": ("otelcol_exporter_sent_log_records", {}),
    "logs_queue_full": ("otelcol_exporter_enqueue_failed_log_records", {}),
}
GAUGES = {
    "queue_size": ("otelcol_exporter_queue_size", {}),
    "traces_on_memory": ("otelcol_processor_tail_sampling_sampling_traces_on_memory", {}),
}


def read_counters(text: str, which: dict) -> dict:
    return {
        key: metric_sum(text, name, **labels) + metric_sum(text, name + "_total", **labels)
        for key, (name, labels) in which.items()
    }


def delta(before: dict, after: dict) -> dict:
    """after - before, key by key (a key missing before counts from 0: a Pod that started in between)."""
    return {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}


def added(counters: list) -> dict:
    total: dict = {}
    for one in counters:
        for key, value in one.items():
            total[key] = total.get(key, 0.0) + value
    return total


@dataclass
class StepCount:
    """What one step sent and what each stage saw of it (spans unless named)."""

    seconds: float
    generated_traces: int
    generated_logs: int = 0
    agent: dict = field(default_factory=dict)
    gateways: dict = field(default_factory=dict)
    backend_spans: int = 0
    restarts: int = 0
    oom_killed: int = 0

    @property
    def generated_spans(self) -> int:
        return self.generated_traces * SPANS_PER_TRACE


def losses(count: StepCount) -> list:
    """Why a step is not 'nothing lost', one reason each; empty when every stage saw everything."""
    reasons = []
    sent = count.generated_spans
    agent, gateways = count.agent, count.gateways
    if round(agent.get("accepted", 0)) != sent:
        reasons.append(f"agent accepted {agent.get('accepted', 0):.0f} of {sent} spans sent")
    if round(gateways.get("accepted", 0)) != round(agent.get("accepted", 0)):
        reasons.append(f"gateways accepted {gateways.get('accepted', 0):.0f} of {agent.get('accepted', 0):.0f}")
    if round(gateways.get("decided", 0)) != count.generated_traces:
        reasons.append(f"gateways decided {gateways.get('decided', 0):.0f} of {count.generated_traces} traces")
    if count.generated_logs and round(agent.get("logs_accepted", 0)) != count.generated_logs:
        reasons.append(f"agent accepted {agent.get('logs_accepted', 0):.0f} of {count.generated_logs} log records")
    for stage, values in (("agent", agent), ("gateways", gateways)):
        for key in ("refused", "queue_full", "export_failed", "dropped_too_early", "logs_refused", "logs_queue_full"):
            if values.get(key, 0) > 0:
                reasons.append(f"{stage} {key.replace('_', ' ')}: {values[key]:.0f}")
    if count.restarts:
        reasons.append(f"{count.restarts} collector restart(s)")
    if count.oom_killed:
        reasons.append(f"{count.oom_killed} OOM kill(s)")
    return reasons


def spans_lost(result: dict, agent_deleted: bool) -> int:
    """Spans a fault step lost, at least: the lost share of the error spans (every error trace is kept)
    scaled to all spans sent, or, when larger, what never got past the first stage counted whole. Each
    kind of trace has its own telemetrygen process and SDK queue, so the error traces' share alone
    misses what the busiest process dropped. A gateway deleted: spans sent less those the agent accepted.
    The agent deleted: its counters start again in the new Pod and the old one's last seconds go unread,
    so spans sent less the traces the gateways decided x spans per trace (duplicates only lower it)."""
    errors = result.get("error_spans") or {}
    sent_errors, arrived_errors = errors.get("sent", 0), errors.get("arrived", 0)
    sent = result.get("spans_sent", 0)
    by_errors = round((sent_errors - arrived_errors) / sent_errors * sent) if sent_errors else 0
    if agent_deleted:
        passed = (result.get("gateways") or {}).get("decided", 0) * SPANS_PER_TRACE
    else:
        passed = (result.get("agent") or {}).get("accepted", 0)
    return max(by_errors, round(sent - passed), 0)


def percentile(values: list, p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[index]


def latency_summary(seconds: list) -> dict:
    if not seconds:
        return {"count": 0}
    return {
        "count": len(seconds),
        "p50": percentile(seconds, 50),
        "p95": percentile(seconds, 95),
        "max": max(seconds),
        "mean": statistics.fmean(seconds),
    }


def per_core(spans: float, cpu_seconds: float) -> float:
    """Spans per CPU-second (= spans/s one fully used core carries)."""
    return spans / cpu_seconds if cpu_seconds > 0 else float("nan")


def cpu_per_thousand(cpu_seconds: float, spans: float) -> float:
    return 1000 * cpu_seconds / spans if spans > 0 else float("nan")


def ladder(start: float, factor: float, steps: int) -> list:
    """Rising rates: start, start x factor, ... rounded to 100 spans/s."""
    return [round(start * factor**i / 100) * 100 for i in range(steps)]


# ---------------------------------------------------------------- OTLP/protobuf size of a span
def _varint_size(value: int) -> int:
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


def _field(number: int, payload: int) -> int:
    """Size of a length-delimited field with `payload` bytes."""
    return _varint_size(number << 3) + _varint_size(payload) + payload


def _any_value_size(value: dict) -> int:
    if "stringValue" in value:
        text = value["stringValue"].encode()
        return _field(1, len(text)) if text else 0
    if "boolValue" in value:
        return 2 if value["boolValue"] else 0
    if "intValue" in value:
        number = int(value["intValue"])
        return 1 + _varint_size(number if number >= 0 else number + (1 << 64)) if number else 0
    if "doubleValue" in value:
        return 9 if value["doubleValue"] else 0
    if "arrayValue" in value:
        items = sum(_field(1, _any_value_size(v)) for v in value["arrayValue"].get("values", []))
        return _field(5, items)
    if "kvlistValue" in value:
        items = sum(_field(1, _key_value_size(kv)) for kv in value["kvlistValue"].get("values", []))
        return _field(6, items)
    if "bytesValue" in value:
        return _field(7, len(value["bytesValue"]) * 3 // 4)
    return 0


def _key_value_size(kv: dict) -> int:
    key = kv.get("key", "").encode()
    return (_field(1, len(key)) if key else 0) + _field(2, _any_value_size(kv.get("value", {})))


def span_wire_bytes(span: dict, skip_attributes: tuple = (ARRIVAL_ATTRIBUTE,)) -> int:
    """Bytes of an OTLP Span (its JSON form as the file exporter writes it) in a protobuf request,
    with its own field tag and length in ScopeSpans; attributes named in `skip_attributes` left out."""
    size = 0
    for key, number in (("traceId", 1), ("spanId", 2), ("parentSpanId", 4)):
        if span.get(key):
            size += _field(number, len(span[key]) // 2)
    if span.get("traceState"):
        size += _field(3, len(span["traceState"].encode()))
    if span.get("name"):
        size += _field(5, len(span["name"].encode()))
    if span.get("kind"):
        size += 1 + _varint_size(int(span["kind"]))
    for key in ("startTimeUnixNano", "endTimeUnixNano"):
        if int(span.get(key) or 0):
            size += 9
    for kv in span.get("attributes", []):
        if kv.get("key") not in skip_attributes:
            size += _field(9, _key_value_size(kv))
    for event in span.get("events", []):
        event_size = 9 + _field(2, len(event.get("name", "").encode()))
        event_size += sum(_field(3, _key_value_size(kv)) for kv in event.get("attributes", []))
        size += _field(11, event_size)
    status = span.get("status") or {}
    status_size = (_field(2, len(status["message"].encode())) if status.get("message") else 0) + (
        1 + _varint_size(int(status["code"])) if status.get("code") else 0
    )
    size += _field(15, status_size)
    if span.get("flags"):
        size += 2 + 4  # field 16, fixed32
    return _field(2, size)  # as one of ScopeSpans.spans


# ---------------------------------------------------------------- the printed tables
# The references the issue names: the collector's performance doc (spans/s sustained per CPU) and
# Splunk's sizing guide (per core).
REFERENCES = {
    "collector doc, with tail sampling": 9000,
    "collector doc, without": 12000,
    "Splunk sizing guide": 15000,
}


def _fmt(value, spec: str = ".0f", unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:{spec}}{unit}"


def held_step(config: dict) -> dict:
    """The ramp step of the highest rate held with nothing lost (or {})."""
    held = [step for step in config.get("ramp", []) if not step.get("losses")]
    return max(held, key=lambda step: step["spans_per_second_sent"]) if held else {}


def _mib(values: dict, role: str) -> str:
    picked = [v for k, v in values.items() if role in k]
    return _fmt(max(picked) / 2**20 if picked else None)


def _cores(step: dict, key: str) -> float | None:
    cpu = step.get("cpu") or {}
    if not cpu.get("wall"):
        return None
    value = cpu.get(key)
    if isinstance(value, dict):
        value = sum(value.values())
    return value / cpu["wall"] if value is not None else None


def report_lines(figures: dict) -> list:
    """The benchmark's table, one column per configuration, from its figures (the --json file)."""
    configs = figures.get("configs", {})
    names = [n for n in ("before", "tuned", "helm") if n in configs] + [
        n for n in configs if n not in ("before", "tuned", "helm")
    ]
    rows: list = []

    def row(label: str, values: list) -> None:
        rows.append((label, values))

    held = {n: held_step(configs[n]) for n in names}
    row("rate held 60 s, nothing lost (spans/s)", [_fmt(configs[n].get("held")) for n in names])
    row(
        "  traces/s; log records/s alongside",
        [
            f"{_fmt(held[n].get('spans_per_second_sent', 0) / SPANS_PER_TRACE)}; "
            f"{_fmt(held[n].get('logs_sent', 0) / max(held[n].get('seconds', 1), 1))}"
            if held[n]
            else "-"
            for n in names
        ],
    )
    row(
        "first step that lost, and why",
        [
            next((f"{s['rate']:.0f}: {s['losses'][0]}" for s in configs[n].get("ramp", []) if s.get("losses")), "none")
            for n in names
        ],
    )
    row("agent spans/s per core (at the held rate)", [_fmt(held[n].get("agent_spans_per_core")) for n in names])
    row("gateways spans/s per core", [_fmt(held[n].get("gateway_spans_per_core")) for n in names])
    row("agent + gateways spans/s per core", [_fmt(held[n].get("pipeline_spans_per_core")) for n in names])
    row("agent CPU s per 1,000 spans", [_fmt(held[n].get("agent_cpu_per_1000"), ".3f") for n in names])
    row(
        "each gateway CPU s per 1,000 spans",
        [
            " / ".join(_fmt(v, ".3f") for v in (held[n].get("gateway_cpu_per_1000") or {}).values()) or "-"
            for n in names
        ],
    )
    row(
        "peak memory agent / gateway (MiB)",
        [
            f"{_mib(held[n].get('peak_memory', {}), 'agent')} / {_mib(held[n].get('peak_memory', {}), 'gateway')}"
            for n in names
        ],
    )
    row(
        "added latency p50 / p95 (s)",
        [
            f"{_fmt(held[n]['latency'].get('p50'), '.1f')} / {_fmt(held[n]['latency'].get('p95'), '.1f')}"
            if held[n].get("latency", {}).get("count")
            else "-"
            for n in names
        ],
    )
    row("span size on the wire (bytes)", [_fmt(held[n].get("span_bytes")) for n in names])
    row(
        "sampled share (expected)",
        [
            f"{_fmt(held[n].get('sampled_share'), '.3f')} ({_fmt(held[n].get('expected_sampled_share'), '.3f')})"
            if held[n]
            else "-"
            for n in names
        ],
    )
    row(
        "cores used: pipeline / generator / other",
        [
            " / ".join(
                _fmt(v, ".2f")
                for v in (
                    (_cores(held[n], "agent") or 0) + (_cores(held[n], "gateways") or 0) if held[n] else None,
                    _cores(held[n], "generator"),
                    _cores(held[n], "other"),
                )
            )
            for n in names
        ],
    )
    over = {n: configs[n].get("overload") or {} for n in names}
    row("overload: spans/s sent (2x held)", [_fmt(over[n].get("spans_per_second_sent")) for n in names])
    row("  lost during it", [", ".join(over[n].get("losses") or ["none"]) if over[n] else "-" for n in names])
    row(
        "  refused at agent / gateways (spans)",
        [
            f"{_fmt(over[n].get('agent', {}).get('refused'))} / {_fmt(over[n].get('gateways', {}).get('refused'))}"
            if over[n]
            else "-"
            for n in names
        ],
    )
    row(
        "  peak memory agent / gateway (MiB)",
        [
            f"{_mib(over[n].get('peak_memory', {}), 'agent')} / {_mib(over[n].get('peak_memory', {}), 'gateway')}"
            if over[n]
            else "-"
            for n in names
        ],
    )
    row(
        "  OOM kills / restarts",
        [f"{over[n].get('oom_killed', 0)} / {over[n].get('restarts', 0)}" if over[n] else "-" for n in names],
    )
    row(
        "  recovered after (s); error spans lost after",
        [
            f"{_fmt(over[n].get('recovery', {}).get('seconds'), '.0f')}; {_fmt(over[n].get('after', {}).get('lost'))}"
            if over[n]
            else "-"
            for n in names
        ],
    )
    for key, label in (
        ("fault_gateway", "a gateway Pod deleted (30 s grace)"),
        ("fault_gateway_quick", "a gateway Pod deleted (2 s grace)"),
        ("fault_agent", "the agent restarted"),
    ):
        results = {n: configs[n].get(key) or {} for n in names}
        row(
            f"spans lost, {label} (of sent)",
            [
                f"{_fmt(spans_lost(results[n], key == 'fault_agent'))} of {_fmt(results[n].get('spans_sent'))}"
                if results[n]
                else "-"
                for n in names
            ],
        )
    width = max(len(label) for label, _values in rows) + 2
    columns = [max([len(n)] + [len(values[i]) for _label, values in rows]) + 2 for i, n in enumerate(names)]
    lines = [f"machine: {figures.get('machine', '?')}", f"at the end: {figures.get('end', '?')}", ""]
    lines.append(" " * width + "".join(n.rjust(c) for n, c in zip(names, columns)))
    lines += [label.ljust(width) + "".join(v.rjust(c) for v, c in zip(values, columns)) for label, values in rows]
    lines.append("")
    lines.append("references (spans/s per core): " + "; ".join(f"{k} {v:,}" for k, v in REFERENCES.items()))
    return lines
