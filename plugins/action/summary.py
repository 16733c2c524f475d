# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action front of otel.kubernetes.summary: in the controller's process when the connection is local.

See plugins/plugin_utils/in_process.py.
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.plugin_utils.in_process import ModuleFront, preload


class ActionModule(ModuleFront):
    module_name = "summary"
    preloaded = preload(module_name)
