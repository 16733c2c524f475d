# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collector configuration as data: parse, normalise, component ids, quantities, durations. Pure.

One model read by the lint (``_lint``), the rendering (``_render``) and the RBAC derivation
(``rbac.render``), so that they agree on what a
configuration says: which components it defines, which ones a pipeline starts, what type a
component id names (``otlp/tempo`` is an ``otlp``), and how big a memory quantity is.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError, yaml_problem

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

MIB = 1024 * 1024
# The sections whose components run (connectors are pipelines' ends, not started on their own).
RUNNING_SECTIONS = ("receivers", "processors", "exporters", "extensions")

_SUFFIXES = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "Pi": 1024**5,
    "Ei": 1024**6,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_QUANTITY_RE = re.compile(
    r"^\s*([+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?\s*$"
)


# ------------------------------------------------------------------ quantities
def parse_quantity(value) -> int:
    """A Kubernetes quantity ('512Mi', '1Gi', '1G', '500M', '1e9', 1073741824) -> bytes.

    Raises ValueError with the accepted forms when the value is not a quantity.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a memory quantity")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return int(value)
    match = _QUANTITY_RE.match(str(value))
    if not match:
        raise ValueError(
            f"{value!r} is not a Kubernetes quantity; write for example 512Mi, 1Gi, 1G or a number of bytes"
        )
    number, suffix = match.groups()
    return int(float(number) * _SUFFIXES[suffix or ""])


def to_mib(value) -> float:
    return parse_quantity(value) / MIB


# ------------------------------------------------------------------ parsing
def parse_config(config) -> tuple:
    """dict or YAML text -> (dict or None, error or None). The input is never changed.

    The lint's reading: every problem is a message, nothing is raised.
    """
    if isinstance(config, str):
        text = config
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as error:
            return None, f"config: not valid YAML: {yaml_problem(error, text)}"
        if config is None:
            return None, "config: empty; give the collector configuration (receivers, processors, exporters, service)"
    if not isinstance(config, dict):
        return None, (
            f"config: expected a mapping (receivers, processors, exporters, service), got {type(config).__name__}"
        )
    return copy.deepcopy(config), None


def load_config(config) -> dict:
    """The collector config as a dict: a dict, YAML text, or None (no permissions).

    RBAC's reading: no config means no permissions; a config that is not a mapping raises
    OtelK8sError.
    """
    if config is None or config == "":
        return {}
    if isinstance(config, str):
        text = config
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise OtelK8sError(f"config is not valid YAML: {yaml_problem(error, text)}") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise OtelK8sError(f"config: expected the collector configuration as a mapping, got {type(config).__name__}")
    return config


def normalise(config: dict) -> dict:
    """Empty sections and empty component settings become {} (as v1beta1 stores them)."""
    for kind in dist.KINDS:
        if kind in config and config[kind] is None:
            config[kind] = {}
        section = config.get(kind)
        if isinstance(section, dict):
            for key, value in section.items():
                if value is None:
                    section[key] = {}
    if config.get("service") is None and "service" in config:
        config["service"] = {}
    return config


# ------------------------------------------------------------------ component ids
def split_id(component_id) -> tuple:
    """'otlp/tempo' -> ('otlp', 'tempo'); 'batch' -> ('batch', None)."""
    text = str(component_id)
    type_name, _slash, name = text.partition("/")
    return type_name, (name or None)


def component_type(component_id) -> str:
    """'k8sattributes/agent' -> 'k8sattributes'."""
    return split_id(component_id)[0]


# ------------------------------------------------------------------ components
def components_of(config: dict) -> list:
    """(kind, id, type) of every component defined in the five sections."""
    found = []
    for kind in dist.KINDS:
        section = config.get(kind)
        if isinstance(section, dict):
            for cid in section:
                found.append((kind, str(cid), component_type(cid)))
    return found


def components_of_type(config: dict, kind: str, current: str) -> list:
    """(id, settings) of every component of this type (any name, any spelling)."""
    section = config.get(kind)
    if not isinstance(section, dict):
        return []
    return [
        (cid, settings) for cid, settings in section.items() if dist.canonical(kind, component_type(cid)) == current
    ]


def used_components(config: dict) -> dict:
    """{section: {component_id: settings}} of the components the collector starts.

    With service.pipelines, only components a pipeline names (and service.extensions)
    run; without a service section every defined component is taken, to be safe.
    """
    service = config.get("service") if isinstance(config.get("service"), dict) else None
    pipelines = (service or {}).get("pipelines")
    sections = {}
    for section in RUNNING_SECTIONS:
        defined = config.get(section) or {}
        if not isinstance(defined, dict):
            raise OtelK8sError(f"config.{section}: expected a mapping of component id to settings")
        sections[section] = {cid: (settings if isinstance(settings, dict) else {}) for cid, settings in defined.items()}
    if service is None or not isinstance(pipelines, dict):
        return sections
    named = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline in pipelines.values():
        for section, ids in named.items():
            ids.update((pipeline or {}).get(section) or [])
    used = {section: {cid: s for cid, s in sections[section].items() if cid in ids} for section, ids in named.items()}
    enabled = service.get("extensions") or []
    used["extensions"] = {cid: s for cid, s in sections["extensions"].items() if cid in enabled}
    return used


_DURATION_PART_RE = re.compile(r"([0-9]+(?:[.][0-9]+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(value, default: float) -> float:
    """A Go duration (`10s`, `1m30s`, `500ms`) in seconds; `default` when it is not one (or an env reference)."""
    text = value.strip() if isinstance(value, str) else ""
    parts = _DURATION_PART_RE.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return default
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
