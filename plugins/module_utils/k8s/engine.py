# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply engine: the one place that writes to the API server.

Server-side apply, one PATCH per object on the idempotent path. "changed" must say
what THIS run did, not what controllers did since the last one, without a GET per
object. So one cheap LIST (limit=1) at the start gives a marker: the store's current
resourceVersion and the server's clock (once per client: a task's later runs reuse it).
After the PATCH an object counts as changed when it was created (HTTP 201), or when
its resourceVersion is newer than the marker
AND our field manager's managedFields entry was stamped at or after the marker (a
controller writing to the object during the run moves the first, never the second).
Check mode, diff mode, deletion and servers whose resourceVersions are not integers
use a GET before each object instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests, readiness
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import resource_path
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
# Objects of one kind are independent of each other: apply them a few at a time.
# Different kinds keep their order (namespaces before their contents, CRDs before CRs).
MAX_PARALLEL = 4
# An apply whose fields are only the identity (a bare Namespace) leaves no managedFields;
# the next apply makes the server record the existing fields under this manager once.
# That write moves the resourceVersion but changes no content: it is not a change.
FIRST_APPLY_MANAGER = "before-first-apply"
# A wait reports the last few distinct reasons it saw an object not ready (a rollout's steps).
MAX_SEEN = 5


@dataclass
class ApplyOptions:
    state: str = "present"
    namespace: str | None = None
    field_manager: str = "otel.kubernetes"
    force_conflicts: bool = False
    check_mode: bool = False
    diff: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    wait_sleep: float = 1.0
    wait_condition: dict | None = None

    @classmethod
    def from_params(cls, params: dict, check_mode: bool, diff: bool, **overrides) -> ApplyOptions:
        """The options of a module's engine run: its apply options (doc fragment otel.kubernetes.apply),
        its check and diff mode, and ``overrides`` for this run (None: the module's own)."""
        options = cls(
            state=params["state"],
            field_manager=params["field_manager"],
            force_conflicts=params["force_conflicts"],
            check_mode=check_mode,
            diff=diff,
            wait=params["wait"],
            wait_timeout=params["wait_timeout"],
            wait_sleep=params["wait_sleep"],
        )
        return dataclasses.replace(options, **{key: value for key, value in overrides.items() if value is not None})


@dataclass
class Marker:
    resource_version: int
    server_second: float  # floor of the server clock when the run started


@dataclass
class Planned:
    obj: dict
    resource: object  # discovery.Resource, or None until a CRD of this input is Established
    unserved: bool = False  # check mode only: a kind the server does not serve (yet)


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None


def _object_path(resource, obj: dict) -> str:
    meta = obj["metadata"]
    return resource_path(resource.api_version, resource.plural, meta.get("namespace"), meta["name"])


def _not_served_yet(obj: dict) -> str:
    return f"kind {obj['kind']} of {obj['apiVersion']} is not served yet (no CRD for it exists)"


def _batches(plan: list) -> list:
    """Consecutive objects of the same kind; Namespaces and CRDs one at a time."""
    batches = []
    for item in plan:
        kind = (item.obj["apiVersion"], item.obj["kind"])
        if batches and kind == batches[-1][0] and item.obj["kind"] not in ("Namespace", "CustomResourceDefinition"):
            batches[-1][1].append(item)
        else:
            batches.append((kind, [item]))
    return [items for _kind, items in batches]


def _first_apply_bookkeeping(before: dict | None, after_entries: list) -> bool:
    return (
        bool(before)
        and not (before.get("metadata") or {}).get("managedFields")
        and bool(after_entries)
        and all(e.get("manager") == FIRST_APPLY_MANAGER for e in after_entries)
    )


