"""The collector binary built for the local node, asked whether it takes a configuration.

`validate` is the collector's own `validate` command. Some refusals only happen when the
collector starts its components (an unknown tail-sampling policy type, a load_balancing
exporter without a resolver): `starts` runs the binary for a few seconds with its own
telemetry off and reports how it ended.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.collector_validate import container_env

UNKNOWN = "no_such_type_x"
_VALID_VALUES_RE = re.compile(r"'(\w+)' unknown type: \"no_such_type_x\"[^(]*\(valid values: \[([^\]]*)\]")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
QUIET = {"service": {"telemetry": {"metrics": {"level": "none"}, "logs": {"level": "error"}}}}


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def last_error(stderr: str) -> str:
    """The collector's `Error: ...` text (with the lines after it), else the stderr's tail."""
    index = stderr.rfind("Error: ")
    return (stderr[index:] if index >= 0 else stderr[-1500:]).strip()


class RealCollector:
    def __init__(self, binary: Path):
        self.binary = Path(binary)

    def _file(self, config: dict, folder: str) -> str:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        return f"--config=file:{path}"

    def validate(self, config: dict, env: list | None = None) -> tuple:
        """(accepted, the collector's error text or ""); env: the container's env list."""
        with tempfile.TemporaryDirectory() as folder:
            command = [str(self.binary), "validate", self._file(config, folder)]
            environment = container_env(yaml.safe_dump(config), env)
            run = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)
        return run.returncode == 0, "" if run.returncode == 0 else last_error(run.stderr)

    def validate_in_pod_files(self, config: dict, env: list | None = None) -> tuple:
        """`validate` where the files only a Pod has are there: the service account's token and CA (which
        kubelet_stats reads when `validate` builds it) in a tmpfs on /run of a mount namespace of its own, and
        host_metrics' root_path (the host's / mounted at /hostfs) pointed at this machine's /. Root only."""
        config = copy.deepcopy(config)
        for cid, receiver in (config.get("receivers") or {}).items():
            if cid.split("/")[0] in ("host_metrics", "hostmetrics") and isinstance(receiver, dict):
                receiver["root_path"] = "/"
        account = "/run/secrets/kubernetes.io/serviceaccount"
        with tempfile.TemporaryDirectory() as folder:
            files = Path(folder)
            (files / "config.yaml").write_text(yaml.safe_dump(config))
            (files / "token").write_text("a-token")
            shutil.copy(CA_BUNDLE, files / "ca.crt")
            script = (
                f"mount -t tmpfs none /run && mkdir -p {account} && cp {folder}/token {folder}/ca.crt {account}/ && "
                f"exec {self.binary} validate --config=file:{folder}/config.yaml"
            )
            environment = container_env(yaml.safe_dump(config), env)
            environment["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
            run = subprocess.run(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=environment,
            )
        return run.returncode == 0, "" if run.returncode == 0 else last_error(run.stderr)

    def starts(self, config: dict, env: list | None = None, seconds: float = 4) -> tuple:
        """(still running after `seconds`, the error it exited with or "")."""
        with tempfile.TemporaryDirectory() as folder:
            process = subprocess.Popen(
                [str(self.binary), self._file(_merge(config, QUIET), folder)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=container_env(yaml.safe_dump(config), env),
            )
            try:
                stderr = process.communicate(timeout=seconds)[1]
            except subprocess.TimeoutExpired:
                process.terminate()
                process.communicate(timeout=10)
                return True, ""
        return False, last_error(stderr)

    def refuses(self, config: dict, env: list | None = None) -> str:
        """Why the real collector refuses `config` (validate, else start), or "" when it takes it."""
        accepted, error = self.validate(config, env)
        if not accepted:
            return f"validate: {error}"
        running, error = self.starts(config, env)
        return "" if running else f"start: {error}"

    def components(self) -> dict:
        """What `<binary> components` lists: kind -> [{name, module, stability}]."""
        listed = subprocess.run([str(self.binary), "components"], capture_output=True, text=True, check=True)
        return yaml.safe_load(listed.stdout)

    def accepted_types(self) -> dict:
        """kind -> every component type name the binary accepts, aliases included (its own list)."""
        import re

        config = {
            kind: {"no_such_type_x": {}}
            for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
        }
        config["service"] = {
            "pipelines": {"traces": {"receivers": ["no_such_type_x"], "exporters": ["no_such_type_x"]}}
        }
        error = self.validate(config)[1]
        found = {}
        for kind, names in re.findall(
            r"'(\w+)' unknown type: \"no_such_type_x\"[^(]*\(valid values: \[([^\]]*)\]", error
        ):
            found[kind] = set(names.split())
        return found
