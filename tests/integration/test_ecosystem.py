"""The collection as AWX / Automation Platform and Galaxy users get it; no cluster needed.

- The execution environment: `ansible-builder create` on execution-environment.yml, with the
  collection tarball `ansible-galaxy collection build` makes, writes a build context that holds
  the collection; its galaxy and introspection steps, run here as the image build runs them,
  install the collection and find its Python requirements and bindep packages (through its
  meta/execution-environment.yml). No container engine is on these machines, so
  `ansible-builder build` itself cannot run here.
- The Galaxy artifact: no run-time collection dependencies.
- The documentation: antsibull-docs renders every module and role page, with the connection
  options of the doc fragment. (`antsibull-docs lint-collection-docs` runs in scripts/test.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # ansible-builder, antsibull-docs: requirements-dev.txt, in this venv
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL = f"otel-kubernetes-{GALAXY['version']}.tar.gz"


def run(*command, cwd=None, env=None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


def requirement_lines(path: Path) -> list:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def build_collection(out: Path) -> Path:
    run(str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT))
    return out / TARBALL


def test_the_galaxy_artifact_has_no_run_time_collection_dependencies(tmp_path):
    with tarfile.open(build_collection(tmp_path)) as artifact:
        manifest = json.load(artifact.extractfile("MANIFEST.json"))
        names = artifact.getnames()
    assert manifest["collection_info"]["dependencies"] == {}
    for needed in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "meta/runtime.yml"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith((".venv", ".build/", ".local-node"))]


def test_the_execution_environment_build_context_installs_the_collection_and_its_requirements(tmp_path):
    definition_dir = tmp_path / "ee"
    definition_dir.mkdir()
    shutil.copy(ROOT / "execution-environment.yml", definition_dir)
    build_collection(definition_dir)
    context = tmp_path / "context"
    run(
        str(BIN / "ansible-builder"),
        "create",
        "-f",
        "execution-environment.yml",
        "-c",
        str(context),
        cwd=definition_dir,
    )

    build = context / "_build"
    containerfile = (context / "Dockerfile").read_text()
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    assert f'ARG ANSIBLE_INSTALL_REFS="{definition["dependencies"]["ansible_core"]["package_pip"]}' in containerfile
    assert (build / "collections" / TARBALL).is_file()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": f"collections/{TARBALL}", "type": "file"}]
    }
    # The image build's galaxy stage (in _build, as its WORKDIR /build) ... (--force: the image starts
    # empty, while this machine may hold a copy in ~/.ansible/collections, which molecule's prerun makes)
    collections = tmp_path / "collections"
    run(
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        "--force",
        "-r",
        "requirements.yml",
        "--collections-path",
        str(collections),
        cwd=build,
    )
    # ... and its builder stage's introspection, with the script ansible-builder put in the context.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(
        sys.executable,
        str(build / "scripts" / "introspect.py"),
        "introspect",
        "--sanitize",
        f"--write-pip={pip_out}",
        f"--write-bindep={bindep_out}",
        str(collections),
    )
    found_pip = requirement_lines(pip_out)
    found_bindep = requirement_lines(bindep_out)
    # PyYAML is left out by ansible-builder on purpose (every image has it); the rest is the collection's.
    wanted_pip = [r for r in requirement_lines(ROOT / "requirements.txt") if not r.lower().startswith("pyyaml")]
    assert sorted(found_pip) == sorted(wanted_pip), found_pip
    assert sorted(found_bindep) == sorted(requirement_lines(ROOT / "bindep.txt")), found_bindep
    assert "otel.kubernetes" in pip_out.read_text() and "otel.kubernetes" in bindep_out.read_text()


def test_the_collection_docs_render(tmp_path):
    env = {"ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"), "PATH": f"{BIN}:/usr/bin:/bin"}
    run(
        str(BIN / "antsibull-docs"),
        "collection",
        "--use-current",
        "--dest-dir",
        str(tmp_path),
        "otel.kubernetes",
        env=env,
    )
    pages = tmp_path / "collections" / "otel" / "kubernetes"
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    assert sorted(p.name for p in pages.glob("*_module.rst")) == sorted(f"{m}_module.rst" for m in modules)
    assert sorted(p.name for p in pages.glob("*_role.rst")) == sorted(f"{r}_role.rst" for r in roles)
    assert len(modules) >= 10 and len(roles) == 6
    apply_page = (pages / "apply_module.rst").read_text()
    for option in ("proxy", "no_proxy", "proxy_headers", "impersonate_user", "impersonate_groups", "persist_config"):
        assert f"parameter-{option}" in apply_page, option
    assert r":ansenvvar:`K8S\_AUTH\_IMPERSONATE\_GROUPS`" in apply_page  # RST-escaped
