"""The collection artifact holds the collection, never this machine's state.

A checkout after `scripts/quickstart` and `tools/local_node.py down` holds the local node's CA
and admin keys and kubeconfigs (.local-node/), virtualenvs, the collections link (.build/),
caches, rendered manifests and benchmark results; while the node runs, containerd's socket too.
This copies the checkout to a temporary folder, adds such a tree with real key material and a
live unix socket, runs the README's `ansible-galaxy collection build` there, and reads the
tarball: the build must succeed and the tarball must hold none of it.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
GALAXY = Path(sys.executable).parent / "ansible-galaxy"
PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=]{40,}")
# Folders the project's tools make in a checkout, and what in them gives them away.
STATE = {".local-node", ".venv", ".venv-checkov", ".build", ".pytest_cache", ".ruff_cache", "__pycache__", ".ansible"}
STATE_PATHS = ("rendered/", "benchmarks/results/", "tests/output/")


def copy_checkout(dest: Path) -> None:
    """The files `git` knows here (tracked, and new ones not ignored), as a fresh clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet committed
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def quickstart_state(checkout: Path) -> socket.socket:
    """What a quickstart leaves: key material, kubeconfigs, venvs, links, caches, outputs; and
    containerd's socket, which stays open (listening) while the caller builds."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    node = checkout / ".local-node"
    for name in ("pki/ca.key", "pki/admin.key", "pki/service-account.key"):
        (node / name).parent.mkdir(parents=True, exist_ok=True)
        (node / name).write_bytes(pem)
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "admin", "user": {"client-key-data": base64.b64encode(pem).decode()}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
        "current-context": "local",
    }
    for name in ("admin.kubeconfig", "user.kubeconfig"):
        (node / name).write_text(yaml.safe_dump(kubeconfig))
    (node / "containerd").mkdir()
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(node / "containerd" / "containerd.sock"))
    live.listen(1)
    files = {
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/python3.11/site-packages/six.py": "",
        ".venv-checkov/pyvenv.cfg": "home = /usr/bin\n",
        ".pytest_cache/v/cache/lastfailed": "{}",
        ".ruff_cache/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n",
        "plugins/module_utils/__pycache__/distributions.cpython-311.pyc": "",
        "tests/unit/__pycache__/conftest.cpython-311.pyc": "",
        ".ansible/collections/ansible_collections/kubernetes/core/MANIFEST.json": "{}",
        "rendered/00-namespace.yaml": "kind: Namespace\n",
        "benchmarks/results/site.json": "{}",
        "tests/output/junit/python3.11-modules.xml": "<testsuites/>",
        "otel-kubernetes-0.1.0.tar.gz": "an earlier artifact",
    }
    for name, text in files.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    (checkout / ".venv" / "bin").mkdir()
    (checkout / ".venv" / "bin" / "python").symlink_to(sys.executable)
    link = checkout / ".build" / "collections" / "ansible_collections" / "otel" / "kubernetes"
    link.parent.mkdir(parents=True)
    link.symlink_to(checkout)  # what scripts/setup makes: a link back to the checkout
    return live


def what_is_wrong(member: tarfile.TarInfo, data: bytes) -> str | None:
    path = member.name
    if not (member.isfile() or member.isdir()):
        return "not a file or folder"
    if PEM_PRIVATE_KEY.search(data):
        return "a private key"
    if "kubeconfig" in Path(path).name or (path.endswith((".yml", ".yaml")) and b"kind: Config" in data):
        return "a kubeconfig"
    if Path(path).name == "pyvenv.cfg" or ".venv" in Path(path).parts:
        return "a virtualenv"
    if set(Path(path).parts) & STATE or path.startswith(STATE_PATHS) or path.endswith((".pyc", ".tar.gz", ".sock")):
        return "local state"
    return None


@pytest.fixture
def artifact():
    """(the build's result, the tarball's path) for a quickstart-like checkout. A short folder
    under /tmp: a unix socket's path has at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="otel-build-", dir="/tmp") as folder:
        checkout, out = Path(folder) / "co", Path(folder) / "out"
        checkout.mkdir()
        copy_checkout(checkout)
        live = quickstart_state(checkout)
        try:
            build = subprocess.run(
                [str(GALAXY), "collection", "build", "--output-path", str(out)],
                cwd=checkout,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            live.close()
        yield build, sorted(out.glob("*.tar.gz"))


def test_the_artifact_of_a_quickstart_checkout_holds_no_key_kubeconfig_venv_socket_or_cache(artifact):
    build, tarballs = artifact
    assert build.returncode == 0, f"ansible-galaxy collection build failed:\n{build.stdout}\n{build.stderr}"
    assert len(tarballs) == 1, tarballs
    found, names = [], set()
    with tarfile.open(tarballs[0]) as tar:
        for member in tar.getmembers():
            names.add(member.name)
            data = tar.extractfile(member).read() if member.isfile() else b""
            wrong = what_is_wrong(member, data)
            if wrong:
                found.append(f"{member.name}: {wrong}")
    assert not found, "the collection artifact packs this machine's state:\n" + "\n".join(found)
    # ... and still the whole collection.
    assert {"MANIFEST.json", "FILES.json", "plugins/modules/collector.py", "roles/otel_agent"} <= names
    assert {"meta/runtime.yml", "plugins/module_utils/collector/distributions.py", "README.md"} <= names


def test_the_checks_see_what_they_look_for():
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    regular = tarfile.TarInfo("docs/ca.pem")
    assert what_is_wrong(regular, key) == "a private key"
    assert what_is_wrong(tarfile.TarInfo("x/admin.kubeconfig"), b"") == "a kubeconfig"
    assert what_is_wrong(tarfile.TarInfo("x/config.yaml"), b"apiVersion: v1\nkind: Config\n") == "a kubeconfig"
    assert what_is_wrong(tarfile.TarInfo("venv/pyvenv.cfg"), b"") == "a virtualenv"
    assert what_is_wrong(tarfile.TarInfo("plugins/__pycache__/x.pyc"), b"") == "local state"
    fifo = tarfile.TarInfo("run/containerd.sock")
    fifo.type = tarfile.FIFOTYPE
    assert what_is_wrong(fifo, b"") == "not a file or folder"
    # A module that names the PEM marker is not a key.
    assert what_is_wrong(tarfile.TarInfo("m.py"), b're.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")') is None
