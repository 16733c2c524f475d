"""Every module's entry has one shape, as kubernetes.core's k8s.py: main() builds the AnsibleModule from
the argument spec its runner declares (module_utils, beside the code that reads the options) and hands
it to the runner. No other code in a module file but its documentation and imports."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))
MAIN = "def main():\n    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))"
DOCS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def main_of(tree: ast.Module) -> ast.FunctionDef:
    return next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_main_is_at_most_15_lines(path):
    main = main_of(ast.parse(path.read_text()))
    assert main.end_lineno - main.lineno + 1 <= 15


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_main_hands_the_spec_to_the_runner(path):
    tree = ast.parse(path.read_text())
    assert ast.unparse(main_of(tree)) == MAIN
    others = [
        node
        for node in tree.body
        if not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.If))
        and not (isinstance(node, ast.Assign) and {t.id for t in node.targets} <= DOCS)
    ]
    assert others == [], "a module file holds its documentation, imports and main() only"
    runner = next(
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and "runner" in [a.asname or a.name for a in node.names]
    )
    assert f"{runner.module}.".startswith("ansible_collections.otel.kubernetes.plugins.module_utils.")
