"""checkov, the infrastructure-as-code scanner, run on a directory of Kubernetes manifests.

checkov pins many dependencies of its own, so it lives in its own virtual environment,
.venv-checkov, made by scripts/setup from requirements-checkov.txt. It runs with
--skip-download: nothing is fetched from its vendor's platform (no network is used).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass
class Scan:
    summary: dict  # passed, failed, skipped, parsing_errors, resource_count, checkov_version
    failed: list  # (check id, resource, check name, file)
    skipped: list  # (check id, resource, reason)
    passed: list  # (check id, resource)
    seconds: float

    def line(self) -> str:
        s = self.summary
        return (
            f"checkov {s['checkov_version']}: {s['resource_count']} resources, {s['passed']} passed, "
            f"{s['failed']} failed, {s['skipped']} skipped, {s['parsing_errors']} parsing errors, "
            f"{self.seconds:.1f} s"
        )


def scan(directory) -> Scan:
    """Every Kubernetes check of checkov on the manifests in `directory`."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run scripts/setup (it makes .venv-checkov)"
    started = time.monotonic()
    run = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    # 0: nothing failed, 1: some check failed; anything else is checkov itself failing.
    assert run.returncode in (0, 1), f"checkov exited {run.returncode}: {run.stderr[-3000:]}"
    report = json.loads(run.stdout)
    results = report["results"]
    return Scan(
        summary=report["summary"],
        failed=[(r["check_id"], r["resource"], r["check_name"], r["file_path"]) for r in results["failed_checks"]],
        skipped=[
            (r["check_id"], r["resource"], r["check_result"].get("suppress_comment", ""))
            for r in results["skipped_checks"]
        ],
        passed=[(r["check_id"], r["resource"]) for r in results["passed_checks"]],
        seconds=seconds,
    )
