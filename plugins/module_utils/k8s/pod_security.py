# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod Security Standards for the namespaces the collection makes (pure).

The API server's built-in PodSecurity admission reads the namespace labels
``pod-security.kubernetes.io/<mode>`` (enforce, audit, warn) and ``<mode>-version``.
Every Namespace the roles apply carries all three modes at one level, so that what is
enforced is also what is audited and warned about.

Versions: ``enforce-version`` is pinned to the Kubernetes minor the collection is tested on,
so that a cluster upgrade never starts refusing Pods that ran the day before; ``audit`` and
``warn`` follow ``latest``, so that a stricter future policy shows up in warnings and audit
events first. Raising the pin is a reviewed change of ENFORCE_VERSION.
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

LEVELS = ("privileged", "baseline", "restricted")
PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
ENFORCE_VERSION = "v1.34"
FOLLOWING_VERSION = "latest"


def namespace_labels(level: str) -> dict:
    """The labels that put a namespace at `level` for every PodSecurity mode."""
    if level not in LEVELS:
        raise OtelK8sError(
            f"pod_security: {level!r} is not a Pod Security Standards level; use one of {', '.join(LEVELS)}"
        )
    labels = {}
    for mode in MODES:
        labels[PREFIX + mode] = level
        labels[f"{PREFIX}{mode}-version"] = ENFORCE_VERSION if mode == "enforce" else FOLLOWING_VERSION
    return labels


def label_namespaces(objects: list, level: str | None) -> list:
    """`objects` with every Namespace labelled for `level` (None leaves them as they are).

    The level replaces any pod-security label the input has: it is what the task asked for.
    """
    if level is None:
        return objects
    labels = namespace_labels(level)
    labelled = []
    for obj in objects:
        if isinstance(obj, dict) and obj.get("apiVersion") == "v1" and obj.get("kind") == "Namespace":
            metadata = dict(obj.get("metadata") or {})
            metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
            labelled.append({**obj, "metadata": metadata})
        else:
            labelled.append(obj)
    return labelled
