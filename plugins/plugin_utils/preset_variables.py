# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A preset's role variables, handed to its module as ``preset_settings``.

A task that says ``preset: agent`` (``otel.kubernetes.collector``; ``gateway``, ``cluster``) or
``preset: pipeline`` (``otel.kubernetes.certs``) gets its settings from the variables of the preset's
role that the task sees: ``otel_agent_<name>`` for every setting of the preset's table
(``module_utils/presets/<preset>_settings.py``), templated as the task's own arguments are. So the
role's task does not list them, a play that imports the role (``playbooks/tasks/check_roles.yml``)
checks them before the role runs, and a variable the task cannot see takes the preset's default.
Settings given in the task's own ``preset_settings`` win, one by one, over the role variables.

This runs in the action plugin, on the controller, where the variables are; the module gets plain
``preset_settings`` as any caller could give them.
"""

from __future__ import annotations


def with_role_variables(args: dict, tables: dict, templar, task_vars: dict) -> dict:
    """The module's arguments, with preset_settings from the role variables of the task's preset.

    tables: preset name -> its RoleSettings. Arguments without a known preset (or with preset_settings
    that are not a mapping, which the module refuses itself) are returned as they are.
    """
    table = tables.get(args.get("preset"))
    given = args.get("preset_settings")
    if table is None or not (given is None or isinstance(given, dict)):
        return args
    found = {}
    for setting in table.preset():
        variable = table.variable(setting.name)
        if variable in task_vars:
            found[setting.name] = templar.template(task_vars[variable])
    return dict(args, preset_settings={**found, **(given or {})})
