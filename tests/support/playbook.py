"""Run tasks through ansible-playbook, as users do, and read the results back as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(ROOT / ".venv" / "bin" / "ansible-playbook") if (ROOT / ".venv").exists() else "ansible-playbook"


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    tasks: list  # per task: the localhost result dict, with 'task' set to the task name

    @property
    def failed(self) -> bool:
        return self.rc != 0

    def task(self, name: str) -> dict:
        for result in self.tasks:
            if result["task"] == name:
                return result
        raise KeyError(f"no task {name!r} in {[t['task'] for t in self.tasks]}\n{self.stderr[-2000:]}")

    @property
    def last(self) -> dict:
        return self.tasks[-1]


def run_playbook(
    playbook: str | Path,
    *args: str,
    env: dict | None = None,
    background: bool = False,
    ansible_playbook: str = ANSIBLE_PLAYBOOK,
):
    """Run a playbook file; returns PlaybookRun, or the Popen when background=True.

    ansible_playbook: another venv's (tests/support/cores.py), to run it with that ansible-core."""
    full_env = dict(os.environ)
    full_env.update(
        {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        }
    )
    if ansible_playbook != ANSIBLE_PLAYBOOK:  # another core's venv (tests/support/cores.py)
        from cores import json_callback_collections

        full_env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
            (str(ROOT / ".build" / "collections"), json_callback_collections())
        )
    full_env.update(env or {})
    command = [ansible_playbook, str(playbook), *args]  # implicit localhost: runs with this Python
    process = subprocess.Popen(
        command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if background:
        return process
    return finish(process)


def finish(process, timeout: float = 600) -> PlaybookRun:
    stdout, stderr = process.communicate(timeout=timeout)
    tasks = []
    try:
        report = json.loads(stdout)
    except ValueError:
        report = {"plays": []}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            for host_result in task.get("hosts", {}).values():
                tasks.append(dict(host_result, task=task["task"]["name"]))
    return PlaybookRun(process.returncode, stdout, stderr, tasks)


def run_tasks(
    tasks: list,
    *args: str,
    env: dict | None = None,
    vars: dict | None = None,
    background: bool = False,
    ansible_playbook: str = ANSIBLE_PLAYBOOK,
):
    """Run a list of tasks on localhost in one play."""
    play = [{"name": "test", "hosts": "localhost", "gather_facts": False, "vars": vars or {}, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        yaml.safe_dump(play, handle, sort_keys=False)
    return run_playbook(handle.name, *args, env=env, background=background, ansible_playbook=ansible_playbook)


def render(
    inventory: str, out: str | Path, *extra_vars: str, env: dict | None = None, ansible_playbook: str = ANSIBLE_PLAYBOOK
) -> list:
    """Run playbooks/render.yml for `inventory` into the directory `out`; its files, in apply order.

    extra_vars: "name=value".
    """
    args = ["-i", f"inventories/{inventory}", "-e", f"otel_render_dir={out}"]
    for extra in extra_vars:
        args += ["-e", extra]
    run = run_playbook("playbooks/render.yml", *args, env=env, ansible_playbook=ansible_playbook)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return sorted(Path(out).glob("*.yaml"))


def render_objects(inventory: str, *extra_vars: str) -> list:
    """Every object playbooks/render.yml writes for `inventory`, in apply order; extra_vars: "name=value"."""
    with tempfile.TemporaryDirectory() as out:
        return [yaml.safe_load(path.read_text()) for path in render(inventory, out, *extra_vars)]
