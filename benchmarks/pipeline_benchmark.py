"""How much the pipeline that site.yml deploys carries (issue 21), on the local node.

The pipeline as the roles deploy it (tests/support/pipeline.py: the operator's release manifest,
certificates, the gateway with its default 3 replicas, tail sampling and mTLS, the agent DaemonSet
routing traces by trace ID; the collectors' Pods made by the operator stand-in as the operator
makes them, with Kubernetes' 30 s termination grace period), a trace stand-in that stamps each
span's arrival time, and telemetrygen Jobs on the same node sending traces of 5 spans of about 1 KB
(20 attributes), 5% errors and 5% slow (600 ms spans), plus log records (a tenth of the span rate)
and metrics, to the agent's node-local Service.

Phases (each for every configuration of --configs: before, tuned, helm, limited):

  ramp      rising rates (--rates), each held --hold seconds (60), until a step loses anything:
            sent = accepted at the agent = accepted at the gateways, every trace decided, nothing
            refused, dropped too early, queue full or failed, no restart. Per step: CPU seconds per
            1,000 spans of the agent and of each gateway (the Pods' cgroups), peak memory (working
            set), the latency added (span end to arrival at the trace stand-in), the generator's
            own CPU, and what else used the machine's cores.
  overload  twice the held rate for --hold seconds, then half of it for 90 s: refusals (the
            memory_limiter), peak memory against the limit, OOM kills, restarts, the time until
            the queues are empty and refusals stop, and whether the half-rate traffic after
            that arrives whole (every error trace: the errors policy keeps them all).
  faults    half the held rate for 90 s, one gateway Pod deleted at 30 s; again with the agent's
            Pod deleted at 30 s: error spans sent minus error spans at the trace stand-in
            (every error trace is kept, so each one missing is lost), scaled to all spans.

Configurations: `tuned` is the collection's defaults; `before` the defaults before issue 21's
tuning (BEFORE_TUNING, as role variables); `helm` the opentelemetry-collector chart's default
config (CHART_VERSION's values.yaml `config`: its processors, receivers, extension and telemetry)
given as `otel_*_helm_values`, so mapped by the collection's helm_values module, with the
pipeline's exporters (and the gateway's tail_sampling) in place of the chart's debug exporter;
`limited` the collection's defaults with a 768Mi gateway memory limit (LIMITED), for the overload
only (`--configs limited --phase overload --held limited=SPANS_PER_S`): at the default 2Gi twice
the rate held never reaches the memory_limiter.

Node: OTEL_TEST_NODE=DIR uses a running node; otherwise the benchmark starts its own under
`flock -x /tmp/otel-node.lock` (taken here, or by the parent that runs it under `flock -x`) and
stops it at the end. It prints figures and never fails on them.

  .venv/bin/python benchmarks/pipeline_benchmark.py --json /tmp/pipeline.json          # everything
  .venv/bin/python benchmarks/pipeline_benchmark.py --configs tuned --phase ramp --rates 1000,2000
  .venv/bin/python benchmarks/pipeline_benchmark.py --configs tuned --phase overload,faults --held tuned=3000
  .venv/bin/python benchmarks/pipeline_benchmark.py --report-from /tmp/pipeline.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from benchlib import machine_facts, use_checkout
from pipelinelib import (
    AGENT_COUNTERS,
    ARRIVAL_ATTRIBUTE,
    CHILD_SPANS,
    GATEWAY_COUNTERS,
    GAUGES,
    SPANS_PER_TRACE,
    STEP_ATTRIBUTE,
    StepCount,
    cpu_per_thousand,
    delta,
    expected_sampled_share,
    latency_summary,
    losses,
    parse_generated,
    per_core,
    read_counters,
    report_lines,
    senders,
    span_attributes,
    span_wire_bytes,
    spans_lost,
)

use_checkout()

from cluster_access import Cluster  # noqa: E402
from localnode.build import BUSYBOX_IMAGE  # noqa: E402
from localnode.collector import build_collectors  # noqa: E402
from localnode.node import LocalNode  # noqa: E402
from operator_standin import apply  # noqa: E402
from pipeline import (  # noqa: E402
    agent_service,
    apps_namespace,
    backend_config,
    deploy_pipeline,
    pipeline_settings,
    scrape,
    wait_for,
)
from upstream import ENV as OPERATOR_MANIFEST_ENV  # noqa: E402
from upstream import operator_manifest  # noqa: E402

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import agent as agent_preset  # noqa: E402
from ansible_collections.otel.kubernetes.plugins.module_utils.presets import (  # noqa: E402
    gateway as gateway_preset,
)

LOCK = "/tmp/otel-node.lock"
CGROUP = Path("/sys/fs/cgroup")
# Kubernetes' default terminationGracePeriodSeconds: what the operator's collector Pods get when the
# OpenTelemetryCollector sets none (the collection sets none; the operator stand-in does the same).
OPERATOR_GRACE_SECONDS = 30
LOG_SHARE = 0.1  # log records per span sent
METRIC_POINTS_PER_SECOND = 100
# The full run's ramp (README): fine enough near the 6,000-11,000 spans/s where configurations part, and
# its top is about what the generator sends on 2 cores beside the pipeline.
DEFAULT_RATES = "3000,5000,6500,8000,9500,11000"
RECOVERY_SECONDS = 90
STEADY_QUEUE = 10  # requests in all exporters' queues together that count as no backlog
FAULT_SECONDS, FAULT_AT = 90, 30
# (figures key, Pod deleted, grace period: None is the Pod's own, OPERATOR_GRACE_SECONDS)
FAULTS = (("fault_gateway", "gateway", None), ("fault_gateway_quick", "gateway", 2), ("fault_agent", "agent", None))

# The collection's defaults before issue 21's tuning, as role variables (what item 4 changed).
BEFORE_TUNING: dict = {
    "otel_gateway_batch": {"timeout": "5s", "send_batch_size": 8192},
    # The per-gateway exporters of the agent's loadbalancing exporter had their own queue and retry.
    "otel_agent_config_extra": {
        "exporters": {
            "loadbalancing": {
                "protocol": {"otlp": {"sending_queue": {"enabled": True}, "retry_on_failure": {"enabled": True}}}
            }
        }
    },
}

# The collection's defaults with a gateway memory limit that twice the held rate overruns (its peak there
# was 653 MiB of the default 2Gi): the memory_limiter's soft limit is then 768 x (80% - 25%) = 422 MiB, above
# the held rate's 366 MiB, so the overload shows what the limiter does before the container limit.
LIMITED: dict = {
    "otel_gateway_resources": {
        "limits": {"cpu": "1", "memory": "768Mi"},
        "requests": {"cpu": "200m", "memory": "512Mi"},
    }
}

# opentelemetry-collector chart 0.170.0 (appVersion 0.158.0), values.yaml `config`: the keys the
# baseline takes from it. Its jaeger and zipkin receivers are not in this node's collector build.
CHART_VERSION = "0.170.0"
CHART_PROCESSORS = {
    "batch": {},
    "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
}
CHART_HEALTH_CHECK = {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}}
CHART_SELF_SCRAPE = {
    "prometheus": {
        "config": {
            "scrape_configs": [
                {
                    "job_name": "opentelemetry-collector",
                    "scrape_interval": "10s",
                    "static_configs": [{"targets": ["${env:MY_POD_IP}:8888"]}],
                }
            ]
        }
    }
}
CHART_TELEMETRY = {
    "resource": {
        "k8s.namespace.name": "${env:OTEL_K8S_NAMESPACE}",
        "k8s.node.name": "${env:OTEL_K8S_NODE_NAME}",
        "k8s.pod.name": "${env:OTEL_K8S_POD_NAME}",
    },
    "metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": 8888}}}}]},
}


def role_settings(settings: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in settings.items() if k.startswith(prefix) and k != prefix + "helm_values"}


def chart_config(config: dict, traces_processors: list) -> dict:
    """A preset's configuration with the chart's default processors, self-scrape, health_check and
    telemetry in place of the collection's (its receivers' TLS and its exporters kept)."""
    config = copy.deepcopy(config)
    kept = {name: config["processors"][name] for name in traces_processors if name in config["processors"]}
    config["processors"] = {**copy.deepcopy(CHART_PROCESSORS), **kept}
    config["receivers"].update(copy.deepcopy(CHART_SELF_SCRAPE))
    config["extensions"] = copy.deepcopy(CHART_HEALTH_CHECK)
    config["service"]["telemetry"] = copy.deepcopy(CHART_TELEMETRY)
    for name, pipeline in config["service"]["pipelines"].items():
        middle = traces_processors if name == "traces" else []
        pipeline["processors"] = ["memory_limiter", *middle, "batch"]
        if name == "metrics":
            pipeline["receivers"] = [*pipeline["receivers"], "prometheus"]
    return config


def helm_baseline(settings: dict) -> dict:
    """Role variables giving the agent and the gateway the chart's default config as Helm values."""
    gateway = gateway_preset.build(role_settings(settings, "otel_gateway_"))
    agent = agent_preset.build(role_settings(settings, "otel_agent_"))
    assert not gateway.errors and not agent.errors, (gateway.errors, agent.errors)
    return {
        "otel_gateway_helm_values": {"config": chart_config(gateway.options["config"], ["tail_sampling"])},
        "otel_agent_helm_values": {"config": chart_config(agent.options["config"], [])},
    }


