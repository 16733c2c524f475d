# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otel.kubernetes.instrumentation module's flow: plan, check the targets, apply or remove.

The module file holds only its documentation, its argument spec and a main() that hands the
AnsibleModule to run_module() (the shape of kubernetes.core's module_utils/k8s/runner.py).
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.instrumentation import _render as render
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    apply_objects,
    connect,
    fail,
    render_only,
    with_apply_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import resource_path
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.info import read_object

PLURALS = {
    "Namespace": ("v1", "namespaces"),
    "Deployment": ("apps/v1", "deployments"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "DaemonSet": ("apps/v1", "daemonsets"),
}

_TARGET = {"type": "list", "elements": "str", "default": []}

ARGUMENT_SPEC = with_apply_options(
    {
        "name": {"type": "str", "required": True},
        "namespace": {"type": "str", "required": True},
        "exporter_endpoint": {"type": "str"},
        "exporter_tls": {"type": "dict"},
        "propagators": {"type": "list", "elements": "str", "default": list(render.DEFAULT_PROPAGATORS)},
        "sampler_type": {"type": "str"},
        "sampler_argument": {"type": "str"},
        "resource_attributes": {"type": "dict"},
        "env": {"type": "list", "elements": "dict"},
        "java": {"type": "dict"},
        "nodejs": {"type": "dict"},
        "python": {"type": "dict"},
        "dotnet": {"type": "dict"},
        "go": {"type": "dict"},
        "apache_httpd": {"type": "dict", "aliases": ["apacheHttpd"]},
        "nginx": {"type": "dict"},
        "agent_grpc_port": {"type": "int", "default": render.DEFAULT_GRPC_PORT},
        "agent_http_port": {"type": "int", "default": render.DEFAULT_HTTP_PORT},
        "agent_service": {"type": "str", "default": render.DEFAULT_AGENT_SERVICE},
        "cluster_domain": {"type": "str", "default": render.DEFAULT_CLUSTER_DOMAIN},
        "namespaces": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "languages": dict(_TARGET),
                "annotations": {"type": "dict"},
            },
        },
        "workloads": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "kind": {"type": "str", "required": True, "choices": list(render.WORKLOAD_KINDS)},
                "name": {"type": "str", "required": True},
                "namespace": {"type": "str"},
                "languages": dict(_TARGET),
                "container_names": {"type": "list", "elements": "str"},
                "annotations": {"type": "dict"},
            },
        },
        "extra_annotations": {"type": "dict"},
        "annotation_field_manager": {"type": "str", "default": render.ANNOTATION_FIELD_MANAGER},
    }
)
MODULE_OPTIONS = {}


def existing_targets(client, targets: list) -> tuple:
    """(targets that exist, names of those that do not)."""
    found, missing = [], []
    for obj in targets:
        api_version, plural = PLURALS[obj["kind"]]
        meta = obj["metadata"]
        try:
            exists = read_object(client, resource_path(api_version, plural, meta.get("namespace"), meta["name"]))
        except ApiError as error:
            raise OtelK8sError(f"cannot read {manifests.identity(obj)} ({error.status}): {error.message}") from None
        if exists is None:
            missing.append(manifests.identity(obj))
        else:
            found.append(obj)
    return found, missing


def status(instrumentation: dict, injections: list, state: str) -> dict:
    """What the role publishes as otel_instrumentation_status (empty after state=absent): the Instrumentation,
    where the SDKs send, and the targets with the languages injected into them."""
    if state != "present":
        return {}
    marker = f"{render.PREFIX}inject-"
    targets = []
    for obj in injections:
        meta = obj["metadata"]
        annotations = meta.get("annotations") or obj.get("spec", {}).get("template", {}).get("metadata", {}).get(
            "annotations", {}
        )
        targets.append(
            {
                "kind": obj["kind"],
                "namespace": meta.get("namespace"),
                "name": meta["name"],
                "languages": sorted(key[len(marker) :] for key in annotations or {} if key.startswith(marker)),
            }
        )
    meta = instrumentation["metadata"]
    return {
        "name": meta["name"],
        "namespace": meta["namespace"],
        "exporter_endpoint": instrumentation["spec"]["exporter"]["endpoint"],
        "targets": targets,
    }


def merge(total: dict, part: dict) -> dict:
    """Add one engine result (a step of this task) to the task's result."""
    total["changed"] = total.get("changed", False) or part["changed"]
    total.setdefault("results", []).extend(part["results"])
    if "objects" in part:  # render_only
        total.setdefault("objects", []).extend(part["objects"])
    if "diff" in part:
        total.setdefault("diff", []).extend(part["diff"])
    total["api_requests"] = part["api_requests"]
    return total


class InstrumentationRunner:
    """One task of the module: the Instrumentation, then the annotations (or the reverse to remove).

    module is the AnsibleModule (its params, check mode and diff); client, when given, is used
    instead of one made from the module's connection options (tests hand a fake one).
    """

    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client
        self.objects = []
        self.result = {"changed": False, "results": []}

    def run(self) -> dict:
        """The module result; raises OtelK8sError with what earlier steps applied in its details."""
        try:
            return self._run()
        except OtelK8sError as error:
            if self.result.get("results"):  # what an earlier step of this task applied
                error.details["results"] = self.result["results"] + list(error.details.get("results") or [])
            raise

    def _run(self) -> dict:
        params = self.params
        instrumentation, injections, warnings = render.plan(params)
        self.objects = [instrumentation, *injections]
        self.result["status"] = status(instrumentation, injections, params["state"])
        for warning in warnings:
            self.module.warn(warning)
        if render_only(self.module):  # nothing is read: the targets are not checked for existence
            self._apply([("Instrumentation", instrumentation)], namespace=params["namespace"])
            if injections:
                self._apply([("annotations", obj) for obj in injections])
            return self.result
        client = self.client = self.client or connect(self.module)
        found, missing = existing_targets(client, injections)
        if params["state"] == "present":
            if missing:
                raise OtelK8sError(
                    "these targets do not exist, nothing was applied: "
                    + ", ".join(missing)
                    + ". This module only annotates existing namespaces and workloads; create them first"
                )
            self._apply([("Instrumentation", instrumentation)], namespace=params["namespace"])
            if injections:
                self._apply(
                    [("annotations", obj) for obj in injections], field_manager=params["annotation_field_manager"]
                )
        else:
            if found:  # remove exactly our annotations first: no new pod asks for a deleted Instrumentation
                self._apply(
                    [("annotations", obj) for obj in render.removal_objects(found)],
                    state="present",
                    field_manager=params["annotation_field_manager"],
                )
            self._apply([("Instrumentation", instrumentation)], namespace=params["namespace"])
        self.result["api_requests"] = client.requests
        return dict(self.result, objects=self.objects)

    def _apply(self, labelled: list, **options) -> None:
        part = apply_objects(self.module, manifests.check_objects(labelled), client=self.client, **options)
        merge(self.result, part)


def run_module(module, client=None) -> None:
    """exit_json with the runner's result, or fail_json with its error (never a traceback)."""
    runner = InstrumentationRunner(module, client)
    try:
        result = runner.run()
    except OtelK8sError as error:
        fail(module, error, objects=runner.objects)
    module.exit_json(**result)
