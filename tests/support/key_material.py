"""Private key material: what the cluster and the kubeconfig hold, and where a text or a directory shows it.

The values come from the real cluster (every kubernetes.io/tls Secret's tls.key, every
service-account-token Secret's token) and from the kubeconfig the tests use (its client key and
token), so a test can look for the exact bytes that must never be printed or written.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import yaml

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import KubeClient, resolve_connection

# What a private key or a Secret's key field looks like, whatever key it is.
MARKERS = {
    "PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # A Secret's data key (YAML or JSON), not a path such as key_file: /etc/otel/tls/tls.key.
    "tls.key data field": re.compile(r"(^|[\s{,])[\"']?tls\.key[\"']?\s*:\s*\S", re.MULTILINE),
}


def _pem_lines(where: str, pem: str) -> dict:
    """The body lines of a PEM text (long enough to be unique), each under its own name."""
    body = [line for line in pem.splitlines() if "-----" not in line]
    return {f"{where} PEM line {i}": line for i, line in enumerate(body) if len(line) > 20}


def key_material(plane) -> dict:
    """Every private key of the cluster's TLS Secrets (as the Secret holds it and as PEM lines),
    and every service-account token Secret's token (base64 and plain)."""
    client = KubeClient(resolve_connection({"kubeconfig": str(plane.admin_kubeconfig)}))
    found = {}
    for secret in client.request("GET", "/api/v1/secrets", query={"fieldSelector": "type=kubernetes.io/tls"}).data[
        "items"
    ]:
        key = secret.get("data", {}).get("tls.key")
        if key:
            where = f"{secret['metadata']['namespace']}/{secret['metadata']['name']}"
            found[f"{where} tls.key base64"] = key
            found.update(_pem_lines(where, base64.b64decode(key).decode()))
    tokens = client.request(
        "GET", "/api/v1/secrets", query={"fieldSelector": "type=kubernetes.io/service-account-token"}
    ).data["items"]
    for secret in tokens:
        token = secret.get("data", {}).get("token")
        if token:
            where = f"{secret['metadata']['namespace']}/{secret['metadata']['name']}"
            found[f"{where} token base64"] = token
            found[f"{where} token"] = base64.b64decode(token).decode()
    return found


def kubeconfig_material(path) -> dict:
    """The client keys and tokens of a kubeconfig's users."""
    found = {}
    for user in (yaml.safe_load(Path(path).read_text()) or {}).get("users") or []:
        settings, name = user.get("user") or {}, user.get("name")
        if settings.get("client-key-data"):
            found[f"kubeconfig user {name} client-key-data"] = settings["client-key-data"]
            found.update(_pem_lines(f"kubeconfig user {name}", base64.b64decode(settings["client-key-data"]).decode()))
        if settings.get("client-key"):
            found.update(_pem_lines(f"kubeconfig user {name}", Path(settings["client-key"]).read_text()))
        if settings.get("token"):
            found[f"kubeconfig user {name} token"] = settings["token"]
    return found


def found_in(text: str, material: dict) -> list:
    """The names of the `material` values that `text` contains."""
    return sorted(name for name, value in material.items() if value and value in text)


def scan_directory(directory, material: dict) -> dict:
    """file (relative) -> what it shows: `material` values and anything that looks like a private key."""
    hits = {}
    for path in sorted(Path(directory).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        shown = found_in(text, material) + [name for name, pattern in MARKERS.items() if pattern.search(text)]
        if shown:
            hits[str(path.relative_to(directory))] = shown
    return hits
