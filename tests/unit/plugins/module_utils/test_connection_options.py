"""kubernetes.core's connection options in the one client: names, aliases, K8S_AUTH_* variables and
their precedence (through a real AnsibleModule), and what reaches the API server and the proxy
(impersonation and basic-auth headers, proxy headers, CONNECT tunnels, no_proxy), against real
HTTP(S) servers and the test proxy on loopback."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from ansible.module_utils import basic
from certificates import self_signed
from http_proxy import ProxyServer

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import connection as connection_module
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import (
    CONNECTION_ARG_SPEC,
    new_module,
    with_connection_options,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import (
    Connection,
    KubeClient,
    bypasses_proxy,
    resolve_connection,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError

# kubernetes.core's connection options (its doc fragment k8s_auth_options) and their aliases.
KUBERNETES_CORE_OPTIONS = {
    "host": [],
    "api_key": [],
    "kubeconfig": [],
    "context": [],
    "username": [],
    "password": [],
    "client_cert": ["cert_file"],
    "client_key": ["key_file"],
    "ca_cert": ["ssl_ca_cert"],
    "validate_certs": ["verify_ssl"],
    "proxy": [],
    "no_proxy": [],
    "proxy_headers": [],
    "persist_config": [],
    "impersonate_user": [],
    "impersonate_groups": [],
}
ENV_NAMES = [
    "K8S_AUTH_HOST",
    "K8S_AUTH_API_KEY",
    "K8S_AUTH_KUBECONFIG",
    "K8S_AUTH_CONTEXT",
    "K8S_AUTH_USERNAME",
    "K8S_AUTH_PASSWORD",
    "K8S_AUTH_PROXY",
    "K8S_AUTH_NO_PROXY",
    "K8S_AUTH_PERSIST_CONFIG",
    "K8S_AUTH_IMPERSONATE_USER",
    "K8S_AUTH_IMPERSONATE_GROUPS",
    "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH",
    "K8S_AUTH_PROXY_HEADERS_BASIC_AUTH",
    "K8S_AUTH_PROXY_HEADERS_USER_AGENT",
    "K8S_AUTH_VERIFY_SSL",
    "K8S_AUTH_VALIDATE_CERTS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def module_params(monkeypatch, args: dict) -> dict:
    """The params a real AnsibleModule with the collection's connection options makes of args."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core 2.19+
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    return new_module(with_connection_options({})).params


def test_every_kubernetes_core_connection_option_and_alias_is_accepted():
    for name, aliases in KUBERNETES_CORE_OPTIONS.items():
        assert name in CONNECTION_ARG_SPEC, name
        assert sorted(CONNECTION_ARG_SPEC[name].get("aliases", [])) == sorted(aliases), name
    secret = {"api_key", "password"}
    assert {n for n, spec in CONNECTION_ARG_SPEC.items() if spec.get("no_log")} == secret
    headers = CONNECTION_ARG_SPEC["proxy_headers"]["options"]
    assert headers["proxy_basic_auth"]["no_log"] and headers["basic_auth"]["no_log"]


