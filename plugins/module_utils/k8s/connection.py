# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From auth options to an HTTP client for the API server, with retries.

Credentials are resolved in the order users of kubernetes.core expect: module options,
then ``K8S_AUTH_*`` environment variables (through the argument spec's fallbacks), then
``KUBECONFIG`` / ``~/.kube/config``, then the in-cluster service account. kubernetes.core's
other connection options are honoured the same way: an HTTP proxy (``proxy``, ``no_proxy``,
``proxy_headers``, or the kubeconfig's ``proxy-url``), impersonation (``impersonate_user``,
``impersonate_groups``: the ``Impersonate-*`` headers), basic auth (``username``/``password``)
and ``persist_config``.

Single-file kubeconfigs with static credentials (certificates, tokens) are read here
directly; anything else (exec and auth-provider plugins, merged ``KUBECONFIG`` lists,
in-cluster config) is handed to the ``kubernetes`` client's loader. The reason is cost:
importing the ``kubernetes`` package takes about 0.7 s, more than a whole idempotent
re-apply of forty objects, so it is imported only when it is needed.
"""

from __future__ import annotations

import base64
import calendar
import email.utils
import ipaddress
import json
import os
import re
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode, urlsplit

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import ApiError, OtelK8sError, yaml_problem

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

try:
    import urllib3

    try:
        from urllib3 import HTTPHeaderDict
    except ImportError:  # urllib3 1.26
        from urllib3._collections import HTTPHeaderDict

    class _ProxyManager(urllib3.ProxyManager):
        """urllib3's ProxyManager, keeping a header sent several times (Impersonate-Group) as several
        headers when it forwards a plain-http request (its own merge joins them with commas)."""

        def _set_proxy_headers(self, url, headers=None):
            merged = HTTPHeaderDict(super()._set_proxy_headers(url, None))
            merged.extend(headers or {})
            return merged

    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError as _error:  # pragma: no cover - reported by the module
    urllib3 = None
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = _error

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # nosec - a path, not a secret
TRANSIENT_STATUS = frozenset((429, 500, 502, 503, 504))

# option name -> environment variables read when the option is not set. The first
# is K8S_AUTH_<OPTION>; the second is the spelling kubernetes.core also accepts.
AUTH_ENV = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "client_cert": ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    "client_key": ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    "username": ("K8S_AUTH_USERNAME",),
    "password": ("K8S_AUTH_PASSWORD",),
    "proxy": ("K8S_AUTH_PROXY",),
    "no_proxy": ("K8S_AUTH_NO_PROXY",),
    "persist_config": ("K8S_AUTH_PERSIST_CONFIG",),
    "impersonate_user": ("K8S_AUTH_IMPERSONATE_USER",),
    "impersonate_groups": ("K8S_AUTH_IMPERSONATE_GROUPS",),  # comma-separated
}
# proxy_headers is a dict: each of its keys has a variable, read when the option is not given.
PROXY_HEADERS_ENV = {
    "proxy_basic_auth": "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH",
    "basic_auth": "K8S_AUTH_PROXY_HEADERS_BASIC_AUTH",
    "user_agent": "K8S_AUTH_PROXY_HEADERS_USER_AGENT",
}
PROXY_SCHEMES = ("http", "https")


@dataclass
class Connection:
    """Everything needed to reach and authenticate to one API server."""

    server: str
    ca_file: str | None = None
    ca_data: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    # A kubeconfig's client-certificate-data / client-key-data: kept in memory, on disk only
    # while ssl loads them (load_client_certificate).
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = None
    # Basic auth (kubernetes.core's username/password); Kubernetes 1.19+ API servers refuse it.
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool = True
    tls_server_name: str | None = None
    default_namespace: str = "default"
    # An HTTP(S) proxy URL; the hosts that bypass it (no_proxy); headers for the proxy
    # (kubernetes.core's proxy_headers: proxy_basic_auth, basic_auth, user_agent).
    proxy: str | None = None
    no_proxy: str | None = None
    proxy_headers: dict = field(default_factory=dict, repr=False)
    impersonate_user: str | None = None
    impersonate_groups: list = field(default_factory=list)
    # Where the credentials came from, for messages: the option or kubeconfig entry, never the secret.
    origin: str = ""

    def describe_credentials(self) -> str:
        """The identity this connection presents and where it was configured, for a 401 message."""
        if self.username is not None and not self.token:
            where = "the options" if self.origin == "username" else self.origin
            return (
                f"the username {self.username!r} and password (basic auth) of {where}; "
                "Kubernetes 1.19 and newer API servers do not accept basic auth: use a token (api_key), a client "
                "certificate (client_cert/client_key) or a kubeconfig instead"
            )
        if self.client_cert or self.client_cert_data:
            if self.origin == "client_cert":
                text = f"client_cert {self.client_cert}"
            else:
                text = f"the client certificate of {self.origin or 'the kubeconfig'}"
            expiry = certificate_expiry(self.client_cert_data or _read_bytes(self.client_cert))
            if expiry is not None and expiry < time.time():
                when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry))
                text += f" expired on {when}: issue a new certificate"
            return text
        if self.token:
            return f"the bearer token of {self.origin or 'api_key'}"
        return f"no client certificate or token in {self.origin or 'the options'}"

    def load_client_certificate(self, context: ssl.SSLContext) -> None:
        """Load the client certificate and key into context. ssl reads them only from files: data
        from a kubeconfig is written to a private directory that is removed once loaded (an
        Ansible module's process may end without running atexit handlers)."""
        directory = tempfile.mkdtemp(prefix="otel-k8s-") if self.client_cert_data or self.client_key_data else None
        try:
            cert = _private_file(directory, "client.crt", self.client_cert_data) or self.client_cert
            key = _private_file(directory, "client.key", self.client_key_data) or self.client_key
            context.load_cert_chain(cert, key)
        finally:
            if directory:
                shutil.rmtree(directory, ignore_errors=True)


def _private_file(directory: str | None, name: str, data: bytes | None) -> str | None:
    """A file of data readable by this user only, or None without data."""
    if data is None:
        return None
    path = os.path.join(directory, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    return path


def _read_bytes(path: str | None) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, TypeError):
        return None


def certificate_expiry(pem: bytes | None) -> float | None:
    """notAfter of a PEM certificate as a Unix time, or None when it cannot be read here."""
    if not pem:
        return None
    try:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(pem)
    except (ImportError, ValueError):
        return None
    after = getattr(cert, "not_valid_after_utc", None)
    if after is None:  # cryptography < 42: a naive datetime in UTC
        return calendar.timegm(cert.not_valid_after.timetuple())
    return after.timestamp()


# Files a connection reads, with the option that names them and how to fix it.
_FILES = (
    ("ca_file", "ca_cert", "K8S_AUTH_CA_CERT, or the kubeconfig's certificate-authority"),
    ("client_cert", "client_cert", "K8S_AUTH_CLIENT_CERT, or the kubeconfig's client-certificate"),
    ("client_key", "client_key", "K8S_AUTH_CLIENT_KEY, or the kubeconfig's client-key"),
)


def check_files(conn: Connection) -> None:
    """Every certificate or key file the connection names must exist, before anything is sent."""
    for attribute, option, elsewhere in _FILES:
        path = getattr(conn, attribute)
        if path and not os.path.isfile(path):
            raise OtelK8sError(f"{option} {path} does not exist; fix '{option}' ({elsewhere}) to name an existing file")


def _b64(data: str) -> bytes:
    return base64.b64decode(data)


def _kubeconfig_paths(kubeconfig) -> list:
    if kubeconfig:
        return [os.path.expanduser(kubeconfig)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    default = os.path.expanduser("~/.kube/config")
    return [default] if os.path.exists(default) else []


def _named(entries, name, what, source):
    for entry in entries or []:
        if entry.get("name") == name:
            return entry.get(what) or {}
    raise OtelK8sError(f"kubeconfig {source}: no {what} named '{name}'; check 'context' and the file")


def _static_kubeconfig(config: dict, context: str | None, source: str, base_dir: str) -> Connection | None:
    """A Connection for a kubeconfig with static credentials, or None to delegate."""
    context_name = context or config.get("current-context")
    if not context_name:
        raise OtelK8sError(f"kubeconfig {source} has no current-context; set the 'context' option")
    ctx = _named(config.get("contexts"), context_name, "context", source)
    cluster = _named(config.get("clusters"), ctx.get("cluster"), "cluster", source)
    user = _named(config.get("users"), ctx.get("user"), "user", source) if ctx.get("user") else {}
    if set(user) & {"exec", "auth-provider"}:
        return None

    def path(value):
        return value if os.path.isabs(value) else os.path.join(base_dir, value)

    conn = Connection(
        server=(cluster.get("server") or "").rstrip("/"),
        verify=not cluster.get("insecure-skip-tls-verify", False),
        tls_server_name=cluster.get("tls-server-name"),
        default_namespace=ctx.get("namespace") or "default",
        proxy=cluster.get("proxy-url"),
        username=user.get("username"),
        password=user.get("password"),
        # kubectl's impersonation fields of a kubeconfig user (--as, --as-group)
        impersonate_user=user.get("as"),
        impersonate_groups=list(user.get("as-groups") or []),
        origin=f"kubeconfig {source} (user {ctx.get('user')})",
    )
    if cluster.get("certificate-authority-data"):
        conn.ca_data = _b64(cluster["certificate-authority-data"]).decode()
    elif cluster.get("certificate-authority"):
        conn.ca_file = path(cluster["certificate-authority"])
    if user.get("client-certificate-data"):
        conn.client_cert_data = _b64(user["client-certificate-data"])
    elif user.get("client-certificate"):
        conn.client_cert = path(user["client-certificate"])
    if user.get("client-key-data"):
        conn.client_key_data = _b64(user["client-key-data"])
    elif user.get("client-key"):
        conn.client_key = path(user["client-key"])
    if user.get("token"):
        conn.token = user["token"]
    elif user.get("tokenFile"):
        try:
            with open(path(user["tokenFile"])) as handle:
                conn.token = handle.read().strip()
        except OSError as error:
            raise OtelK8sError(
                f"kubeconfig {source}: cannot read the tokenFile of user {ctx.get('user')} ({error}); fix the file"
            ) from None
    return conn


def _from_kubernetes_client(kubeconfig, context, in_cluster: bool, persist_config: bool = False) -> Connection:
    """Delegate to the kubernetes client's loaders for plugins, merges and in-cluster."""
    try:
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config
        from kubernetes.config import kube_config
    except ImportError as error:
        raise OtelK8sError(
            "this kubeconfig needs the 'kubernetes' Python package (exec/auth-provider plugins, "
            f"several KUBECONFIG files or in-cluster credentials): pip install kubernetes ({error})"
        ) from None
    configuration = k8s_client.Configuration()
    # The loader writes a kubeconfig's *-data to files it removes only at exit (atexit, which a
    # module's process may skip). It writes them into a directory of ours, read back into memory
    # and removed below; a file another user in this process (a lookup) had cached is left alone.
    directory = tempfile.mkdtemp(prefix="otel-k8s-")
    try:
        if in_cluster:
            k8s_config.load_incluster_config(client_configuration=configuration)
        elif isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(
                kubeconfig,
                context=context,
                client_configuration=configuration,
                persist_config=False,
                temp_file_path=directory,
            )
        else:
            # persist_config: the loader writes refreshed auth-provider tokens (oidc, gcp) back to the file.
            # KUBECONFIG read now: the loader reads it when it is imported, which may be earlier.
            k8s_config.load_kube_config(
                config_file=kubeconfig or os.environ.get("KUBECONFIG") or None,
                context=context,
                client_configuration=configuration,
                persist_config=persist_config,
                temp_file_path=directory,
            )
        ca_data, cert_data, key_data = (
            _read_bytes(path) if path and os.path.dirname(path) == directory else None
            for path in (configuration.ssl_ca_cert, configuration.cert_file, configuration.key_file)
        )
    except (k8s_config.ConfigException, OSError, ValueError) as error:
        raise OtelK8sError(f"could not load Kubernetes credentials: {error}") from None
    finally:
        cached = getattr(kube_config, "_temp_files", None) or {}
        for content, path in list(cached.items()):
            if os.path.dirname(path) == directory:
                cached.pop(content, None)
        shutil.rmtree(directory, ignore_errors=True)
    source = kubeconfig if isinstance(kubeconfig, str) else "(inline)" if kubeconfig else "KUBECONFIG"
    token = (configuration.api_key or {}).get("authorization") or (configuration.api_key or {}).get("BearerToken")
    username = password = None
    if token and token.lower().startswith("bearer "):
        token = token[7:]
    elif token and token.lower().startswith("basic "):  # a kubeconfig user's username/password
        username, _sep, password = base64.b64decode(token[6:]).decode().partition(":")
        token = None
    return Connection(
        server=configuration.host.rstrip("/"),
        ca_file=None if ca_data else configuration.ssl_ca_cert,
        ca_data=ca_data.decode() if ca_data else None,
        client_cert=None if cert_data else configuration.cert_file,
        client_key=None if key_data else configuration.key_file,
        client_cert_data=cert_data,
        client_key_data=key_data,
        token=token,
        username=username,
        password=password,
        verify=configuration.verify_ssl,
        tls_server_name=getattr(configuration, "tls_server_name", None),
        proxy=getattr(configuration, "proxy", None),
        origin="in-cluster service account" if in_cluster else f"kubeconfig {source}",
    )


def resolve_connection(options: dict) -> Connection:
    """Module options (with K8S_AUTH_* fallbacks already applied) -> Connection."""
    kubeconfig = options.get("kubeconfig")
    persist_config = bool(options.get("persist_config"))
    if persist_config and isinstance(kubeconfig, dict):
        raise OtelK8sError(
            "persist_config writes refreshed tokens back to the kubeconfig file, but 'kubeconfig' is given as a "
            "dictionary (no file to write): give the kubeconfig's path, or drop persist_config"
        )
    basic_auth = options.get("username") is not None and options.get("password") is not None
    conn = _configured(options, basic_auth)
    _apply_explicit(conn, options, basic_auth)
    _check_connection(conn)
    return conn


def _configured(options: dict, basic_auth: bool) -> Connection:
    """The connection the host and credentials options give, or the kubeconfig (or the pod's own)."""
    host = options.get("host")
    kubeconfig = options.get("kubeconfig")
    persist_config = bool(options.get("persist_config"))
    if host and (options.get("api_key") or options.get("client_cert") or basic_auth):
        conn = Connection(server=host.rstrip("/"), origin="client_cert" if options.get("client_cert") else "api_key")
    else:
        context = options.get("context")
        paths = [] if isinstance(kubeconfig, dict) else _kubeconfig_paths(kubeconfig)
        if isinstance(kubeconfig, dict):
            conn = _static_kubeconfig(kubeconfig, context, "(inline)", os.getcwd()) or _from_kubernetes_client(
                kubeconfig, context, False
            )
        elif len(paths) == 1:
            if not os.path.exists(paths[0]):
                raise OtelK8sError(f"kubeconfig {paths[0]} does not exist; fix 'kubeconfig' or KUBECONFIG")
            with open(paths[0]) as handle:
                text = handle.read()
            try:
                data = yaml.safe_load(text) or {}
            except yaml.YAMLError as error:
                raise OtelK8sError(f"kubeconfig {paths[0]} is not valid YAML: {yaml_problem(error, text)}") from None
            conn = _static_kubeconfig(data, context, paths[0], os.path.dirname(paths[0])) or _from_kubernetes_client(
                paths[0], context, False, persist_config
            )
        elif paths:
            conn = _from_kubernetes_client(None, context, False, persist_config)
        elif os.environ.get("KUBERNETES_SERVICE_HOST") and os.path.exists(IN_CLUSTER_TOKEN):
            conn = _from_kubernetes_client(None, None, True)
        else:
            raise OtelK8sError(
                "no Kubernetes credentials found: set 'kubeconfig' (or K8S_AUTH_KUBECONFIG / KUBECONFIG), "
                "or 'host' with 'api_key', 'client_cert'/'client_key' or 'username'/'password', "
                "or run inside a cluster"
            )
        if host:
            conn.server = host.rstrip("/")
    return conn


def _apply_explicit(conn: Connection, options: dict, basic_auth: bool) -> None:
    # Explicit options win over what the kubeconfig said.
    if options.get("api_key") and (options.get("username") is not None or options.get("password") is not None):
        raise OtelK8sError(
            "'api_key' and 'username'/'password' are two ways to authenticate; give one of them "
            "(K8S_AUTH_API_KEY, K8S_AUTH_USERNAME and K8S_AUTH_PASSWORD set them too)"
        )
    if (options.get("username") is None) != (options.get("password") is None):
        raise OtelK8sError("'username' and 'password' go together (basic auth); give both or neither")
    if options.get("api_key"):
        conn.token, conn.username, conn.password = options["api_key"], None, None
        conn.origin = "api_key"
    if basic_auth:
        conn.username, conn.password, conn.token = options["username"], options["password"], None
        conn.origin = "username"
    if options.get("ca_cert"):
        conn.ca_file, conn.ca_data = options["ca_cert"], None
    if options.get("client_cert"):
        conn.client_cert, conn.client_cert_data = options["client_cert"], None
        conn.origin = "client_cert"
    if options.get("client_key"):
        conn.client_key, conn.client_key_data = options["client_key"], None
    if options.get("validate_certs") is not None:
        conn.verify = options["validate_certs"]
    if options.get("proxy"):
        conn.proxy = options["proxy"]
    if options.get("no_proxy"):
        conn.no_proxy = options["no_proxy"]
    conn.proxy_headers = proxy_headers_option(options.get("proxy_headers"))
    if options.get("impersonate_user"):
        conn.impersonate_user = options["impersonate_user"]
    if options.get("impersonate_groups"):
        conn.impersonate_groups = [g for g in options["impersonate_groups"] if g]


def _check_connection(conn: Connection) -> None:
    if not conn.server:
        raise OtelK8sError("the API server address is empty; set 'host' or fix the kubeconfig's cluster.server")
    if bool(conn.client_cert or conn.client_cert_data) != bool(conn.client_key or conn.client_key_data):
        raise OtelK8sError("'client_cert' and 'client_key' go together; give both or neither")
    if conn.impersonate_groups and not conn.impersonate_user:
        raise OtelK8sError(
            f"impersonate_groups {conn.impersonate_groups} without impersonate_user: Kubernetes impersonates "
            "groups only together with a user; set impersonate_user (or K8S_AUTH_IMPERSONATE_USER) too"
        )
    if conn.proxy:
        scheme = urlsplit(conn.proxy).scheme.lower()
        if scheme not in PROXY_SCHEMES or not urlsplit(conn.proxy).hostname:
            raise OtelK8sError(
                f"proxy {without_credentials(conn.proxy)} is not an http:// or https:// proxy URL; set 'proxy' "
                "(K8S_AUTH_PROXY, or the kubeconfig's proxy-url) to the URL of an HTTP proxy such as "
                "http://proxy.example:3128 (SOCKS proxies are not supported)"
            )


def proxy_headers_option(value) -> dict:
    """The proxy_headers option, or its K8S_AUTH_PROXY_HEADERS_* variables when it is not given
    (as kubernetes.core reads them: only when the option is absent)."""
    if value is None:
        value = {key: os.environ[name] for key, name in PROXY_HEADERS_ENV.items() if os.environ.get(name) is not None}
    return {key: item for key, item in (value or {}).items() if item is not None}


def without_credentials(url: str) -> str:
    """A URL for a message: user and password of a proxy URL never shown."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def bypasses_proxy(server: str, no_proxy: str | None) -> bool:
    """Whether no_proxy (comma-separated hosts, domains, IPs, CIDRs, host:port, or *) names the API server."""
    parts = urlsplit(server)
    host = (parts.hostname or "").lower()
    host_port = parts.netloc.rpartition("@")[2].lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in (no_proxy or "").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        domain = entry.lstrip(".")
        if host == domain or host.endswith("." + domain) or host_port == domain:
            return True
    return False


def _tls_connection_dropped(error) -> bool:
    """Did the TLS connection close under us (a restarting API server or proxy), rather than fail
    on a certificate or key? The first is retried, the second is reported at once."""
    reason = error.args[0] if error.args else error
    if isinstance(reason, ssl.SSLCertVerificationError):
        return False
    return isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError, ConnectionError)) or (
        "EOF occurred" in str(reason) or "UNEXPECTED_EOF" in str(reason)
    )


def _http_date(headers) -> float | None:
    value = headers.get("Date") if headers else None
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return parsed.timestamp() if parsed else None


@dataclass
class Response:
    status: int
    data: dict
    server_time: float | None  # the API server's clock (HTTP Date header), seconds


class KubeClient:
    """JSON over HTTPS to one API server; transient failures retried until a deadline."""

    def __init__(self, conn: Connection, retry_timeout: float = 60.0, request_timeout: float = 30.0):
        if not HAS_URLLIB3:
            raise OtelK8sError(
                f"the 'urllib3' Python package is required: pip install kubernetes ({URLLIB3_IMPORT_ERROR})"
            )
        self.conn = conn
        self.retry_timeout = retry_timeout
        self.requests = 0  # counted for the benchmark and for tests of the request budget
        # The apply engine's marker (engine.Marker), taken before this client's first write: every
        # engine run of one task shares it, so a task costs one marker LIST however many runs it makes.
        self.apply_marker = None
        self._headers = request_headers(conn)
        pool_args = {"timeout": urllib3.Timeout(connect=10.0, read=request_timeout), "retries": False, "maxsize": 4}
        if conn.server.startswith("https://"):
            pool_args["ssl_context"] = self._ssl_context()
            if conn.tls_server_name:
                pool_args["server_hostname"] = conn.tls_server_name
            if not conn.verify:
                pool_args["cert_reqs"] = "CERT_NONE"
                pool_args["assert_hostname"] = False
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        # An https API server is reached through the proxy's CONNECT tunnel, an http one by plain
        # forwarding (urllib3's ProxyManager does both); like kubernetes.core, HTTPS_PROXY is not read.
        self.proxy = conn.proxy if conn.proxy and not bypasses_proxy(conn.server, conn.no_proxy) else None
        if self.proxy:
            self._pool = _ProxyManager(self.proxy, proxy_headers=proxy_request_headers(conn), **pool_args)
        else:
            self._pool = urllib3.PoolManager(**pool_args)

    def impersonated(self) -> str:
        names = [f"user {self.conn.impersonate_user!r}"] if self.conn.impersonate_user else []
        names += [f"group {group!r}" for group in self.conn.impersonate_groups]
        return " and ".join(names) or "anyone"

    def _refused_by_proxy(self, error) -> None:
        """A proxy's refusal that no retry changes: authentication required (407), or forbidden (403)."""
        # http.client's words for a CONNECT the proxy refused (the error's text also holds the proxy's port)
        refused = re.search(r"Tunnel connection failed: (\d{3})", str(error))
        status = refused.group(1) if refused else None
        proxy = without_credentials(self.proxy or "")
        if status == "407":
            raise OtelK8sError(
                f"the proxy {proxy} requires authentication (407 Proxy Authentication Required) to reach "
                f"{self.conn.server}: set proxy_headers.proxy_basic_auth (user:password, or "
                "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH)"
            ) from None
        if status == "403":
            raise OtelK8sError(
                f"the proxy {proxy} refused to connect to {self.conn.server} (403 Forbidden): allow the API "
                "server's address in the proxy, or name it in 'no_proxy' (K8S_AUTH_NO_PROXY) to reach it directly"
            ) from None

    def _ssl_context(self) -> ssl.SSLContext:
        conn = self.conn
        check_files(conn)
        context = ssl.create_default_context()
        if not conn.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif conn.ca_file or conn.ca_data:
            try:
                context.load_verify_locations(cafile=conn.ca_file, cadata=conn.ca_data)
            except (OSError, ssl.SSLError) as error:
                where = f"ca_cert {conn.ca_file}" if conn.ca_file else "the kubeconfig's certificate-authority-data"
                raise OtelK8sError(
                    f"cannot load {where} ({error}); give the PEM CA certificate of the API server"
                ) from None
        if conn.client_cert or conn.client_cert_data:
            try:
                conn.load_client_certificate(context)
            except (OSError, ssl.SSLError) as error:
                where = conn.client_cert or f"client-certificate-data of {conn.origin or 'the kubeconfig'}"
                raise OtelK8sError(
                    f"cannot load the client certificate/key ({where}): {error}; "
                    "fix 'client_cert' and 'client_key' to name a PEM certificate and its key"
                ) from None
        return context

    def request(
        self,
        method: str,
        path: str,
        query: dict | None = None,
        body=None,
        content_type: str = "application/json",
        deadline: float | None = None,
    ) -> Response:
        url = self.conn.server + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers = self._headers.copy()
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        deadline = deadline or (time.monotonic() + self.retry_timeout)
        delay = 0.25
        while True:
            self.requests += 1
            problem = None
            try:
                answer = self._pool.request(method, url, body=payload, headers=headers, preload_content=True)
            except urllib3.exceptions.SSLError as error:
                if not _tls_connection_dropped(error):  # certificates and keys: retrying cannot help
                    raise OtelK8sError(f"TLS error talking to {self.conn.server}: {error}") from None
                problem = f"{type(error).__name__}: {error}"
                answer = None
            except urllib3.exceptions.ProxyError as error:
                self._refused_by_proxy(error)
                problem = f"{type(error).__name__}: {error}"
                answer = None
            except urllib3.exceptions.HTTPError as error:  # refused, reset, timed out
                problem = f"{type(error).__name__}: {error}"
                answer = None
            if answer is not None and answer.status not in TRANSIENT_STATUS:
                break
            if answer is not None:
                problem = f"HTTP {answer.status}"
                retry_after = answer.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            if time.monotonic() + delay > deadline:
                if answer is None:
                    through = (
                        f" through the proxy {without_credentials(self.proxy)} (check 'proxy' / K8S_AUTH_PROXY "
                        "or the kubeconfig's proxy-url, and 'no_proxy')"
                        if self.proxy
                        else ""
                    )
                    raise OtelK8sError(
                        f"cannot reach the Kubernetes API server {self.conn.server}{through} "
                        f"(still failing after {self.retry_timeout:.0f}s of retries: {problem}); "
                        "check 'host' (or the kubeconfig's cluster server and 'context') and that the API server "
                        "is running, or raise 'retry_timeout' to wait longer"
                    )
                break
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        try:
            data = json.loads(answer.data) if answer.data else {}
        except ValueError:
            data = {"message": answer.data.decode(errors="replace")[:500]}
        if answer.status == 401:  # the server's message says nothing about which credentials
            raise ApiError(401, data.get("reason", "Unauthorized"), self.conn.describe_credentials(), data)
        if answer.status == 403 and "cannot impersonate" in str(data.get("message")):
            # Every request of this connection would fail the same way: not a permission of the object.
            raise OtelK8sError(
                f"{data.get('message')} (403 Forbidden): the identity of {self.conn.origin or 'the kubeconfig'} "
                f"may not impersonate {self.impersonated()}. Grant it the verb 'impersonate' on these users/groups (a "
                "ClusterRole with resources users and groups, bound to it), or drop impersonate_user/"
                "impersonate_groups (K8S_AUTH_IMPERSONATE_USER/_GROUPS, the kubeconfig's as/as-groups)"
            )
        if answer.status >= 400:
            raise ApiError(answer.status, data.get("reason", ""), data.get("message") or f"HTTP {answer.status}", data)
        return Response(answer.status, data, _http_date(answer.headers))


def request_headers(conn: Connection):
    """Headers of every request: JSON, credentials, impersonation. Kubernetes reads each
    Impersonate-Group as one group, so several groups are several headers (an HTTPHeaderDict)."""
    headers = HTTPHeaderDict({"Accept": "application/json", "User-Agent": "otel.kubernetes"})
    if conn.token:
        headers["Authorization"] = f"Bearer {conn.token}"
    elif conn.username is not None:
        headers.update(urllib3.util.make_headers(basic_auth=f"{conn.username}:{conn.password or ''}"))
    if conn.impersonate_user:
        headers["Impersonate-User"] = conn.impersonate_user
    for group in conn.impersonate_groups:
        headers.add("Impersonate-Group", group)
    return headers


def proxy_request_headers(conn: Connection) -> dict:
    """Headers for the proxy (the CONNECT request, or each forwarded request): kubernetes.core's
    proxy_headers, as urllib3.util.make_headers makes them; credentials in the proxy URL become
    Proxy-Authorization when proxy_basic_auth is not given."""
    options = dict(conn.proxy_headers)
    parts = urlsplit(conn.proxy)
    if not options.get("proxy_basic_auth") and parts.username is not None:
        options["proxy_basic_auth"] = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return urllib3.util.make_headers(**options)


def resource_path(
    api_version: str, plural: str, namespace: str | None = None, name: str | None = None, subresource: str | None = None
) -> str:
    """The REST path of a collection or object."""
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = prefix + (f"/namespaces/{quote(namespace, safe='')}" if namespace else "") + f"/{plural}"
    if name:
        path += f"/{quote(name, safe='')}"
    if subresource:
        path += f"/{subresource}"
    return path