def describe_api_error(error: ApiError, what: str) -> str:
    """The Kubernetes Status message, with the object and the fix named."""
    if error.status == 401:
        return (
            f"the API server rejected the credentials (401 Unauthorized) while {what}: {error.message}; "
            "check 'kubeconfig'/'context', 'api_key' or 'client_cert'/'client_key'"
        )
    if error.status == 403:
        if "attempting to grant RBAC permissions not currently held" in error.message:
            # RBAC's escalation check: the message lists the rules, not the verb that would allow them.
            return (
                f"forbidden (403) while {what}: {error.message}. The identity in use must hold every "
                "permission this role grants, or have the verb 'escalate' on it (and 'bind' on a role it "
                "binds); playbooks/deployer_rbac.yml grants these for site.yml's roles"
            )
        return (
            f"forbidden (403) while {what}: {error.message}. "
            "The identity in use needs RBAC permission for this; grant it or use another identity "
            "(playbooks/deployer_rbac.yml grants what site.yml needs)"
        )
    if error.status == 409 and (error.causes or error.message.startswith("Apply failed")):
        # Newer servers list FieldManagerConflict causes; 1.20 says it in the message only.
        fields = "; ".join(f"{c.get('field')} ({c.get('message')})" for c in error.causes if c.get("field"))
        return (
            f"conflict (409) while {what}: other field managers own these fields: {fields or error.message}. "
            "Set force_conflicts: true to take them over, or stop managing them elsewhere"
        )
    details = error.body.get("details") or {}
    if error.status == 404 and details.get("kind") == "namespaces":
        return (
            f"the API server refused {what}: namespace {details.get('name')} does not exist (404 NotFound); "
            f"create it first: put a Namespace {details.get('name')} in the same input (namespaces are applied "
            "first) or name an existing namespace"
        )
    text = f"the API server refused {what} ({error.status} {error.reason or 'error'}): {error.message}"
    return text