def trace_standin_config() -> dict:
    """The backends' configuration, the trace stand-in stamping each span's arrival (wall clock, ns)."""
    config = backend_config()
    statement = f'set(attributes["{ARRIVAL_ATTRIBUTE}"], UnixNano(Now()))'
    config["processors"] = {"transform": {"trace_statements": [{"context": "span", "statements": [statement]}]}}
    config["service"]["pipelines"]["traces"]["processors"] = ["transform"]
    return config


# ---------------------------------------------------------------------------------------- the node
def lock_holder_is_an_ancestor() -> bool:
    """Whether the node lock is held by this process's parent chain (`flock -x LOCK python ...`)."""
    try:
        inode = os.stat(LOCK).st_ino
        holders = [
            int(parts[4])
            for parts in (line.split() for line in Path("/proc/locks").read_text().splitlines())
            if len(parts) > 5 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode)
        ]
    except OSError:
        return False
    pid = os.getppid()
    while pid > 1:
        if pid in holders:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


@contextlib.contextmanager
def the_node():
    """OTEL_TEST_NODE's running node, or a node of our own under the machine's lock."""
    if os.environ.get("OTEL_TEST_NODE"):
        node = LocalNode(os.environ["OTEL_TEST_NODE"])
        if not node.running():
            raise SystemExit(f"OTEL_TEST_NODE={node.dir}: no node is running there")
        yield node
        return
    with contextlib.ExitStack() as stack:
        if not lock_holder_is_an_ancestor():
            handle = stack.enter_context(open(LOCK, "a"))
            waited = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            print(f"node lock taken after {time.monotonic() - waited:.0f}s", flush=True)
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="otel-pipeline-bench-node-"))
        node = LocalNode(folder, tied_to_parent=True)
        started = time.monotonic()
        try:
            node.start()
            print(f"node started in {time.monotonic() - started:.0f}s", flush=True)
            yield node
        finally:
            node.stop()


