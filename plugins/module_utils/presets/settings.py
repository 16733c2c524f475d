# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's settings, each declared once: name, type, default, choices, description.

Every preset declares its role's variables in one table (``presets/<preset>_settings.py``), a
``RoleSettings`` of ``Setting`` rows. Everything else is read or generated from it:

- the preset's defaults, its unknown-setting check and the defaults derived from other settings
  (``merged``, ``unknown``), and the role variable each message names (``variable("otlp_grpc_port")``
  is ``otel_agent_otlp_grpc_port``): nothing else knows a role's prefix;
- the action plugins (``plugin_utils/preset_variables.py``) hand the role's variables to the module as
  ``preset_settings`` when a task says ``preset: agent``, so the role's task does not list them;
- ``tools/role_files.py`` writes the role's ``defaults/main.yml``, the options of its
  ``meta/argument_specs.yml`` and the table of variables in its README; a unit test fails when one is stale.

The modules run where Ansible runs them, without the role's files: the table is Python for that reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.pod_security import LEVELS

# Handed to the preset in preset_settings (the action plugin collects them from the role's variables).
PRESET = "preset"
# Given to the module by the role's task itself (state, wait, the connection).
TASK = "task"
# A variable every role of the collection reads, without a role prefix.
SHARED = "shared"


@dataclass(frozen=True)
class Setting:
    """One role variable. ``type``, ``choices``, ``elements``, ``required``, ``no_log`` and ``version_added``
    are argument_specs' keys; ``description`` is one paragraph or a tuple of them, in Ansible's doc markup
    (C(), O(), V(), M()). ``derived`` computes the default from other settings when the value is unset
    (None or ""): it is called with a function that gives another setting's value, and the role's default
    is what it returns for templates of the other variables (``{{ otel_agent_name }}``)."""

    name: str
    type: str
    default: Any
    description: Any
    choices: tuple = ()
    elements: str | None = None
    required: bool = False
    no_log: bool = False
    version_added: str | None = None
    derived: Callable | None = None
    scope: str = PRESET


class RoleSettings:
    """The variables of one role, in the order its files list them (the collection's shared ones last)."""

    def __init__(self, role: str, *settings: Setting):
        self.role = role
        rows = list(settings) + [s for s in SHARED_SETTINGS if s.name not in {r.name for r in settings}]
        self.settings = {}
        for setting in rows:
            if setting.name in self.settings:
                raise ValueError(f"{role}: setting {setting.name} is declared twice")
            self.settings[setting.name] = setting

    def __getitem__(self, name: str) -> Setting:
        return self.settings[name]

    def variable(self, name: str) -> str:
        """The role variable of a setting. A KeyError here is a message naming a setting that does not exist."""
        setting = self.settings[name]
        return setting.name if setting.scope == SHARED else f"{self.role}_{setting.name}"

    def preset(self) -> list:
        """The settings handed to the preset, in declaration order."""
        return [s for s in self.settings.values() if s.scope == PRESET]

    def defaults(self) -> dict:
        """The preset's defaults (None where derived from other settings)."""
        return {s.name: None if s.derived else copy.deepcopy(s.default) for s in self.preset()}

    def role_default(self, setting: Setting):
        """The default as the role's defaults/main.yml holds it: derived ones as templates of other variables."""
        if setting.derived:
            return setting.derived(lambda name: "{{ " + self.variable(name) + " }}")
        return copy.deepcopy(setting.default)

    def merged(self, given: dict | None) -> dict:
        """The defaults with the given settings over them (copies: the caller's stay as they are), and the
        derived ones computed where unset."""
        merged = self.defaults()
        merged.update(copy.deepcopy(given or {}))
        for setting in self.preset():
            if setting.derived and merged[setting.name] in (None, ""):
                merged[setting.name] = setting.derived(merged.__getitem__)
        return merged

    def unknown(self, given: dict | None) -> list:
        """An error for each given setting the preset does not have, naming the role variable it would be."""
        names = [s.name for s in self.preset()]
        return [
            f"preset_settings.{key}: not a setting of this preset (role variable {self.role}_{key} does not "
            f"exist); use one of {', '.join(sorted(names))}"
            for key in sorted(set(given or {}) - set(names))
        ]


def connection_settings() -> tuple:
    """The settings every collector and certificates role gives its module as they are, last of its own."""
    return (
        Setting(
            "force_conflicts",
            "bool",
            False,
            "Take over fields that another field manager owns instead of failing with their names.",
            scope=TASK,
        ),
        Setting(
            "kubeconfig",
            "raw",
            None,
            (
                "Path of the kubeconfig (or the kubeconfig as a dictionary) for every task of the role. When unset, "
                "the C(K8S_AUTH_KUBECONFIG) and C(KUBECONFIG) environment variables, C(~/.kube/config) or the "
                "in-cluster service account apply.",
            ),
            scope=TASK,
        ),
        Setting("context", "str", None, "The kubeconfig context to use instead of the current one.", scope=TASK),
    )


SHARED_SETTINGS = (
    Setting(
        "otel_render_only",
        "bool",
        None,
        (
            "Shared by the collection's roles. Render and validate the objects without contacting any cluster, "
            "and append them to O(otel_rendered_objects) (see C(playbooks/render.yml)). Unset means V(false).",
        ),
        scope=SHARED,
    ),
    Setting(
        "otel_rendered_objects",
        "list",
        None,
        (
            "Shared by the collection's roles. In render mode, the rendered objects are appended to this list "
            "fact, in apply order. A Namespace is rendered once however many roles use it.",
        ),
        elements="dict",
        scope=SHARED,
    ),
)


def pod_security_setting(*about: str) -> Setting:
    """The namespace's Pod Security level, with the role's own paragraphs on what its Pods need."""
    return Setting(
        "pod_security",
        "str",
        "restricted",
        (
            "Pod Security Standards level of the namespace the role applies - the labels "
            "C(pod-security.kubernetes.io/enforce), C(audit) and C(warn) (see M(otel.kubernetes.apply)'s "
            "O(otel.kubernetes.apply#module:pod_security)). The API server's PodSecurity admission then refuses "
            "Pods the level forbids.",
            *about,
        ),
        choices=LEVELS,
    )


# Rows several roles declare alike: the same variable suffix, default and description.
RBAC_NAME = Setting(
    "rbac_name",
    "str",
    None,
    "Name of the ClusterRole and ClusterRoleBinding derived from the configuration.",
    derived=lambda value: value("name"),
)

MEMORY_LIMITER = Setting(
    "memory_limiter",
    "dict",
    {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
    "Settings of the C(memory_limiter) processor, relative to the container memory limit.",
)

TLS_RELOAD_INTERVAL = Setting(
    "tls_reload_interval",
    "str",
    "1h",
    (
        "How often the collector re-reads the certificate files (C(reload_interval)), so that renewed "
        "certificates are used without a restart. Empty turns it off."
    ),
)

SELF_MONITORING = Setting(
    "self_monitoring",
    "bool",
    True,
    (
        "Serve the internal metrics on C(0.0.0.0:8888) and ask the operator for a ServiceMonitor "
        "(C(spec.observability.metrics.enableMetrics)), made when the Prometheus Operator is installed."
    ),
)

GATEWAY_NAME = Setting(
    "gateway_name", "str", "otel-gateway", "Name of the gateway OpenTelemetryCollector (C(otel_gateway_name))."
)

GATEWAY_NAMESPACE = Setting(
    "gateway_namespace", "str", "observability", "Namespace of the gateway (C(otel_gateway_namespace))."
)

GATEWAY_PORT = Setting("gateway_port", "int", 4317, "The gateway's OTLP gRPC port.")
