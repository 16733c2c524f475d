"""The role files generated from the preset settings tables (tools/role_files.py) are up to date, and say what
the tables say."""

from __future__ import annotations

from pathlib import Path

import pytest
import role_files
import yaml

ROOT = Path(__file__).resolve().parents[2]
GENERATED = role_files.generate()
TABLES = dict(role_files.tables())


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_the_generated_role_file_is_up_to_date(path):
    on_disk = (ROOT / path).read_text()
    assert on_disk == GENERATED[path], (
        f"{path} is stale: the settings tables (plugins/module_utils/presets/*_settings.py) say otherwise. "
        f"Run `{role_files.COMMAND}` and commit what it writes."
    )


def test_every_preset_role_is_generated():
    roles = {settings.role for settings in TABLES.values()}
    assert roles == {"otel_agent", "otel_gateway", "otel_cluster", "otel_certificates"}
    for role in roles:
        assert not (ROOT / "roles" / role / "vars" / "main.yml").exists(), f"{role}: no renaming layer in vars/"


@pytest.mark.parametrize("source", sorted(TABLES))
def test_the_role_files_load_to_what_the_table_declares(source):
    settings = TABLES[source]
    role = ROOT / "roles" / settings.role
    defaults = yaml.safe_load(GENERATED[f"roles/{settings.role}/defaults/main.yml"])
    specs = yaml.safe_load(GENERATED[f"roles/{settings.role}/meta/argument_specs.yml"])
    options = specs["argument_specs"]["main"]["options"]
    variables = [settings.variable(name) for name in settings.settings]
    assert list(options) == variables
    assert list(defaults) == [settings.variable(s.name) for s in settings.settings.values() if s.scope != "shared"]
    for setting in settings.settings.values():
        variable = settings.variable(setting.name)
        spec = options[variable]
        assert spec["type"] == setting.type
        assert spec.get("choices", []) == list(setting.choices)
        if variable in defaults:
            assert spec.get("default") == defaults[variable] == settings.role_default(setting), variable
        assert f"| `{variable}` |" in (role / "README.md").read_text()


def test_the_markup_becomes_text_and_markdown():
    text = "V(present) or O(otel_agent_state=absent); see M(otel.kubernetes.apply)'s O(a.b.c#module:pod_security)"
    assert role_files.plain(text) == "present or otel_agent_state=absent; see otel.kubernetes.apply's pod_security"
    assert role_files.plain("C(a) I(b) L(the docs, https://x.y)", "`") == "`a` b the docs"


def test_a_description_naming_an_undeclared_variable_of_its_role_is_refused():
    from ansible_collections.otel.kubernetes.plugins.module_utils.presets.settings import RoleSettings, Setting

    settings = RoleSettings("otel_thing", Setting("name", "str", "x", "Like O(otel_thing_nmae)."))
    with pytest.raises(SystemExit, match=r"description of name names O\(otel_thing_nmae\)"):
        role_files.check_references(settings)
