"""No function in plugins/ is longer than 80 lines (issue 19): a longer one is split into named steps."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIMIT = 80


def long_functions(path: pathlib.Path) -> list:
    """'file:line name() has N lines' for each function (methods and nested ones too) over LIMIT lines."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.parent.name}/{path.name}:{node.lineno} {node.name}() has {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > LIMIT
    ]


def test_no_function_in_plugins_is_over_80_lines():
    files = sorted((ROOT / "plugins").rglob("*.py"))
    assert len(files) > 50
    found = [line for path in files for line in long_functions(path)]
    assert found == []


def test_the_check_sees_a_long_function(tmp_path):
    source = tmp_path / "long.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT))
    source.write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}")
    assert long_functions(source) == [f"{tmp_path.name}/long.py:5 long() has 81 lines"]
