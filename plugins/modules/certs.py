#!/usr/bin/python
# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certs
short_description: A CA and TLS certificates in Kubernetes Secrets, for collector mTLS and webhooks
version_added: 0.1.0
description:
  - Makes a certificate authority and leaf certificates (server, client, or both) and stores each as a
    C(kubernetes.io/tls) Secret with C(tls.crt), C(tls.key) and C(ca.crt). Made for agent-to-gateway mTLS
    between OpenTelemetry collectors, and for admission-webhook serving certificates.
  - The CA Secret also holds the CA's private key in C(tls.key), so that later runs can sign new
    certificates. Leaf Secrets hold only the CA certificate in C(ca.crt).
  - Idempotent. The stored Secrets are read first, and a valid certificate is kept and applied again
    unchanged. A leaf certificate is renewed when it is missing or unreadable, when it expires within
    O(renew_before_days), when its SANs, common name, usage or key type differ from the request, when
    its private key does not match it, or when the current CA did not sign it. A leaf that already
    expires with its CA is not renewed for its expiry, because only the CA's rotation can extend it.
  - A CA that cannot be used at all (missing, unreadable, expired, not a CA, key not matching) is
    replaced at once, and every leaf is issued again by the new one.
  - A usable CA that must change (it expires within O(renew_before_days), its common name or key type
    differs, or O(ca.generation) is raised) is rotated in three phases, one per run, so that neither
    side of an mTLS connection is refused while the Secrets change. Phase 1 makes a new CA, keeps it in
    the CA Secret (keys C(next-ca.crt) and C(next-ca.key)) and puts both CAs into every C(ca.crt), while
    the old CA still signs. Phase 2, on a run at least O(ca.rotation_phase_seconds) later, re-issues
    every leaf with the new CA, and every C(ca.crt) still holds both. Phase 3, on a run at least
    O(ca.rotation_phase_seconds) after phase 2, drops the old CA from every C(ca.crt). The phase and
    its start are recorded in annotations of the CA Secret. A run while a phase waits changes nothing.
  - For OpenTelemetry collectors, the server side must re-read its client CA file (C(client_ca_file_reload),
    set by the otel_gateway role). A client reads its C(ca_file) only when it starts (collector 0.159.0),
    so clients such as agents must be restarted between phase 1 and phase 2 to trust the new CA.
  - Private keys never appear in the task's output. They are masked like C(no_log) values, and Secret
    data in diffs is replaced by V(VALUE_REDACTED).
  - Changing O(ca.validity_days) or O(certificates[].validity_days) takes effect at the next renewal.
    It does not renew a certificate on its own.
  - With O(backend=cert_manager), no key is made here. The module applies a self-signed Issuer, a CA
    Certificate, a CA Issuer and one Certificate per leaf, and cert-manager writes the Secrets with the
    same layout.
  - With O(render_only=true), whatever O(backend) says, the module renders the cert-manager objects of
    O(backend=cert_manager) (a self-signed Issuer, the CA Certificate, a CA Issuer and one Certificate per
    leaf) and returns them in RV(objects). No private key is made, none is ever written into a rendered
    manifest, and no Secret is read. The cluster the objects are applied to needs cert-manager, which makes
    the keys and the Secrets there. A warning says so unless O(backend=cert_manager). O(namespace) is
    required, and every certificate must be in it.
author:
  - otel.kubernetes contributors (@otel-kubernetes)
