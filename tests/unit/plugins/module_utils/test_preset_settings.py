"""presets/settings.py: each role's settings declared once, and what the presets read from the declaration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.presets import (
    agent,
    agent_settings,
    certificates,
    certificates_settings,
    cluster,
    cluster_settings,
    gateway,
    gateway_settings,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.settings import (
    PRESET,
    SHARED,
    TASK,
    RoleSettings,
    Setting,
)

PRESETS = Path(agent.__file__).parent
TABLES = [agent_settings.SETTINGS, gateway_settings.SETTINGS, cluster_settings.SETTINGS, certificates_settings.SETTINGS]
# What the preset module builds from, and its settings table.
BUILT_FROM = [(agent, agent_settings), (gateway, gateway_settings), (cluster, cluster_settings)]


def small() -> RoleSettings:
    return RoleSettings(
        "otel_thing",
        Setting("state", "str", "present", "V(present) or V(absent).", choices=("present", "absent"), scope=TASK),
        Setting("name", "str", "thing", "Its name."),
        Setting("rbac_name", "str", None, "Its RBAC's name.", derived=lambda value: value("name")),
        Setting("resources", "dict", {"limits": {"cpu": "1"}}, "Its resources."),
    )


def test_a_setting_names_its_role_variable_and_a_shared_one_its_own():
    table = small()
    assert table.variable("name") == "otel_thing_name"
    assert table.variable("state") == "otel_thing_state"
    assert table.variable("otel_render_only") == "otel_render_only"
    with pytest.raises(KeyError):
        table.variable("nmae")


def test_the_preset_gets_its_settings_only_with_derived_ones_computed_where_unset():
    table = small()
    assert [s.name for s in table.preset()] == ["name", "rbac_name", "resources"]
    assert table.defaults() == {"name": "thing", "rbac_name": None, "resources": {"limits": {"cpu": "1"}}}
    assert table.merged({})["rbac_name"] == "thing"
    assert table.merged({"name": "other"})["rbac_name"] == "other"
    assert table.merged({"name": "other", "rbac_name": ""})["rbac_name"] == "other"
    assert table.merged({"rbac_name": "mine"})["rbac_name"] == "mine"


def test_merged_settings_are_copies():
    table = small()
    given = {"resources": {"limits": {"cpu": "2"}}}
    merged = table.merged(given)
    merged["resources"]["limits"]["cpu"] = "3"
    assert given == {"resources": {"limits": {"cpu": "2"}}}
    table.merged({})["resources"]["limits"]["cpu"] = "4"
    assert table.defaults()["resources"] == {"limits": {"cpu": "1"}}


def test_the_role_default_of_a_derived_setting_is_a_template_of_the_other_variable():
    table = small()
    assert table.role_default(table["rbac_name"]) == "{{ otel_thing_name }}"
    assert table.role_default(table["name"]) == "thing"


def test_unknown_settings_name_the_role_variable_they_would_be_and_task_options_are_not_settings():
    assert small().unknown({"nme": "x", "state": "absent", "name": "y"}) == [
        "preset_settings.nme: not a setting of this preset (role variable otel_thing_nme does not exist); use one "
        "of name, rbac_name, resources",
        "preset_settings.state: not a setting of this preset (role variable otel_thing_state does not exist); use "
        "one of name, rbac_name, resources",
    ]


def test_a_setting_declared_twice_is_refused():
    with pytest.raises(ValueError, match="otel_thing: setting name is declared twice"):
        RoleSettings("otel_thing", Setting("name", "str", "a", "A."), Setting("name", "str", "b", "B."))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.role)
def test_every_role_declares_its_task_options_and_the_shared_ones(table):
    scopes = {name: setting.scope for name, setting in table.settings.items()}
    assert {name for name, scope in scopes.items() if scope == TASK} == {
        "state",
        "wait",
        "wait_timeout",
        "force_conflicts",
        "kubeconfig",
        "context",
    }
    assert [name for name, scope in scopes.items() if scope == SHARED] == ["otel_render_only", "otel_rendered_objects"]
    assert all(setting.type for setting in table.settings.values())
    assert all(setting.description for setting in table.settings.values())
    for setting in table.preset():
        assert setting.scope == PRESET
        if setting.choices and not setting.derived:
            assert setting.default in setting.choices, setting.name


@pytest.mark.parametrize("preset, declared", BUILT_FROM, ids=["agent", "gateway", "cluster"])
def test_the_built_component_takes_every_default_of_the_table(preset, declared):
    """The defaults the role files show are what the preset builds with (its settings are read from the table)."""
    built = preset.build({})
    assert built.errors == []
    assert (built.name, built.namespace) == (declared.SETTINGS["name"].default, declared.SETTINGS["namespace"].default)


def test_the_certificates_take_every_default_of_the_table():
    built = certificates.build({})
    table = certificates_settings.SETTINGS
    assert built.params["key_type"] == table["key_type"].default
    assert built.params["ca"]["secret_name"] == table["ca_secret"].default


def test_the_presets_name_no_role_variable_by_hand_and_only_declared_settings():
    """Messages name role variables through the table (var("...")): no prefix in the presets' code, and every
    name given to var() is a declared setting."""
    tables = {"agent": agent_settings, "gateway": gateway_settings, "cluster": cluster_settings}
    tables["certificates"] = certificates_settings
    for name, table in tables.items():
        source = (PRESETS / f"{name}.py").read_text()
        # Docstrings may speak of a role's variables; code and messages may not spell a prefix.
        code = re.sub(r'"""(.|\n)*?"""', "", source)
        assert "PREFIX" not in code and f"{table.SETTINGS.role}_" not in code, name
        for used in re.findall(r"""\bvar\(["']([a-z0-9_]+)["']\)""", code):
            assert used in table.SETTINGS.settings, f"{name}.py: var({used!r}) is not a declared setting"
