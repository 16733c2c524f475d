# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A second opinion from a real collector binary: ``<binary> validate`` on the configuration.

The official ``otelcol``, ``otelcol-k8s`` and ``otelcol-contrib`` binaries check every
component's settings with the component's own code, which no hand-written check matches.
When one is available (named by an option, or the distribution's binary found on PATH), the
modules run its ``validate`` command after their own lint and turn what it prints into
errors of the same form: the place in the configuration first (``exporters.otlp``), then
the collector's words and the fix.

It runs on the machine the module runs on, not in the Pod: what depends on that machine
(a ``file_storage`` directory that must exist) is reported as a warning, not an error.
The environment is the container's as far as it is known here (``container_env``): its
literal values, ``1`` for what the kubelet fills in and for other ``${env:NAME}``
references; nothing of this machine's environment is read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

TIMEOUT = 60
_NODE_ENV_RE = re.compile(r"node_from_env_var:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)")
_ENV_RE = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
_UNKNOWN_TYPE_RE = re.compile(r"'(\w+)' unknown type: \"([^\"]*)\" for id: \"([^\"]*)\" \(valid values: \[([^\]]*)\]\)")
_READING_RE = re.compile(r"'(\w+)' error reading configuration for \"([^\"]*)\"")
_BUILD_RE = re.compile(r"failed to create \"([^\"]+)\" (\w+) for data type \"\w+\": (.*)")
_PLACE_RE = re.compile(r"^((?:[\w/.-]+::)+[\w/.-]+): (.*)$")
# Checks the collector makes on the machine it runs on: meaningless on the controller.
HOST_DEPENDENT = ("directory must exist", "no such file or directory")
_FIXES = (
    ("has invalid keys", "remove or correct the key(s)"),
    ("expected type", "give a value of that type"),
    ("unconvertible type", "give a value of that type"),
    ("references", "define the component, or remove it from the pipeline"),
)


def find_binary(option, distribution, which=shutil.which) -> tuple:
    """(path or None, error or None): the binary named by `option`, else the distribution's on PATH."""
    if option:
        path = option if os.sep in option else which(option)
        if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
            return None, (
                f"collector_binary: `{option}` is not an executable file; give the path of a collector binary "
                f"(otelcol-k8s, otelcol-contrib), or leave collector_binary unset to use the one on PATH if any"
            )
        return path, None
    if distribution in dist.DISTRIBUTIONS:
        return which(dist.DISTRIBUTIONS[distribution].binary), None
    return None, None


def container_env(text: str, env: list) -> dict:
    """The environment the collector sees in its container, as far as it can be known here: the
    container's variables (literal values; `1` for those the kubelet fills in) and `1` for any other
    the configuration references. When the container's env is not known (None), the variables
    k8sattributes reads its node from are assumed set (otel.kubernetes.collector checks them).
    Nothing of this machine's environment but PATH and HOME."""
    values = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()}
    values.update({name: "1" for name in _ENV_RE.findall(text)})
    if env is None:
        values.update({name: "1" for name in _NODE_ENV_RE.findall(text)})
    for item in env or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            value = item.get("value")
            values[item["name"]] = "1" if value is None else str(value)
    return values


def _fix(message: str) -> str:
    return next((f"; {fix}" for needle, fix in _FIXES if needle in message), "")


def _place(message: str) -> tuple:
    """('exporters.otlp', 'requires ...') from 'exporters::otlp: requires ...'."""
    match = _PLACE_RE.match(message)
    if match:
        return match.group(1).replace("::", "."), match.group(2)
    built = _BUILD_RE.search(message)
    if built:
        return f"{built.group(2)}s.{built.group(1)}", built.group(3)
    return "config", message


def parse(output: str, label: str) -> tuple:
    """(errors, warnings) from what `<binary> validate` printed."""
    errors, warnings, place = [], [], None
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("Error: "):
            line = line[len("Error: ") :]
        line = line.replace("failed to get config: cannot unmarshal the configuration: ", "")
        unknown = _UNKNOWN_TYPE_RE.search(line)
        reading = _READING_RE.search(line)
        if not reading and (not line or "decoding failed due to the following error" in line):
            continue
        if unknown:
            kind, type_name, cid, valid = unknown.groups()
            errors.append(
                f"{kind}.{cid}: {label} has no {dist.SINGULAR.get(kind, kind)} type `{type_name}`; it accepts "
                f"{', '.join(sorted(valid.split()))}"
            )
            continue
        if reading:
            place = f"{reading.group(1)}.{reading.group(2)}"
            continue
        if place is None:
            where, message = _place(line)
        else:
            where, message = place, line
        if any(needle in message for needle in HOST_DEPENDENT):
            warnings.append(f"{where}: not checked on this machine ({label}: {message}); it is checked in the Pod")
        else:
            errors.append(f"{where}: {label} refuses this: {message}{_fix(message)}")
    if not errors and not warnings and output.strip():
        errors.append(f"config: {label} refuses this configuration: {output.strip()[-1500:]}")
    return errors, warnings


def validate(binary: str, config: dict, env=None, run=subprocess.run) -> tuple:
    """(errors, warnings) of `<binary> validate` on `config`; env: the container's env list."""
    label = f"the collector ({os.path.basename(binary)} validate)"
    text = yaml.safe_dump(config, sort_keys=False)
    with tempfile.TemporaryDirectory(prefix="otel-validate-") as folder:
        path = os.path.join(folder, "collector.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            done = run(
                [binary, "validate", f"--config=file:{path}"],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                env=container_env(text, env),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return [f"collector_binary: running `{binary} validate` failed: {error}"], []
    if done.returncode == 0:
        return [], []
    return parse(done.stderr or done.stdout, label)


def second_opinion(config: dict, option, distribution, env=None, which=shutil.which) -> tuple:
    """(errors, warnings, binary used or None): validate with the named or found binary, if any."""
    binary, problem = find_binary(option, distribution, which)
    if problem:
        return [problem], [], None
    if binary is None:
        return [], [], None
    errors, warnings = validate(binary, config, env)
    return errors, warnings, binary
