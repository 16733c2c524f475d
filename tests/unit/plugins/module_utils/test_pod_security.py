from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import pod_security
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError


def namespace(name="observability", labels=None):
    metadata = {"name": name}
    if labels is not None:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def test_every_mode_is_set_to_the_level_with_enforce_pinned_and_the_others_latest():
    assert pod_security.namespace_labels("restricted") == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.34",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
    }


def test_an_unknown_level_is_refused_naming_the_option_the_value_and_the_levels():
    with pytest.raises(OtelK8sError) as error:
        pod_security.namespace_labels("strict")
    assert "pod_security" in error.value.message
    assert "'strict'" in error.value.message
    assert "privileged, baseline, restricted" in error.value.message


def test_namespaces_are_labelled_other_labels_kept_and_the_input_left_unchanged():
    given = namespace(labels={"team": "obs", "pod-security.kubernetes.io/enforce": "privileged"})
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "observability"}}
    labelled = pod_security.label_namespaces([given, config_map], "baseline")
    assert labelled[0]["metadata"]["labels"]["team"] == "obs"
    # The level asked for replaces the input's own pod-security label.
    assert labelled[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labelled[0]["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "baseline"
    assert labelled[1] is config_map
    assert given["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_a_namespace_without_labels_gets_them_and_no_level_changes_nothing():
    bare = namespace()
    labelled = pod_security.label_namespaces([bare], "restricted")
    assert labelled[0]["metadata"]["labels"] == pod_security.namespace_labels("restricted")
    assert pod_security.label_namespaces([bare], None) == [bare]
    assert "labels" not in bare["metadata"]