# ------------------------------------------------------------------------------------ measuring
def pod_cgroup(uid: str) -> dict:
    """The cpuacct and memory cgroup folders of a Pod (cgroup v1, cgroupfs driver)."""
    found = {}
    for controller in ("cpuacct", "cpu", "memory"):
        root = CGROUP / controller / "kubepods"
        for candidate in (root / f"pod{uid}", root / "burstable" / f"pod{uid}", root / "besteffort" / f"pod{uid}"):
            if candidate.is_dir():
                found[controller] = candidate
                break
    return found


def read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def read_stat(path: Path) -> dict:
    try:
        return {key: int(value) for key, value in (line.split() for line in path.read_text().splitlines())}
    except (OSError, ValueError):
        return {}


def working_set(folder: Path) -> int:
    """memory.usage_in_bytes less inactive file pages, as the kubelet counts a Pod's memory."""
    usage = read_int(folder / "memory.usage_in_bytes")
    return max(0, usage - read_stat(folder / "memory.stat").get("total_inactive_file", 0))


def machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def role_of(pod: dict) -> str:
    name = pod["metadata"]["name"]
    for prefix, role in (
        ("otel-gateway-collector-", "gateway"),
        ("otel-agent-collector-", "agent"),
        ("backends-collector-", "backends"),
        ("load-", "generator"),
    ):
        if name.startswith(prefix):
            return role
    return "other"


class Sampler(threading.Thread):
    """Reads every second the cgroups of the pipeline's Pods, and every 2 s the collectors' metrics,
    keeping the first and last reading of each Pod (a deleted Pod keeps its last) and the peaks."""

    def __init__(self, cluster: Cluster, namespaces: tuple):
        super().__init__(daemon=True)
        self.cluster, self.namespaces = cluster, namespaces
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.pods: dict = {}  # uid -> {name, role, ip, first_cpu, cpu, peak, first_counters, counters, ...}
        self.series: list = []  # (t, {"refused": n, "queue": n}) for recovery
        self.machine_start = machine_cpu_seconds()
        self.started = time.monotonic()
        self.initial = True  # Pods found after the first refresh started during the step: they count from 0

    def refresh(self) -> None:
        for namespace in self.namespaces:
            for pod in self.cluster.pods(namespace):
                uid = pod["metadata"]["uid"]
                with self.lock:
                    entry = self.pods.setdefault(
                        uid,
                        {
                            "name": pod["metadata"]["name"],
                            "role": role_of(pod),
                            "ip": None,
                            "cgroup": {},
                            "first_cpu": None,
                            "cpu": 0.0,
                            "first_throttled": None,
                            "throttled": 0.0,
                            "peak": 0,
                            "first": None,
                            "last": None,
                            "new": not self.initial,
                        },
                    )
                    entry["ip"] = pod.get("status", {}).get("podIP") or entry["ip"]
                    entry["status"] = pod.get("status", {})
                    if not entry["cgroup"]:
                        entry["cgroup"] = pod_cgroup(uid)

    def read_cgroups(self) -> None:
        with self.lock:
            for entry in self.pods.values():
                folders = entry["cgroup"]
                if "cpuacct" in folders:
                    ns = read_int(folders["cpuacct"] / "cpuacct.usage")
                    if ns >= 0:
                        entry["cpu"] = ns / 1e9
                        if entry["first_cpu"] is None:
                            entry["first_cpu"] = 0.0 if entry["new"] else entry["cpu"]
                if "cpu" in folders:
                    stat = read_stat(folders["cpu"] / "cpu.stat")
                    if "throttled_time" in stat:
                        entry["throttled"] = stat["throttled_time"] / 1e9
                        if entry["first_throttled"] is None:
                            entry["first_throttled"] = 0.0 if entry["new"] else entry["throttled"]
                if "memory" in folders and folders["memory"].is_dir():
                    entry["peak"] = max(entry["peak"], working_set(folders["memory"]))

    def scrape_collectors(self) -> None:
        refused = queue = 0.0
        with self.lock:
            targets = [(uid, e) for uid, e in self.pods.items() if e["role"] in ("agent", "gateway") and e["ip"]]
        for _uid, entry in targets:
            try:
                text = scrape(entry["ip"], 8888)
            except OSError:
                continue
            which = AGENT_COUNTERS if entry["role"] == "agent" else GATEWAY_COUNTERS
            counters = read_counters(text, which)
            gauges = read_counters(text, GAUGES)
            counters["memory_limiter_refused"] = read_counters(text, {"x": ("otelcol_processor_refused_spans", {})})[
                "x"
            ]
            with self.lock:
                if entry["first"] is None:
                    entry["first"] = {} if entry["new"] else counters
                entry["last"] = counters
                entry["gauges"] = gauges
            refused += counters["refused"]
            queue += gauges["queue_size"]
        self.series.append((time.monotonic(), {"refused": refused, "queue": queue}))

    def run(self) -> None:
        tick = 0
        while not self.stop_event.is_set():
            if tick % 5 == 0:
                with contextlib.suppress(Exception):
                    self.refresh()
            self.read_cgroups()
            if tick % 2 == 0:
                with contextlib.suppress(Exception):
                    self.scrape_collectors()
            tick += 1
            self.stop_event.wait(1)

    def finish(self) -> dict:
        self.stop_event.set()
        self.join(timeout=30)
        with contextlib.suppress(Exception):
            self.refresh()
        self.read_cgroups()
        with contextlib.suppress(Exception):
            self.scrape_collectors()
        return {
            "pods": self.pods,
            "series": self.series,
            "seconds": time.monotonic() - self.started,
            "machine_cpu": machine_cpu_seconds() - self.machine_start,
        }


