"""Go builds from the Go module proxy, cached under ~/.cache, with progress lines.

Every Go build of the local node shares one module cache and one build cache under
``~/.cache/otel-kubernetes/go`` so that Kubernetes, the operator, the collector and CoreDNS
compile their common dependencies (client-go, grpc, protobuf...) once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path


class BuildError(RuntimeError):
    """A build step failed; the message says which and where its log is."""


def cache_root() -> Path:
    # Not XDG_CACHE_HOME: the tests point that at a scratch folder for the modules' discovery cache.
    return Path(os.environ.get("OTEL_K8S_CACHE") or os.path.expanduser("~/.cache/otel-kubernetes"))


def log(message: str) -> None:
    print(f"[local-node] {message}", file=sys.stderr, flush=True)


def go_env(**extra: str) -> dict:
    go = cache_root() / "go"
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(go / "mod"),
        GOCACHE=str(go / "build"),
        GOPATH=str(go / "path"),
        GOFLAGS="-buildvcs=false -trimpath",
        CGO_ENABLED="0",
        GOTOOLCHAIN="local",
        GOTELEMETRY="off",
    )
    env.update(extra)
    return env


def run_logged(step: str, cmd: list, logfile: Path, cwd: Path | None = None, env: dict | None = None) -> float:
    """Run a command with its output in ``logfile``; print a progress line every 30 s.

    Returns the seconds it took. Fails with the log's tail in the message.
    """
    logfile.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(f"{step}: started (log: {logfile})")
    with open(logfile, "ab") as out:
        out.write(("$ " + " ".join(map(str, cmd)) + "\n").encode())
        out.flush()
        process = subprocess.Popen(
            [str(c) for c in cmd], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        done = threading.Event()

        def progress() -> None:
            while not done.wait(30):
                log(f"{step}: still running ({time.monotonic() - started:.0f}s)")

        ticker = threading.Thread(target=progress, daemon=True)
        ticker.start()
        try:
            code = process.wait()
        finally:
            done.set()
    took = time.monotonic() - started
    if code != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-25:]
        raise BuildError(f"{step} failed (exit {code}) after {took:.0f}s; last lines of {logfile}:\n" + "\n".join(tail))
    log(f"{step}: done in {took:.0f}s")
    return took


@contextlib.contextmanager
def locked(path: Path):
    """One builder at a time per cache entry: a second caller waits for the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cached_outputs(target: Path, names: tuple, build) -> Path:
    """Return ``target`` holding every file in ``names``, calling ``build(staging)`` once if not.

    ``build`` fills the staging folder; it replaces ``target`` only when complete, so an
    interrupted build never leaves a half-filled cache entry.
    """
    if all((target / n).exists() for n in names):
        return target
    with locked(target.parent / f".{target.name}.lock"):
        if all((target / n).exists() for n in names):
            return target
        staging = target.parent / f"{target.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        build(staging)
        missing = [n for n in names if not (staging / n).exists()]
        if missing:
            raise BuildError(f"the build of {target.name} produced no {', '.join(missing)}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def write_module(directory: Path, files: dict) -> None:
    """Write a small Go module of our own (go.mod and sources) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
