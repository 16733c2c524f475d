# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendered objects written to a directory, one YAML file per object, numbered in apply order.

render.yml once wrote them with ansible.builtin.copy in a loop: one module run per object,
more than half of render.yml's time. Writing a few dozen small files is plain Python.
"""

from __future__ import annotations

import os

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None


# The options of otel.kubernetes.manifest_files (it writes files only: no cluster options).
ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "objects": {"type": "list", "elements": "raw", "required": True},
}
MODULE_OPTIONS = {}


def file_name(index: int, obj: dict) -> str:
    """NNN-kind-[namespace-]name.yaml: sorted by name, the files are in apply order."""
    meta = obj["metadata"]
    namespace = f"{meta['namespace']}-" if meta.get("namespace") else ""
    return f"{index:03d}-{obj['kind'].lower()}-{namespace}{meta['name']}.yaml"


def yaml_text(obj: dict) -> str:
    """Block-style YAML, keys in the object's own order, two-space indent."""
    if yaml is None:
        raise OtelK8sError("writing manifests needs PyYAML on the host that runs the module: pip install PyYAML")
    return yaml.safe_dump(obj, indent=2, allow_unicode=True, default_flow_style=False, sort_keys=False)


def check(objects: list) -> None:
    """Refuses, before anything is written, an incomplete object or a Secret (keys never go to Git)."""
    for index, obj in enumerate(objects):
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if (
            not isinstance(obj, dict)
            or not obj.get("apiVersion")
            or not obj.get("kind")
            or not (meta or {}).get("name")
        ):
            raise OtelK8sError(
                f"objects[{index}] is not a complete Kubernetes object (it needs apiVersion, kind and metadata.name): "
                f"{str(obj)[:200]}. Nothing was written."
            )
        if obj["kind"] == "Secret":
            raise OtelK8sError(
                f"objects[{index}] is Secret {meta['name']}: Secrets are never written to a render directory (their "
                "keys would end up in Git). Render TLS as cert-manager objects instead. Nothing was written."
            )


class ManifestWriter:
    """Writes each object's file when its content differs; reports what it wrote."""

    def __init__(self, directory: str, check_mode: bool = False, mode: int = 0o644):
        self.directory = directory
        self.check_mode = check_mode
        self.mode = mode

    def write(self, objects: list) -> dict:
        check(objects)
        written = []
        if not os.path.isdir(self.directory) and not self.check_mode:
            os.makedirs(self.directory, mode=0o755)
        for index, obj in enumerate(objects):
            path = os.path.join(self.directory, file_name(index, obj))
            text = yaml_text(obj)
            if self._current(path) == text:
                continue
            written.append(path)
            if not self.check_mode:
                self._write(path, text)
        return {"changed": bool(written), "written": written, "files": len(objects), "directory": self.directory}

    @staticmethod
    def _current(path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def _write(self, path: str, text: str) -> None:
        # Written next to the target and renamed: a reader never sees half a file.
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(partial, self.mode)
        os.replace(partial, path)


def run_module(module) -> None:
    try:
        result = ManifestWriter(module.params["path"], module.check_mode).write(module.params["objects"])
    except OtelK8sError as error:
        module.fail_json(msg=error.message)
    module.exit_json(**result)
