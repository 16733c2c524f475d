# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway's size from the load it is expected to carry (role variable otel_gateway_expected_load).

The rule, with the figures of benchmarks/pipeline_benchmark.py (spans of about 1 KB, 20 attributes,
tail sampling with the role's policies; README "Benchmark"):

  cores     = spans/s / SPANS_PER_CORE + log records/s / LOG_RECORDS_PER_CORE
  replicas  = max(2, ceil(cores / (CPU limit of a replica x TARGET_CPU)))     (autoscaler minReplicas)
  maxReplicas = 2 x replicas                                                  (twice the load)
  traces/s of a replica = spans/s / spans per trace / replicas
  num_traces  = traces/s of a replica x decision_wait x 2, rounded up to 1,000   (per replica)
  waiting   = spans/s of a replica x (decision_wait + 1 s batch) x BYTES_PER_WAITING_SPAN
  memory request = BASE_MEMORY + waiting;  limit = (BASE_MEMORY + 2 x waiting) / 0.8
                                          (the memory_limiter and GOMEMLIMIT act at 80% of it)

Pure: no cluster, no I/O.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from ansible_collections.otel.kubernetes.plugins.module_utils.collector.model import duration_seconds

# From benchmarks/pipeline_benchmark.py (README, Benchmark): a gateway core carried 43,000-48,000 spans/s
# (0.021-0.025 CPU s per 1,000 spans of 1.3 KB, 3 policies, mTLS, at the rate held); the rule counts about
# half, for spans and policies heavier than the benchmark's (the collector's doc: 9,000 with tail sampling).
SPANS_PER_CORE = 25000
LOG_RECORDS_PER_CORE = 10000  # Splunk's sizing guide (the benchmark's logs only ride along the spans)
TARGET_CPU = 0.6  # the autoscaler's targetCPUUtilization: a replica's share of its CPU limit at the expected load
BASE_MEMORY_MIB = 64  # a gateway's working set with no trace waiting (50-60 MiB measured)
# Working set per span held for its decision, GC headroom included: the busiest of 3 gateways, over the mean
# spans a replica holds, measured 7.5-8.2 KB at 8,000-20,000 spans/s (so the uneven split is in it).
BYTES_PER_WAITING_SPAN = 8192
BATCH_SECONDS = 1  # the batch timeout a sampled span waits on top of decision_wait
SPANS_PER_TRACE = 5  # when the expected load does not say
MIN_REPLICAS = 2  # one replica may go (PodDisruptionBudget maxUnavailable 1) and the other carries on
KEYS = ("spans_per_second", "log_records_per_second", "spans_per_trace")
_CPU = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m?)$")


def decision_wait(tail_sampling) -> float:
    """The tail_sampling settings' decision_wait in seconds (the processor's default: 30 s)."""
    settings = tail_sampling if isinstance(tail_sampling, dict) else {}
    return duration_seconds(settings.get("decision_wait"), 30.0)


def cpu_cores(value) -> float:
    """A Kubernetes CPU quantity (`1`, `1.5`, `500m`) in cores; 0 when it is not understood."""
    found = _CPU.match(str(value if value is not None else "").strip())
    if not found:
        return 0.0
    return float(found.group(1)) / (1000 if found.group(2) else 1)


def check(expected, variable: str = "otel_gateway_expected_load") -> list:
    """Errors naming the variable, the value and the fix; empty when `expected` is usable ({} is: no sizing)."""
    if expected in (None, {}):
        return []
    if not isinstance(expected, dict):
        return [
            f"{variable} is {json.dumps(expected, default=str)}; give a mapping such as {{spans_per_second: 20000}}."
        ]
    errors = [
        f"{variable}.{key}: not a key of the expected load; use {', '.join(KEYS)}."
        for key in sorted(set(expected) - set(KEYS))
    ]
    for key in KEYS:
        value = expected.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            errors.append(f"{variable}.{key} is {json.dumps(value, default=str)}; give a number of 0 or more.")
    if not errors and not (expected.get("spans_per_second") or expected.get("log_records_per_second")):
        errors.append(
            f"{variable} gives neither spans_per_second nor log_records_per_second above 0; give the load the "
            "gateway is expected to carry, or leave the variable empty ({}) to keep the role's sizes."
        )
    if not errors and expected.get("spans_per_trace") is not None and expected["spans_per_trace"] < 1:
        errors.append(f"{variable}.spans_per_trace is {expected['spans_per_trace']}; a trace has at least 1 span.")
    return errors


