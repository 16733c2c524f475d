"""Everything the node runs, built on this machine and cached under ~/.cache/otel-kubernetes.

Each step prints how long it took; a warm cache makes the whole call take about a second.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .gobuild import BuildError, cache_root, cached_outputs, log, run_logged
from .images import build_image

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
# A shell and nc for test Pods (Debian's busybox-static; its wget crashes at random: use nc).
BUSYBOX_IMAGE = "otel-local.test/busybox:1.35"
BUSYBOX = Path("/bin/busybox")


def _pause() -> Path:
    source = Path(__file__).with_name("pause.c")

    def build(staging: Path) -> None:
        if not shutil.which("gcc"):
            raise BuildError("gcc is missing: apt-get install gcc libc6-dev")
        run_logged("pause: compile", ["gcc", "-Os", "-static", "-o", staging / "pause", source], staging / "build.log")

    return cached_outputs(cache_root() / "bin" / "pause-3.10", ("pause",), build) / "pause"


def build_all(quiet: bool = False) -> dict:
    """Build (or find cached) every binary and image; return where they are.

    Returns ``kubernetes`` (the folder of kube-*, kubectl, etcd), ``images`` ({ref:
    docker-archive}), the refs of the pause and CoreDNS images and the collector binaries.

    Not built: the OpenTelemetry Operator. The Go module proxy refuses its module
    (``github.com/open-telemetry/opentelemetry-operator`` and ``.../apis``, every version:
    "403 Forbidden ... This module version is not available"). Its release manifest is read
    from ../shared/upstream by the tests and inventories/local; its manager's image is the
    test stand-in of ``operator_manager.py``.
    """
    from .collector import build_collectors
    from .coredns import build_coredns
    from .kubernetes import build_kubernetes
    from .operator_manager import IMAGE as MANAGER_IMAGE
    from .operator_manager import build_manager_image
    from .promql import build_promql_check

    started = time.monotonic()
    steps = {}

    def step(name: str, function):
        begin = time.monotonic()
        result = function()
        steps[name] = time.monotonic() - begin
        return result

    kubernetes = step("kubernetes", build_kubernetes)
    pause = step("pause", _pause)
    coredns = step("coredns", build_coredns)
    collectors = step("collector", build_collectors)
    step("promqlcheck", build_promql_check)  # for the tests of the gateway's alert rules
    images = {
        PAUSE_IMAGE: step("pause image", lambda: build_image(PAUSE_IMAGE, {"/pause": pause}, ["/pause"])),
        BUSYBOX_IMAGE: step(
            "busybox image",
            lambda: build_image(BUSYBOX_IMAGE, {"/bin/busybox": BUSYBOX, "/bin/sh": BUSYBOX}, ["/bin/sh"]),
        ),
        coredns["image"]: coredns["archive"],
        MANAGER_IMAGE: step("operator manager stand-in image", build_manager_image),
        **collectors["images"],
    }
    took = time.monotonic() - started
    if not quiet and took > 5:
        log("build steps: " + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in steps.items()))
    return {
        "kubernetes": kubernetes,
        "images": images,
        "pause_image": PAUSE_IMAGE,
        "busybox_image": BUSYBOX_IMAGE,
        "coredns_image": coredns["image"],
        "operator_manager_image": MANAGER_IMAGE,
        "collectors": collectors,
        "seconds": steps,
    }
