"""What the benchmarks share: timing ansible-playbook and kubectl, and counting API requests.

Requests are counted two ways: from an API server's audit log (a node started with
``LocalNode(audit=True)``, as apply_benchmark.py does) or, on the shared node that has no
audit log, at the client (RequestLog: Python processes through request_trace/sitecustomize.py,
kubectl through its ``-v=6`` request lines).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
COLLECTIONS = ROOT / ".build" / "collections"


def use_checkout() -> None:
    """Import this checkout as the collection otel.kubernetes, with tools/ and tests/support (as
    tests/conftest.py does): a benchmark then runs the code and the helpers the tests run."""
    link = COLLECTIONS / "ansible_collections" / "otel" / "kubernetes"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT, link)
    for extra in (COLLECTIONS, ROOT / "tools", ROOT / "tests" / "support"):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))


TRACE_DIR = Path(__file__).resolve().parent / "request_trace"
ANSIBLE_ENV = {
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "ANSIBLE_STDOUT_CALLBACK": "json",
    "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_LOCALHOST_WARNING": "false",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
}


class AuditCounter:
    """Counts requests in the audit log written since mark(), per user agent prefix."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def count(self, agent_prefix: str) -> dict:
        counts: dict = {}
        with open(self.path) as handle:
            handle.seek(self.offset)
            for line in handle:
                event = json.loads(line)
                if event.get("stage") != "ResponseComplete" or not event.get("userAgent", "").startswith(agent_prefix):
                    continue
                counts[event["verb"]] = counts.get(event["verb"], 0) + 1
        return counts


def _parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def ansible_task_seconds(playbook: Path, env: dict) -> tuple:
    """(task seconds, task result) for the single task of a playbook (the task's own duration)."""
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook)],
        cwd=ROOT,
        env=dict(os.environ, **ANSIBLE_ENV, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    task = report["plays"][0]["tasks"][0]
    result = task["hosts"]["localhost"]
    if result.get("failed"):
        raise SystemExit(f"{playbook.name} failed: {result.get('msg')}")
    duration = task["task"]["duration"]
    return (_parse_time(duration["end"]) - _parse_time(duration["start"])).total_seconds(), result


def write_playbook(path: Path, task: dict) -> Path:
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    return path


@dataclass
class PlaybookTiming:
    seconds: float  # wall time of the ansible-playbook process
    rc: int
    changed: int  # the play recap's changed count for localhost
    tasks: list  # (name, seconds, changed) per task result
    stderr: str
    requests: list = field(default_factory=list)  # RequestLog lines, when counted

    def failure(self) -> str:
        return self.stderr[-1500:]


def run_playbook(args: list, env: dict, request_log: RequestLog | None = None) -> PlaybookTiming:
    """ansible-playbook ARGS from the checkout's root, timed as a whole; requests logged if asked."""
    run_env = dict(os.environ, **ANSIBLE_ENV, **env)
    if request_log:
        request_log.clear()
        run_env.update(request_log.env())
    started = time.monotonic()
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), *[str(a) for a in args]],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    tasks, changed = [], -1
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = {}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            took = 0.0
            if duration.get("start") and duration.get("end"):
                took = (_parse_time(duration["end"]) - _parse_time(duration["start"])).total_seconds()
            for result in task.get("hosts", {}).values():
                tasks.append((task["task"]["name"], took, bool(result.get("changed"))))
    if report.get("stats"):
        changed = sum(host.get("changed", 0) for host in report["stats"].values())
    stderr = done.stderr if done.returncode == 0 else (done.stdout[-3000:] + done.stderr)
    return PlaybookTiming(seconds, done.returncode, changed, tasks, stderr, request_log.read() if request_log else [])


class RequestLog:
    """The requests that Python processes started with env() made, one (method, host, path) a line."""

    def __init__(self, path: Path):
        self.path = path

    def env(self) -> dict:
        python_path = os.pathsep.join(p for p in (str(TRACE_DIR), os.environ.get("PYTHONPATH", "")) if p)
        return {"PYTHONPATH": python_path, "OTEL_BENCH_REQUEST_LOG": str(self.path)}

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def read(self) -> list:
        if not self.path.exists():
            return []
        return [tuple(line.split(" ", 2)) for line in self.path.read_text().splitlines() if line.count(" ") >= 2]


# kubectl -v=6: 'I1130 ... round_trippers.go:632] "Response" verb="GET" url="https://..." status="200 OK" ...'
# (older kubectl: 'GET https://... 200 OK in 3 milliseconds').
_KUBECTL_REQUEST = re.compile(
    r'verb="(?P<verb>[A-Z]+)" url="(?P<url>[^"]+)"|\] (?P<verb2>[A-Z]+) (?P<url2>https?://\S+) \d'
)


