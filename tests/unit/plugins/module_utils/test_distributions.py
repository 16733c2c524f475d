"""The shape of the component table (distributions.py) and of every table keyed by its names.

The names themselves are upstream facts (each component's metadata.yaml at the pinned release)
and are held to a real collector by tests/integration/test_collector_validate.py; here, what
must hold whatever the facts: an alias leads to a component some distribution has, no name is
both a type and an alias, the distributions nest as the manifests do, and every other table
of the collection names components by their current type.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.collector import distributions as dist
from ansible_collections.otel.kubernetes.plugins.module_utils.collector._settings import _RULES, KEYS
from ansible_collections.otel.kubernetes.plugins.module_utils.rbac import render as rbac_render

# component.NewType's rule in the collector: a letter, then letters, digits and underscores, 63 at most.
TYPE_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")


def everywhere(kind: str) -> set:
    return set().union(*(d.components[kind] for d in dist.DISTRIBUTIONS.values()))


@pytest.mark.parametrize("kind", dist.KINDS)
def test_every_alias_leads_to_a_component_of_some_distribution(kind):
    orphans = {old: new for old, new in dist.ALIASES[kind].items() if new not in everywhere(kind)}
    assert not orphans, f"{kind}: aliases to no component: {orphans}"


@pytest.mark.parametrize("kind", dist.KINDS)
def test_no_name_is_both_a_type_and_an_alias(kind):
    assert not set(dist.ALIASES[kind]) & everywhere(kind)
    assert all(old != new for old, new in dist.ALIASES[kind].items())


def test_the_table_has_exactly_the_five_kinds():
    assert set(dist.ALIASES) == set(dist.KINDS)
    for distribution in dist.DISTRIBUTIONS.values():
        assert set(distribution.components) == set(dist.KINDS), distribution.name


@pytest.mark.parametrize("kind", dist.KINDS)
def test_every_name_is_a_valid_component_type(kind):
    names = everywhere(kind) | set(dist.ALIASES[kind]) | set(dist.ALIASES[kind].values())
    assert sorted(n for n in names if not TYPE_NAME.match(n)) == []


@pytest.mark.parametrize("kind", dist.KINDS)
def test_contrib_holds_core_and_k8s_as_the_manifests_do(kind):
    contrib = dist.DISTRIBUTIONS["contrib"].components[kind]
    assert dist.DISTRIBUTIONS["core"].components[kind] <= contrib
    assert dist.DISTRIBUTIONS["k8s"].components[kind] <= contrib


@pytest.mark.parametrize("kind", dist.KINDS)
def test_spellings_resolve_to_their_component(kind):
    for name in everywhere(kind):
        spelled = dist.spellings(kind, name)
        assert spelled[0] == name
        assert {dist.canonical(kind, s) for s in spelled} == {name}


def test_removed_components_are_accepted_by_no_distribution():
    for kind, name in dist.REMOVED:
        assert kind in dist.KINDS
        assert dist.distributions_with(kind, name) == [], (kind, name)


def current_names(keys) -> list:
    """(kind, name) pairs of a table that are not the current type of a known component."""
    return sorted((kind, name) for kind, name in keys if name not in everywhere(kind))


def test_the_lint_and_settings_tables_name_components_by_their_current_type():
    assert current_names(dist.SIGNALS_OF) == []
    assert current_names(dist.HINTS) == []
    assert current_names(KEYS) == []
    assert current_names(_RULES) == []


def test_rbac_names_components_by_their_current_type():
    # k8s_log: a contrib receiver in development, in no distribution, that a custom build may have.
    outside = {("receivers", "k8s_log")}
    pairs = {(kind, name) for kind, names in rbac_render.NOT_DERIVED.items() for name in names}
    assert current_names(pairs - outside) == []


def test_the_components_renamed_upstream_are_found_by_both_spellings():
    # The mistakes a table read from one local build made: names it had without their alias.
    assert dist.canonical("connectors", "servicegraph") == "service_graph"
    assert dist.DISTRIBUTIONS["k8s"].has("connectors", "service_graph")
    assert dist.DISTRIBUTIONS["k8s"].has("connectors", "otlpjson")
    assert dist.DISTRIBUTIONS["k8s"].has("processors", "logdedup")
    assert dist.DISTRIBUTIONS["k8s"].has("extensions", "cgroupruntime")
    # ... and names that were never a type.
    assert not dist.DISTRIBUTIONS["contrib"].has("receivers", "k8scluster")
    assert not dist.DISTRIBUTIONS["contrib"].has("receivers", "icmpcheck")
