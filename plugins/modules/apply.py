#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: apply
short_description: Apply Kubernetes objects idempotently with server-side apply
version_added: 0.1.0
description:
  - Applies (or deletes) any Kubernetes objects with server-side apply. When nothing changes it costs one
    request per object, and C(changed) reports what this task did, not what controllers did meanwhile.
  - Namespaces and CustomResourceDefinitions go first; custom resources wait until their CRD is Established.
  - The whole input is checked before anything is written. A server error stops the task with the
    Kubernetes message, the object named and what was already applied listed.
  - This is the engine every other module of the collection uses.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  definition:
    description:
      - The objects, as a dictionary, a list of dictionaries, or YAML text with one or more documents.
      - Objects of C(kind=List) are expanded. Mutually exclusive with O(src).
    type: raw
  src:
    description:
      - Path to a YAML file with one or more documents. Mutually exclusive with O(definition).
    type: path
  namespace:
    description:
      - Namespace for namespaced objects that name none. Defaults to the kubeconfig context's namespace,
        else C(default).
    type: str
  pod_security:
    description:
      - Put every C(Namespace) of the input at this Pod Security Standards level - the labels
        C(pod-security.kubernetes.io/enforce), C(audit) and C(warn) are set to it (replacing such labels
        the input has), so that the API server's PodSecurity admission refuses the Pods the level forbids.
      - C(enforce-version) is pinned to the Kubernetes minor the collection is tested on (C(v1.34)), so that
        an upgrade of the cluster does not start refusing Pods; C(audit-version) and C(warn-version) are
        C(latest), so that a stricter future policy shows up as warnings first.
      - Unset leaves Namespaces as they are. Objects of other kinds are never changed.
    type: str
    choices: [privileged, baseline, restricted]
    version_added: 0.1.0
  wait_condition:
    description:
      - With O(wait=true), wait for this condition in C(status.conditions) of every object instead of
        the built-in rollout checks.
    type: dict
    suboptions:
      type:
        description: The condition type, for example C(Available).
        type: str
        required: true
      status:
        description: The wanted status.
        type: str
        default: "True"
        choices: ["True", "False", "Unknown"]
      reason:
        description: The wanted reason, if any.
        type: str
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
"""

EXAMPLES = r"""
- name: Apply a namespace and a ConfigMap
  otel.kubernetes.apply:
    definition:
      - apiVersion: v1
        kind: Namespace
        metadata:
          name: observability
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: observability
        data:
          level: info

- name: A namespace whose Pods must meet the restricted Pod Security Standard
  otel.kubernetes.apply:
    definition:
      apiVersion: v1
      kind: Namespace
      metadata:
        name: observability
    pod_security: restricted

- name: Apply every document of a file, waiting for Deployments to roll out
  otel.kubernetes.apply:
    src: manifests/backend.yaml
    namespace: observability
    wait: true
    wait_timeout: 300

- name: Take over fields that another tool manages
  otel.kubernetes.apply:
    src: manifests/backend.yaml
    force_conflicts: true

- name: Render the objects for a GitOps repository, without a cluster
  otel.kubernetes.apply:
    src: manifests/backend.yaml
    namespace: observability
    render_only: true
  register: rendered

- name: Write them out, one YAML stream
  ansible.builtin.copy:
    content: "{{ rendered.objects | map('ansible.builtin.to_nice_yaml') | join('---\n') }}"
    dest: gitops/backend.yaml
    mode: "0644"

- name: Remove the objects of a file (reverse order; absent objects are fine)
  otel.kubernetes.apply:
    src: manifests/backend.yaml
    state: absent
"""

RETURN = r"""
results:
  description: One entry per object, in the order they were applied (reverse order for deletion).
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion:
      description: The object's apiVersion.
      type: str
      sample: apps/v1
    kind:
      description: The object's kind.
      type: str
      sample: Deployment
    name:
      description: The object's name.
      type: str
      sample: otel-gateway
    namespace:
      description: The object's namespace; null for cluster-scoped objects.
      type: str
      sample: observability
    action:
      description: What was done (or, in check mode, what would be done).
      type: str
      sample: unchanged
      choices: [created, updated, unchanged, deleted, absent]
    changed:
      description: Whether this object was (or would be) changed.
      type: bool
    note:
      description: Why an object was not validated by the server in check mode.
      type: str
      returned: when an object could not be dry-run
    diff:
      description: Before and after of the object, with server bookkeeping and Secret values removed.
      type: dict
      returned: in diff mode
objects:
  description:
    - With O(render_only=true), the checked objects in apply order, as they would be applied.
    - Secret values given in the input are masked in the task's output, like every C(no_log) value.
  returned: with O(render_only=true)
  type: list
  elements: dict
  version_added: 0.1.0
waited:
  description:
    - What each wait waited for (with O(wait=true), and for every CustomResourceDefinition to be Established),
      how long it took, and the reasons the object was not ready yet while waiting (the last few distinct ones).
  returned: when the task waited
  type: list
  elements: dict
  version_added: 0.1.0
  contains:
    object:
      description: The object waited for.
      type: str
      sample: Deployment opentelemetry-operator-system/opentelemetry-operator-controller-manager
    for:
      description: What it waited for.
      type: str
      sample: ready
    seconds:
      description: Seconds from the start of the wait until the object was ready.
      type: float
      sample: 4.2
    seen:
      description: The reasons the object was not ready, in the order seen.
      type: list
      elements: str
      sample: ["0/1 replicas available"]
api_requests:
  description: HTTP requests made to the API server by this task, discovery included (0 with O(render_only=true)).
  returned: always
  type: int
  sample: 42
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import apply_runner as runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
