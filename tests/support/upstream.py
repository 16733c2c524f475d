"""Upstream data the tests read by path, never copied into the repository: the OpenTelemetry Operator's release.

``../shared/upstream/opentelemetry-operator-0.158.0/`` beside this repository (or the file that
OTEL_OPERATOR_MANIFEST names, with ``reconciled/`` beside it) holds the operator's REAL v0.158.0
release manifest, the file users download from the release URL, and ``reconciled/``: what the
real operator made of site.yml's resources. A test that needs them FAILS when they are
missing, naming the file: it is never skipped.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pytest
from localnode import operator_manager

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.158.0"
ENV = "OTEL_OPERATOR_MANIFEST"
URL = (
    f"https://github.com/open-telemetry/opentelemetry-operator/releases/download/v{VERSION}/opentelemetry-operator.yaml"
)
SHA256 = "3c258efb3d64834a857ce4ed5256af2883dc9c77a300eee465df833ab2354c8e"
# The local node's test stand-in for the manager's image.
MANAGER_IMAGE = operator_manager.IMAGE
DEFAULT = ROOT.parent / "shared" / "upstream" / f"opentelemetry-operator-{VERSION}" / "opentelemetry-operator.yaml"


def manifest_path() -> Path:
    """Where the release manifest is looked for (it may be missing: see operator_manifest)."""
    return Path(os.environ.get(ENV) or DEFAULT)


@functools.cache
def _checked(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: the OpenTelemetry Operator v{VERSION} release manifest, which the tests apply as "
            f"users do. Put the release's file there ({URL}, sha256 {SHA256}) or name it in {ENV}."
        )
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if found != SHA256:
        pytest.fail(f"{path} is not the operator's v{VERSION} release manifest: sha256 {found}, expected {SHA256}")
    return path


def operator_manifest() -> Path:
    """The release manifest; the calling test fails, naming the file, when it is missing or another file."""
    return _checked(manifest_path())


def reconciled(name: str) -> Path:
    """A file of reconciled/ (what the real operator made), beside the release manifest."""
    path = manifest_path().parent / "reconciled" / name
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: what the real OpenTelemetry Operator v{VERSION} made of site.yml's resources "
            f"(upstream data kept beside the repository in {DEFAULT.parent}, read by path)."
        )
    return path
