"""The operator's manager for the local node: a TEST STAND-IN image, built here from our own Go source.

The Go module proxy refuses the OpenTelemetry Operator's module, so its manager cannot be
built here; its release manifest is real and is applied by the otel_operator role as for
users. Only the manager's image differs: ``inventories/local`` (and the tests) set
``otel_operator_manager_image`` to ``IMAGE``, which runs ``operator_manager_standin.go``
(standard library only, no module download): health probes on :8081, the admission webhooks
(allow everything, no patch) and the CRD conversion webhook on :9443 with the certificate the
role made. See that file for what it does and does not do.

The image is named as a test image, never as the upstream one, so that nothing can take it
for the operator. Cold build: a few seconds (one small package and the standard library,
with the shared Go build cache); cached under ~/.cache/otel-kubernetes after that.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .gobuild import cache_root, cached_outputs, go_env, run_logged, write_module
from .images import build_image

OPERATOR_VERSION = "0.158.0"  # the release whose manifest the stand-in serves
IMAGE = f"otel-kubernetes.test/operator-manager-standin:{OPERATOR_VERSION}"
SOURCE = Path(__file__).with_name("operator_manager_standin.go")
# The upstream image's numeric user (the role's restricted securityContext needs a numeric one).
USER = "65532:65532"


def build_manager_binary() -> Path:
    """The stand-in's static binary (built once per source, cached)."""
    sources = {
        "go.mod": "module otel-kubernetes.test/operator-manager-standin\n\ngo 1.24\n",
        "main.go": SOURCE.read_text(),
    }
    key = hashlib.sha256(repr(sorted(sources.items())).encode()).hexdigest()[:12]

    def build(staging: Path) -> None:
        source = cache_root() / "build" / f"operator-manager-standin-{key}"
        write_module(source, sources)
        run_logged(
            "operator manager stand-in: go build",
            ["go", "build", "-ldflags", "-s -w", "-o", staging / "manager", "."],
            staging / "build.log",
            cwd=source,
            env=go_env(GOPROXY="off"),  # standard library only: nothing to download
        )

    return cached_outputs(cache_root() / "bin" / f"operator-manager-standin-{key}", ("manager",), build) / "manager"


def build_manager_image() -> Path:
    """The docker-archive of IMAGE: the binary at /manager, as upstream's image has it."""
    return build_image(IMAGE, {"/manager": build_manager_binary()}, ["/manager"], user=USER)
