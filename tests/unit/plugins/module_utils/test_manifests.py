from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError


def ns(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_load_documents_accepts_dict_list_text_and_lists_of_kind_list(tmp_path):
    assert len(manifests.load_documents(ns("a"))) == 1
    assert len(manifests.load_documents([ns("a"), ns("b")])) == 2
    text = yaml.safe_dump_all([ns("a"), None, {"kind": "List", "apiVersion": "v1", "items": [ns("b"), ns("c")]}])
    assert [d["metadata"]["name"] for _where, d in manifests.load_documents(text)] == ["a", "b", "c"]
    path = tmp_path / "m.yaml"
    path.write_text(text + "---\n")
    assert len(manifests.load_documents(src=str(path))) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"definition": "a: [unclosed"}, "not valid YAML"),
        ({"definition": 42}, "expected a dict, a list or YAML text"),
        ({"definition": ns("a"), "src": "x.yaml"}, "not both"),
        ({}, "give 'definition'"),
        ({"src": "/nonexistent/x.yaml"}, "cannot read"),
    ],
)
def test_load_documents_errors(kwargs, message):
    with pytest.raises(OtelK8sError, match=message):
        manifests.load_documents(**kwargs)


def test_check_objects_lists_every_problem_at_once():
    docs = [("d1", ns("ok")), ("d2", {"kind": "ConfigMap", "metadata": {}}), ("d3", "text"), ("d4", ns("ok"))]
    with pytest.raises(OtelK8sError) as caught:
        manifests.check_objects(docs)
    msg = caught.value.message
    assert "nothing was applied" in msg
    assert "d2 (kind ConfigMap): apiVersion, metadata.name missing" in msg
    assert "d3: expected a mapping" in msg
    assert "d4: Namespace ok is also d1" in msg


def test_check_objects_copies_input():
    original = ns("a")
    (checked,) = manifests.check_objects([("d", original)])
    checked["metadata"]["namespace"] = "x"
    assert "namespace" not in original["metadata"]


def test_order_namespaces_and_crds_first_custom_resources_then_webhooks_last():
    objects = [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {}},
        {"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector", "metadata": {}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {}},
        ns("a"),
    ]
    kinds = [o["kind"] for o in manifests.order(objects)]
    assert kinds == [
        "Namespace",
        "CustomResourceDefinition",
        "Deployment",
        "OpenTelemetryCollector",
        "ValidatingWebhookConfiguration",
    ]


def test_crd_serves():
    crd = {
        "spec": {
            "group": "example.com",
            "names": {"kind": "Gadget"},
            "versions": [{"name": "v1", "served": True}, {"name": "v0", "served": False}],
        }
    }
    assert manifests.crd_serves(crd, "example.com/v1", "Gadget")
    assert not manifests.crd_serves(crd, "example.com/v0", "Gadget")
    assert not manifests.crd_serves(crd, "other.com/v1", "Gadget")
    assert not manifests.crd_serves(crd, "example.com/v1", "Widget")


def test_redact_marks_changed_values_only():
    before = {"kind": "Secret", "data": {"a": "QQ==", "b": "Qg=="}}
    after = {"kind": "Secret", "data": {"a": "QQ==", "b": "Qw=="}, "stringData": {"c": "plain"}}
    shown = manifests.redact(after, compare_to=before)
    assert shown["data"] == {"a": manifests.REDACTED, "b": manifests.REDACTED_CHANGED}
    assert shown["stringData"] == {"c": manifests.REDACTED_CHANGED}
    assert manifests.redact(after)["data"]["b"] == manifests.REDACTED
    assert after["data"]["b"] == "Qw=="  # the input is not changed
    assert manifests.redact(ns("a")) == ns("a")


def test_secret_values_for_no_log():
    secret = {"kind": "Secret", "data": {"a": "c2VjcmV0"}, "stringData": {"b": "hunter22", "c": "x"}}
    assert manifests.secret_values([secret, ns("a")]) == {"c2VjcmV0", "hunter22"}


def test_for_display_and_comparable_drop_bookkeeping():
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "status": {"x": 1},
        "metadata": {
            "name": "a",
            "resourceVersion": "5",
            "uid": "u",
            "annotations": {},
            "managedFields": [{"manager": "m", "time": "2026-01-01T00:00:00Z"}],
        },
    }
    assert manifests.for_display(live) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    moved = yaml.safe_load(yaml.safe_dump(live))
    moved["metadata"]["resourceVersion"] = "9"
    moved["metadata"]["managedFields"][0]["time"] = "2026-02-02T00:00:00Z"
    assert manifests.comparable(live) == manifests.comparable(moved)
    moved["metadata"]["managedFields"][0]["manager"] = "other"
    assert manifests.comparable(live) != manifests.comparable(moved)