def test_variables_fill_the_options_not_given_and_options_win(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_PROXY", "http://env-proxy:3128")
    monkeypatch.setenv("K8S_AUTH_NO_PROXY", "10.0.0.0/8")
    monkeypatch.setenv("K8S_AUTH_USERNAME", "env-user")
    monkeypatch.setenv("K8S_AUTH_PASSWORD", "env-password")
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_USER", "deployer")
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_GROUPS", "team-a,team-b,")
    monkeypatch.setenv("K8S_AUTH_PERSIST_CONFIG", "yes")
    params = module_params(monkeypatch, {"proxy": "http://option-proxy:8080", "impersonate_groups": ["ops"]})
    assert params["proxy"] == "http://option-proxy:8080"  # the option wins
    assert params["no_proxy"] == "10.0.0.0/8"
    assert (params["username"], params["password"]) == ("env-user", "env-password")
    assert params["impersonate_user"] == "deployer"
    assert params["impersonate_groups"] == ["ops"]
    assert params["persist_config"] is True
    monkeypatch.delenv("K8S_AUTH_USERNAME")
    monkeypatch.delenv("K8S_AUTH_PASSWORD")
    conn = resolve_connection({**module_params(monkeypatch, {}), "host": "https://h", "api_key": "t"})
    # An empty entry of the comma-separated variable is dropped, as kubernetes.core drops it.
    assert conn.impersonate_groups == ["team-a", "team-b"]
    assert (conn.proxy, conn.no_proxy, conn.impersonate_user) == ("http://env-proxy:3128", "10.0.0.0/8", "deployer")


def test_proxy_headers_come_from_their_variables_only_when_the_option_is_absent(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH", "bastion:pw")
    monkeypatch.setenv("K8S_AUTH_PROXY_HEADERS_USER_AGENT", "env-agent/1")
    base = {"host": "https://h", "api_key": "t"}
    assert resolve_connection(base).proxy_headers == {"proxy_basic_auth": "bastion:pw", "user_agent": "env-agent/1"}
    given = resolve_connection({**base, "proxy_headers": {"user_agent": "mine/2", "basic_auth": None}})
    assert given.proxy_headers == {"user_agent": "mine/2"}


def kubeconfig(tmp_path, user: dict, cluster: dict | None = None) -> str:
    config = {
        "current-context": "main",
        "clusters": [{"name": "c", "cluster": {"server": "https://10.1.2.3:6443", **(cluster or {})}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "main", "context": {"cluster": "c", "user": "u"}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_the_kubeconfig_proxy_url_and_impersonation_apply_unless_options_say_otherwise(tmp_path):
    path = kubeconfig(
        tmp_path, {"token": "t", "as": "kube-as", "as-groups": ["g1"]}, {"proxy-url": "http://kube-proxy:3128"}
    )
    conn = resolve_connection({"kubeconfig": path})
    assert (conn.proxy, conn.impersonate_user, conn.impersonate_groups) == ("http://kube-proxy:3128", "kube-as", ["g1"])
    conn = resolve_connection(
        {"kubeconfig": path, "proxy": "http://mine:1", "impersonate_user": "me", "impersonate_groups": ["g2"]}
    )
    assert (conn.proxy, conn.impersonate_user, conn.impersonate_groups) == ("http://mine:1", "me", ["g2"])


def test_basic_auth_from_options_or_the_kubeconfig(tmp_path):
    conn = resolve_connection({"host": "https://h", "username": "u", "password": "p"})  # no kubeconfig read
    assert (conn.server, conn.username, conn.password, conn.token) == ("https://h", "u", "p", None)
    path = kubeconfig(tmp_path, {"username": "admin", "password": "pw"})
    conn = resolve_connection({"kubeconfig": path})
    assert (conn.username, conn.password) == ("admin", "pw")
    # An option wins over the kubeconfig's credentials: a token replaces the basic auth, and back.
    assert resolve_connection({"kubeconfig": path, "api_key": "t"}).username is None
    conn = resolve_connection({"kubeconfig": kubeconfig(tmp_path, {"token": "t"}), "username": "u", "password": "p"})
    assert (conn.token, conn.username) == (None, "u")
    assert "do not accept basic auth" in conn.describe_credentials()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"api_key": "t", "username": "u", "password": "p"}, "'api_key' and 'username'/'password' are two ways"),
        ({"api_key": "t", "username": "u"}, "'api_key' and 'username'/'password' are two ways"),
        ({"username": "u", "client_cert": "/c", "client_key": "/k"}, "'username' and 'password' go together"),
        ({"api_key": "t", "impersonate_groups": ["g"]}, r"impersonate_groups \['g'\] without impersonate_user"),
        ({"api_key": "t", "proxy": "socks5://p:1080"}, "proxy socks5://p:1080 is not an http:// or https:// proxy"),
        ({"api_key": "t", "proxy": "proxy:3128"}, "proxy proxy:3128 is not an http:// or https:// proxy"),
        (
            {"api_key": "t", "proxy": "ftp://user:secret@p"},
            r"proxy ftp://\*\*\*@p is not an http",  # the proxy's credentials are never shown
        ),
        ({"kubeconfig": {"clusters": []}, "persist_config": True}, "persist_config writes refreshed tokens back"),
    ],
)
def test_options_that_cannot_work_together_are_refused_naming_them(options, message):
    with pytest.raises(OtelK8sError, match=message):
        resolve_connection({"host": "https://h", **options})


def test_persist_config_goes_to_the_kubernetes_loader(tmp_path, monkeypatch):
    from kubernetes import config as k8s_config

    seen = []
    real = k8s_config.load_kube_config

    def loader(**kwargs):
        seen.append(kwargs["persist_config"])
        return real(**kwargs)

    monkeypatch.setattr(k8s_config, "load_kube_config", loader)
    script = tmp_path / "cred.sh"
    script.write_text(
        '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1beta1",'
        '"kind":"ExecCredential","status":{"token":"from-exec"}}\'\n'
    )
    script.chmod(0o755)
    path = kubeconfig(
        tmp_path, {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(script)}}
    )
    resolve_connection({"kubeconfig": path})
    resolve_connection({"kubeconfig": path, "persist_config": True})
    assert seen == [False, True]  # kubernetes.core's default: not written back


