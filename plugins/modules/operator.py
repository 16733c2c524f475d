#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: operator
short_description: Install, upgrade or remove the OpenTelemetry Operator from its release manifest
version_added: 0.1.0
description:
  - Reads the operator's release manifest (C(opentelemetry-operator.yaml)) from a local file
    (O(manifest_src)) or downloads it once from O(manifest_url) into O(cache_dir), checks that it is the
    operator's, and applies it with the collection's engine (M(otel.kubernetes.apply)) in one task.
  - The manifest must define the Namespace O(namespace), the Deployment O(deployment) there mounting the
    Secret O(webhook_cert_secret), and webhooks that call only the Service O(webhook_service). Anything else
    fails before anything is applied, naming what was found.
  - With O(pod_security=restricted) the controller Pod gets what that Pod Security level requires and the
    release leaves out - C(runAsNonRoot), the C(RuntimeDefault) seccomp profile, no privilege escalation, all
    capabilities dropped (the manifest's own values win). O(manager_image) replaces the manager's image.
  - The admission webhook certificate comes from cert-manager when the cluster serves C(cert-manager.io/v1)
    Issuer and Certificate (one fresh discovery read). Without cert-manager the manifest's cert-manager objects
    and C(cert-manager.io/inject-ca-from) annotations are left out (and removed from the cluster), a CA and the
    webhook's serving certificate are made as M(otel.kubernetes.certs) makes them (kept while valid, renewed
    within O(cert_renew_before_days) of expiry, a due CA rotated in three runs), and the CA goes into the
    caBundle of every admission and CRD conversion webhook. With cert-manager the role's own CA Secret is removed.
  - Every admission webhook rule without a C(scope) gets the API server's default C(*), so that a re-run
    changes nothing.
  - With O(wait=true) the task waits until the controller Deployment is Available; when it is not within
    O(wait_timeout), the failure names the Deployment, the option and the usual causes.
  - O(state=absent) removes the operator's custom resources in all namespaces first (and waits until they are
    gone), then the webhook certificate Secrets, then every object of the manifest in reverse order.
  - With O(render_only=true) the manifest is returned as published (with the restricted securityContext where
    asked), cert-manager objects included, and no cluster is contacted.
  - The options are the variables of the C(otel.kubernetes.otel_operator) role without their
    C(otel_operator_) prefix.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  version:
    description: The operator version the manifest is, without the leading V(v); it names the cached download.
    type: str
    required: true
  manifest_url:
    description:
      - URL of the release manifest, downloaded once into O(cache_dir) (also in check mode - the cache is not
        the cluster). Ignored when O(manifest_src) is set.
    type: str
  manifest_src:
    description: Path of a local release manifest file, for clusters without internet access.
    type: path
  manifest_checksum:
    description:
      - Checksum of the downloaded manifest, as C(<algorithm>:<hex digest>), for example C(sha256:<hex>).
        A cached file that does not match is downloaded again; a download that does not match fails.
    type: str
  cache_dir:
    description: Directory of the downloaded manifests, one file per version and URL.
    type: path
    default: ~/.cache/otel-kubernetes/operator
  namespace:
    description: The namespace the release manifest installs into (the manifest's own; it is not rewritten).
    type: str
    default: opentelemetry-operator-system
  deployment:
    description: The manifest's controller Deployment, the one waited for.
    type: str
    default: opentelemetry-operator-controller-manager
  webhook_service:
    description:
      - The manifest's webhook Service. The serving certificate made without cert-manager has the DNS names
        C(<service>), C(<service>.<namespace>), C(<service>.<namespace>.svc) and
        C(<service>.<namespace>.svc.<cluster domain>).
    type: str
    default: opentelemetry-operator-webhook-service
  webhook_cert_secret:
    description: The C(kubernetes.io/tls) Secret the controller Deployment mounts for its webhook server.
    type: str
    default: opentelemetry-operator-controller-manager-service-cert
  cert_backend:
    description:
      - V(auto) uses cert-manager when it is served, else V(self_signed). V(cert_manager) fails when
        cert-manager is not served, before anything is applied.
    type: str
    choices: [auto, cert_manager, self_signed]
    default: auto
  cert_validity_days:
    description: Validity of a new webhook serving certificate, in days (without cert-manager).
    type: int
    default: 365
  ca_validity_days:
    description: Validity of a new webhook CA, in days (without cert-manager).
    type: int
    default: 3650
  cert_renew_before_days:
    description:
      - Renew the CA or the certificate when it expires within this many days (without cert-manager).
      - Must be less than both validity options.
    type: int
    default: 30
  cluster_domain:
    description: The cluster's DNS domain, for the fully qualified name in the serving certificate.
    type: str
    default: cluster.local
  pod_security:
    description: Pod Security Standards level of the operator's namespace (labels C(enforce), C(audit), C(warn)).
    type: str
    choices: [privileged, baseline, restricted]
    default: restricted
  manager_image:
    description:
      - Image of the controller Deployment's manager container (the container named C(manager), or the Pod's only
        container) instead of the release's, for example the same image in a registry mirror. Nothing else of the
        manifest changes. Empty - the release's image.
      - Applied and rendered alike. A manifest whose Deployment has several containers and none named C(manager)
        is refused before anything is applied.
    type: str
    default: ""
  variable_prefix:
    description:
      - Put before the option names that messages name. The C(otel_operator) role passes V(otel_operator_),
        so that its users read the names of their variables.
    type: str
    default: ""
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
notes:
  - The manifest is read and downloaded on the host that runs the module (usually localhost).
  - Needs the C(cryptography) Python package unless cert-manager makes the webhook certificate.
