"""playbooks/site.yml and render.yml on the shared local node, against the targets of issue 9.

In one run, on the node at OTEL_TEST_NODE (default /tmp/devnode), it measures and prints:

  empty play       ansible-playbook of one debug task on localhost (wall time)
  render.yml       inventories/local and inventories/seed, no cluster (wall time)
  site.yml         first converge from a cleared node (tests/support/site_runs.clear), then the
                   no-op re-run (its changed count is checked), wall time of ansible-playbook; the
                   no-op again without the in-process front (OTEL_KUBERNETES_IN_PROCESS=false)
  kubectl          `kubectl apply --server-side` of the same objects, first and no-op
  requests         what site.yml's no-op sends to the API server, total, per object, discovery
  ratios           no-op / (empty play + kubectl no-op), target <= 2.0;
                   render / (2 x empty play + 1 s), target <= 1.0
  scale            no-op with 1, 10 and 50 instrumented namespaces and with 10 collectors
  profile          one otel.kubernetes.info task vs one debug task vs the runner in Python,
                   and the import time of the module

The same objects for kubectl: read back from the cluster after site.yml, each reduced to the
fields that the collection's field managers (otel.kubernetes*) own by server-side apply, and
applied by kubectl under the same manager names; after kubectl's runs site.yml runs once more
and must change nothing, which shows the set is complete. The node has no audit log, so
requests are counted at the client (benchmarks/request_trace: every HTTP request of
ansible-playbook and its modules; kubectl's own -v=6 lines).

Usage: .venv/bin/python benchmarks/site_benchmark.py [--repeat N] [--quick] [--json FILE]
       [--sections empty_play,profile,site_and_kubectl,render,scale] [--report-from FILE]
It holds `flock -x /tmp/otel-node.lock` around each sequence of site.yml/uninstall.yml runs,
and clears the node of the pipeline at the end. A benchmark, not a test: it prints figures
and says when a no-op run was not one; it fails only when a playbook fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchlib import (
    BIN,
    COLLECTIONS,
    ROOT,
    RequestLog,
    ansible_task_seconds,
    applied_objects,
    classify,
    import_times,
    kubectl_requests,
    machine_facts,
    median,
    node_lock,
    run_playbook,
    top_level_imports,
    total_import_seconds,
    touched_objects,
    use_checkout,
    write_playbook,
)

use_checkout()

import yaml  # noqa: E402
from cluster_access import Cluster  # noqa: E402
from localnode.node import LocalNode  # noqa: E402
from site_runs import clear  # noqa: E402
from upstream import manifest_path  # noqa: E402

MANAGER_PREFIX = "otel.kubernetes"
SCALE_NAMESPACES = (1, 10, 50)
# The operator's real release manifest, read by path (../shared/upstream, or OTEL_OPERATOR_MANIFEST).
OPERATOR_MANIFEST = manifest_path()
EXTRA_GATEWAYS = 9  # with the default gateway: 10 gateway collectors (and the agent)


class Bench:
    def __init__(self, node: LocalNode, work: Path, repeat: int):
        self.node = node
        self.work = work
        self.repeat = repeat
        self.cluster = Cluster(node)
        self.kubectl = node.kubectl
        self.env = {
            "KUBECONFIG": str(node.admin_kubeconfig),
            "K8S_AUTH_KUBECONFIG": str(node.admin_kubeconfig),
            # One discovery cache for the whole run, warm after the first run, as a user's is.
            "XDG_CACHE_HOME": str(work / "cache"),
            "KUBECACHEDIR": str(work / "kubecache"),
        }
        self.requests = RequestLog(work / "requests.log")
        self.figures: dict = {"machine": machine_facts(), "repeat": repeat}

    # ------------------------------------------------------------------ runs
    def playbook(self, *args, count: bool = False, must_pass: bool = True, env: dict | None = None):
        run = run_playbook(list(args), {**self.env, **(env or {})}, self.requests if count else None)
        if must_pass and run.rc != 0:
            raise SystemExit(f"ansible-playbook {' '.join(map(str, args))} failed (rc {run.rc}):\n{run.failure()}")
        return run

    def site(self, *extra, count: bool = False, playbook: Path | None = None, env: dict | None = None):
        return self.playbook(
            playbook or ROOT / "playbooks" / "site.yml",
            "-i",
            ROOT / "inventories" / "local",
            *extra,
            count=count,
            env=env,
        )

    def noop_runs(self, label: str, *extra, playbook: Path | None = None, env: dict | None = None) -> dict:
        """`repeat` re-runs that should change nothing: median seconds, changed counts, requests of the last."""
        runs = [self.site(*extra, count=True, playbook=playbook, env=env) for _run in range(self.repeat)]
        changed = [run.changed for run in runs]
        if any(changed):
            culprits = sorted({name for run in runs for name, _took, was in run.tasks if was})
            print(f"  !! {label}: the re-run was NOT a no-op: changed={changed}; tasks: {culprits}", flush=True)
        return {
            "seconds": median(run.seconds for run in runs),
            "runs": [r.seconds for r in runs],
            "changed": changed,
            "requests": runs[-1].requests,
            "tasks": runs[-1].tasks,
        }

    def kubectl_run(self, *args, check: bool = True) -> tuple:
        started = time.monotonic()
        done = subprocess.run(
            [self.kubectl, *map(str, args)],
            env=dict(os.environ, **self.env),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        if check and done.returncode:
            raise SystemExit(f"kubectl {' '.join(map(str, args))} failed: {done.stderr[-2000:]}")
        return seconds, done

    # ------------------------------------------------------------- sections
    def empty_play(self) -> None:
        path = self.work / "empty.yml"
        path.write_text(
            yaml.safe_dump(
                [
                    {
                        "name": "empty",
                        "hosts": "localhost",
                        "gather_facts": False,
                        "tasks": [{"name": "one", "ansible.builtin.debug": {"msg": "x"}}],
                    }
                ]
            )
        )
        runs = [self.playbook(path).seconds for _run in range(self.repeat)]
        self.figures["empty_play"] = median(runs)
        print(f"empty play: {median(runs):.2f}s  {_runs(runs)}", flush=True)

    def render(self) -> None:
        for inventory in ("local", "seed"):
            out = self.work / f"render-{inventory}"
            # The seed's inventory downloads the operator's release manifest: no network here.
            manifest = ["-e", f"otel_operator_manifest_src={OPERATOR_MANIFEST}"] if inventory == "seed" else []
            runs = []
            for _run in range(self.repeat):
                run = self.playbook(
                    ROOT / "playbooks" / "render.yml",
                    "-i",
                    ROOT / "inventories" / inventory,
                    "-e",
                    f"otel_render_dir={out}",
                    *manifest,
                )
                runs.append(run.seconds)
            self.figures[f"render_{inventory}_slowest"] = slowest(run.tasks)
            files = len(list(out.glob("*.yaml")))
            self.figures[f"render_{inventory}"] = {"seconds": median(runs), "objects": files}
            print(f"render.yml {inventory}: {median(runs):.2f}s  {_runs(runs)}  ({files} objects)", flush=True)

    def site_and_kubectl(self) -> None:
        with node_lock():
            started = time.monotonic()
            clear(self.cluster)
            self.figures["clear"] = time.monotonic() - started
            first = self.site()
            self.figures["site_first"] = {"seconds": first.seconds, "changed": first.changed, "tasks": len(first.tasks)}
            print(
                f"site.yml first converge: {first.seconds:.2f}s (changed={first.changed}, cleared in "
                f"{self.figures['clear']:.1f}s)",
                flush=True,
            )
            noop = self.noop_runs("site.yml")
            self.figures["site_noop"] = noop
            print(
                f"site.yml no-op: {noop['seconds']:.2f}s  {_runs(noop['runs'])}  changed={noop['changed']}", flush=True
            )
            # The same no-op with the modules as ordinary module processes (what ansible-core < 2.19 does).
            modules = self.noop_runs("site.yml as modules", env={"OTEL_KUBERNETES_IN_PROCESS": "false"})
            self.figures["site_noop_modules"] = modules
            print(
                f"site.yml no-op, modules as processes (OTEL_KUBERNETES_IN_PROCESS=false): {modules['seconds']:.2f}s  "
                f"{_runs(modules['runs'])}  changed={modules['changed']}",
                flush=True,
            )
            by_manager = self.read_back(touched_objects(noop["requests"]))
            started = time.monotonic()
            clear(self.cluster)
            self.figures["clear_2"] = time.monotonic() - started
            self.figures["kubectl_first"] = self.kubectl_first(by_manager)
            print(f"kubectl first apply: {self.figures['kubectl_first']['seconds']:.2f}s", flush=True)
            runs = [self.kubectl_apply_all(by_manager) for _run in range(self.repeat)]
            requests = self.kubectl_apply_all(by_manager, verbose=True)
            self.figures["kubectl_noop"] = {"seconds": median(runs), "runs": runs, "requests": requests}
            print(f"kubectl no-op: {median(runs):.2f}s  {_runs(runs)}", flush=True)
            after = self.site()
            self.figures["site_after_kubectl"] = {
                "seconds": after.seconds,
                "changed": after.changed,
                "changed_tasks": [n for n, _t, c in after.tasks if c],
            }
            print(f"site.yml after kubectl's apply: {after.seconds:.2f}s changed={after.changed}", flush=True)

    def read_back(self, touched: set) -> dict:
        """{manager: objects} that the collection's field managers applied, as they applied them,
        limited to those site.yml's no-op PATCHed or read (the shared node holds other tests' objects too)."""
        _seconds, listed = self.kubectl_run("api-resources", "--verbs=list,patch", "--no-headers")
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
        plural = {
            (row.split()[-3], row.split()[-1]): row.split()[0] for row in listed.stdout.splitlines() if row.strip()
        }
        kinds = ",".join(
            sorted(f"{name}.{api.split('/')[0]}" if "/" in api else name for (api, _k), name in plural.items())
        )
        _seconds, got = self.kubectl_run("get", kinds, "-A", "-o", "json", "--show-managed-fields")
        items = [
            item
            for item in json.loads(got.stdout)["items"]
            if (
                item["metadata"].get("namespace", ""),
                plural.get((item["apiVersion"], item["kind"])),
                item["metadata"]["name"],
            )
            in touched
        ]
        by_manager = applied_objects(items, MANAGER_PREFIX)
        self.figures["objects"] = {m: Counter(o["kind"] for o in objs) for m, objs in by_manager.items()}
        total = sum(len(objs) for objs in by_manager.values())
        self.figures["object_count"] = total
        print(
            f"objects applied by {MANAGER_PREFIX}*: {total}  "
            + "; ".join(f"{m}: {dict(c)}" for m, c in self.figures["objects"].items()),
            flush=True,
        )
        for manager, objects in by_manager.items():
            # Secrets among them: the file is the run's own (0600) and deleted with the work folder.
            path = self.work / f"objects-{manager}.json"
            path.touch(mode=0o600)
            path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        return by_manager

    def kubectl_apply_all(self, by_manager: dict, verbose: bool = False):
        total, requests = 0.0, []
        for manager in by_manager:
            extra = ["-v=6"] if verbose else []
            seconds, done = self.kubectl_run(
                "apply",
                "--server-side",
                f"--field-manager={manager}",
                "-f",
                self.work / f"objects-{manager}.json",
                *extra,
            )
            total += seconds
            requests += kubectl_requests(done.stderr)
        return requests if verbose else total

    def kubectl_first(self, by_manager: dict) -> dict:
        """From the cleared node: Namespaces and CRDs, wait until the CRDs are served, then the rest.

        kubectl applies a file in order and cannot map a custom resource before its CRD is
        established; what still fails (e.g. a webhook whose Service has no endpoint yet) is retried.
        """
        total, attempts = 0.0, 0
        early = ("Namespace", "CustomResourceDefinition")
        for phase in ("early", "rest"):
            for manager, objects in by_manager.items():
                chosen = [o for o in objects if (o["kind"] in early) == (phase == "early")]
                if not chosen:
                    continue
                path = self.work / f"first-{phase}-{manager}.json"
                path.touch(mode=0o600)
                path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": chosen}))
                deadline = time.monotonic() + 120
                while True:
                    attempts += 1
                    seconds, done = self.kubectl_run(
                        "apply", "--server-side", f"--field-manager={manager}", "-f", path, check=False
                    )
                    total += seconds
                    if done.returncode == 0:
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit(f"kubectl could not apply the objects: {done.stderr[-2000:]}")
                    time.sleep(1)
                    total += 1
            if phase == "early":
                crds = [
                    o["metadata"]["name"]
                    for objs in by_manager.values()
                    for o in objs
                    if o["kind"] == "CustomResourceDefinition"
                ]
                if crds:
                    seconds, _done = self.kubectl_run(
                        "wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{name}" for name in crds]
                    )
                    total += seconds
        return {"seconds": total, "attempts": attempts}

    def scale(self) -> None:
        self.figures["scale"] = {}
        for count in SCALE_NAMESPACES:
            names = [f"bench-inst-{i:03d}" for i in range(count)]
            variables = self.work / f"instrument-{count}.json"
            variables.write_text(
                json.dumps(
                    {
                        "otel_instrumentation_namespaces": [
                            {"name": name, "languages": ["java", "python"]} for name in names
                        ]
                    }
                )
            )
            namespaces = self.work / f"namespaces-{count}.json"
            namespaces.write_text(
                json.dumps(
                    {
                        "apiVersion": "v1",
                        "kind": "List",
                        "items": [
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in names
                        ],
                    }
                )
            )
            with node_lock():
                self.kubectl_run("apply", "-f", namespaces)
                converge = self.site("-e", f"@{variables}")
                noop = self.noop_runs(f"{count} namespaces", "-e", f"@{variables}")
            self.figures["scale"][f"{count} namespaces"] = {"converge": converge.seconds, **noop}
            print(
                f"scale {count} instrumented namespaces: converge {converge.seconds:.2f}s, "
                f"no-op {noop['seconds']:.2f}s  {_runs(noop['runs'])}",
                flush=True,
            )
        playbook = self.collectors_playbook("present")
        with node_lock():
            converge = self.site(playbook=playbook)
            noop = self.noop_runs("10 collectors", playbook=playbook)
            self.site(playbook=self.collectors_playbook("absent"))
        label = f"{EXTRA_GATEWAYS + 1} gateways"
        self.figures["scale"][label] = {"converge": converge.seconds, **noop}
        print(
            f"scale {label} (+ agent): converge {converge.seconds:.2f}s, no-op {noop['seconds']:.2f}s  "
            f"{_runs(noop['runs'])}",
            flush=True,
        )

    def collectors_playbook(self, state: str) -> Path:
        """site.yml, then the gateway role again for gateways bench-gw-N, each in its own namespace, without TLS."""
        extra = {
            "name": "More gateways",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "A gateway",
                    "ansible.builtin.include_role": {"name": "otel.kubernetes.otel_gateway"},
                    "vars": {
                        "otel_gateway_name": "bench-gw-{{ bench_gateway }}",
                        "otel_gateway_namespace": "bench-gw-{{ bench_gateway }}",
                        "otel_gateway_tls_enabled": False,
                        "otel_gateway_replicas": 1,
                        "otel_gateway_state": state,
                    },
                    "loop": list(range(EXTRA_GATEWAYS)),
                    # The role's own loops use `item`: a name of our own keeps the gateway's name fixed.
                    "loop_control": {"loop_var": "bench_gateway"},
                }
            ],
        }
        plays = (
            [{"ansible.builtin.import_playbook": str(ROOT / "playbooks" / "site.yml")}] if state == "present" else []
        )
        path = self.work / f"collectors-{state}.yml"
        path.write_text(yaml.safe_dump([*plays, extra], sort_keys=False))
        return path

    def cleanup(self) -> None:
        with node_lock():
            clear(self.cluster)
            names = [n["metadata"]["name"] for n in self.cluster.get("/api/v1/namespaces")["items"]]
            ours = [n for n in names if n.startswith(("bench-inst-", "bench-gw-"))]
            if ours:
                self.kubectl_run("delete", "namespace", "--wait=false", *ours)

    def profile(self) -> None:
        """One module task of the collection vs one debug task vs the runner in Python."""
        tasks = {
            "ansible.builtin.debug": {"name": "t", "ansible.builtin.debug": {"msg": "x"}},
            "otel.kubernetes.info": {"name": "t", "otel.kubernetes.info": {"kind": "Namespace", "name": "default"}},
        }
        profile = {}
        for label, task in tasks.items():
            path = write_playbook(self.work / f"profile-{label}.yml", task)
            profile[label] = median(ansible_task_seconds(path, self.env)[0] for _run in range(self.repeat))
        kubeconfig = str(self.node.admin_kubeconfig)
        runner = (
            "import time; t0 = time.monotonic()\n"
            "from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import connection, discovery, info\n"
            "t1 = time.monotonic()\n"
            f"client = connection.KubeClient(connection.resolve_connection({{'kubeconfig': {kubeconfig!r}}}))\n"
            "def run():\n"
            "    runner = info.InfoRunner(client, discovery.Discovery(client), 'default')\n"
            "    runner.run('v1', 'Namespace', None, 'default', None, None)\n"
            "run(); t2 = time.monotonic(); run(); t3 = time.monotonic()\n"
            "print(t1 - t0, t2 - t1, t3 - t2)\n"
        )
        env = dict(os.environ, **self.env, PYTHONPATH=str(COLLECTIONS))
        rounds = []
        for _run in range(self.repeat):
            started = time.monotonic()
            done = subprocess.run(
                [str(BIN / "python"), "-c", runner], env=env, capture_output=True, text=True, check=True
            )
            rounds.append((time.monotonic() - started, *map(float, done.stdout.split())))
        profile["runner: fresh python process"] = median(r[0] for r in rounds)
        profile["runner: imports"] = median(r[1] for r in rounds)
        profile["runner: first call (connect, discovery, GET)"] = median(r[2] for r in rounds)
        profile["runner: second call, same client"] = median(r[3] for r in rounds)
        profile.update(self.ansiballz(write_playbook(self.work / "profile-keep.yml", tasks["otel.kubernetes.info"])))
        started = time.monotonic()
        subprocess.run([str(BIN / "python"), "-c", "pass"], check=True)
        profile["python -c pass"] = time.monotonic() - started
        done = subprocess.run(
            [
                str(BIN / "python"),
                "-X",
                "importtime",
                "-c",
                "import ansible_collections.otel.kubernetes.plugins.modules.info",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        modules = (
            "ansible.module_utils.basic",
            "urllib3",
            "yaml",
            "ssl",
            "json",
            "ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection",
            "ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery",
            "ansible_collections.otel.kubernetes.plugins.modules.info",
        )
        profile["imports"] = import_times(done.stderr, modules)
        self.figures["profile"] = profile

    def ansiballz(self, playbook: Path) -> dict:
        """The module's AnsiballZ payload (kept with ANSIBLE_KEEP_REMOTE_FILES) run alone, and its import time."""
        remote_tmp = self.work / "remote-tmp"
        env = {**self.env, "ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(remote_tmp)}
        ansible_task_seconds(playbook, env)
        payloads = sorted(remote_tmp.rglob("AnsiballZ_*.py"))
        if not payloads:
            return {}
        command = [str(BIN / "python"), str(payloads[0])]
        runs = []
        for _run in range(self.repeat):
            started = time.monotonic()
            subprocess.run(command, env=dict(os.environ, **self.env), capture_output=True, check=True)
            runs.append(time.monotonic() - started)
        done = subprocess.run(
            [command[0], "-X", "importtime", command[1]],
            env=dict(os.environ, **self.env),
            capture_output=True,
            text=True,
            check=True,
        )
        return {
            "AnsiballZ payload run alone (python AnsiballZ_info.py)": median(runs),
            "AnsiballZ payload: all imports (sum of own times)": total_import_seconds(done.stderr),
            "payload_imports": top_level_imports(done.stderr),
        }

    # ---------------------------------------------------------------- table
    def report(self) -> None:
        f = self.figures
        print()
        print(f"machine: {f['machine']}")
        print(f"at the end: {machine_facts()}")
        print(
            f"node: Kubernetes 1.34 local node with the operator stand-in; median of {f['repeat']} runs; "
            "wall time of the process"
        )
        print()
        print(f"{'what':58} {'seconds':>8}")

        def row(label, value, note=""):
            print(f"{label:58} {value:8.2f}  {note}")

        empty = f.get("empty_play", float("nan"))  # nan: not measured in this run (--sections)
        row("empty play (1 debug task, localhost)", empty)
        for inventory in ("local", "seed"):
            if f"render_{inventory}" in f:
                r = f[f"render_{inventory}"]
                row(f"render.yml -i inventories/{inventory}", r["seconds"], f"{r['objects']} objects")
        if "site_noop" in f:
            noop, kfirst, knoop = f["site_noop"], f["kubectl_first"], f["kubectl_noop"]
            row(
                "site.yml first converge (cleared node)",
                f["site_first"]["seconds"],
                f"changed={f['site_first']['changed']}",
            )
            row(
                "site.yml no-op re-run",
                noop["seconds"],
                f"changed={noop['changed']}" + ("" if not any(noop["changed"]) else "  NOT A NO-OP"),
            )
            if "site_noop_modules" in f:
                modules = f["site_noop_modules"]
                row(
                    "site.yml no-op, without the in-process front",
                    modules["seconds"],
                    f"OTEL_KUBERNETES_IN_PROCESS=false: {modules['seconds'] / noop['seconds']:.1f}x the no-op, "
                    f"changed={modules['changed']}",
                )
            row(
                f"kubectl apply --server-side first ({f['object_count']} objects)",
                kfirst["seconds"],
                f"{kfirst['attempts']} kubectl runs incl. CRD wait",
            )
            row("kubectl apply --server-side no-op", knoop["seconds"])
            after = f["site_after_kubectl"]
            row(
                "site.yml after kubectl's apply (same objects?)",
                after["seconds"],
                f"changed={after['changed']} {after['changed_tasks'] or ''}",
            )
            print()
            ratio = noop["seconds"] / (empty + knoop["seconds"])
            print(
                f"no-op / (empty play + kubectl no-op) = {noop['seconds']:.2f} / ({empty:.2f} + "
                f"{knoop['seconds']:.2f}) = {ratio:.2f}x   (target <= 2.0x)"
            )
            print(f"no-op / empty play = {noop['seconds'] / empty:.1f}x")
        if "render_local" in f:
            render = f["render_local"]["seconds"]
            print(
                f"render (local) / (2 x empty + 1 s) = {render:.2f} / {2 * empty + 1:.2f} = "
                f"{render / (2 * empty + 1):.2f}   (target <= 1.0)"
            )
        for key, label in (("render_local_slowest", "render.yml local"), ("site_noop", "site.yml no-op")):
            if key not in f:
                continue
            tasks = f[key] if key.endswith("slowest") else slowest(f[key]["tasks"])
            if tasks:
                print(f"slowest tasks of {label}: " + "; ".join(f"{took:.2f}s {name}" for name, took in tasks))
        if "site_noop" in f:
            print()
            self.report_requests("site.yml no-op", f["site_noop"]["requests"], f["object_count"])
            self.report_requests("kubectl no-op", f["kubectl_noop"]["requests"], f["object_count"])
        if f.get("scale"):
            print()
            print(f"{'scale (no-op re-run)':40} {'converge':>9} {'no-op':>8} {'requests':>9}  changed")
            for label, s in f["scale"].items():
                print(f"{label:40} {s['converge']:8.2f}s {s['seconds']:7.2f}s {len(s['requests']):9}  {s['changed']}")
        if f.get("profile"):
            print()
            print("per-task cost")
            for label, value in f["profile"].items():
                if label not in ("imports", "payload_imports"):
                    row(f"  {label}", value)
            for module, seconds in f["profile"].get("payload_imports", []):
                short = module.replace("ansible_collections.otel.kubernetes.plugins.", "otel.kubernetes ")
                row(f"  payload imports {short} (cumulative)", seconds)
            for module, seconds in f["profile"]["imports"].items():
                short = module.replace("ansible_collections.otel.kubernetes.plugins.", "otel.kubernetes ")
                row(f"  import {short} (cumulative)", seconds)

    @staticmethod
    def report_requests(label: str, requests: list, objects: int) -> None:
        split = classify(requests)
        per_object = Counter(path for _method, path in split["object"])
        verbs = Counter(method for method, _path in split["object"] + split["collection"])
        worst = per_object.most_common(1)
        print(
            f"{label}: {len(requests)} requests = {len(split['discovery'])} discovery + {len(split['object'])} on "
            f"{len(per_object)} objects + {len(split['collection'])} lists/creates of collections; "
            f"{len(split['object']) / max(objects, 1):.2f} object requests per object ({objects} objects), "
            f"at most {worst[0][1] if worst else 0} on one; verbs {dict(verbs)}"
        )
        repeated = [f"{path} x{n}" for path, n in per_object.most_common() if n > 1]
        if repeated:
            print(f"  more than one request: {'; '.join(repeated)}")
        collections = Counter(f"{method} {path}" for method, path in split["collection"])
        if collections:
            print(f"  collections: {'; '.join(f'{what} x{n}' for what, n in collections.most_common())}")


def slowest(tasks: list, count: int = 6) -> list:
    """The tasks that took longest, summed by name (a loop or a role run twice is one line)."""
    totals: Counter = Counter()
    for name, took, _changed in tasks:
        totals[name] += took
    return [(name, round(took, 2)) for name, took in totals.most_common(count)]


def _runs(values) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in values) + "]"


