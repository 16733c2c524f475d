# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presets of otel.kubernetes.collector: a whole component (the agent, the gateway) from its settings.

A preset turns the settings of its role (declared once in ``<preset>_settings.py``, see
``settings.py``) into what one collector task applies: the namespace, the collector's options, its
ServiceAccount and derived RBAC, and the objects the component adds. It contacts nothing:
``collector.runner`` renders, validates and applies what it returns.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

# 0440: the mounted certificate files are readable by the collector through fsGroup, by no one else.
TLS_SECRET_MODE = 0o440
TLS_VOLUME = "otel-tls"
# The collector image's user; fsGroup gives it the mounted Secret's files.
FS_GROUP = 10001
INGRESS_API = "networking.k8s.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
COLLECTOR_API = "opentelemetry.io/v1beta1"


@dataclass
class Component:
    """What a preset asks one collector task to apply, and what its role publishes."""

    what: str  # "agent", "gateway": for messages
    name: str
    namespace: str
    create_namespace: bool
    pod_security: str
    # Options of collector._render.render; None means "not set" (helm_values may fill it in).
    options: dict
    rbac_name: str
    service_account: str
    helm_values: dict | None
    errors: list = field(default_factory=list)
    status: dict = field(default_factory=dict)
    # Tag of the chosen image when none is given.
    version: str | None = None
    # Status keys filled in after rendering, besides the image.
    published: tuple = ("lint_warnings",)
    # About the settings, shown with the lint's warnings.
    warnings: list = field(default_factory=list)
    # More collectors the same task renders, validates and applies (the agent's host collector).
    companions: list = field(default_factory=list)
    # What an earlier apply may have made that these settings turn off: removed on state=present.
    stale: list = field(default_factory=list)
    # False: its ServiceAccount mounts no token in its Pods (a collector that needs no API access).
    automount_token: bool = True

    @classmethod
    def from_settings(cls, what: str, s: dict, options: dict, **fields):
        """A component named, placed and versioned by its role's settings (name, namespace,
        create_namespace, pod_security, collector_version)."""
        return cls(
            what=what,
            name=s["name"],
            namespace=s["namespace"],
            create_namespace=bool(s["create_namespace"]),
            pod_security=s["pod_security"],
            options=options,
            version=s["collector_version"] or None,
            **fields,
        )

    def namespace_object(self) -> dict:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}

    def monitoring_kinds(self, discovery) -> list:
        """The Prometheus Operator kinds this component makes objects of (discovery is None when rendering)."""
        return []

    def self_monitoring(self, kinds: list) -> bool:
        return bool(self.options.get("self_monitoring"))

    def objects(self, kinds: list, state: str = "present") -> list:
        """The objects applied (or, with state=absent, removed) with the collector, besides its RBAC."""
        return []

    def stale_objects(self) -> list:
        """Objects an earlier apply may have made that these settings turn off: removed on state=present."""
        return list(self.stale)

    def references(self) -> list:
        """The collector and its ServiceAccount by name only (for removal); a collector without API access has
        no other RBAC."""
        meta = {"name": self.name, "namespace": self.namespace}
        return [
            {"apiVersion": COLLECTOR_API, "kind": "OpenTelemetryCollector", "metadata": dict(meta)},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**meta, "name": self.service_account}},
        ]

    def publish(self, image, permissions: list, lint_warnings: list) -> dict:
        """The role's status fact: name, namespace and image first, as the roles always published it."""
        status = {"name": self.name, "namespace": self.namespace, "image": image}
        status.update(self.status)
        late = {"permissions": permissions, "lint_warnings": lint_warnings}
        status.update({key: late[key] for key in self.published})
        return status


def as_bool(value) -> bool:
    """A switch as Ansible's `bool` filter reads it: role variables given as text (-e container_logs=false) too."""
    return str(value).strip().lower() in ("true", "yes", "on", "1", "y", "t")