@pytest.mark.parametrize(
    ("server", "no_proxy", "bypass"),
    [
        ("https://api.example.com:6443", "example.com", True),
        ("https://api.example.com:6443", ".example.com", True),
        ("https://example.com", "example.com", True),
        ("https://notexample.com", "example.com", False),
        ("https://10.1.2.3:6443", "10.0.0.0/8", True),
        ("https://10.1.2.3:6443", "10.1.2.3", True),
        ("https://11.1.2.3:6443", "10.0.0.0/8,localhost", False),
        ("https://api.example.com:6443", "api.example.com:6443", True),
        ("https://api.example.com:6443", "*", True),
        ("https://api.example.com:6443", "", False),
        ("https://api.example.com:6443", None, False),
    ],
)
def test_no_proxy_names_hosts_domains_addresses_and_ranges(server, no_proxy, bypass):
    assert bypasses_proxy(server, no_proxy) is bypass


class Recorder(BaseHTTPRequestHandler):
    """An API server that answers every GET with the next scripted (status, body) and records the headers."""

    protocol_version = "HTTP/1.1"
    script: list = []
    messages: list = []

    def do_GET(self):  # noqa: N802 - the http.server API
        status, body = self.script.pop(0) if self.script else (200, {"kind": "APIVersions"})
        self.messages.append(self.headers)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def server_files(tmp_path) -> tuple:
    """(certificate file, key file) of a server api.proxied.test, valid from a day ago to a day from now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    cert, key = self_signed(
        "api.proxied.test",
        not_before=now - datetime.timedelta(days=1),
        not_after=now + datetime.timedelta(days=1),
        dns_names=["api.proxied.test"],
    )
    cert_path, key_path = tmp_path / "server.crt", tmp_path / "server.key"
    cert_path.write_bytes(cert)
    key_path.write_bytes(key)
    return str(cert_path), str(key_path)


@pytest.fixture(params=["http", "https"])
def api_server(request, tmp_path):
    """(scheme, port, CA file) of a recording API server on loopback, plain or TLS."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.script, Recorder.messages = [], []
    ca = None
    if request.param == "https":
        ca, key = server_files(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ca, key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield request.param, httpd.server_port, ca
    httpd.shutdown()
    httpd.server_close()


def test_the_api_server_is_reached_through_the_proxy_with_every_header(api_server):
    scheme, port, ca = api_server
    # A name this machine cannot resolve: only the proxy, which maps it to loopback, can reach it.
    server = f"{scheme}://api.proxied.test:{port}"
    with ProxyServer(hosts={"api.proxied.test": "127.0.0.1"}) as proxy:
        options = {
            "host": server,
            "api_key": "tok",
            "ca_cert": ca,
            "proxy": proxy.url.replace("http://", "http://bastion:pw@"),
            "proxy_headers": {"user_agent": "bastion-agent/1"},
            "impersonate_user": "otel-deployer",
            "impersonate_groups": ["team-a", "team-b"],
        }
        client = KubeClient(resolve_connection(options))
        assert client.request("GET", "/api").data == {"kind": "APIVersions"}
        client.request("GET", "/apis")
    api = Recorder.messages[0]
    assert api["Authorization"] == "Bearer tok"
    assert api["Impersonate-User"] == "otel-deployer"
    assert api.get_all("Impersonate-Group") == ["team-a", "team-b"]  # one header per group
    assert api["Proxy-Authorization"] is None  # the test proxy drops it as proxies do
    method, target, _headers, headers = proxy.seen[0]
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"bastion:pw").decode()
    assert headers["User-Agent"] == "bastion-agent/1"
    if scheme == "https":  # one tunnel, both requests in it; TLS end to end (the proxy saw no path)
        assert (method, target, proxy.connects()) == ("CONNECT", f"api.proxied.test:{port}", [target])
        assert api["User-Agent"] == "otel.kubernetes"  # proxy_headers went to the proxy only
    else:  # plain forwarding: each request, by its absolute URL
        assert [t for _m, t, _h, _x in proxy.seen] == [f"{server}/api", f"{server}/apis"]
    assert len(Recorder.messages) == 2


