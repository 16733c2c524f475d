"""ansible_module: render_only returns objects without reading credentials or contacting anything."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import ansible_module


def fake_module(**params) -> SimpleNamespace:
    base = {name: spec.get("default") for name, spec in ansible_module.APPLY_ARG_SPEC.items()}
    base.update(params)
    return SimpleNamespace(params=base, check_mode=False, _diff=False)


def test_render_only_is_a_shared_apply_option():
    assert ansible_module.APPLY_ARG_SPEC["render_only"] == {"type": "bool", "default": False}


def test_apply_objects_render_only_contacts_nothing(monkeypatch):
    def no_cluster(*_args, **_kwargs):
        raise AssertionError("render_only must not resolve credentials or connect")

    monkeypatch.setattr(ansible_module, "connect", no_cluster)
    monkeypatch.setattr(ansible_module, "resolve_connection", no_cluster)
    monkeypatch.setattr(ansible_module, "KubeClient", no_cluster)
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}},
    ]
    result = ansible_module.apply_objects(fake_module(render_only=True), objects, "observability")
    assert result == {
        "changed": False,
        "results": [],
        "api_requests": 0,
        "objects": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}},
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "observability"},
                "data": {"a": "b"},
            },
        ],
    }
    assert "namespace" not in objects[0]["metadata"]  # the caller's objects are not changed


def test_a_namespace_rendered_before_is_not_rendered_again():
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "observability", "namespace": "apps"}},
    ]
    before = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability", "labels": {"x": "y"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "apps", "namespace": "observability"}},
    ]
    module = fake_module(render_only=True, rendered_before=before)
    rendered = ansible_module.apply_objects(module, objects, "apps")["objects"]
    assert [(o["kind"], o["metadata"]["name"]) for o in rendered] == [
        ("Namespace", "apps"),
        ("ConfigMap", "observability"),
    ]
    # nothing was rendered before: everything is
    assert len(ansible_module.apply_objects(fake_module(render_only=True), objects, "apps")["objects"]) == 3


def test_apply_objects_without_render_only_connects(monkeypatch):
    class Connected(Exception):
        pass

    def connect(_module):
        raise Connected

    monkeypatch.setattr(ansible_module, "connect", connect)
    with pytest.raises(Connected):
        ansible_module.apply_objects(fake_module(), [])


def test_invocation_redacts_secrets_and_does_not_echo_large_inputs():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "c2VjcmV0"}}
    echoed = ansible_module.redacted_params(fake_module(definition=[secret]))
    assert echoed["definition"][0]["data"] == {"k": "VALUE_REDACTED"}
    assert "Secret" in ansible_module.redacted_params(fake_module(definition="kind: Secret\n"))["definition"]
    assert "not echoed" in ansible_module.redacted_params(fake_module(definition="kind: Secret\n"))["definition"]
    many = [{"kind": "ConfigMap", "metadata": {"name": str(i)}} for i in range(ansible_module.ECHO_LIMIT + 1)]
    assert ansible_module.redacted_params(fake_module(definition=many))["definition"] == "(21 objects; see results)"
    text = "\n---\n".join("kind: ConfigMap" for _index in range(ansible_module.ECHO_LIMIT + 1))
    assert "see results" in ansible_module.redacted_params(fake_module(definition=text))["definition"]
    few = many[:2]
    assert ansible_module.redacted_params(fake_module(definition=few))["definition"] == few