"""

EXAMPLES = r"""
- name: Install the pinned operator release from a local copy, and wait for it
  otel.kubernetes.operator:
    version: "0.158.0"
    manifest_src: /srv/manifests/opentelemetry-operator.yaml
    wait: true
    wait_timeout: 300

- name: Download the release once (checksum checked), webhook certificate without cert-manager
  otel.kubernetes.operator:
    version: "0.158.0"
    manifest_url: https://example.com/opentelemetry-operator/v0.158.0/opentelemetry-operator.yaml
    manifest_checksum: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    cert_backend: self_signed

- name: Remove it, custom resources first
  otel.kubernetes.operator:
    version: "0.158.0"
    manifest_src: /srv/manifests/opentelemetry-operator.yaml
    state: absent
    wait: true
"""

RETURN = r"""
backend:
  description: Who makes the webhook certificate, V(auto) resolved (V(cert_manager) or V(self_signed)).
  returned: when O(state=present) and not O(render_only)
  type: str
  sample: self_signed
manifest:
  description: Where the manifest came from.
  returned: always
  type: dict
  contains:
    src:
      description: O(manifest_src), when given.
      type: str
    url:
      description: O(manifest_url), when the manifest was downloaded or taken from the cache.
      type: str
    dest:
      description: The cached file.
      type: str
    changed:
      description: Whether it was downloaded by this task.
      type: bool
results:
  description:
    - Per object of the manifest, what was done, as M(otel.kubernetes.apply) returns it (with
      O(state=absent), the deletions in reverse order).
  returned: always
  type: list
  elements: dict
waited:
  description:
    - What the wait waited for (the CRDs Established, the controller Deployment ready), as
      M(otel.kubernetes.apply) returns it.
  returned: when the task waited
  type: list
  elements: dict
objects:
  description: With O(render_only=true), the manifest's objects in apply order, as they would be applied.
  returned: with O(render_only=true)
  type: list
  elements: dict
namespace_applied:
  description: Without cert-manager, the operator's Namespace, applied first (the certificate Secrets live there).
  returned: when the webhook certificate is made without cert-manager
  type: dict
cert_manager_objects_removed:
  description:
    - Without cert-manager, the manifest's Issuer and Certificate, removed (they would overwrite the webhook
      Secret).
  returned: when the webhook certificate is made without cert-manager
  type: dict