# ------------------------------------------------------------------------------------ the load
def generator_script(step: str, spans_per_second: float, seconds: int) -> str:
    """The shell script of a generator Pod: every sender at once, then each one's report."""
    common = (
        f"--otlp-endpoint $AGENT:4317 --otlp-insecure --duration {seconds}s "
        f"--otlp-attributes 'k8s.pod.ip=\"'$POD_IP'\"' --otlp-attributes '{STEP_ATTRIBUTE}=\"{step}\"'"
    )
    attributes = " ".join(f"--telemetry-attributes '{a}'" for a in span_attributes())
    lines = ["T=/tg/telemetrygen", "cd /tmp"]
    for sender in senders(spans_per_second):
        extra = f"--status-code {sender.status}"
        if sender.span_duration:
            extra += f" --span-duration {sender.span_duration}"
        lines.append(
            f"$T traces {common} --service bench-{sender.kind} --child-spans {CHILD_SPANS} "
            f"--workers {sender.workers} --rate {sender.rate_per_worker} {extra} {attributes} "
            f"> {sender.kind}.log 2>&1 &"
        )
    log_rate = spans_per_second * LOG_SHARE
    if log_rate > 0:
        workers = max(1, int(log_rate // 500) + 1)
        lines.append(
            f"$T logs {common} --service bench-logs --workers {workers} --rate {log_rate / workers:.2f} "
            f"--allow-export-failures --body 'GET /api/v1/orders/12345 200 12ms' > logs.log 2>&1 &"
        )
        lines.append(
            f"$T metrics {common} --service bench-metrics --rate {METRIC_POINTS_PER_SECOND} "
            f"--allow-export-failures > metrics.log 2>&1 &"
        )
    lines.append("wait")
    lines.append(
        'for f in *.log; do echo "== ${f%.log} =="; grep " generated" "$f"; '
        'grep -i -E "error|failed|dropped" "$f" | grep -v -e Canceled -e "connection is closing" > err.txt; '
        'echo "export errors: $(wc -l < err.txt)"; tail -2 err.txt; done'
    )
    return "\n".join(lines) + "\n"


def generator_job(namespace: str, name: str, agent: str, script: str) -> dict:
    telemetrygen = build_collectors()["binaries"]["telemetrygen"]
    container = {
        "name": "load",
        "image": BUSYBOX_IMAGE,
        "command": ["sh", "-c", script],
        "env": [
            {"name": "AGENT", "value": agent},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        "volumeMounts": [{"name": "tg", "mountPath": "/tg", "readOnly": True}],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"app": "load", "step": name}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container],
                    "volumes": [
                        {"name": "tg", "hostPath": {"path": str(Path(telemetrygen).parent), "type": "Directory"}}
                    ],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }


# ---------------------------------------------------------------------------------- the benchmark
class Bench:
    def __init__(self, cluster: Cluster, work: Path, hold: int):
        self.cluster = cluster
        self.node = cluster.node
        self.work = work
        self.hold = hold
        self.figures: dict = {"machine": machine_facts(), "hold": hold, "configs": {}}
        self.namespace = ""
        self.out = Path()
        self.offset = 0  # how far the trace stand-in's file was read
        self.arrived: dict = {}  # step -> [(service, span)] read from it and not yet counted

    def kubectl(self, *args, check=True, input_text=None):
        return self.node.kubectl_run(*args, check=check, input_text=input_text)

    # -------------------------------------------------------------- deploy / remove
    @staticmethod
    def settings_for(config: str, namespace: str) -> dict:
        apps = apps_namespace(namespace)
        settings = pipeline_settings(
            namespace,
            otel_gateway_tempo_endpoint=f"tempo.{apps}:4317",
            otel_gateway_loki_endpoint=f"http://loki.{apps}:3100/otlp",
        )
        if config == "before":
            settings.update(BEFORE_TUNING)
        elif config == "helm":
            settings.update(helm_baseline(settings))
        elif config == "limited":
            settings.update(LIMITED)
        return settings

    def deploy(self, config: str) -> None:
        self.namespace = "bench-" + uuid.uuid4().hex[:6]
        self.out = Path(tempfile.mkdtemp(prefix=f"otel-pipeline-bench-{config}-"))
        self.out.chmod(0o777)  # the backends run as user 10001
        self.offset = 0
        self.arrived = {}
        settings = self.settings_for(config, self.namespace)
        started = time.monotonic()
        collectors = deploy_pipeline(self.cluster, self.namespace, self.out, settings, backend=trace_standin_config())
        gateway = next(c for c in collectors if c["metadata"]["name"] == "otel-gateway")
        agent = next(c for c in collectors if c["metadata"]["name"] == "otel-agent")
        config_of = {"gateway": gateway["spec"]["config"], "agent": agent["spec"]["config"]}
        self.figures["configs"].setdefault(config, {})["deployed"] = {
            "seconds": round(time.monotonic() - started, 1),
            "replicas": gateway["spec"].get("replicas"),
            "resources": {"gateway": gateway["spec"].get("resources"), "agent": agent["spec"].get("resources")},
            "processors": {k: v["processors"] for k, v in config_of.items()},
            "exporters": {"agent": config_of["agent"]["exporters"].get("loadbalancing")},
        }
        print(f"[{config}] deployed in {time.monotonic() - started:.0f}s (namespace {self.namespace})", flush=True)
        time.sleep(10)  # the agents' resolver finds the gateways; k8sattributes' informer syncs

    def remove(self) -> None:
        if self.namespace and not os.environ.get("OTEL_TEST_KEEP"):
            apps = apps_namespace(self.namespace)
            self.kubectl("delete", "namespace", self.namespace, apps, "--wait=false", "--ignore-not-found", check=False)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and (
                self.cluster.get(f"/api/v1/namespaces/{self.namespace}")
                or self.cluster.get(f"/api/v1/namespaces/{apps}")
            ):
                time.sleep(2)
            shutil.rmtree(self.out, ignore_errors=True)
        self.namespace = ""

    # -------------------------------------------------------------- one step
    def start_load(self, step: str, rate: float, seconds: int) -> str:
        name = f"load-{step}"
        apps = apps_namespace(self.namespace)
        script = generator_script(step, rate, seconds)
        apply(self.node, [generator_job(apps, name, agent_service(self.namespace), script)])
        return name

    def wait_load(self, name: str, seconds: int) -> str:
        apps = apps_namespace(self.namespace)
        deadline = time.monotonic() + seconds + 180
        while time.monotonic() < deadline:
            job = self.cluster.get(f"/apis/batch/v1/namespaces/{apps}/jobs/{name}") or {}
            status = job.get("status", {})
            if status.get("succeeded") or status.get("failed"):
                break
            time.sleep(2)
        logs = self.kubectl("-n", apps, "logs", f"job/{name}", check=False)
        return logs.stdout

    def drain(self, sampler: Sampler, decision_wait: float) -> None:
        """Until the gateways' decisions and exports stop changing (at least decision_wait + 5 s)."""
        time.sleep(decision_wait + 5)
        previous, stable, deadline = None, 0, time.monotonic() + 120
        while time.monotonic() < deadline and stable < 2:
            time.sleep(3)
            with sampler.lock:
                now = [
                    (e["last"] or {}).get(k) for e in sampler.pods.values() for k in ("decided", "exported", "accepted")
                ]
                queues = sum((e.get("gauges") or {}).get("queue_size", 0) for e in sampler.pods.values())
            stable = stable + 1 if now == previous and not queues else 0
            previous = now

    def backend_spans(self, step: str) -> list:
        """(service, span) of the step's spans that reached the trace stand-in (read once, kept per step)."""
        path = self.out / "traces.jsonl"
        if path.exists():
            with open(path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
            end = data.rfind(b"\n") + 1
            self.offset += end
            for line in data[:end].splitlines():
                try:
                    request = json.loads(line)
                except ValueError:
                    continue
                for resource_spans in request.get("resourceSpans", []):
                    attrs = {
                        a["key"]: next(iter(a["value"].values()), None)
                        for a in resource_spans.get("resource", {}).get("attributes", [])
                    }
                    found = self.arrived.setdefault(attrs.get(STEP_ATTRIBUTE), [])
                    service = attrs.get("service.name", "")
                    for scope in resource_spans.get("scopeSpans", []):
                        found.extend((service, span) for span in scope.get("spans", []))
        return self.arrived.pop(step, [])

    def step(
        self, label: str, rate: float, seconds: int, decision_wait: float, fault: str = "", grace=None, then=None
    ) -> dict:
        """One load step; `fault`: delete a gateway or the agent Pod FAULT_AT s in (`grace`: its grace
        period in seconds, else the Pod's own); `then`: (rate, seconds) of a second load right after
        the first (overload's return to normal)."""
        step = f"{label}-{uuid.uuid4().hex[:4]}"
        sampler = Sampler(self.cluster, (self.namespace, apps_namespace(self.namespace)))
        sampler.refresh()
        sampler.initial = False
        sampler.read_cgroups()
        sampler.scrape_collectors()
        sampler.start()
        started = time.monotonic()
        job = self.start_load(step, rate, seconds)
        fault_info = {}
        if fault:
            time.sleep(FAULT_AT)
            role = "otel-gateway-collector-" if fault == "gateway" else "otel-agent-collector-"
            victim = next(p for p in self.cluster.pods(self.namespace) if p["metadata"]["name"].startswith(role))
            fault_info = {
                "pod": victim["metadata"]["name"],
                "at": round(time.monotonic() - started, 1),
                "grace": grace if grace is not None else OPERATOR_GRACE_SECONDS,
            }
            extra = [f"--grace-period={grace}"] if grace is not None else []
            self.kubectl("-n", self.namespace, "delete", "pod", victim["metadata"]["name"], "--wait=false", *extra)
        output = self.wait_load(job, seconds)
        load_end = time.monotonic()
        second = {}
        if then:
            second_step = f"{label}-after-{uuid.uuid4().hex[:4]}"
            second_job = self.start_load(second_step, then[0], then[1])
            second = {"step": second_step, "output": self.wait_load(second_job, then[1])}
        if fault:
            wait_for(
                self.cluster, self.namespace, "deployment/otel-gateway-collector", "daemonset/otel-agent-collector"
            )
        self.drain(sampler, decision_wait)
        sampled = sampler.finish()
        result = self.summarise(step, rate, seconds, output + second.get("output", ""), sampled, started)
        result["fault"] = fault_info
        result["collector_errors"] = self.collector_errors()
        if then:
            first = parse_generated(output)
            result["overload_spans_sent"] = sum(g.get("traces", 0) for g in first.values()) * SPANS_PER_TRACE
            result["spans_per_second_sent"] = round(result["overload_spans_sent"] / seconds, 1)
            result["recovery"] = self.recovery(sampled["series"], load_end)
            result["after"] = self.error_tracer(second["step"], parse_generated(second["output"]))
            result["after"]["rate"] = then[0]
        self.kubectl("-n", apps_namespace(self.namespace), "delete", "jobs", "-l", "app=load", check=False)
        with contextlib.suppress(Exception):
            self.kubectl("-n", apps_namespace(self.namespace), "delete", "job", "--all", "--wait=false", check=False)
        return result

    def collector_errors(self) -> dict:
        """The last error and warning lines of each collector's log (why something failed)."""
        found = {}
        for pod in self.cluster.pods(self.namespace):
            name = pod["metadata"]["name"]
            if role_of(pod) not in ("agent", "gateway"):
                continue
            logs = self.kubectl("-n", self.namespace, "logs", name, "--tail=2000", check=False).stdout
            lines = [
                line
                for line in logs.splitlines()
                if ("\terror\t" in line or "\twarn\t" in line) and "alias is deprecated" not in line
            ]
            if lines:
                # The message, and the error the collector logs in its fields (the reason), briefly.
                found[name] = [
                    line.split("\t")[4][:160]
                    + (" | " + line[line.find('"error"') :][:400] if '"error"' in line else "")
                    if line.count("\t") >= 4
                    else line[-400:]
                    for line in lines[-3:]
                ]
        return found

    def error_tracer(self, step: str, generated: dict) -> dict:
        """Error spans sent vs error spans at the trace stand-in (the errors policy keeps each one)."""
        sent = generated.get("errors", {}).get("traces", 0) * SPANS_PER_TRACE
        spans = {s["spanId"] for service, s in self.backend_spans(step) if service == "bench-errors"}
        return {"error_spans_sent": sent, "error_spans_arrived": len(spans), "lost": sent - len(spans)}

    @staticmethod
    def recovery(series: list, load_end: float) -> dict:
        """Seconds after the overload ended until refusals stopped growing and the exporters' queues were
        back to their steady few requests (the half-rate load goes on meanwhile)."""
        last_busy = load_end
        for (_t0, a), (t1, b) in zip(series, series[1:]):
            if t1 > load_end and (b["refused"] > a["refused"] or b["queue"] > STEADY_QUEUE):
                last_busy = t1
        return {"seconds": round(max(0.0, last_busy - load_end), 1)}

    def summarise(self, step: str, rate: float, seconds: int, output: str, sampled: dict, started: float) -> dict:
        generated = parse_generated(output)
        traces = sum(g.get("traces", 0) for g in generated.values())
        logs = sum(g.get("logs", 0) for g in generated.values())
        pods = sampled["pods"]
        by_role: dict = {}
        for entry in pods.values():
            by_role.setdefault(entry["role"], []).append(entry)

        def counters(role: str) -> dict:
            total: dict = {}
            for entry in by_role.get(role, []):
                if entry["last"] is None:
                    continue
                for key, value in delta(entry["first"] or {}, entry["last"]).items():
                    total[key] = total.get(key, 0.0) + value
            return total

        def cpu(entry) -> float:
            return entry["cpu"] - (entry["first_cpu"] if entry["first_cpu"] is not None else entry["cpu"])

        def throttled(entry) -> float:
            first = entry["first_throttled"]
            return entry["throttled"] - (first if first is not None else entry["throttled"])

        restarts = oom = 0
        for entry in by_role.get("agent", []) + by_role.get("gateway", []):
            for status in entry.get("status", {}).get("containerStatuses", []):
                restarts += status.get("restartCount", 0)
                if (status.get("lastState", {}).get("terminated") or {}).get("reason") == "OOMKilled":
                    oom += 1
        count = StepCount(
            seconds=seconds,
            generated_traces=traces,
            generated_logs=logs,
            agent=counters("agent"),
            gateways=counters("gateway"),
            restarts=restarts,
            oom_killed=oom,
        )
        arrived = self.backend_spans(step)
        count.backend_spans = len(arrived)
        latency = [
            (
                int(next(a["value"]["intValue"] for a in s["attributes"] if a["key"] == ARRIVAL_ATTRIBUTE))
                - int(s["endTimeUnixNano"])
            )
            / 1e9
            for service, s in arrived
            if service != "bench-slow" and any(a["key"] == ARRIVAL_ATTRIBUTE for a in s["attributes"])
        ]
        sizes = [span_wire_bytes(s) for _service, s in arrived[:2000]]
        error_spans = {s["spanId"] for service, s in arrived if service == "bench-errors"}
        agent_cpu = sum(cpu(e) for e in by_role.get("agent", []))
        gateway_cpu = {e["name"]: cpu(e) for e in by_role.get("gateway", [])}
        gateway_accepted = {
            e["name"]: delta(e["first"] or {}, e["last"] or {}).get("accepted", 0.0) for e in by_role.get("gateway", [])
        }
        generator_cpu = sum(cpu(e) for e in by_role.get("generator", []))
        pipeline_cpu = agent_cpu + sum(gateway_cpu.values())
        backends_cpu = sum(cpu(e) for e in by_role.get("backends", []))
        wall = sampled["seconds"]
        spans = count.generated_spans
        return {
            "step": step,
            "rate": rate,
            "seconds": seconds,
            "generated": generated,
            "spans_sent": spans,
            "spans_per_second_sent": round(spans / seconds, 1),
            "logs_sent": logs,
            "agent": count.agent,
            "gateways": count.gateways,
            "backend_spans": count.backend_spans,
            "expected_sampled_share": expected_sampled_share(),
            "sampled_share": round(count.gateways.get("sampled", 0) / traces, 4) if traces else None,
            "error_spans": {
                "sent": generated.get("errors", {}).get("traces", 0) * SPANS_PER_TRACE,
                "arrived": len(error_spans),
            },
            "losses": losses(count),
            "restarts": restarts,
            "oom_killed": oom,
            "cpu": {
                "agent": agent_cpu,
                "gateways": gateway_cpu,
                "generator": generator_cpu,
                "backends": backends_cpu,
                "machine": sampled["machine_cpu"],
                "other": sampled["machine_cpu"] - pipeline_cpu - generator_cpu - backends_cpu,
                "wall": wall,
            },
            "agent_cpu_per_1000": cpu_per_thousand(agent_cpu, count.agent.get("accepted", 0)),
            "gateway_cpu_per_1000": {
                name: cpu_per_thousand(gateway_cpu[name], gateway_accepted.get(name, 0)) for name in gateway_cpu
            },
            "agent_spans_per_core": per_core(count.agent.get("accepted", 0), agent_cpu),
            "gateway_spans_per_core": per_core(count.gateways.get("accepted", 0), sum(gateway_cpu.values())),
            "pipeline_spans_per_core": per_core(spans, pipeline_cpu),
            "peak_memory": {e["name"]: e["peak"] for e in by_role.get("agent", []) + by_role.get("gateway", [])},
            # CPU-limit throttling (cgroup cpu.stat throttled_time), seconds over the step.
            "throttled": {e["name"]: throttled(e) for e in by_role.get("agent", []) + by_role.get("gateway", [])},
            "latency": latency_summary(latency),
            "span_bytes": round(sum(sizes) / len(sizes), 1) if sizes else None,
            "started": round(started, 1),
        }

    # -------------------------------------------------------------- phases
    def decision_wait(self, config: str) -> float:
        settings = self.settings_for(config, "x")
        given = settings.get("otel_gateway_tail_sampling") or gateway_preset.SETTINGS["tail_sampling"].default
        text = str(given.get("decision_wait", "10s"))
        return float(text[:-1]) if text.endswith("s") and not text.endswith("ms") else 10.0

    def ramp(self, config: str, rates: list) -> None:
        figures = self.figures["configs"].setdefault(config, {})
        figures["ramp"] = []
        wait = self.decision_wait(config)
        for rate in rates:
            result = self.step(f"ramp{int(rate)}", rate, self.hold, wait)
            figures["ramp"].append(result)
            print_step(config, result)
            achieved = result["spans_per_second_sent"]
            if result["losses"]:
                break
            if achieved < 0.8 * rate:
                print(f"  the generator sent {achieved:.0f} spans/s of {rate:.0f}: it is the limit here", flush=True)
                break
        held = [r for r in figures["ramp"] if not r["losses"]]
        figures["held"] = max((r["spans_per_second_sent"] for r in held), default=0)
        print(f"[{config}] held with nothing lost: {figures['held']:.0f} spans/s", flush=True)

    def overload(self, config: str, held: float) -> None:
        wait = self.decision_wait(config)
        result = self.step("overload", 2 * held, self.hold, wait, then=(held / 2, RECOVERY_SECONDS))
        self.figures["configs"].setdefault(config, {})["overload"] = result
        print_step(config, result)
        print(f"  recovery: {result['recovery']}; after: {result['after']}", flush=True)

    def faults(self, config: str, held: float, which: tuple = ()) -> None:
        wait = self.decision_wait(config)
        figures = self.figures["configs"].setdefault(config, {})
        for key, fault, grace in FAULTS:
            if which and key not in which:
                continue
            result = self.step(f"fault-{fault}", held / 2, FAULT_SECONDS, wait, fault=fault, grace=grace)
            sent, arrived = result["error_spans"]["sent"], result["error_spans"]["arrived"]
            result["lost_error_spans"] = sent - arrived
            result["lost_share"] = (sent - arrived) / sent if sent else None
            result["lost_spans_estimate"] = spans_lost(result, fault == "agent")
            figures[key] = result
            print_step(config, result)
            print(
                f"  {fault} Pod deleted at {result['fault'].get('at')}s (grace {result['fault'].get('grace')}s): "
                f"error spans {arrived} of {sent} arrived; lost about {result['lost_spans_estimate']} of "
                f"{result['spans_sent']} spans",
                flush=True,
            )


def print_step(config: str, r: dict) -> None:
    mib = {k.rsplit("-", 1)[-1]: round(v / 2**20) for k, v in r["peak_memory"].items()}
    cpu = r["cpu"]
    throttled = {k.rsplit("-", 1)[-1]: round(v, 1) for k, v in r.get("throttled", {}).items()}
    print(
        f"[{config}] {r['step']}: sent {r['spans_sent']} spans ({r['spans_per_second_sent']:.0f}/s), "
        f"agent accepted {r['agent'].get('accepted', 0):.0f}, gateways {r['gateways'].get('accepted', 0):.0f}, "
        f"decided {r['gateways'].get('decided', 0):.0f} of {r['spans_sent'] // SPANS_PER_TRACE} traces, "
        f"at the stand-in {r['backend_spans']} (sampled {r['sampled_share']}); "
        f"CPU s/1000 spans agent {r['agent_cpu_per_1000']:.3f}, gateways "
        f"{', '.join(f'{v:.3f}' for v in r['gateway_cpu_per_1000'].values())}; "
        f"cores used: pipeline {(cpu['agent'] + sum(cpu['gateways'].values())) / cpu['wall']:.2f}, generator "
        f"{cpu['generator'] / cpu['wall']:.2f}, other {cpu['other'] / cpu['wall']:.2f}; peak MiB {mib}; "
        f"throttled s {throttled}; "
        f"latency {fmt_latency(r['latency'])}; span {r['span_bytes']} B; losses: {r['losses'] or 'none'}",
        flush=True,
    )


def fmt_latency(summary: dict) -> str:
    if not summary.get("count"):
        return "-"
    return f"p50 {summary['p50']:.1f}s p95 {summary['p95']:.1f}s max {summary['max']:.1f}s"


def report(figures: dict) -> None:
    print()
    print("\n".join(report_lines(figures)))


def main() -> int:
    parser = argparse.ArgumentParser(description="pipeline throughput benchmark (issue 21)")
    parser.add_argument("--phase", default="ramp,overload,faults", help="ramp, overload, faults (comma-separated)")
    parser.add_argument("--configs", default="tuned,before,helm", help="tuned, before, helm, limited (comma-separated)")
    parser.add_argument("--rates", default=DEFAULT_RATES, help="ramp rates in spans/s (comma-separated)")
    parser.add_argument("--hold", type=int, default=60, help="seconds each rate is held")
    parser.add_argument("--held", default="", help="CONFIG=SPANS_PER_S,... for overload/faults without a ramp")
    parser.add_argument(
        "--faults",
        default="",
        help="only these of " + ", ".join(key for key, _fault, _grace in FAULTS) + " (comma-separated)",
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file (after every phase)")
    parser.add_argument("--report-from", type=Path, help="print the tables of an earlier --json, run nothing")
    args = parser.parse_args()
    if args.report_from:
        report(json.loads(args.report_from.read_text()))
        return 0
    phases = args.phase.split(",")
    given_held = dict(item.split("=") for item in args.held.split(",") if item)
    rates = [float(r) for r in args.rates.split(",")]
    # The operator's release manifest, which deploy_pipeline installs as the tests do (the role's default
    # reads this variable; tests/support/upstream.py says where the file is looked for).
    os.environ[OPERATOR_MANIFEST_ENV] = str(operator_manifest())
    with the_node() as node, tempfile.TemporaryDirectory(prefix="otel-pipeline-bench-") as work:
        build_collectors()
        cluster = Cluster(node, work)
        bench = Bench(cluster, Path(work), args.hold)
        bench.figures["rates"] = rates
        for config in args.configs.split(","):
            try:
                bench.deploy(config)
                if "ramp" in phases:
                    bench.ramp(config, rates)
                held = float(given_held.get(config, 0)) or bench.figures["configs"][config].get("held", 0)
                if "overload" in phases and held:
                    bench.overload(config, held)
                if "faults" in phases and held:
                    bench.faults(config, held, tuple(f for f in args.faults.split(",") if f))
            finally:
                bench.remove()
                bench.figures["end"] = machine_facts()
                if args.json:
                    args.json.write_text(json.dumps(bench.figures, indent=1, default=str))
        report(bench.figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