def kubectl_requests(stderr: str) -> list:
    """(method, host, path) of each request in kubectl -v=6 output."""
    found = []
    for line in stderr.splitlines():
        match = _KUBECTL_REQUEST.search(line)
        if not match or ("Response" not in line and match.group("verb")):
            continue
        verb = match.group("verb") or match.group("verb2")
        url = urlsplit(match.group("url") or match.group("url2"))
        found.append((verb, url.netloc, url.path + (f"?{url.query}" if url.query else "")))
    return found


# /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION, /version, /openapi/...
DISCOVERY = re.compile(r"^/api(/[^/]+)?/?$|^/apis(/[^/]+){0,2}/?$|^/version|^/openapi/")


def classify(requests: list) -> dict:
    """Requests split into discovery, object (a named object or its subresource) and collection."""
    split: dict = {"discovery": [], "object": [], "collection": []}
    for method, _host, target in requests:
        path = target.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if DISCOVERY.match(path):
            split["discovery"].append((method, path))
            continue
        # /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]] or /apis/G/V[/namespaces/NS]/PLURAL[/NAME[/SUB]]
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) >= 3:
            rest = rest[2:]
        kind = "object" if len(rest) >= 2 else "collection"
        split[kind].append((method, path))
    return split


def touched_objects(requests: list) -> set:
    """(namespace or "", plural, name) of every object a run PATCHed or read by name: what it
    manages (a no-op sends no PATCH for a Secret it read and found holding what it applies)."""
    found = set()
    for method, path in classify(requests)["object"]:
        parts = path.strip("/").split("/")
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        namespace = ""
        if len(rest) >= 4 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if method in ("PATCH", "GET") and len(rest) == 2:
            found.add((namespace, rest[0], rest[1]))
    return found


def owned_part(value, fields):
    """The part of `value` that a managedFields entry's fieldsV1 says its manager owns."""
    if not fields:
        return value
    if isinstance(value, dict):
        out = {}
        for key, sub in fields.items():
            if key.startswith("f:") and key[2:] in value:
                out[key[2:]] = owned_part(value[key[2:]], sub)
        return out
    if isinstance(value, list):
        kept = []
        for index, item in enumerate(value):
            for key, sub in fields.items():
                if key.startswith("k:"):
                    match = json.loads(key[2:])
                    if isinstance(item, dict) and all(item.get(k) == v for k, v in match.items()):
                        kept.append({**match, **owned_part(item, sub)})
                        break
                elif key.startswith("v:") and json.loads(key[2:]) == item:
                    kept.append(item)
                    break
                elif key == f"i:{index}":
                    kept.append(owned_part(item, sub))
                    break
        return kept
    return value


def applied_objects(items: list, manager_prefix: str) -> dict:
    """{manager: [object as that manager applied it]} of the items with an Apply entry of such a manager."""
    by_manager: dict = {}
    for item in items:
        for entry in item.get("metadata", {}).get("managedFields") or []:
            manager = entry.get("manager", "")
            if entry.get("operation") != "Apply" or not manager.startswith(manager_prefix) or entry.get("subresource"):
                continue
            body = owned_part(item, entry.get("fieldsV1") or {})
            meta = {k: v for k, v in item["metadata"].items() if k in ("name", "namespace")}
            meta.update(body.get("metadata") or {})
            body.update(apiVersion=item["apiVersion"], kind=item["kind"], metadata=meta)
            by_manager.setdefault(manager, []).append(body)
    return by_manager


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def machine_facts() -> str:
    cpu = "?"
    with suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = "?"
    with suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    python = platform.python_version()
    return f"{now}; {os.cpu_count()} cores ({cpu}), {memory}; load {load}; Python {python}; {platform.platform()}"


def import_times(stderr: str, names: tuple) -> dict:
    """{module: cumulative seconds} for the named modules in `python -X importtime` output."""
    found = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if name in names and cumulative.isdigit():
            found[name] = int(cumulative) / 1e6
    return found


def top_level_imports(stderr: str, count: int = 5) -> list:
    """[(module, cumulative seconds)] of the slowest imports made directly by the program (not nested)."""
    found = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _self, cumulative, name = line[len("import time:") :].split("|")
        if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
            found.append((name.strip(), int(cumulative) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:count]


def total_import_seconds(stderr: str) -> float:
    """Every import's own time added up, from `python -X importtime` output."""
    total = 0
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            own = line[len("import time:") :].split("|")[0].strip()
            total += int(own) if own.isdigit() else 0
    return total / 1e6


@contextmanager
def node_lock(path: str = "/tmp/otel-node.lock", exclusive: bool = True):
    """The shared node's lock (as `flock -x` / `flock -s`), held for the block."""
    with open(path, "a") as handle:
        waited = time.monotonic()
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        waited = time.monotonic() - waited
        if waited > 1:
            print(f"  (waited {waited:.0f}s for the node lock)", flush=True)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
