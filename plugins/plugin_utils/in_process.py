# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin front of every module of the collection: run the module in the
controller's worker process when the task runs on the controller anyway.

A module task normally costs a zip built, a Python started and the collection's module_utils
imported again, for a task whose own work is often one HTTP request. When the connection is
local (no become, no async), the front imports the module and calls its ``main()`` here
instead, with the REAL AnsibleModule: the arguments go in encoded exactly as AnsiballZ
encodes them, and the JSON the module prints is parsed by the same
``_parse_returned_data`` as a module's output. Validation messages, defaults, env
fallbacks, no_log masking, ``invocation``, warnings and check/diff mode are therefore the
module's own, not a copy. Everywhere else the module runs as usual (``_execute_module``).

Opt out with the variable ``otel_in_process: false`` or the environment variable
``OTEL_KUBERNETES_IN_PROCESS=false`` (the variable wins). In-process, the module uses the
controller's Python (``ansible_playbook_python``), whatever ``ansible_python_interpreter``
says; the collection's requirements are installed there for ``render.yml`` already.

Besides ActionBase's interface for action plugins (``_task``, ``_templar``, ``_connection``,
``_play_context``, ``_execute_module``), every ansible-core name this needs that is not a public
API is used in plugin_utils/core_internals.py only.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import traceback

from ansible.errors import AnsibleError
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests
from ansible_collections.otel.kubernetes.plugins.plugin_utils import core_internals
from ansible_collections.otel.kubernetes.plugins.plugin_utils.preset_variables import with_role_variables

display = Display()

SETTING_VAR = "otel_in_process"
SETTING_ENV = "OTEL_KUBERNETES_IN_PROCESS"
MODULES_PACKAGE = "ansible_collections.otel.kubernetes.plugins.modules"
LOCAL_TRANSPORTS = frozenset({"local", "ansible.builtin.local", "ansible.legacy.local"})


def setting(value, source: str) -> bool:
    """The in-process switch from a variable or environment value; a clear error otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise AnsibleError(f"{source}={value!r} is not a boolean; use true (the default) or false")


def in_process_refusal(transport, become: bool, async_val, enabled: bool) -> str | None:
    """Why the module must run as a separate process here, or None when it may run in-process."""
    if not enabled:
        return f"disabled by {SETTING_VAR} / {SETTING_ENV}"
    if not core_internals.available():
        return "this ansible-core has no module argument encoder (2.19 or newer runs modules in-process)"
    if transport not in LOCAL_TRANSPORTS:
        return f"the connection is {transport}, not local"
    if become:
        return "become is set (the module must run as another user)"
    if async_val:
        return "the task is async"
    return None


@contextlib.contextmanager
def module_process(arguments: bytes, environment: dict):
    """What the module's process would have: its arguments and the task's environment.
    Both restored after. (Warnings need nothing: on the controller, AnsibleModule.warn()
    goes to the display, which attaches it to the task's result as a module's would be.)"""
    saved_args = core_internals.module_arguments()
    saved_env = {name: os.environ.get(name) for name in environment}
    core_internals.set_module_arguments(arguments)
    os.environ.update({name: str(value) for name, value in environment.items()})
    try:
        yield
    finally:
        core_internals.set_module_arguments(*saved_args)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def preload(module_name: str):
    """The module, imported when its action plugin is loaded: that happens once in the
    ansible-playbook process, whose forked workers then find the module and its module_utils
    imported (measured: about a third of an in-process task's cost). None when it cannot be
    imported here: the task then imports it itself, in-process or as a module process."""
    try:
        return importlib.import_module(f"{MODULES_PACKAGE}.{module_name}")
    except Exception:  # the task reports it, with its own result
        return None


def run_main(module_name: str, arguments: dict, environment: dict) -> dict:
    """Call the module's main() with `arguments` (ANSIBLE_MODULE_ARGS, internal keys included);
    returns what its process would have: rc, stdout (the module's JSON) and stderr."""
    payload = core_internals.encode_arguments(arguments)
    stdout, stderr = io.StringIO(), io.StringIO()
    with module_process(payload, environment), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            importlib.import_module(f"{MODULES_PACKAGE}.{module_name}").main()
            problem = RuntimeError(f"the module {module_name} returned without exit_json or fail_json")
        except SystemExit as exit_request:  # exit_json / fail_json
            return {"rc": exit_request.code or 0, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
        except Exception as error:  # a bug of the module: what a module process reports of it
            problem = error
            display.vvv(f"{module_name}: the module raised an exception:\n{traceback.format_exc()}")
    return {"rc": 1, "stdout": core_internals.exception_result(problem), "stderr": stderr.getvalue()}


class ModuleFront(ActionBase):
    """Runs the module named by `module_name`, in-process when the task allows it."""

    _supports_check_mode = True
    _supports_async = True
    module_name = ""  # set by each action plugin, which also preloads the module
    # Preset name -> its settings table (RoleSettings), for modules with presets: a task with `preset`
    # gets its role's variables as preset_settings (plugin_utils/preset_variables.py).
    preset_tables: dict = {}

    def enabled(self, task_vars: dict) -> bool:
        if SETTING_VAR in task_vars:
            return setting(self._templar.template(task_vars[SETTING_VAR]), SETTING_VAR)
        return setting(os.environ.get(SETTING_ENV, "true"), SETTING_ENV)

    def module_args(self, task_vars: dict) -> dict:
        """The task's arguments, with a preset's role variables as preset_settings."""
        args = dict(self._task.args)
        if self.preset_tables:
            args = with_role_variables(args, self.preset_tables, self._templar, task_vars)
        return args

    def run(self, tmp=None, task_vars=None):
        # A module that fails its own argument checks returns its arguments (``invocation``)
        # before it can mask the Secrets given in them: mask them here, on both paths.
        result = self.run_module(tmp, task_vars or {})
        secrets = manifests.secret_values_in(self._task.args)
        return remove_values(result, secrets) if secrets else result

    def run_module(self, tmp, task_vars: dict) -> dict:
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect (as in the normal action)
        refusal = in_process_refusal(
            getattr(self._connection, "transport", None),
            self._play_context.become,
            self._task.async_val,
            self.enabled(task_vars),
        )
        if refusal is None:
            return merge_hash(result, self.run_in_process(task_vars))
        display.vvv(f"{self._task.action}: runs as a module process: {refusal}")
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(
            result,
            self._execute_module(module_args=self.module_args(task_vars), task_vars=task_vars, wrap_async=wrap_async),
        )
        if not wrap_async:
            core_internals.remove_remote_tmp(self)
        return result

    def run_in_process(self, task_vars: dict) -> dict:
        arguments = core_internals.with_internal_arguments(
            self, self._task.action, self.module_args(task_vars), task_vars
        )
        environment = core_internals.task_environment(self)
        display.vvv(f"{self._task.action}: runs in the controller's process")
        data = core_internals.parse_module_output(self, run_main(self.module_name, arguments, environment))
        remove_internal_keys(data)  # as _execute_module does with a module's result
        return data