@dataclass
class Sizing:
    spans_per_second: float
    log_records_per_second: float
    spans_per_trace: float
    decision_wait: float
    cpu_limit: float
    cores: float
    replicas: int
    max_replicas: int
    traces_per_second_per_replica: float
    num_traces: int
    memory_request_mib: int
    memory_limit_mib: int

    @property
    def new_traces_per_second(self) -> float:
        return self.spans_per_second / self.spans_per_trace

    def arithmetic(self) -> list:
        """The derivation, one line each (the role publishes it in its status)."""
        waiting = self.traces_per_second_per_replica * self.spans_per_trace * (self.decision_wait + BATCH_SECONDS)
        return [
            f"cores = {self.spans_per_second:g} spans/s / {SPANS_PER_CORE} + {self.log_records_per_second:g} "
            f"log records/s / {LOG_RECORDS_PER_CORE} = {self.cores:.2f}",
            f"replicas = max({MIN_REPLICAS}, ceil({self.cores:.2f} / ({self.cpu_limit:g} CPU x {TARGET_CPU}))) = "
            f"{self.replicas}; autoscaler {self.replicas}..{self.max_replicas}",
            f"traces/s per replica = {self.spans_per_second:g} / {self.spans_per_trace:g} spans per trace / "
            f"{self.replicas} = {self.traces_per_second_per_replica:.0f}",
            f"num_traces = {self.traces_per_second_per_replica:.0f} x {self.decision_wait:g} s decision_wait x 2 = "
            f"{self.num_traces}",
            f"memory: {self.traces_per_second_per_replica * self.spans_per_trace:.0f} spans/s x "
            f"({self.decision_wait:g} s + {BATCH_SECONDS} s) = {waiting:.0f} spans waiting x "
            f"{BYTES_PER_WAITING_SPAN} B = "
            f"{waiting * BYTES_PER_WAITING_SPAN / 2**20:.0f} MiB; request {BASE_MEMORY_MIB} MiB + that = "
            f"{self.memory_request_mib}Mi; limit ({BASE_MEMORY_MIB} MiB + 2 x that) / 0.8 = {self.memory_limit_mib}Mi",
        ]


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def size(expected: dict, decision_wait: float, cpu_limit: float) -> Sizing:
    """The gateway's size for a checked expected load (check() found nothing)."""
    spans = float(expected.get("spans_per_second") or 0)
    logs = float(expected.get("log_records_per_second") or 0)
    per_trace = float(expected.get("spans_per_trace") or SPANS_PER_TRACE)
    cpu = cpu_limit if cpu_limit > 0 else 1.0
    cores = spans / SPANS_PER_CORE + logs / LOG_RECORDS_PER_CORE
    replicas = max(MIN_REPLICAS, math.ceil(cores / (cpu * TARGET_CPU)))
    traces_per_replica = spans / per_trace / replicas
    num_traces = max(1000, _round_up(traces_per_replica * decision_wait * 2, 1000))
    waiting_mib = traces_per_replica * per_trace * (decision_wait + BATCH_SECONDS) * BYTES_PER_WAITING_SPAN / 2**20
    request = _round_up(BASE_MEMORY_MIB + waiting_mib, 64)
    limit = _round_up((BASE_MEMORY_MIB + 2 * waiting_mib) / 0.8, 64)
    return Sizing(
        spans_per_second=spans,
        log_records_per_second=logs,
        spans_per_trace=per_trace,
        decision_wait=decision_wait,
        cpu_limit=cpu,
        cores=cores,
        replicas=replicas,
        max_replicas=2 * replicas,
        traces_per_second_per_replica=traces_per_replica,
        num_traces=num_traces,
        memory_request_mib=request,
        memory_limit_mib=max(limit, request),
    )
