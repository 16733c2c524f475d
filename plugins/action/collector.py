# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action front of otel.kubernetes.collector: in the controller's process when the connection is local.

See plugins/plugin_utils/in_process.py. A task with ``preset`` gets its role's variables as
``preset_settings`` (plugins/plugin_utils/preset_variables.py).
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import (
    agent_settings,
    cluster_settings,
    gateway_settings,
)
from ansible_collections.otel.kubernetes.plugins.plugin_utils.in_process import ModuleFront, preload


class ActionModule(ModuleFront):
    module_name = "collector"
    preloaded = preload(module_name)
    preset_tables = {
        "agent": agent_settings.SETTINGS,
        "gateway": gateway_settings.SETTINGS,
        "cluster": cluster_settings.SETTINGS,
    }
