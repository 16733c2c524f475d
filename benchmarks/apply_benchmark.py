"""Apply 41 objects three ways on the local node and print the figures.

The set (from docs: 1 Namespace, 10 ConfigMaps, 10 Services, 10 Deployments, 10
ClusterRoles) is applied, then re-applied unchanged, with:

  (a) otel.kubernetes.apply       src: FILE
  (b) kubernetes.core.k8s         src: FILE, apply: true, server_side_apply
  (c) kubectl apply --server-side -f FILE

Time for (a) and (b) is the task's own duration from Ansible's json callback (not
Ansible's start-up); for (c) it is the kubectl process. Requests are counted from the
API server's audit log, by user agent. Targets on the re-apply: (a) at most 2.0x (c),
(b) at least 2x slower than (a), and 1 request per object for (a).

Usage: .venv/bin/python benchmarks/apply_benchmark.py [--repeat N]
This is a benchmark, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import yaml  # noqa: E402
from benchlib import AuditCounter, ansible_task_seconds, write_playbook  # noqa: E402
from localnode.node import LocalNode  # noqa: E402


def object_set(prefix: str) -> str:
    """41 ordinary objects in namespace <prefix>, cluster-scoped names prefixed too."""
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prefix}}]
    for i in range(10):
        labels = {"app": f"app-{i}"}
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"config-{i}", "namespace": prefix},
                "data": {"index": str(i), "level": "info"},
            }
        )
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"svc-{i}", "namespace": prefix},
                "spec": {
                    "selector": labels,
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                },
            }
        )
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"app-{i}", "namespace": prefix},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "containers": [
                                {
                                    "name": "app",
                                    "image": "registry.example/app:1.0",
                                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                }
                            ]
                        },
                    },
                },
            }
        )
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": f"{prefix}-reader-{i}"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False)


def main() -> int:
    parser = argparse.ArgumentParser(description="apply benchmark")
    parser.add_argument("--repeat", type=int, default=5, help="re-apply runs per tool (median is printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="otel-bench-"))
    plane = LocalNode(work / "node", audit=True)
    try:
        plane.start()
        env = {
            "KUBECONFIG": str(plane.admin_kubeconfig),
            "XDG_CACHE_HOME": str(work / "cache"),
            "KUBECACHEDIR": str(work / "kubecache"),
        }
        audit = AuditCounter(plane.audit_log)
        figures = {}

        files = {tool: work / f"{tool}.yaml" for tool in ("otel", "kcore", "kubectl")}
        for tool, path in files.items():
            path.write_text(object_set(f"bench-{tool}"))
        playbooks = {
            "otel": write_playbook(
                work / "otel.yml", {"name": "otel", "otel.kubernetes.apply": {"src": str(files["otel"])}}
            ),
            "kcore": write_playbook(
                work / "kcore.yml",
                {
                    "name": "kcore",
                    "kubernetes.core.k8s": {
                        "src": str(files["kcore"]),
                        "apply": True,
                        "server_side_apply": {"field_manager": "bench-kcore"},
                    },
                },
            ),
        }
        agents = {"otel": "otel.kubernetes", "kcore": "OpenAPI-Generator", "kubectl": "kubectl"}

        def run_once(tool: str) -> tuple:
            audit.mark()
            if tool == "kubectl":
                started = time.monotonic()
                done = subprocess.run(
                    [plane.kubectl, "apply", "--server-side", "-f", str(files["kubectl"])],
                    env=dict(os.environ, **env),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds = time.monotonic() - started
                if done.returncode:
                    raise SystemExit(f"kubectl failed: {done.stderr}")
                changed = "serverside-applied (always)"
            else:
                seconds, result = ansible_task_seconds(playbooks[tool], env)
                changed = result.get("changed")
            time.sleep(0.3)  # blocking audit mode: events are written before the response, but be safe
            return seconds, audit.count(agents[tool]), changed

        tools = ("otel", "kcore", "kubectl")
        firsts = {tool: run_once(tool) for tool in tools}
        # Interleaved rounds: noise on this machine hits the three tools alike.
        rounds = [{tool: run_once(tool) for tool in tools} for _round in range(args.repeat)]
        for tool in tools:
            runs = [r[tool] for r in rounds]
            figures[tool] = {
                "first": firsts[tool][0],
                "first_requests": firsts[tool][1],
                "reapply": statistics.median(r[0] for r in runs),
                "reapply_requests": runs[-1][1],
                "reapply_changed": runs[-1][2],
            }

        names = {
            "otel": "otel.kubernetes.apply",
            "kcore": "kubernetes.core.k8s (ssa)",
            "kubectl": "kubectl apply --server-side",
        }
        print(f"41 objects on the local node (Kubernetes 1.34), re-apply median of {args.repeat}\n")
        print(f"{'tool':30} {'first':>8} {'re-apply':>9} {'req/obj':>8}  re-apply requests        changed")
        for tool, fig in figures.items():
            total = sum(fig["reapply_requests"].values())
            verbs = ", ".join(f"{v} {n}" for v, n in sorted(fig["reapply_requests"].items()))
            print(
                f"{names[tool]:30} {fig['first']:7.3f}s {fig['reapply']:8.3f}s {total / 41:8.2f}  "
                f"{verbs:24} {fig['reapply_changed']}"
            )
        otel, kcore, kubectl = figures["otel"], figures["kcore"], figures["kubectl"]
        patches = otel["reapply_requests"].get("patch", 0)
        print()
        print(f"re-apply otel / kubectl          = {otel['reapply'] / kubectl['reapply']:.2f}x (target <= 2.0x)")
        print(f"re-apply kubernetes.core / otel  = {kcore['reapply'] / otel['reapply']:.2f}x (target >= 2.0x)")
        print(
            f"re-apply object requests (PATCH) = {patches / 41:.2f} per object (target 1); "
            f"run overhead {sum(otel['reapply_requests'].values()) - patches} request(s)"
        )
    finally:
        plane.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
