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
  - The same option names and environment variables as M(kubernetes.core.k8s), so tasks and environments
    written for kubernetes.core work unchanged.
  - When the task's connection is local (no become, not async), the module runs in the controller's
    worker process instead of a new Python process (same code, arguments, messages and results; several
    times less time per task). It then uses the controller's Python (C(ansible_playbook_python)),
    whatever C(ansible_python_interpreter) says. Set the variable C(otel_in_process=false) or the
    environment variable E(OTEL_KUBERNETES_IN_PROCESS=false) to run it as a separate process.
"""
