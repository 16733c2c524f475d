"""Writes the role files that the preset settings tables declare (plugins/module_utils/presets/*_settings.py).

Usage::

    python tools/role_files.py            # write every generated file that is stale
    python tools/role_files.py --check    # list the stale ones and exit 1, writing nothing

For every table (a ``SETTINGS = RoleSettings("otel_<role>", ...)``), in ``roles/otel_<role>/``:

- ``defaults/main.yml``: the whole file, each variable with its description as its comment;
- ``meta/argument_specs.yml``: the ``options`` of the ``main`` entry point, after the marker line
  (the role's short_description and description above it are written by hand);
- ``README.md``: the table of variables between the BEGIN and END markers (the prose around it is
  written by hand).

tests/unit/test_role_files.py regenerates them in memory and fails, naming the file and this
command, when one on disk differs. To add a setting: add a ``Setting`` row to the table (and use it
in the preset), then run this.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "plugins" / "module_utils" / "presets"
PACKAGE = "ansible_collections.otel.kubernetes.plugins.module_utils.presets"
COMMAND = "python tools/role_files.py"
SPEC_MARKER = "      # Generated from {source} ({command})."
README_BEGIN = "<!-- BEGIN variables: generated from {source} by {command}; edit the table there -->"
README_END = "<!-- END variables -->"
# Ansible's doc markup: C(), O(), V(), M(), RV(), I(), B(), U(); the text ends at the first ")" as in ansible-doc.
MARKUP = re.compile(r"\b(RV|[COVMIBU])\(([^)]*)\)")
LINK = re.compile(r"\bL\(([^,)]*),\s*([^)]*)\)")


def importable() -> None:
    """Make this checkout importable as ansible_collections.otel.kubernetes (as tests/conftest.py does)."""
    collections = ROOT / ".build" / "collections"
    link = collections / "ansible_collections" / "otel" / "kubernetes"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT, link)
    if str(collections) not in sys.path:
        sys.path.insert(0, str(collections))


def tables() -> list:
    """(source path, RoleSettings) of every preset settings table, by file name."""
    importable()
    found = []
    for path in sorted(PRESETS.glob("*_settings.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        found.append((path.relative_to(ROOT).as_posix(), module.SETTINGS))
    return found


# ---------------------------------------------------------------------------------------------- text
def paragraphs(description) -> list:
    return [description] if isinstance(description, str) else list(description)


def plain(text: str, code: str = "") -> str:
    """Doc markup as text; `code` quotes literals (a backtick for Markdown)."""

    def one(match):
        kind, inner = match.groups()
        if kind == "O":
            inner = inner.split(":", 1)[1] if "#" in inner and ":" in inner else inner
        if kind in ("C", "O", "V", "M", "RV"):
            return f"{code}{inner}{code}"
        return inner

    return MARKUP.sub(one, LINK.sub(r"\1", text))


def check_references(settings) -> None:
    """Every O(otel_...) a description names is a variable of the role (or of every role)."""
    known = {settings.variable(name) for name in settings.settings}
    for setting in settings.settings.values():
        for text in paragraphs(setting.description):
            for kind, inner in MARKUP.findall(text):
                name = inner.split("=", 1)[0]
                if kind == "O" and name.startswith("otel_") and name not in known:
                    raise SystemExit(
                        f"{settings.role}: the description of {setting.name} names O({inner}), which is not a "
                        f"variable of the role; use C({inner}) for another role's variable"
                    )


# ---------------------------------------------------------------------------------------------- YAML
class Dumper(yaml.SafeDumper):
    """Block style, sequences indented under their key, double quotes where quotes are needed."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


class Flow(list):
    """A list written in flow style ([present, absent])."""


Dumper.add_representer(Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True))


def dump(data, indent: int = 0) -> str:
    """Block-style YAML whose lines break after 100 columns once indented by `indent`."""
    text = yaml.dump(
        data, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=100 - indent, allow_unicode=True
    )
    return textwrap.indent(text, " " * indent)


def flow(value) -> str:
    """A default as one line of YAML flow style."""
    text = yaml.dump(value, Dumper=Dumper, default_flow_style=True, width=10**6, sort_keys=False).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


# ---------------------------------------------------------------------------------------------- the files
def defaults_file(source: str, settings) -> str:
    lines = [
        "---",
        f"# Generated from {source}: edit the table there,",
        f"# then run {COMMAND}.",
    ]
    for setting in settings.settings.values():
        if setting.scope == "shared":
            continue
        lines.append("")
        for text in paragraphs(setting.description):
            lines += textwrap.wrap(
                plain(text), 100, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
            )
        lines.append(dump({settings.variable(setting.name): settings.role_default(setting)}).rstrip("\n"))
    return "\n".join(lines) + "\n"


