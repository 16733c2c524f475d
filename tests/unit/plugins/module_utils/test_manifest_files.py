"""ManifestWriter: file names, YAML text, refusals before writing, idempotency, check mode."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.manifest_files import (
    ManifestWriter,
    file_name,
    yaml_text,
)

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}}
CONFIG = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c", "namespace": "observability"},
    "data": {"b": "1", "a": "é"},
}


def test_file_names_number_kind_namespace_name():
    assert file_name(0, NAMESPACE) == "000-namespace-observability.yaml"
    assert file_name(12, CONFIG) == "012-configmap-observability-c.yaml"


def test_yaml_keeps_key_order_block_style_and_unicode():
    text = yaml_text(CONFIG)
    assert text.splitlines()[:3] == ["apiVersion: v1", "kind: ConfigMap", "metadata:"]
    assert "  b: '1'\n  a: é\n" in text
    assert yaml.safe_load(text) == CONFIG


def test_writes_once_then_reports_no_change(tmp_path):
    out = tmp_path / "rendered"
    first = ManifestWriter(str(out)).write([NAMESPACE, CONFIG])
    assert first["changed"] and len(first["written"]) == 2
    assert sorted(os.listdir(out)) == ["000-namespace-observability.yaml", "001-configmap-observability-c.yaml"]
    assert oct(os.stat(out / "001-configmap-observability-c.yaml").st_mode & 0o777) == "0o644"
    again = ManifestWriter(str(out)).write([NAMESPACE, CONFIG])
    assert again == {"changed": False, "written": [], "files": 2, "directory": str(out)}


def test_check_mode_writes_nothing(tmp_path):
    out = tmp_path / "rendered"
    result = ManifestWriter(str(out), check_mode=True).write([NAMESPACE])
    assert result["changed"] and not out.exists()


def test_a_changed_object_rewrites_only_its_file(tmp_path):
    ManifestWriter(str(tmp_path)).write([NAMESPACE, CONFIG])
    changed = dict(CONFIG, data={"a": "2"})
    result = ManifestWriter(str(tmp_path)).write([NAMESPACE, changed])
    assert result["written"] == [str(tmp_path / "001-configmap-observability-c.yaml")]


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"}}, "Secret tls: Secrets are never written"),
        ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "objects[1] is not a complete Kubernetes object"),
        ("text", "objects[1] is not a complete Kubernetes object"),
    ],
)
def test_refusals_come_before_any_file(tmp_path, bad, words):
    with pytest.raises(OtelK8sError) as error:
        ManifestWriter(str(tmp_path / "out")).write([NAMESPACE, bad])
    assert words in error.value.message and "Nothing was written" in error.value.message
    assert not (tmp_path / "out").exists()