def test_rendered_sets_namespaces_only_where_the_scope_is_known():
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "other"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "r", "namespace": "x"},
        },
        {"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector", "metadata": {"name": "c"}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "x"}},
        {"apiVersion": "unknown.example/v1", "kind": "Gadget", "metadata": {"name": "g"}},
        crd,
        ns("observability"),
    ]
    given = copy.deepcopy(objects)
    out = manifests.rendered(objects, "observability")
    assert objects == given  # copies
    by_name = {o["metadata"]["name"]: o["metadata"] for o in out}
    assert by_name["a"]["namespace"] == "observability"
    assert by_name["b"]["namespace"] == "other"
    assert "namespace" not in by_name["r"]
    assert by_name["c"]["namespace"] == "observability"
    assert "namespace" not in by_name["w"]  # cluster-scoped by the CRD of the same input
    assert "namespace" not in by_name["g"]  # unknown kind: as given
    assert [o["kind"] for o in out][:3] == ["Namespace", "CustomResourceDefinition", "ConfigMap"]
    assert "namespace" not in manifests.rendered(objects[:1])[0]["metadata"]  # no namespace option: as given


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}, "metadata.name 'Bad_Name'"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}}, "not a valid Service name"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "No"}}, "metadata.namespace"),
        (
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "a/b"}},
            "no '/' or '%'",
        ),
    ],
)
def test_names_the_api_server_would_refuse_are_refused_before_anything(obj, expected):
    with pytest.raises(OtelK8sError) as caught:
        manifests.check_objects([("definition document 2", obj), ("definition document 1", ns("fine"))])
    assert expected in caught.value.message and "nothing was applied" in caught.value.message


def test_names_the_api_server_accepts_pass():
    accepted = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:otel"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web.v2", "namespace": "a-b"}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "Left_To_The_Server"}},
    ]
    assert len(manifests.check_objects([("d", o) for o in accepted])) == 3


def test_invalid_yaml_shows_the_line_and_the_fix():
    with pytest.raises(OtelK8sError) as caught:
        manifests.load_documents("kind: ConfigMap\nmetadata: [unclosed\n")
    assert "line 2 `metadata: [unclosed`" in caught.value.message
    assert "fix the YAML" in caught.value.message


def secret(data=None, labels=None):
    meta = {"name": "tls", "namespace": "obs", "labels": labels or {"app": "otel"}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": meta,
        "data": data or {"a": "QQ=="},
    }


def stored(desired, fields=None, manager="otel.kubernetes"):
    """desired as the API server holds it after our apply: our Apply entry (as FieldsV1) and bookkeeping."""
    live = copy.deepcopy(desired)
    recorded = fields or {
        "f:data": {"f:a": {}},
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:type": {},
    }
    live["metadata"].update(
        resourceVersion="7",
        uid="u",
        managedFields=[
            {
                "manager": manager,
                "operation": "Apply",
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": recorded,
            }
        ],
    )
    return live


def test_an_apply_is_a_noop_only_when_our_entry_and_the_values_match():
    desired = secret()
    assert manifests.apply_is_noop(stored(desired), desired, "otel.kubernetes") is True
    # another value, another field, another manager, a field we no longer set: the apply is sent
    assert manifests.apply_is_noop(stored(secret(data={"a": "Qg=="})), desired, "otel.kubernetes") is False
    assert manifests.apply_is_noop(stored(desired), secret(data={"a": "QQ==", "b": "Qg=="}), "otel.kubernetes") is False
    assert manifests.apply_is_noop(stored(desired, manager="kubectl"), desired, "otel.kubernetes") is False
    fewer = {"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}, "f:old": {}}}, "f:type": {}}
    assert manifests.apply_is_noop(stored(desired, fields=fewer), desired, "otel.kubernetes") is False
    # lists are keyed in managedFields: never judged here
    with_list = dict(desired, spec={"items": [1]})
    assert manifests.apply_is_noop(stored(with_list), with_list, "otel.kubernetes") is False


def test_secret_values_are_found_anywhere_in_task_arguments():
    inner = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "stringData": {"k": "first-value"}}
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: b}\ndata: {k: c2Vjb25k}\n"
    args = {"definition": [inner], "extra_objects": text, "kind": "Secret", "name": "Secret: x"}
    assert manifests.secret_values_in(args) == {"first-value", "c2Vjb25k"}
    assert manifests.secret_values_in({"definition": "kind: Secret: [broken"}) == set()
    assert manifests.secret_values_in({"kind": "ConfigMap", "data": {"k": "not-secret"}}) == set()


class UnsafeText(str):
    """ansible-core 2.16-2.18's AnsibleUnsafeText: a str subclass whose str() is itself."""

    def __str__(self):  # pylint: disable=invalid-str-returned
        return self


def test_yaml_text_of_the_controllers_string_types_is_read():
    # The C YAML loader refuses str subclasses ("a string or stream input is required"): seen on 2.16-2.18.
    text = UnsafeText("kind: Secret\napiVersion: v1\nmetadata: {name: s}\nstringData: {k: the-value}\n")
    assert str(text) is text
    assert manifests.secret_values_in({"definition": text}) == {"the-value"}
    assert manifests.load_documents(definition=text)[0][1]["stringData"] == {"k": "the-value"}


class TaggedText(str):
    """Ansible hands action plugins its strings as str subclasses (tagged values)."""


def test_secret_values_in_text_of_a_str_subclass():
    text = TaggedText("apiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: {k: tagged-value}\n")
    assert manifests.secret_values_in({"definition": text}) == {"tagged-value"}
