# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to the API server."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig as a dictionary.
      - When not given, read from E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG) (several paths are merged),
        then C(~/.kube/config), then the in-cluster service account.
    type: raw
  context:
    description:
      - The kubeconfig context to use instead of its current-context.
      - Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server. With O(api_key) or O(client_cert), no kubeconfig is read.
      - Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server. Never shown in output.
      - Can also be set with E(K8S_AUTH_API_KEY).
    type: str
  validate_certs:
    description:
      - Verify the API server's certificate. Defaults to the kubeconfig's setting (verify).
      - Can also be set with E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - CA certificate file that signs the API server's certificate.
      - Can also be set with E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate file for TLS client authentication; goes with O(client_key).
      - Can also be set with E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Private key file of O(client_cert).
      - Can also be set with E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  username:
    description:
      - User name for HTTP basic authentication to the API server; goes with O(password).
      - Can also be set with E(K8S_AUTH_USERNAME). A kubeconfig user's C(username) is used the same way.
      - Kubernetes 1.19 and newer API servers do not accept basic authentication (it was removed from
        kube-apiserver); the option is sent as kubernetes.core documents it, for API servers or authenticating
        proxies in front of them that still accept it. When the API server refuses it (401), the task fails
        saying so and naming the ways that work (O(api_key), O(client_cert), a kubeconfig).
    type: str
  password:
    description:
      - Password for HTTP basic authentication; goes with O(username). Never shown in output.
      - Can also be set with E(K8S_AUTH_PASSWORD).
    type: str
  proxy:
    description:
      - URL of an HTTP proxy (C(http://) or C(https://)) through which the API server is reached. An
        C(https://) API server is reached through the proxy's C(CONNECT) tunnel (TLS stays end to end), an
        C(http://) one by plain forwarding. SOCKS proxies are not supported.
      - Can also be set with E(K8S_AUTH_PROXY). Without it, the kubeconfig cluster's C(proxy-url) is used.
      - Like kubernetes.core, the usual E(HTTPS_PROXY)/E(HTTP_PROXY) variables are not read.
      - Put the proxy's credentials in O(proxy_headers.proxy_basic_auth) (never shown in output) rather than in
        the URL (a URL's C(user:password@) is sent the same way, but the option's value is not masked).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains (C(.example.com) or C(example.com) for its subdomains too), IP
        addresses, CIDR ranges or C(*) that are reached directly, not through O(proxy).
      - Can also be set with E(K8S_AUTH_NO_PROXY). The usual E(NO_PROXY) variable is not read.
    type: str
  proxy_headers:
    description:
      - Headers sent to the proxy of O(proxy) (on its C(CONNECT) request, or on each request it forwards).
      - When the option is not given, each suboption is read from its E(K8S_AUTH_PROXY_HEADERS_*) variable.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication (the C(Proxy-Authorization) header). Never
            shown in output.
          - Can also be set with E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH).
        type: str
      basic_auth:
        description:
          - C(user:password) sent to the proxy in an C(Authorization) header (as kubernetes.core does). Never
            shown in output.
          - Can also be set with E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH).
        type: str
      user_agent:
        description:
          - The C(User-Agent) sent to the proxy, such as C(foo/1.0).
          - Can also be set with E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
        type: str
  persist_config:
    description:
      - Write refreshed tokens of a kubeconfig auth-provider (oidc, gcp) back to the kubeconfig file, so that an
        expired refresh token does not end the next run's authentication. Default V(false), as in kubernetes.core.
      - Only kubeconfigs with an auth-provider have tokens to refresh; static credentials, exec plugins and
        in-cluster credentials are never written. Refused with O(kubeconfig) given as a dictionary (no file).
      - Can also be set with E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description:
      - User to act as for every request (the C(Impersonate-User) header). The identity of the credentials
        needs the verb C(impersonate) on this user; without it the task fails naming both and the fix.
      - Can also be set with E(K8S_AUTH_IMPERSONATE_USER). Without it, the kubeconfig user's C(as) is used.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (one C(Impersonate-Group) header each); needs O(impersonate_user).
      - "Can also be set with E(K8S_AUTH_IMPERSONATE_GROUPS), comma-separated: C(group1,group2). Without it,
        the kubeconfig user's C(as-groups) are used."
    type: list
    elements: str
  retry_timeout:
    description:
      - Seconds during which transient failures (connection refused or reset, HTTP 429, 500, 502, 503, 504)
        are retried with backoff. Other errors fail at once.
    type: int
    default: 60
requirements:
  - python >= 3.9
  - urllib3 (installed with the C(kubernetes) package)
  - kubernetes (only for kubeconfigs with exec or auth-provider plugins, several KUBECONFIG files,
    or in-cluster credentials)
notes:
  - The same option names, aliases, precedence and environment variables as M(kubernetes.core.k8s), so tasks
    and environments written for kubernetes.core work unchanged.
  - When the task's connection is local (no become, not async), the module runs in the controller's
    worker process instead of a new Python process (same code, arguments, messages and results; several
    times less time per task). It then uses the controller's Python (C(ansible_playbook_python)),
    whatever C(ansible_python_interpreter) says. Set the variable C(otel_in_process=false) or the
    environment variable E(OTEL_KUBERNETES_IN_PROCESS=false) to run it as a separate process.
"""
