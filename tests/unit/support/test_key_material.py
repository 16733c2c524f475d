"""The key-material search of the render-directory and output tests finds what is planted, and only that."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from key_material import _pem_lines, found_in, scan_directory


def planted_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def material_of(pem: str) -> dict:
    return {"ns/key tls.key base64": base64.b64encode(pem.encode()).decode(), **_pem_lines("ns/key", pem)}


def clean_directory(tmp_path):
    (tmp_path / "000-deployment-x.yaml").write_text(
        "kind: Deployment\nspec:\n  config:\n    key_file: /etc/otel/tls/tls.key\n"
    )
    (tmp_path / "001-certificate-x.yaml").write_text("kind: Certificate\nspec:\n  secretName: otel-gateway-tls\n")


def test_a_clean_directory_shows_nothing(tmp_path):
    clean_directory(tmp_path)
    assert scan_directory(tmp_path, material_of(planted_key())) == {}


def test_a_planted_key_is_found_in_every_form(tmp_path):
    clean_directory(tmp_path)
    pem = planted_key()
    material = material_of(pem)
    encoded = material["ns/key tls.key base64"]
    (tmp_path / "pem.yaml").write_text(pem)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  tls.key: {encoded}\n")
    (tmp_path / "sub").mkdir()
    body_line = next(v for k, v in material.items() if "PEM line" in k)
    (tmp_path / "sub" / "embedded.txt").write_text(f"some output ... {body_line} ... more\n")
    hits = scan_directory(tmp_path, material)
    assert set(hits) == {"pem.yaml", "secret.yaml", "sub/embedded.txt"}, hits
    assert "PEM private key" in hits["pem.yaml"]
    assert "ns/key tls.key base64" in hits["secret.yaml"] and "tls.key data field" in hits["secret.yaml"]
    assert hits["sub/embedded.txt"] == [next(k for k, v in material.items() if v == body_line)]


def test_a_key_that_is_not_the_clusters_is_still_found_by_its_form(tmp_path):
    (tmp_path / "other.pem").write_text(planted_key())
    (tmp_path / "quoted.json").write_text('{"data": {"tls.key": "c2VjcmV0"}}')
    hits = scan_directory(tmp_path, {})
    assert hits == {"other.pem": ["PEM private key"], "quoted.json": ["tls.key data field"]}, hits


def test_tokens_are_found_in_output_text():
    material = {"the token given in K8S_AUTH_API_KEY": "otel-test-token-0123456789abcdef"}
    assert found_in("Authorization: Bearer otel-test-token-0123456789abcdef\n", material) == [
        "the token given in K8S_AUTH_API_KEY"
    ]
    assert found_in("Authorization: Bearer ********\n", material) == []
