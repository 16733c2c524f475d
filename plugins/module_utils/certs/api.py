# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS material for agent-to-gateway mTLS and webhook serving certificates: the certs package's public entry point.

A CA and leaf certificates, stored as ``kubernetes.io/tls`` Secrets (``tls.crt``,
``tls.key``, ``ca.crt``). The CA Secret also holds the CA's ``tls.key`` so later runs can
sign new leaves; leaf Secrets hold the CA certificate only in ``ca.crt``.

Two backends:

- ``self_signed``: keys and certificates are made here with ``cryptography``. For each
  certificate a :class:`CertificateBackend` reads what is stored and answers
  ``needs_regeneration()`` (a reason, or None to keep it) and ``generate()`` (new key and
  certificate). A certificate that is kept is re-applied byte for byte, so the engine
  reports it unchanged. A CA that cannot be used is replaced at once with every leaf; a usable
  CA that must change is rotated in three phases, one per run (:func:`plan_ca`), so that both
  sides of an mTLS connection trust old and new CA while the Secrets change.
- ``cert_manager``: cert-manager objects are rendered instead (a self-signed Issuer, the
  CA Certificate, a CA Issuer and one Certificate per leaf); cert-manager makes the keys.

With render_only, :func:`render_only_result` renders the cert-manager objects whatever the
backend: a rendered manifest must never carry a private key.

One concern per file, each private to the collection (a leading underscore, as
community.crypto marks its private module_utils): ``_constants`` (names and annotations),
``_options`` (CertRequest, CertsOptions and their checks), ``_x509`` (certificate facts, keys;
the cryptography import), ``_stored`` (Material, Stored), ``_backend`` (CertificateBackend),
``_self_signed`` (the plan and CA rotation), ``_cert_manager`` (cert-manager objects, backend
choice, removal), ``_cluster`` (the reads and :func:`execute`); the module's flow is in ``runner.py``.
Everything but ``_cluster`` is pure: options in, certificates, Kubernetes
objects (plain dicts) or reasons out. No Ansible import.

Import from this file (``certs.api``), never from the private files: the names below stay stable.
(The package's ``__init__.py`` stays empty, as ansible-test wants of module_utils packages.)
"""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.certs._backend import CertificateBackend
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._cert_manager import (
    RENDER_ONLY_NOTE,
    cert_manager_summary,
    removal_objects,
    render_cert_manager,
    render_only_result,
    resolve_backend,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._cluster import (
    cert_manager_served,
    execute,
    read_secret,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._constants import (
    ACTIONS,
    BACKENDS,
    CERT_MANAGER_API,
    CERT_MANAGER_KINDS,
    CLOCK_SKEW,
    DEFAULT_ROTATION_PHASE_SECONDS,
    GENERATION_ANNOTATION,
    KEY_TYPES,
    MANAGED_BY,
    MAX_COMMON_NAME,
    NEXT_CA_CERT,
    NEXT_CA_KEY,
    PHASE_ANNOTATION,
    PHASES,
    SINCE_ANNOTATION,
    TLS_SECRET_TYPE,
    USAGES,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._options import (
    OPTIONS,
    CertRequest,
    CertsOptions,
    gateway_sans,
    service_sans,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._self_signed import (
    CaDecision,
    CertPlan,
    Outcome,
    check_secret_types,
    describe,
    plan_ca,
    plan_self_signed,
    tls_secret,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._stored import Material, Stored
from ansible_collections.otel.kubernetes.plugins.module_utils.certs._x509 import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    common_name_of,
    is_ca_cert,
    iso,
    issued_by,
    key_type_of,
    new_private_key,
    same_public_key,
    sans_of,
    usage_of,
)

__all__ = (
    "ACTIONS",
    "BACKENDS",
    "CERT_MANAGER_API",
    "CERT_MANAGER_KINDS",
    "CLOCK_SKEW",
    "CRYPTOGRAPHY_IMPORT_ERROR",
    "DEFAULT_ROTATION_PHASE_SECONDS",
    "GENERATION_ANNOTATION",
    "HAS_CRYPTOGRAPHY",
    "KEY_TYPES",
    "MANAGED_BY",
    "MAX_COMMON_NAME",
    "NEXT_CA_CERT",
    "NEXT_CA_KEY",
    "OPTIONS",
    "PHASES",
    "PHASE_ANNOTATION",
    "RENDER_ONLY_NOTE",
    "SINCE_ANNOTATION",
    "TLS_SECRET_TYPE",
    "USAGES",
    "CaDecision",
    "CertPlan",
    "CertRequest",
    "CertificateBackend",
    "CertsOptions",
    "Material",
    "Outcome",
    "Stored",
    "cert_manager_served",
    "cert_manager_summary",
    "check_secret_types",
    "common_name_of",
    "describe",
    "execute",
    "gateway_sans",
    "is_ca_cert",
    "iso",
    "issued_by",
    "key_type_of",
    "new_private_key",
    "plan_ca",
    "plan_self_signed",
    "read_secret",
    "removal_objects",
    "render_cert_manager",
    "render_only_result",
    "resolve_backend",
    "same_public_key",
    "sans_of",
    "service_sans",
    "tls_secret",
    "usage_of",
)