options:
  preset:
    description:
      - V(pipeline) issues what role C(otel.kubernetes.otel_certificates) issues, from O(preset_settings) - the CA,
        the gateway's server certificate (every DNS name of the Services the operator makes for the gateway
        collector), the agents' and the cluster collector's client certificates - and first applies their
        namespace at its Pod Security
        level (unless its C(create_namespace) setting is false).
      - Every setting is checked before the cluster is contacted. In check mode, when the namespace does not
        exist yet, no certificate is sent (not even as a dry run), RV(msg) says what would be issued, and
        RV(status) lists no certificate.
      - With O(render_only=true), the namespace and the cert-manager objects are rendered, whatever the
        C(backend) setting says.
      - O(namespace), O(prefix), O(ca), O(certificates), O(key_type), O(renew_before_days), O(cluster_domain) and
        O(backend) are computed from the settings; giving one with a preset is an error.
    type: str
    choices: [pipeline]
    version_added: 0.1.0
  preset_settings:
    description:
      - The settings of O(preset) - the variables of role C(otel.kubernetes.otel_certificates) without their
        C(otel_certificates_) prefix (C(renew_before_days) for C(otel_certificates_renew_before_days)), with the
        role's defaults for those not given. See the role's README for each.
      - The role variables the task can see are taken as settings - a task with O(preset=pipeline) in a play that
        sets C(otel_certificates_key_type) (or inside the role) gets it, templated, as C(key_type). Settings given
        here win, one by one, over those variables; give them here when calling the module outside the role.
      - Errors name the role variable (C(otel_certificates_renew_before_days)), the value and the fix.
    type: dict
    default: {}
    version_added: 0.1.0
  namespace:
    description:
      - Namespace of the CA Secret, of the cert-manager objects, and of every certificate that names no
        namespace of its own.
      - Defaults to the kubeconfig context's namespace, else C(default). The namespace must exist.
    type: str
  prefix:
    description:
      - Prefix of the default names, which are V(<prefix>-ca) for the CA Secret and CA common name, and
        V(<prefix>-selfsigned) and V(<prefix>-ca-issuer) for the cert-manager Issuers.
    type: str
    default: otel
  ca:
    description:
      - The certificate authority that signs every certificate.
    type: dict
    default: {}
    suboptions:
      secret_name:
        description: Name of the CA Secret. Defaults to V(<prefix>-ca).
        type: str
      common_name:
        description:
          - Common name of the CA certificate. Defaults to V(<prefix>-ca).
          - Changing it renews the CA, and so every certificate.
        type: str
      validity_days:
        description: Validity of a new CA certificate, in days.
        type: int
        default: 3650
      generation:
        description:
          - The CA generation asked for, from 1. Raise it by one to rotate the CA in three phases (see the
            description). While it stays the same, nothing more happens.
          - The CA Secret records its generation in the annotation C(otel.kubernetes/ca-generation). A CA
            without it is generation 1. When unset, the recorded generation is kept.
          - Used with O(backend=self_signed) only; cert-manager renews its own CA.
        type: int
      rotation_phase_seconds:
        description:
          - The least time between two phases of a CA rotation. A run earlier than that keeps the
            current phase and changes nothing.
          - Give at least the kubelet's Secret refresh (about 60 seconds) plus the collectors'
            C(reload_interval), and the time to restart the clients after phase 1.
        type: int
        default: 3900
  certificates:
    description:
      - The leaf certificates, each signed by the CA and stored in its own Secret.
    type: list
    elements: dict
    default: []
    suboptions:
      secret_name:
        description: Name of the Secret. It is also the name of the cert-manager Certificate.
        type: str
        required: true
      namespace:
        description:
          - Namespace of this Secret, which defaults to O(namespace). For example, the agent's client
            certificate can live in the agent's namespace while the gateway's stays in its own.
          - Not supported with O(backend=cert_manager), because an Issuer signs only in its own namespace.
        type: str
      common_name:
        description: Common name of the certificate. Defaults to O(certificates[].secret_name).
        type: str
      usage:
        description:
          - V(server) adds the serverAuth extended key usage, V(client) adds clientAuth, and V(both) adds
            both.
          - A V(server) or V(both) certificate needs at least one SAN, from O(certificates[].dns_names),
            O(certificates[].services), O(certificates[].gateway) or O(certificates[].ip_addresses).
        type: str
        choices: [server, client, both]
        default: server
      dns_names:
        description: DNS subject alternative names. A leading V(*.) wildcard is allowed.
        type: list
        elements: str
        default: []
      ip_addresses:
        description: IP address subject alternative names.
        type: list
        elements: str
        default: []
      services:
        description:
          - Names of Services in this certificate's namespace. Each one adds V(<service>),
            V(<service>.<namespace>), V(<service>.<namespace>.svc) and
            V(<service>.<namespace>.svc.<cluster_domain>) as DNS SANs.
          - For example, the OpenTelemetry Operator's webhook Service.
        type: list
        elements: str
        default: []
      gateway:
        description:
          - A gateway OpenTelemetryCollector. The SANs of the Services that the operator makes for it are
            added, in all four forms listed under O(certificates[].services). Those Services are
            V(<name>-collector) and V(<name>-collector-headless).
          - Agents that use the C(loadbalancing) exporter connect to pod IP addresses, which are not in
            the certificate. Set their C(tls.server_name_override) to one of these names, for example
            V(<name>-collector-headless.<namespace>.svc).
        type: dict
        suboptions:
          name:
            description: The OpenTelemetryCollector's name.
            type: str
            required: true
          namespace:
            description: Its namespace. Defaults to this certificate's namespace.
            type: str
      validity_days:
        description:
          - Validity of a new certificate, in days. It is capped at the CA's own expiry.
        type: int
        default: 365
  key_type:
    description:
      - Private key algorithm of the CA and of every certificate. Changing it renews everything.
    type: str
    choices: [ecdsa-p256, rsa-2048, rsa-4096]
    default: ecdsa-p256
  renew_before_days:
    description:
      - Renew a certificate when it expires within this many days. It must be less than every
        validity_days.
    type: int
    default: 30
  cluster_domain:
    description: The cluster's DNS domain, used in the fully qualified SANs of services and gateways.
    type: str
    default: cluster.local
  backend:
    description:
      - V(self_signed) makes the keys and certificates here with the C(cryptography) library.
      - V(cert_manager) applies cert-manager Issuers and Certificates instead. It fails, with nothing
        applied, when the cluster does not serve C(cert-manager.io/v1).
      - V(auto) uses V(cert_manager) when the cluster serves it, else V(self_signed).
    type: str
    choices: [auto, self_signed, cert_manager]
    default: self_signed
