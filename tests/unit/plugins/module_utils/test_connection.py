from __future__ import annotations

import base64
import datetime
import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import urllib3
import yaml
from certificates import self_signed
from kubernetes.config import kube_config

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import (
    Connection,
    KubeClient,
    resolve_connection,
    resource_path,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError


def kubeconfig(tmp_path, user: dict, cluster_extra=None, context_ns=None) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "main",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": "https://10.1.2.3:6443/",
                    "certificate-authority-data": base64.b64encode(b"CA").decode(),
                    **(cluster_extra or {}),
                },
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [
            {"name": "main", "context": {"cluster": "c", "user": "u", "namespace": context_ns}},
            {"name": "other", "context": {"cluster": "c", "user": "u"}},
        ],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_static_kubeconfig_with_certificate_data(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    path = kubeconfig(
        tmp_path,
        {
            "client-certificate-data": base64.b64encode(b"CERT").decode(),
            "client-key-data": base64.b64encode(b"KEY").decode(),
        },
        context_ns="obs",
    )
    conn = resolve_connection({"kubeconfig": path})
    assert conn.server == "https://10.1.2.3:6443"
    assert conn.ca_data == "CA"
    assert (conn.client_cert_data, conn.client_key_data) == (b"CERT", b"KEY")
    assert "KEY" not in repr(conn)
    assert conn.default_namespace == "obs"
    assert resolve_connection({"kubeconfig": path, "context": "other"}).default_namespace == "default"


def kubeconfig_with_client_pair(tmp_path, monkeypatch) -> tuple:
    """(kubeconfig path, certificate, key, the temporary directory every tempfile goes to)."""
    cert, key = self_signed("admin")
    path = kubeconfig(
        tmp_path,
        {"client-certificate-data": base64.b64encode(cert).decode(), "client-key-data": base64.b64encode(key).decode()},
        {"certificate-authority-data": base64.b64encode(cert).decode()},
    )
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return path, cert, key, temp


def test_kubeconfig_certificate_data_is_on_disk_only_while_ssl_loads_it(tmp_path, monkeypatch):
    # A module's process may end without atexit: every run had left a copy of the client key in /tmp.
    path, _cert, key, temp = kubeconfig_with_client_pair(tmp_path, monkeypatch)
    loaded = []
    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", lambda self, c, k: loaded.append(Path(k).read_bytes()))
    conn = resolve_connection({"kubeconfig": path})
    KubeClient(conn)
    assert loaded == [key]
    assert list(temp.iterdir()) == []
    assert conn.describe_credentials() == f"the client certificate of kubeconfig {path} (user u)"


def test_the_kubernetes_clients_certificate_files_are_removed_once_read(tmp_path, monkeypatch):
    # Several KUBECONFIG files go to the kubernetes client, whose loader writes the *-data to
    # files it removes only at exit.
    path, cert, key, temp = kubeconfig_with_client_pair(tmp_path, monkeypatch)
    other = tmp_path / "other"
    other.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", f"{path}:{other}")
    # A file the loader cached for another user of this process (a kubernetes.core lookup) stays.
    theirs = tmp_path / "theirs"
    theirs.write_bytes(b"theirs")
    monkeypatch.setitem(kube_config._temp_files, "their content", str(theirs))
    conn = resolve_connection({})
    assert theirs.exists() and kube_config._temp_files == {"their content": str(theirs)}
    assert (conn.client_cert_data, conn.client_key_data, conn.ca_data) == (cert, key, cert.decode())
    assert (conn.client_cert, conn.client_key, conn.ca_file) == (None, None, None)
    KubeClient(conn)  # ssl loads the pair
    assert list(temp.iterdir()) == []


def test_token_file_relative_to_kubeconfig_and_options_win(tmp_path):
    (tmp_path / "token").write_text("abc\n")
    path = kubeconfig(tmp_path, {"tokenFile": "token"}, {"insecure-skip-tls-verify": True})
    conn = resolve_connection({"kubeconfig": path})
    assert conn.token == "abc"
    assert conn.verify is False
    conn = resolve_connection({"kubeconfig": path, "api_key": "xyz", "validate_certs": True, "host": "https://h/"})
    assert (conn.token, conn.verify, conn.server) == ("xyz", True, "https://h")


def test_host_with_token_needs_no_kubeconfig(monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    conn = resolve_connection({"host": "https://api.example:6443", "api_key": "t", "ca_cert": "/ca.crt"})
    assert (conn.server, conn.token, conn.ca_file) == ("https://api.example:6443", "t", "/ca.crt")


def test_exec_plugin_is_delegated_to_the_kubernetes_client(tmp_path):
    script = tmp_path / "cred.sh"
    script.write_text(
        '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1beta1",'
        '"kind":"ExecCredential","status":{"token":"from-exec"}}\'\n'
    )
    script.chmod(0o755)
    path = kubeconfig(
        tmp_path, {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(script)}}
    )
    conn = resolve_connection({"kubeconfig": path})
    assert conn.token == "from-exec"
    assert conn.server == "https://10.1.2.3:6443"


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        ({}, {"KUBECONFIG": ""}, "no Kubernetes credentials found"),
        ({"kubeconfig": "/nonexistent/config"}, {}, "does not exist"),
        ({"host": "https://h", "client_cert": "/c"}, {}, "'client_cert' and 'client_key' go together"),
    ],
)
def test_resolution_errors(monkeypatch, tmp_path, options, env, message):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(OtelK8sError, match=message):
        resolve_connection(options)


def test_unknown_context_is_named(tmp_path):
    path = kubeconfig(tmp_path, {"token": "t"})
    with pytest.raises(OtelK8sError, match="no context named 'missing'"):
        resolve_connection({"kubeconfig": path, "context": "missing"})


