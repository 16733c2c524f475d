#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: manifest_files
short_description: Write rendered Kubernetes objects to a directory, one YAML file per object
version_added: 0.1.0
description:
  - Writes each object to C(NNN-kind-namespace-name.yaml) in O(path), numbered in the order given
    (the apply order, when the objects come from C(render_only) results), for Argo CD or Flux.
  - Checks every object first (apiVersion, kind, metadata.name) and refuses Secrets; nothing is written
    when one object is refused.
  - A file is rewritten only when its content differs, so a second run reports no change.
  - Files of objects no longer rendered are left in place.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  path:
    description:
      - The directory to write to. It is created when missing.
    type: path
    required: true
  objects:
    description:
      - The objects, in apply order, for example the collection's C(otel_rendered_objects).
    type: list
    elements: raw
    required: true
notes:
  - Supports check mode (reports the files it would write).
"""

EXAMPLES = r"""
- name: Write what render.yml rendered
  otel.kubernetes.manifest_files:
    path: "{{ otel_render_dir }}"
    objects: "{{ otel_rendered_objects }}"
"""

RETURN = r"""
written:
  description: The files written (or, in check mode, that would be written).
  returned: always
  type: list
  elements: str
files:
  description: The number of objects, one file each.
  returned: always
  type: int
  sample: 28
directory:
  description: The directory written to.
  returned: always
  type: str
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifest_files as runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