extends_documentation_fragment:
  - otel.kubernetes.auth
  - otel.kubernetes.apply
requirements:
  - cryptography >= 42.0.0 (for O(backend=self_signed))
notes:
  - O(state=absent) deletes the Secrets. With O(backend=cert_manager) or O(backend=auto), it also deletes
    the cert-manager Issuers and Certificates that this module makes.
  - In check mode, new keys and certificates are made but only sent with a server-side dry run, so
    nothing is stored. The results show which certificates would be issued or renewed, and why.
  - With O(backend=cert_manager) and O(wait=true), the task waits until every Issuer and Certificate
    reports C(Ready=True).
"""

EXAMPLES = r"""
- name: mTLS between agents and a tail-sampling gateway
  otel.kubernetes.certs:
    namespace: observability
    ca:
      common_name: otel-observability-ca
    certificates:
      - secret_name: otel-gateway-tls
        usage: server
        gateway:
          name: otel-gateway
      - secret_name: otel-agent-tls
        usage: client
        common_name: otel-agent
  register: otel_tls

- name: Client certificate in the agents' own namespace
  otel.kubernetes.certs:
    namespace: observability
    certificates:
      - secret_name: otel-agent-tls
        namespace: otel-agents
        usage: client

- name: Serving certificate for the OpenTelemetry Operator's admission webhook
  otel.kubernetes.certs:
    namespace: opentelemetry-operator-system
    prefix: otel-operator
    certificates:
      - secret_name: opentelemetry-operator-controller-manager-service-cert
        services:
          - opentelemetry-operator-webhook-service
  register: webhook_tls

- name: Put the CA into the webhook configuration's caBundle
  ansible.builtin.debug:
    msg: "caBundle: {{ webhook_tls.ca.ca_bundle }}"

- name: Let cert-manager make the certificates when it is installed
  otel.kubernetes.certs:
    namespace: observability
    backend: auto
    wait: true
    certificates:
      - secret_name: otel-gateway-tls
        gateway:
          name: otel-gateway

- name: Render cert-manager objects for a GitOps repository (no private key in the output)
  otel.kubernetes.certs:
    namespace: observability
    certificates:
      - secret_name: otel-gateway-tls
        gateway:
          name: otel-gateway
    render_only: true
  register: rendered_tls

- name: Rotate the CA (run again for phases 2 and 3, each at least rotation_phase_seconds later)
  otel.kubernetes.certs:
    namespace: observability
    ca:
      generation: 2
    certificates:
      - secret_name: otel-gateway-tls
        gateway:
          name: otel-gateway

- name: The pipeline's CA, gateway, agent and cluster collector certificates, as role otel_certificates issues them
  otel.kubernetes.certs:
    preset: pipeline
    preset_settings:
      namespace: observability
      validity_days: 180
      gateway_extra_dns_names: [otel.example.com]
  register: pipeline_tls

- name: Remove the Secrets
  otel.kubernetes.certs:
    namespace: observability
    certificates:
      - secret_name: otel-gateway-tls
        gateway:
          name: otel-gateway
    state: absent
"""

RETURN = r"""
backend:
  description: The backend used, with V(auto) resolved; always V(cert_manager) with O(render_only=true).
  returned: always
  type: str
  sample: self_signed
objects:
  description:
    - With O(render_only=true), the cert-manager Issuers and Certificates, in apply order, ready to be written
      out. They hold no key material.
  returned: with O(render_only=true)
  type: list
  elements: dict
  version_added: 0.1.0