webhook_certificate:
  description:
    - Without cert-manager, what M(otel.kubernetes.certs) returns for the webhook CA (RV(webhook_certificate.ca), with
      C(ca_bundle)) and the serving certificate (RV(webhook_certificate.certificates)). Private keys are never returned.
    - In check mode while the operator's namespace does not exist yet, V(skipped=true) and the reason.
  returned: when the webhook certificate is made without cert-manager
  type: dict
  contains:
    ca:
      description: The webhook CA, as M(otel.kubernetes.certs) returns its RV(otel.kubernetes.certs#module:ca).
      type: dict
    certificates:
      description: The serving certificate, as M(otel.kubernetes.certs) returns its certificates.
      type: list
      elements: dict
    results:
      description: What was done to the Secrets, per Secret.
      type: list
      elements: dict
    skipped:
      description: True when the certificate was not made (check mode, namespace not there yet).
      type: bool
    reason:
      description: Why it was skipped.
      type: str
webhook_ca_removed:
  description: With cert-manager, the removal of the CA Secret made when cert-manager was absent.
  returned: when cert-manager makes the webhook certificate
  type: dict
custom_resources_removed:
  description: With O(state=absent), the removal of the custom resources of the manifest's CRDs in all namespaces.
  returned: when O(state=absent)
  type: dict
webhook_certificate_removed:
  description: With O(state=absent), the removal of the webhook certificate Secrets.
  returned: when O(state=absent)
  type: dict
status:
  description: What the otel_operator role publishes as C(otel_operator_status).
  returned: when O(state=present)
  type: dict
  sample:
    version: "0.158.0"
    namespace: opentelemetry-operator-system
    deployment: opentelemetry-operator-controller-manager
    backend: self_signed
    not_after:
      opentelemetry-operator-ca: "2036-01-01T00:00:00Z"
      opentelemetry-operator-controller-manager-service-cert: "2027-01-01T00:00:00Z"
api_requests:
  description: HTTP requests made to the API server by this task, discovery included (0 with O(render_only=true)).
  returned: always
  type: int
  sample: 30
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.otel.kubernetes.plugins.module_utils import certs, operator_manifest
from ansible_collections.otel.kubernetes.plugins.module_utils.ansible_module import connect, fail, module_with
from ansible_collections.otel.kubernetes.plugins.module_utils.errors import OtelK8sError

ARGUMENT_SPEC = {
    "version": {"type": "str", "required": True},
    "manifest_url": {"type": "str"},
    "manifest_src": {"type": "path"},
    "manifest_checksum": {"type": "str"},
    "cache_dir": {"type": "path", "default": "~/.cache/otel-kubernetes/operator"},
    "namespace": {"type": "str", "default": "opentelemetry-operator-system"},
    "deployment": {"type": "str", "default": "opentelemetry-operator-controller-manager"},
    "webhook_service": {"type": "str", "default": "opentelemetry-operator-webhook-service"},
    # The name of a Secret, not a secret.
    "webhook_cert_secret": {
        "type": "str",
        "default": "opentelemetry-operator-controller-manager-service-cert",
        "no_log": False,
    },
    "cert_backend": {"type": "str", "default": "auto", "choices": list(operator_manifest.CERT_BACKENDS)},
    "cert_validity_days": {"type": "int", "default": 365},
    "ca_validity_days": {"type": "int", "default": 3650},
    "cert_renew_before_days": {"type": "int", "default": 30},
    "cluster_domain": {"type": "str", "default": "cluster.local"},
    "pod_security": {"type": "str", "default": "restricted", "choices": ["privileged", "baseline", "restricted"]},
    "manager_image": {"type": "str", "default": ""},
    "variable_prefix": {"type": "str", "default": ""},
}


def main():
    module = module_with(ARGUMENT_SPEC)
    if not (module.params["render_only"] or certs.HAS_CRYPTOGRAPHY):
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        result = operator_manifest.execute(
            module.params, module.check_mode, module._diff, lambda: connect(module), module.no_log_values.update
        )
    except OtelK8sError as error:
        fail(module, error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
