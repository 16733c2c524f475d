"""Every ansible-core the collection claims (tests/ansible-cores.txt, meta/runtime.yml), on the node:
site.yml converges from a cleared node and its re-run changes nothing (on 2.19+ also without the
in-process front), and render.yml writes, for both inventories, exactly the files 2.19 writes, byte
for byte. Prints what each core cost.
(ansible-test sanity and the unit tests on each core: scripts/cores.)
"""

from __future__ import annotations

import filecmp
import subprocess
import time
from pathlib import Path

import pytest
import upstream
from cores import REFERENCE, cores
from playbook import render
from site_runs import clear, first_failure, site

INVENTORIES = ("local", "seed")
CORES = cores()


def render_all(core, out: Path) -> dict:
    """inventory -> the directory render.yml wrote for it with this core."""
    written = {}
    for inventory in INVENTORIES:
        # The seed's inventory downloads the operator's release manifest: no network here.
        extra = (f"otel_operator_manifest_src={upstream.operator_manifest()}",) if inventory == "seed" else ()
        assert render(inventory, out / inventory, *extra, ansible_playbook=core.ansible_playbook)
        written[inventory] = out / inventory
    return written


@pytest.fixture(scope="module")
def reference_renders(tmp_path_factory) -> dict:
    (reference,) = [core for core in CORES if core.version == REFERENCE]
    return render_all(reference, tmp_path_factory.mktemp("render-" + REFERENCE))


def identical(left: Path, right: Path) -> list:
    """What differs between two render directories (names, then bytes)."""
    names = sorted(p.name for p in left.iterdir()), sorted(p.name for p in right.iterdir())
    if names[0] != names[1]:
        return [f"files: {names[0]} != {names[1]}"]
    _same, different, errors = filecmp.cmpfiles(left, right, names[0], shallow=False)
    return different + errors


@pytest.mark.parametrize("core", CORES, ids=[core.version for core in CORES])
def test_site_converges_reruns_unchanged_and_renders_like_2_19(core, cluster, reference_renders, tmp_path, request):
    assert core.venv.is_dir(), f"{core.venv} is missing: scripts/setup makes it (tests/ansible-cores.txt)"
    version = subprocess.run(
        [str(core.venv / "bin" / "python"), "-c", "import ansible.release as r; print(r.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith(core.version + "."), version
    started = time.monotonic()
    clear(cluster)
    cleared = time.monotonic()
    converge = site(cluster.node, ansible_playbook=core.ansible_playbook)
    assert converge.rc == 0, first_failure(converge)
    assert [t for t in converge.tasks if t.get("changed")], "the converge on a cleared node changed nothing"
    converged = time.monotonic()
    noop = site(cluster.node, ansible_playbook=core.ansible_playbook)
    assert noop.rc == 0, first_failure(noop)
    assert [t["task"] for t in noop.tasks if t.get("changed")] == []
    rerun = time.monotonic()
    without = ""
    if core.in_process:  # the same no-op with the modules as module processes, as on older cores
        modules = site(
            cluster.node, env={"OTEL_KUBERNETES_IN_PROCESS": "false"}, ansible_playbook=core.ansible_playbook
        )
        assert modules.rc == 0, first_failure(modules)
        assert [t["task"] for t in modules.tasks if t.get("changed")] == []
        without = f" (without the in-process front {time.monotonic() - rerun:.1f} s)"
    rendering = time.monotonic()
    renders = render_all(core, tmp_path)
    for inventory in INVENTORIES:
        assert identical(reference_renders[inventory], renders[inventory]) == [], (core.version, inventory)
    done = time.monotonic()
    request.config.pluginmanager.getplugin("terminalreporter").write_line(
        f"ansible-core {version} (Python {core.python}, in-process {'yes' if core.in_process else 'no'}): "
        f"clear {cleared - started:.1f} s, site.yml converge {converged - cleared:.1f} s, "
        f"no-op {rerun - converged:.1f} s{without}, render.yml x2 {done - rendering:.1f} s, "
        f"total {done - started:.1f} s"
    )
