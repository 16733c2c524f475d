# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of every module that applies objects through the collection's engine."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) applies the objects with server-side apply; V(absent) deletes them in reverse order.
      - Deleting an object that is already gone is not an error.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description:
      - The server-side apply field manager that owns the fields this task sets.
    type: str
    default: otel.kubernetes
  force_conflicts:
    description:
      - Take over fields owned by other field managers instead of failing with their names.
    type: bool
    default: false
  wait:
    description:
      - After applying, wait until Deployments, DaemonSets and StatefulSets have rolled out, an
        OpenTelemetryCollector's workload (the one the OpenTelemetry Operator makes of it, C(<name>-collector))
        has rolled out, and custom conditions are met; with O(state=absent), wait until the objects are gone.
      - CustomResourceDefinitions are always waited for (Established) before custom resources of their kind.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait; the failure names each object that was not ready and why.
    type: int
    default: 120
  wait_sleep:
    description:
      - Seconds between two readiness checks.
    type: int
    default: 1
  render_only:
    description:
      - Render and validate the objects, and return them in RV(ignore:objects) without contacting any cluster.
        No kubeconfig or other credentials are read, nothing is changed, and C(changed) is always V(false).
        Made for GitOps, where a tool such as Argo CD or Flux applies the rendered objects.
      - Only the checks that need no API server are made; the server's own validation (what check mode
        gives) does not happen.
      - Without the cluster's API discovery, a namespaced object that names no namespace gets the task's
        namespace (when one is given) only for the kinds known to be namespaced (the built-in kinds, the
        OpenTelemetry Operator's, cert-manager's, and kinds that a CustomResourceDefinition of the same input
        defines); a cluster-scoped object loses its namespace; objects of any other kind are returned as given.
      - Cannot be used with O(state=absent).
    type: bool
    default: false
    version_added: 0.1.0
  rendered_before:
    description:
      - With O(render_only=true), the objects that earlier tasks of the play rendered (a render playbook's
        C(otel_rendered_objects)). A Namespace among them is not rendered again, since the components of several
        roles share a namespace, and the first role that renders it writes it.
      - Ignored without O(render_only=true).
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing anything.
    support: full
    details: Server-side dry run (C(dryRun=All)); the API server validates everything and stores nothing.
  diff_mode:
    description: Shows what would change, or what changed, in diff mode.
    support: full
    details: Before and after of each changed object; Secret values are replaced by V(VALUE_REDACTED).
"""
