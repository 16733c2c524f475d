"""The in-process front touches ansible-core's private names through core_internals.py only (issue 19
item 7): a core upgrade that moves one breaks that file alone."""

from __future__ import annotations

import ast
import pathlib

PLUGIN_UTILS = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils"
# ActionBase's interface for action plugins: what every action plugin uses.
ACTION_INTERFACE = {"_task", "_templar", "_connection", "_play_context", "_execute_module"}


def private_names(path: pathlib.Path) -> set:
    tree = ast.parse(path.read_text())
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr.startswith("_")}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ansible."):
            names |= {alias.name for alias in node.names if alias.name.startswith("_")}
            names |= {part for part in node.module.split(".") if part.startswith("_")}
    return {name for name in names if not name.startswith("__")}


def test_in_process_uses_only_the_action_plugin_interface():
    assert private_names(PLUGIN_UTILS / "in_process.py") <= ACTION_INTERFACE


def test_core_internals_holds_the_private_names():
    found = private_names(PLUGIN_UTILS / "core_internals.py")
    assert {"_ANSIBLE_ARGS", "_parse_returned_data", "_update_module_args", "_compute_environment_string"} <= found
