"""The ansible-core versions CI tests (tests/ansible-cores.txt) and their venvs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORES_FILE = ROOT / "tests" / "ansible-cores.txt"
REFERENCE = "2.19"  # the main .venv's: render.yml's output of every other core must equal its


@dataclass(frozen=True)
class Core:
    version: str
    python: str
    venv: Path

    @property
    def ansible_playbook(self) -> str:
        return str(self.venv / "bin" / "ansible-playbook")

    @property
    def in_process(self) -> bool:
        """Whether the collection's action front can run modules in-process (2.19's module encoder)."""
        return tuple(int(p) for p in self.version.split(".")) >= (2, 19)


def cores() -> list:
    found = []
    for line in CORES_FILE.read_text().splitlines():
        fields = line.split("#")[0].split()
        if fields:
            version, python, venv = fields
            found.append(Core(version, python, ROOT / venv))
    return found


def json_callback_collections() -> str:
    """A collections path holding ansible.posix, whose json callback the tests read results with: the
    cores' venvs hold ansible-core alone, so it is linked from the main .venv's ansible package."""
    found = sorted((ROOT / ".venv").glob("lib/python3*/site-packages/ansible_collections/ansible/posix"))
    assert found, "ansible.posix is missing from .venv (the ansible package of requirements-dev.txt)"
    link = ROOT / ".build" / "json-callback" / "ansible_collections" / "ansible" / "posix"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(found[0])
    return str(ROOT / ".build" / "json-callback")