ca:
  description:
    - The CA certificate. Its private key is never returned.
    - With O(backend=cert_manager), the facts come from the CA Secret as it was read before applying, and
      are null until cert-manager has written it. With O(render_only=true) they are null.
  returned: when O(state=present)
  type: dict
  contains:
    secret_name:
      description: Name of the CA Secret.
      type: str
      sample: otel-ca
    namespace:
      description: Namespace of the CA Secret.
      type: str
      sample: observability
    usage:
      description: Always V(ca).
      type: str
      sample: ca
    action:
      description: V(kept), V(issued) (there was none), V(renewed) (replaced at once), V(rotating) (phase 1
        or 2 of a rotation began) or V(rotated) (phase 3, the old CA was dropped), or what would be done in
        check mode; V(rendered) with O(render_only=true).
      type: str
      sample: kept
    generation:
      description: The CA generation recorded in the CA Secret (1 when none is recorded).
      type: int
      returned: with O(backend=self_signed)
      sample: 1
    rotation_phase:
      description: V(trust) (phase 1) or V(switch) (phase 2) while a rotation is under way, else null.
      type: str
      returned: with O(backend=self_signed)
    trusted_fingerprints_sha256:
      description: SHA-256 fingerprints of the CA certificates in every C(ca.crt), two during a rotation.
      type: list
      elements: str
      returned: with O(backend=self_signed)
    reason:
      description: Why the certificate was kept, issued or renewed.
      type: str
      sample: valid until 2036-05-01T10:00:00Z and as asked
    common_name:
      description: Subject common name.
      type: str
      sample: otel-ca
    not_before:
      description: Start of validity, in UTC ISO 8601 format.
      type: str
      sample: "2026-05-01T09:55:00Z"
    not_after:
      description: End of validity, in UTC ISO 8601 format.
      type: str
      sample: "2036-05-01T10:00:00Z"
    serial:
      description: Serial number, in lower-case hexadecimal.
      type: str
      sample: 4f1c0b6e2d
    sans:
      description: Subject alternative names. Empty for the CA.
      type: list
      elements: str
      sample: []
    key_type:
      description: Key algorithm.
      type: str
      sample: ecdsa-p256
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate, in hexadecimal.
      type: str
    certificate:
      description: The CA certificate in PEM format. It is public.
      type: str
    ca_bundle:
      description: The trusted CA certificates' PEM (both CAs during a rotation) in base64, ready for a
        webhook configuration's C(caBundle).
      type: str
certificates:
  description:
    - One entry per requested certificate, in the order given. Private keys are never returned.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    secret_name:
      description: Name of the Secret.
      type: str
      sample: otel-gateway-tls
    namespace:
      description: Namespace of the Secret.
      type: str
      sample: observability
    usage:
      description: V(server), V(client) or V(both).
      type: str
      sample: server
    action:
      description: V(kept), V(issued) or V(renewed), or what would be done in check mode; V(rendered) with
        O(render_only=true).
      type: str
      sample: renewed
    reason:
      description: Why it was kept, issued or renewed.
      type: str
      sample: "subject alternative names changed: adds DNS:otel.example.com"
    common_name:
      description: Subject common name.
      type: str
    not_before:
      description: Start of validity, in UTC ISO 8601 format.
      type: str
    not_after:
      description: End of validity, in UTC ISO 8601 format.
      type: str
      sample: "2027-05-01T10:00:00Z"
    serial:
      description: Serial number, in lower-case hexadecimal.
      type: str
    sans:
      description: Subject alternative names, as V(DNS:name) and V(IP:address).
      type: list
      elements: str
      sample: ["DNS:otel-gateway-collector", "DNS:otel-gateway-collector.observability"]
    key_type:
      description: Key algorithm.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate, in hexadecimal.
      type: str
results:
  description:
    - One entry per applied or deleted object (Secrets, and cert-manager objects with
      O(backend=cert_manager)), as returned by M(otel.kubernetes.apply). Secret data is never included.
    - Empty with O(render_only=true).
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion:
      description: The object's apiVersion.
      type: str
      sample: v1
    kind:
      description: The object's kind.
      type: str
      sample: Secret
    name:
      description: The object's name.
      type: str
    namespace:
      description: The object's namespace.
      type: str
    action:
      description: What was done to the object, or what would be done in check mode.
      type: str
      choices: [created, updated, unchanged, deleted, absent]
    changed:
      description: Whether this object was (or would be) changed.
      type: bool
    diff:
      description: Before and after of the object, with Secret values replaced by V(VALUE_REDACTED).
      type: dict
      returned: in diff mode
status:
  description:
    - With O(preset), what role C(otel.kubernetes.otel_certificates) publishes as C(otel_certificates_status) -
      C(backend), C(namespace), C(ca), C(certificates) (as RV(ca) and RV(certificates)), and C(not_after), a
      mapping of Secret name to expiry (UTC, ISO 8601; null while cert-manager has not written the Secret).
    - Empty with O(state=absent).
  returned: with O(preset)
  type: dict
  version_added: 0.1.0
msg:
  description: With O(preset), in check mode, when the namespace does not exist yet - what would be issued.
  returned: sometimes
  type: str
api_requests:
  description: HTTP requests made to the API server by this task (0 with O(render_only=true)).
  returned: always
  type: int
  sample: 8
"""

from ansible_collections.otel.kubernetes.plugins.module_utils.certs import runner
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.ansible_module import new_module


def main():
    runner.run_module(new_module(runner.ARGUMENT_SPEC, **runner.MODULE_OPTIONS))


if __name__ == "__main__":
    main()
