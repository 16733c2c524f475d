# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action front of otel.kubernetes.certs: in the controller's process when the connection is local.

See plugins/plugin_utils/in_process.py. A task with ``preset: pipeline`` gets the variables of role
otel_certificates as ``preset_settings`` (plugins/plugin_utils/preset_variables.py).
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import certificates_settings
from ansible_collections.otel.kubernetes.plugins.plugin_utils.in_process import ModuleFront, preload


class ActionModule(ModuleFront):
    module_name = "certs"
    preloaded = preload(module_name)
    preset_tables = {"pipeline": certificates_settings.SETTINGS}
