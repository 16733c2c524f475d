"""Kubernetes and etcd built from the Go module proxy.

``k8s.io/kubernetes`` replaces every staging module (``k8s.io/api``, ``k8s.io/client-go``...)
with a path inside its own tree, so ``go install k8s.io/kubernetes/cmd/...@v1.34.4`` is
refused. A module of our own requires ``k8s.io/kubernetes`` and pins each staging module to
the matching ``v0.34.4`` release with ``replace`` lines of its own (a dependency's replace
lines are ignored, ours apply). The list of staging modules is read from the go.mod that the
proxy serves, so a new version needs no edit here. etcd comes from the same build: its server
module is already in Kubernetes' dependency graph (the API server's integration tests embed
it), and ``etcdmain.Main`` is all the etcd command does.

Kubernetes 1.34 is the newest release that runs on this VM's cgroup v1 without opting out:
kubelet 1.35 and newer refuse to start on cgroup v1 unless ``failCgroupV1: false`` is set
(KEP-5573), and the operator v0.158.0 supports 1.25-1.36.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from .gobuild import BuildError, cache_root, cached_outputs, go_env, log, run_logged, write_module

KUBERNETES_VERSION = "1.34.4"
BUILD_REVISION = 1  # bump when the recipe changes: the cached binaries are rebuilt
COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
BINARIES = (*COMMANDS, "etcd")

ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def binaries_dir() -> Path:
    return cache_root() / "bin" / f"kubernetes-v{KUBERNETES_VERSION}-r{BUILD_REVISION}"


def _staging_modules(env: dict) -> list:
    """The staging modules k8s.io/kubernetes replaces with local paths, from its go.mod."""
    answer = subprocess.run(
        ["go", "mod", "download", "-json", f"k8s.io/kubernetes@v{KUBERNETES_VERSION}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        raise BuildError(f"the Go module proxy did not serve k8s.io/kubernetes v{KUBERNETES_VERSION}: {answer.stderr}")
    go_mod = Path(json.loads(answer.stdout)["GoMod"]).read_text()
    return re.findall(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/", go_mod, re.MULTILINE)


def build_kubernetes() -> Path:
    """Return the folder holding kube-* , kubectl and etcd, building them once."""

    def build(staging: Path) -> None:
        env = go_env()
        started = time.monotonic()
        work = cache_root() / "build" / f"kubernetes-v{KUBERNETES_VERSION}"
        staging_version = "v0." + KUBERNETES_VERSION.split(".", 1)[1]
        replaces = "".join(f"\t{m} => {m} {staging_version}\n" for m in _staging_modules(env))
        imports = "".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"\n' for c in COMMANDS)
        write_module(
            work,
            {
                "go.mod": "module otelk8s.local/kubernetes\n\ngo 1.24.0\n\n"
                f"require k8s.io/kubernetes v{KUBERNETES_VERSION}\n\nreplace (\n{replaces})\n",
                "tools.go": f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n",
                "cmd/etcd/main.go": ETCD_MAIN,
            },
        )
        logfile = work / "build.log"
        run_logged("kubernetes: resolve modules (go mod tidy)", ["go", "mod", "tidy"], logfile, cwd=work, env=env)
        version = KUBERNETES_VERSION.split(".")
        stamps = {
            "gitVersion": f"v{KUBERNETES_VERSION}",
            "gitMajor": version[0],
            "gitMinor": version[1],
            "gitTreeState": "clean",
            "buildDate": "1970-01-01T00:00:00Z",
        }
        ldflags = "-s -w " + " ".join(
            f"-X k8s.io/{pkg}/version.{k}={v}" for pkg in ("component-base", "client-go/pkg") for k, v in stamps.items()
        )
        run_logged(
            f"kubernetes: compile {', '.join(BINARIES)} (a cold build takes 10-20 min on 2 cores)",
            [
                "go",
                "build",
                "-ldflags",
                ldflags,
                "-o",
                staging,
                *(f"k8s.io/kubernetes/cmd/{c}" for c in COMMANDS),
                "./cmd/etcd",
            ],
            logfile,
            cwd=work,
            env=env,
        )
        log(f"kubernetes v{KUBERNETES_VERSION}: built in {time.monotonic() - started:.0f}s")

    return cached_outputs(binaries_dir(), BINARIES, build)