def scalar_lines(key: str, text: str, indent: int) -> list:
    """`key: text` (key "-" for a list item) as plain YAML wrapped at 116 columns; quoted by PyYAML when plain
    style cannot hold the text."""
    lead = " " * indent + ("- " if key == "-" else f"{key}: ")
    one = yaml.dump(text, Dumper=Dumper, width=10**6, allow_unicode=True).split("\n")[0]
    if one != text:  # quotes or escapes needed: PyYAML's own folding
        return (lead + yaml.dump(text, Dumper=Dumper, width=116 - indent, allow_unicode=True)).rstrip("\n").replace(
            "\n", "\n" + " " * (indent + 2)
        ).split("\n")[:-1] or [lead + one]
    return textwrap.wrap(
        text,
        116,
        initial_indent=lead,
        subsequent_indent=" " * (indent + 2),
        break_long_words=False,
        break_on_hyphens=False,
    )


def option_lines(settings, setting, indent: int) -> list:
    """One option of argument_specs.yml."""
    pad = " " * indent
    lines = [f"{pad}{settings.variable(setting.name)}:"]
    description = paragraphs(setting.description)
    if isinstance(setting.description, str):
        lines += scalar_lines("description", description[0], indent + 2)
    else:
        lines.append(f"{pad}  description:")
        for text in description:
            lines += scalar_lines("-", text, indent + 4)
    spec = {"type": setting.type}
    if setting.elements:
        spec["elements"] = setting.elements
    if setting.choices:
        spec["choices"] = Flow(setting.choices)
    default = settings.role_default(setting)
    if setting.required:
        spec["required"] = True
    elif default is None:
        spec["required"] = False
    else:
        spec["default"] = default
    if setting.no_log:
        spec["no_log"] = True
    if setting.version_added:
        spec["version_added"] = setting.version_added
    return lines + dump(spec, indent + 2).rstrip("\n").split("\n")


def spec_file(current: str, source: str, settings) -> str:
    marker = SPEC_MARKER.format(source=source, command=COMMAND)
    if marker not in current:
        raise SystemExit(f"roles/{settings.role}/meta/argument_specs.yml: no line {marker.strip()!r} to write below")
    head = current.split(marker, maxsplit=1)[0]
    lines = [line for setting in settings.settings.values() for line in option_lines(settings, setting, 6)]
    return head + marker + "\n" + "\n".join(lines) + "\n"


def readme_cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_default(settings, setting) -> str:
    default = settings.role_default(setting)
    if default is None:
        return "unset"
    if isinstance(default, str):
        return f"`{default}`" if default else '`""`'
    return f"`{flow(default)}`"


def readme_table(source: str, settings) -> str:
    rows = [
        README_BEGIN.format(source=source, command=COMMAND),
        "",
        "| variable | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for setting in settings.settings.values():
        kind = setting.type + (f" of {setting.elements}" if setting.elements else "")
        if setting.choices:
            kind += ": " + ", ".join(f"`{choice}`" for choice in setting.choices)
        text = " ".join(plain(p, "`") for p in paragraphs(setting.description))
        rows.append(
            f"| `{settings.variable(setting.name)}` | {kind} | {readme_cell(readme_default(settings, setting))} "
            f"| {readme_cell(text)} |"
        )
    return "\n".join([*rows, "", README_END])


def readme_file(current: str, source: str, settings) -> str:
    begin = current.find("<!-- BEGIN variables")
    end = current.find(README_END)
    if begin < 0 or end < 0:
        raise SystemExit(f"roles/{settings.role}/README.md: no {README_END!r} markers to write the table between")
    return current[:begin] + readme_table(source, settings) + current[end + len(README_END) :]


def generate() -> dict:
    """{path relative to the checkout: the text it must have} for every generated file."""
    files = {}
    for source, settings in tables():
        check_references(settings)
        role = Path("roles") / settings.role
        files[(role / "defaults" / "main.yml").as_posix()] = defaults_file(source, settings)
        spec = role / "meta" / "argument_specs.yml"
        files[spec.as_posix()] = spec_file((ROOT / spec).read_text(), source, settings)
        readme = role / "README.md"
        files[readme.as_posix()] = readme_file((ROOT / readme).read_text(), source, settings)
    return files


def stale(files: dict) -> list:
    return [path for path, text in files.items() if (ROOT / path).read_text() != text]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="list the stale files and exit 1; write nothing")
    args = parser.parse_args(argv)
    files = generate()
    outdated = stale(files)
    for path in outdated:
        if args.check:
            print(f"{path} is stale: run {COMMAND}")
        else:
            (ROOT / path).write_text(files[path])
            print(f"wrote {path}")
    return 1 if args.check and outdated else 0


if __name__ == "__main__":
    sys.exit(main())