def test_no_proxy_reaches_the_api_server_directly(api_server):
    scheme, port, ca = api_server
    with ProxyServer() as proxy:
        conn = resolve_connection(
            {"host": f"{scheme}://localhost:{port}", "api_key": "t", "proxy": proxy.url, "no_proxy": "localhost"}
        )
        conn.verify = False
        KubeClient(conn).request("GET", "/api")
    assert proxy.seen == [] and len(Recorder.messages) == 1


def test_a_proxy_that_wants_credentials_fails_at_once_naming_the_option():
    with ProxyServer(require_auth="Basic " + base64.b64encode(b"right:pw").decode()) as proxy:
        conn = resolve_connection(
            {"host": "https://api.proxied.test:6443", "api_key": "t", "proxy": proxy.url.replace("//", "//wrong:x@")}
        )
        client = KubeClient(conn, retry_timeout=30)
        with pytest.raises(OtelK8sError) as caught:
            client.request("GET", "/api")
    assert "requires authentication (407 Proxy Authentication Required)" in caught.value.message
    assert "proxy_headers.proxy_basic_auth" in caught.value.message
    assert "wrong:x" not in caught.value.message and client.requests == 1


def test_a_proxy_that_refuses_the_api_server_fails_at_once_naming_no_proxy():
    with ProxyServer(forbidden=("api.proxied.test",)) as proxy:
        client = KubeClient(
            resolve_connection({"host": "https://api.proxied.test:6443", "api_key": "t", "proxy": proxy.url}),
            retry_timeout=30,
        )
        with pytest.raises(OtelK8sError, match=r"refused to connect to https://api.proxied.test:6443 \(403"):
            client.request("GET", "/api")
    assert client.requests == 1


def test_basic_auth_is_sent_and_its_refusal_explained():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.script, Recorder.messages = [(401, {"kind": "Status", "reason": "Unauthorized"})], []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        conn = resolve_connection(
            {"host": f"http://127.0.0.1:{httpd.server_port}", "username": "u", "password": "s3cret-pw"}
        )
        with pytest.raises(ApiError) as caught:
            KubeClient(conn).request("GET", "/api")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert Recorder.messages[0]["Authorization"] == "Basic " + base64.b64encode(b"u:s3cret-pw").decode()
    assert "the username 'u' and password (basic auth) of the options" in caught.value.message
    assert "Kubernetes 1.19 and newer API servers do not accept basic auth" in caught.value.message
    assert "s3cret-pw" not in caught.value.message


def test_an_identity_that_may_not_impersonate_gets_the_fix():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    refusal = (
        'users "otel-deployer" is forbidden: User "nobody" cannot impersonate resource "users" in API group "" '
        "at the cluster scope"
    )
    Recorder.script = [(403, {"kind": "Status", "reason": "Forbidden", "message": refusal})]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        conn = Connection(server=f"http://127.0.0.1:{httpd.server_port}", token="t", origin="kubeconfig /u")
        conn.impersonate_user = "otel-deployer"
        with pytest.raises(OtelK8sError) as caught:
            KubeClient(conn).request("GET", "/api")
    finally:
        httpd.shutdown()
        httpd.server_close()
    message = caught.value.message
    assert not isinstance(caught.value, ApiError)  # every request would fail alike: not one object's permission
    assert refusal in message
    assert "the identity of kubeconfig /u may not impersonate user 'otel-deployer'" in message
    assert "Grant it the verb 'impersonate'" in message and "drop impersonate_user" in message


def test_the_request_path_builds_nothing_per_request(monkeypatch):
    """Headers and the pool are made once per client (the benchmark counts time per request)."""
    calls = []
    real = connection_module.request_headers
    monkeypatch.setattr(connection_module, "request_headers", lambda conn: calls.append(1) or real(conn))
    client = KubeClient(Connection(server="http://127.0.0.1:9", token="t"))
    assert calls == [1] and client.proxy is None