def combine(base, over):
    """Ansible's ``combine(recursive=True)``: mappings merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        result = dict(base)
        for key, value in over.items():
            result[key] = combine(base[key], value) if key in base else copy.deepcopy(value)
        return result
    return copy.deepcopy(over)


def check_port(settings: dict, key: str, declared, errors: list) -> int:
    """The port number of a setting, or 0 with an error naming the role variable (declared: the RoleSettings)."""
    value = settings.get(key)
    text = str(value)
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= 65535:
        errors.append(f"{declared.variable(key)} is {json.dumps(value)}; give a port number from 1 to 65535.")
        return 0
    return int(text)


def check_mappings(settings: dict, keys: tuple, declared, example: str, errors: list) -> None:
    bad = [key for key in keys if not isinstance(settings.get(key), dict)]
    if bad:
        errors.append(
            " and ".join(f"{declared.variable(key)} ({str(settings.get(key))[:80]})" for key in bad)
            + " must be dictionaries (parse a file with "
            f"\"{{{{ lookup('ansible.builtin.file', '{example}') | from_yaml }}}}\")."
        )


def helm_values_mapping(settings: dict) -> dict:
    """The Helm values as a mapping (text is parsed by the collector module's helm_values check)."""
    values = settings.get("helm_values")
    return values if isinstance(values, dict) else {}


def helm_config(values: dict) -> dict:
    return values.get("config") or values.get("alternateConfig") or {}


def service_account(values: dict, default: str) -> str:
    return (values.get("serviceAccount") or {}).get("name") or default


def unless_in_values(values: dict, key: str, value):
    """A role setting that the Helm values replace when they set `key`; empty counts as not set."""
    if key in values:
        return None
    return value if value not in (None, "", [], {}) else None


def health_check() -> dict:
    """The health_check extension both components run (the operator's probes use it)."""
    return {"health_check": {"endpoint": "0.0.0.0:13133"}}


def self_telemetry() -> dict:
    """The collector's own metrics, on the Pod's port 8888 for scraping."""
    return {"metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}}


def tls_volume(secret: str) -> dict:
    return {"name": TLS_VOLUME, "secret": {"secretName": secret, "defaultMode": TLS_SECRET_MODE}}


def tls_mount(path: str) -> dict:
    return {"name": TLS_VOLUME, "mountPath": path, "readOnly": True}


def pod_options(s: dict, values: dict) -> dict:
    """The collector options both components take the same way: scheduling, env, labels, self-monitoring
    and the TLS mount (Helm values, where they set one, win over the role's setting)."""
    return {
        "tolerations": unless_in_values(values, "tolerations", s["tolerations"]),
        "node_selector": unless_in_values(values, "nodeSelector", s["node_selector"]),
        "priority_class_name": unless_in_values(values, "priorityClassName", s["priority_class_name"]),
        "env": s["env"] or None,
        "labels": s["labels"] or None,
        "self_monitoring": bool(s["self_monitoring"]),
        **tls_pod_options(s["tls_enabled"], s["tls_secret"], s["tls_mount_path"], values),
    }


def tls_pod_options(enabled: bool, secret: str, mount_path: str, values: dict) -> dict:
    """volumes, volume_mounts and pod_security_context for the mounted TLS Secret.

    The role's volume and fsGroup are kept and the Helm values' added; without TLS the values
    alone decide (None: not set here).
    """
    if not enabled:
        return {"volumes": None, "volume_mounts": None, "pod_security_context": None}
    return {
        "volumes": [tls_volume(secret)] + list(values.get("extraVolumes") or []),
        "volume_mounts": [tls_mount(mount_path)] + list(values.get("extraVolumeMounts") or []),
        "pod_security_context": {"fsGroup": FS_GROUP, **(values.get("podSecurityContext") or {})},
    }


def client_tls(s: dict) -> dict:
    """TLS settings of the exporters towards the gateway (the agent's and the cluster collector's)."""
    if not s["tls_enabled"]:
        return {"insecure": True}
    path = s["tls_mount_path"]
    tls = {"ca_file": f"{path}/ca.crt", "cert_file": f"{path}/tls.crt", "key_file": f"{path}/tls.key"}
    if s["tls_reload_interval"]:
        tls["reload_interval"] = s["tls_reload_interval"]
    return tls