def main() -> int:
    parser = argparse.ArgumentParser(description="site.yml / render.yml benchmark (issue 9)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed thing (the median is printed)")
    parser.add_argument("--quick", action="store_true", help="skip the scale runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--sections",
        help="run only these, comma-separated, of empty_play, profile, site_and_kubectl, render, scale",
    )
    parser.add_argument("--report-from", type=Path, help="print the table of an earlier run's --json file, run nothing")
    args = parser.parse_args()
    if args.report_from:
        bench = Bench.__new__(Bench)
        bench.figures = json.loads(args.report_from.read_text())
        bench.report()
        return 0
    node = LocalNode(os.environ.get("OTEL_TEST_NODE", "/tmp/devnode"))
    if not node.running():
        raise SystemExit(f"no local node is running in {node.dir} (set OTEL_TEST_NODE)")
    with tempfile.TemporaryDirectory(prefix="otel-site-bench-") as work:
        bench = Bench(node, Path(work), args.repeat)
        sections = [bench.empty_play, bench.profile, bench.site_and_kubectl, bench.render]
        if not args.quick:
            sections.append(bench.scale)
        if args.sections:
            sections = [getattr(bench, name) for name in args.sections.split(",")]
        failed = []
        try:
            for section in sections:
                # One section failing (a playbook error) leaves the others' figures to report.
                try:
                    section()
                except (SystemExit, AssertionError) as error:
                    failed.append(f"{section.__name__}: {error}")
                    print(f"!! {section.__name__} failed: {error}", flush=True)
                if args.json:
                    args.json.write_text(json.dumps(bench.figures, indent=1, default=str))
        finally:
            bench.cleanup()
        bench.report()
        for failure in failed:
            print(f"\nFAILED {failure[:3000]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