class ApplyEngine:
    def __init__(self, client, discovery, options: ApplyOptions, default_namespace: str = "default"):
        self.client = client
        self.discovery = discovery
        self.options = options
        self.default_namespace = options.namespace or default_namespace
        self.results = []
        self.diffs = []
        self.waits = []  # what each wait waited for, how long, and what it saw while waiting
        self.live = {}  # identity -> object as the caller just read it (run's live)

    # ------------------------------------------------------------------ public
    def run(self, objects: list, live: list | None = None) -> dict:
        """objects: checked dicts (manifests.check_objects). live: objects the caller has just read
        (their current state): one that already holds what would be applied is not sent again.
        Returns the module result."""
        self.live = {manifests.identity(o): o for o in live or []}
        try:
            if self.options.state == "absent":
                self._delete_all(manifests.order(objects)[::-1])
            else:
                self._apply_all(manifests.order(objects))
        except ApiError as error:
            raise OtelK8sError(
                describe_api_error(error, "contacting the API server") + self._applied_note(), results=self.results
            ) from None
        except OtelK8sError as error:
            # An error raised outside the per-object path (the API server gone during a wait or a
            # discovery read) must still say what this task had applied.
            if "results" not in error.details:
                raise self._failure(error) from None
            raise
        result = {"changed": any(r["changed"] for r in self.results), "results": self.results}
        if self.waits:
            result["waited"] = self.waits
        if self.options.diff:
            result["diff"] = self.diffs
        return result

    # ------------------------------------------------------------------ planning
    def _plan(self, objects: list) -> list:
        """Resolve every kind and namespace before anything is written."""
        crds = [o for o in objects if (manifests.group_of(o["apiVersion"]), o["kind"]) == CRD_KIND]
        problems = []
        plan = []
        for obj in objects:
            resource = self.discovery.find(obj["apiVersion"], obj["kind"])
            meta = obj["metadata"]
            if resource is None:
                crd = next((c for c in crds if manifests.crd_serves(c, obj["apiVersion"], obj["kind"])), None)
                if crd is None and self.options.check_mode:
                    # An earlier task of the same run may install its CRD (the operator
                    # role does): in check mode that CRD was only dry-run.
                    plan.append(Planned(obj, None, unserved=True))
                    continue
                if crd is None:
                    problems.append(
                        f"{manifests.identity(obj)}: kind {obj['kind']} of apiVersion {obj['apiVersion']} is not "
                        "served by this API server; fix apiVersion/kind or install its CustomResourceDefinition first"
                    )
                    continue
                namespaced = (crd.get("spec") or {}).get("scope", "Namespaced") == "Namespaced"
            else:
                namespaced = resource.namespaced
            if namespaced:
                meta.setdefault("namespace", self.default_namespace)
            else:
                meta.pop("namespace", None)  # ignored for cluster-scoped kinds, as kubectl does
            plan.append(Planned(obj, resource))
        if problems:
            raise OtelK8sError("the input was refused, nothing was applied:\n- " + "\n- ".join(problems), results=[])
        return plan

    def _marker(self, first: Planned) -> Marker | None:
        """One LIST (limit=1) on the first object's collection: the store's revision now."""
        resource, meta = first.resource, first.obj["metadata"]
        try:
            answer = self.client.request(
                "GET", resource_path(resource.api_version, resource.plural, meta.get("namespace")), {"limit": 1}
            )
            version = int((answer.data.get("metadata") or {}).get("resourceVersion"))
        except (ApiError, TypeError, ValueError):
            return None  # not allowed to list, or opaque versions: GET before each object instead
        if answer.server_time is None:
            return None
        return Marker(version, float(int(answer.server_time)))

    # ------------------------------------------------------------------ present
    def _apply_all(self, objects: list) -> None:
        plan = self._plan(objects)
        if not plan:
            return
        opts = self.options
        marker = None
        if not (opts.check_mode or opts.diff) and plan[0].resource is not None:
            marker = getattr(self.client, "apply_marker", None) or self._marker(plan[0])
            self.client.apply_marker = marker
        pending_namespaces = set()  # namespaces that check mode would create
        answers = {}  # id(item) -> the object as the apply answered it: the first poll of any wait
        for batch in _batches(plan):
            for item in batch:
                if item.resource is None:
                    item.resource = self.discovery.find(item.obj["apiVersion"], item.obj["kind"])
            outcomes = self._concurrently(lambda item: self._apply_one(item, marker, pending_namespaces), batch)
            errors = [o for o in outcomes if isinstance(o, Exception)]
            for item, outcome in zip(batch, outcomes):
                if not isinstance(outcome, Exception):
                    self._record(item, *outcome)
            if errors:
                raise self._failure(errors[0])
            for item, (action, _changed, _before, after, _note) in zip(batch, outcomes):
                obj = item.obj
                answers[id(item)] = after
                if opts.check_mode and obj["kind"] == "Namespace" and action == "created":
                    pending_namespaces.add(obj["metadata"]["name"])
                if (manifests.group_of(obj["apiVersion"]), obj["kind"]) == CRD_KIND and not opts.check_mode:
                    self._wait_for([item], None, "CustomResourceDefinition Established", answers)
                    self._forget_crd_versions(obj)
        if opts.wait and not opts.check_mode:
            self._wait_for(
                [
                    i
                    for i in plan
                    if opts.wait_condition
                    or readiness.has_readiness(manifests.group_of(i.obj["apiVersion"]), i.obj["kind"])
                ],
                opts.wait_condition,
                "ready",
                answers,
            )

    @staticmethod
    def _concurrently(work, items: list) -> list:
        """Results (or exceptions) of work(item), in item order; up to MAX_PARALLEL at once."""

        def guarded(item):
            try:
                return work(item)
            except OtelK8sError as error:
                return error

        if len(items) == 1:
            return [guarded(items[0])]
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
            return list(pool.map(guarded, items))

    def _failure(self, error: OtelK8sError) -> OtelK8sError:
        error.message += self._applied_note()
        error.details["results"] = self.results
        return error

    def _apply_one(self, item: Planned, marker: Marker | None, pending_namespaces: set) -> tuple:
        """(action, changed, before, after, note) for one object; raises OtelK8sError."""
        obj, resource, opts = item.obj, item.resource, self.options
        meta = obj["metadata"]
        if opts.check_mode and (resource is None or meta.get("namespace") in pending_namespaces):
            if item.unserved:
                reason = _not_served_yet(obj)
            elif resource is None:
                reason = "its CustomResourceDefinition is created by this input"
            else:
                reason = f"namespace {meta.get('namespace')} is created by this input"
            return "created", True, None, obj, f"not validated by the server: {reason}"
        if resource is None:
            raise OtelK8sError(
                f"{manifests.identity(obj)}: its CustomResourceDefinition was applied and "
                "Established, but the API server still does not serve this kind and version"
            )
        known = self.live.get(manifests.identity(obj))
        if known is not None and manifests.apply_is_noop(known, obj, opts.field_manager):
            return "unchanged", False, known, known, None
        path = _object_path(resource, obj)
        query = {"fieldManager": opts.field_manager}
        if opts.force_conflicts:
            query["force"] = "true"
        if opts.check_mode:
            query["dryRun"] = "All"
        try:
            before = None if marker else self._get(path)
            answer = self.client.request("PATCH", path, query, obj, APPLY_CONTENT_TYPE)
        except ApiError as error:
            missing_kind = (error.body.get("details") or {}).get("kind")
            if opts.check_mode and error.status == 404 and missing_kind == "namespaces":
                # The namespace does not exist yet: an earlier task of this run creates it.
                note = f"not validated by the server: namespace {meta.get('namespace')} does not exist yet"
                return "created", True, None, obj, note
            if error.status == 404 and missing_kind != "namespaces":
                # Server-side apply creates missing objects: a 404 means the kind itself is gone
                # (a CRD deleted since discovery was cached). Say that, not a bare "not found".
                self.discovery.invalidate(obj["apiVersion"])
                if self.discovery.find(obj["apiVersion"], obj["kind"]) is None:
                    if opts.check_mode:
                        # As when discovery was fresh from the start: an earlier task of this
                        # run may install the CRD (dry-run only in check mode).
                        return "created", True, None, obj, f"not validated by the server: {_not_served_yet(obj)}"
                    raise OtelK8sError(
                        f"{manifests.identity(obj)}: kind {obj['kind']} of apiVersion {obj['apiVersion']} is no "
                        "longer served by this API server (its CustomResourceDefinition was removed); install it again"
                    ) from None
            raise OtelK8sError(describe_api_error(error, f"applying {manifests.identity(obj)}")) from None
        after = answer.data
        if answer.status == 201 or (marker is None and before is None):
            return "created", True, before, after, None
        changed = self._changed(before, after, marker)
        return ("updated" if changed else "unchanged"), changed, before, after, None

    def _changed(self, before: dict | None, after: dict, marker: Marker | None) -> bool:
        """Did this apply change an existing object? (See the module docstring.)"""
        meta = after.get("metadata") or {}
        entries = meta.get("managedFields") or []
        if marker is None:
            if _first_apply_bookkeeping(before, entries):
                return False
            if self.options.check_mode:
                return manifests.comparable(before) != manifests.comparable(after)
            return (before.get("metadata") or {}).get("resourceVersion") != meta.get("resourceVersion")
        try:
            if int(meta.get("resourceVersion")) <= marker.resource_version:
                return False
        except (TypeError, ValueError):
            return True
        ours = [e for e in entries if e.get("manager") == self.options.field_manager and e.get("operation") == "Apply"]
        if not ours:
            fresh = [
                e
                for e in entries
                if e.get("manager") == FIRST_APPLY_MANAGER and (_parse_time(e.get("time")) or 0) >= marker.server_second
            ]
            return not fresh
        stamped = _parse_time(ours[0].get("time"))
        return stamped is None or stamped >= marker.server_second

    def _forget_crd_versions(self, crd: dict) -> None:
        """A CRD was applied or deleted: its group-versions must be discovered again."""
        spec = crd.get("spec") or {}
        for version in spec.get("versions") or []:
            self.discovery.invalidate(f"{spec.get('group')}/{version.get('name')}")

    def _get(self, path: str) -> dict | None:
        try:
            return self.client.request("GET", path).data
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    # ------------------------------------------------------------------ absent
    def _delete_all(self, objects: list) -> None:
        for obj in objects:
            resource = self.discovery.find(obj["apiVersion"], obj["kind"])
            meta = obj["metadata"]
            item = Planned(obj, resource)
            if resource is None:  # kind not served: no such object can exist
                self._record(item, "absent", False, None, None)
                continue
            if resource.namespaced:
                meta.setdefault("namespace", self.default_namespace)
            else:
                meta.pop("namespace", None)
            path = _object_path(resource, obj)
            what = f"deleting {manifests.identity(obj)}"
            try:
                before = self._get(path)
                if before is None or (before.get("metadata") or {}).get("deletionTimestamp"):
                    self._record(item, "absent", False, before, None)
                    continue
                query = {"propagationPolicy": "Background"}
                if self.options.check_mode:
                    query["dryRun"] = "All"
                self.client.request("DELETE", path, query)
            except ApiError as error:
                if error.status == 404:
                    self._record(item, "absent", False, None, None)
                    continue
                raise OtelK8sError(
                    describe_api_error(error, what) + self._applied_note(), results=self.results
                ) from None
            self._record(item, "deleted", True, before, None)
            if (manifests.group_of(obj["apiVersion"]), obj["kind"]) == CRD_KIND:
                self._forget_crd_versions(obj)
        if self.options.wait and not self.options.check_mode:
            self._wait_gone(
                [
                    Planned(o, self.discovery.find(o["apiVersion"], o["kind"]))
                    for o, r in zip(objects, self.results)
                    if r["action"] == "deleted"
                ]
            )

    # ------------------------------------------------------------------ waiting
    def _wait_for(self, items: list, condition: dict | None, goal: str, answers: dict | None = None) -> None:
        """Poll until every item is ready (readiness.is_ready, with the object its readiness depends on,
        readiness.depends_on); the first poll reads answers (id(item) -> object as the apply answered it)
        where it has one: a no-op apply of a ready object costs no GET."""
        known = dict(answers or {})

        def ready(item: Planned) -> tuple:
            live = known.pop(id(item), None) or self._get(_object_path(item.resource, item.obj))
            if live is None:
                return False, "not found"
            group = manifests.group_of(item.obj["apiVersion"])
            dependency = readiness.depends_on(live, group)
            found = None
            if dependency:
                path = resource_path(
                    dependency["apiVersion"], dependency["plural"], dependency["namespace"], dependency["name"]
                )
                found = self._get(path)
            return readiness.is_ready(live, group, condition, found)

        late = self._poll(items, ready, goal)
        if late:
            lines = "; ".join(f"{manifests.identity(item.obj)}: {why}" for item, why in late)
            raise OtelK8sError(
                f"timed out after {self.options.wait_timeout:.0f}s waiting for {goal}: {lines}" + self._applied_note(),
                results=self.results,
                waited=self.waits,
            )

    def _wait_gone(self, items: list) -> None:
        def gone(item: Planned) -> tuple:
            return item.resource is None or self._get(_object_path(item.resource, item.obj)) is None, "still there"

        late = self._poll(items, gone, None)
        if late:
            names = ", ".join(manifests.identity(item.obj) for item, _why in late)
            raise OtelK8sError(
                f"timed out after {self.options.wait_timeout:.0f}s waiting for deletion of: {names}",
                results=self.results,
            )

    def _poll(self, items: list, done, goal: str | None) -> list:
        """The one wait loop of the collection: ``done(item)`` -> (done, why-not) for each item still
        waiting, every wait_sleep seconds, until all are done or wait_timeout has passed. Returns
        [(item, why-not)] of those still waiting then (empty: all done). Each item done is recorded in
        self.waits for ``goal`` (None: not recorded), with the distinct reasons it was not done before."""
        started = time.monotonic()
        deadline = started + self.options.wait_timeout
        waiting, reasons = list(items), {}
        seen = {id(item): [] for item in items}  # distinct not-done reasons, in the order seen
        while waiting:
            still = []
            for item in waiting:
                ok, why = done(item)
                if ok and goal:
                    self.waits.append(
                        {
                            "object": manifests.identity(item.obj),
                            "for": goal,
                            "seconds": round(time.monotonic() - started, 1),
                            "seen": seen[id(item)][-MAX_SEEN:],
                        }
                    )
                elif not ok:
                    still.append(item)
                    reasons[id(item)] = why
                    if why not in seen[id(item)]:
                        seen[id(item)].append(why)
            waiting = still
            if waiting and time.monotonic() + self.options.wait_sleep > deadline:
                return [(item, reasons[id(item)]) for item in waiting]
            if waiting:
                time.sleep(self.options.wait_sleep)
        return []

    # ------------------------------------------------------------------ results
    def _record(self, item: Planned, action: str, changed: bool, before, after, note: str | None = None) -> None:
        # Called from the main thread only, in apply order.
        obj = item.obj
        meta = obj["metadata"]
        entry = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "action": action,
            "changed": changed,
        }
        if note:
            entry["note"] = note
        if self.options.diff:
            shown_before = manifests.redact(manifests.for_display(before))
            shown_after = manifests.redact(manifests.for_display(after), compare_to=before)
            entry["diff"] = {"before": shown_before or {}, "after": shown_after or {}}
            if changed:
                self.diffs.append(
                    {
                        "before_header": manifests.identity(obj),
                        "after_header": manifests.identity(obj),
                        "before": _yaml(shown_before),
                        "after": _yaml(shown_after),
                    }
                )
        self.results.append(entry)

    def _applied_note(self) -> str:
        done = [
            f"{r['kind']} {r['namespace'] + '/' if r['namespace'] else ''}{r['name']} ({r['action']})"
            for r in self.results
            if r["changed"]
        ]
        if self.options.check_mode:
            return " (check mode: nothing was stored)"
        if not done:
            return ". Nothing was changed before this error"
        return ". Already applied before this error, and left in place: " + ", ".join(done)


def _yaml(obj) -> str:
    if not obj:
        return ""
    return manifests.yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)