def test_resource_path():
    assert resource_path("v1", "configmaps", "ns", "a") == "/api/v1/namespaces/ns/configmaps/a"
    assert (
        resource_path("apps/v1", "deployments", "ns", "web", "status")
        == "/apis/apps/v1/namespaces/ns/deployments/web/status"
    )
    assert (
        resource_path("rbac.authorization.k8s.io/v1", "clusterroles")
        == "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    )


class Scripted(BaseHTTPRequestHandler):
    """Answers with the next scripted (status, body) for every request."""

    script: list = []
    seen: list = []

    def do_GET(self):  # noqa: N802 - the http.server API
        status, body = self.script.pop(0) if self.script else (200, {})
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Scripted)
    Scripted.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def test_transient_errors_are_retried_until_success(server):
    Scripted.script = [(503, {"message": "busy"}), (429, {}), (200, {"kind": "X"})]
    client = KubeClient(Connection(server=f"http://127.0.0.1:{server.server_port}", token="t"), retry_timeout=10)
    answer = client.request("GET", "/api/v1")
    assert answer.data == {"kind": "X"}
    assert client.requests == 3
    assert Scripted.seen[0][2] == "Bearer t"


def test_permanent_errors_fail_at_once_with_the_status_message(server):
    Scripted.script = [(422, {"kind": "Status", "reason": "Invalid", "message": "spec.replicas: Invalid value"})]
    client = KubeClient(Connection(server=f"http://127.0.0.1:{server.server_port}"), retry_timeout=10)
    with pytest.raises(ApiError) as caught:
        client.request("GET", "/x")
    assert (caught.value.status, caught.value.reason) == (422, "Invalid")
    assert "spec.replicas" in caught.value.message
    assert client.requests == 1


def test_unreachable_server_gives_up_after_the_deadline():
    client = KubeClient(Connection(server="http://127.0.0.1:9"), retry_timeout=1)
    with pytest.raises(OtelK8sError, match="cannot reach the Kubernetes API server"):
        client.request("GET", "/api")
    assert client.requests >= 2


def certificate(tmp_path, days: int) -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = self_signed(
        "someone", not_before=now - datetime.timedelta(days=30), not_after=now + datetime.timedelta(days=days)
    )[0]
    path = tmp_path / f"cert{days}.crt"
    path.write_bytes(cert)
    return str(path)


def test_the_credentials_are_described_and_an_expired_certificate_is_named(tmp_path):
    expired = Connection(
        server="https://a", client_cert=certificate(tmp_path, -1), client_key="k", origin="client_cert"
    )
    assert expired.describe_credentials().startswith(f"client_cert {expired.client_cert} expired on ")
    valid = Connection(server="https://a", client_cert=certificate(tmp_path, 9), client_key="k", origin="kubeconfig x")
    assert valid.describe_credentials() == "the client certificate of kubeconfig x"
    assert (
        Connection(server="https://a", token="t", origin="api_key").describe_credentials()
        == "the bearer token of api_key"
    )


@pytest.mark.parametrize("option", ["ca_cert", "client_cert", "client_key"])
def test_missing_certificate_files_are_named_not_a_traceback(tmp_path, option):
    files = {
        "ca_cert": str(tmp_path / "ca.crt"),
        "client_cert": certificate(tmp_path, 9),
        "client_key": str(tmp_path / "k"),
    }
    for name in ("ca_cert", "client_key"):
        if name != option:
            Path(files[name]).write_text("x")
    files[option] = str(tmp_path / "missing.pem")
    conn = resolve_connection({"host": "https://a", **files})
    with pytest.raises(OtelK8sError, match=f"{option} {tmp_path}/missing.pem does not exist; fix '{option}'"):
        KubeClient(conn)


def test_a_ca_file_that_is_not_pem_is_named_not_a_traceback(tmp_path):
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate")
    with pytest.raises(OtelK8sError, match=f"cannot load ca_cert {bad} .*give the PEM CA certificate"):
        KubeClient(Connection(server="https://a", ca_file=str(bad)))


def flaky_pool(client, monkeypatch, errors: list) -> list:
    """The client's pool raises each of `errors` once, then answers for real; returns the calls seen."""
    real, calls = client._pool.request, []

    def request(*args, **kwargs):
        calls.append(args[:2])
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return real(*args, **kwargs)

    monkeypatch.setattr(client._pool, "request", request)
    return calls


def test_a_tls_connection_closed_under_the_client_is_retried(server, monkeypatch):
    # A restarting API server (or a proxy in front of it) closes connections mid-handshake.
    Scripted.script = [(200, {"kind": "X"})]
    client = KubeClient(Connection(server=f"http://127.0.0.1:{server.server_port}"), retry_timeout=10)
    dropped = [
        urllib3.exceptions.SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:992)")),
        urllib3.exceptions.SSLError(ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed (EOF)")),
        urllib3.exceptions.SSLError(ConnectionResetError(104, "Connection reset by peer")),
    ]
    calls = flaky_pool(client, monkeypatch, dropped)
    assert client.request("GET", "/api").data == {"kind": "X"}
    assert len(calls) == 4


def test_a_certificate_problem_is_not_retried(server, monkeypatch):
    client = KubeClient(Connection(server=f"http://127.0.0.1:{server.server_port}"), retry_timeout=10)
    refused = urllib3.exceptions.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    calls = flaky_pool(client, monkeypatch, [refused])
    with pytest.raises(OtelK8sError, match="TLS error talking to .*certificate verify failed"):
        client.request("GET", "/api")
    assert len(calls) == 1
