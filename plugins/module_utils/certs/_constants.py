# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module util is PRIVATE to the collection and may change at any time: import the names
# from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api instead.
"""Names the certs package shares: Secret type, key types, usages, backends, annotations, limits."""

from __future__ import annotations

import datetime
import re

TLS_SECRET_TYPE = "kubernetes.io/tls"
KEY_TYPES = ("ecdsa-p256", "rsa-2048", "rsa-4096")
USAGES = ("server", "client", "both")
BACKENDS = ("auto", "self_signed", "cert_manager")
ACTIONS = ("kept", "issued", "renewed", "rotating", "rotated")
CERT_MANAGER_API = "cert-manager.io/v1"
CERT_MANAGER_KINDS = ("Issuer", "Certificate")
MANAGED_BY = "otel.kubernetes"
# The CA Secret's record of a rotation (see plan_ca): which CA generation it holds, the phase
# and when that phase began; in phase 1, the incoming CA's certificate and key.
GENERATION_ANNOTATION = "otel.kubernetes/ca-generation"
PHASE_ANNOTATION = "otel.kubernetes/ca-rotation-phase"
SINCE_ANNOTATION = "otel.kubernetes/ca-rotation-phase-since"
NEXT_CA_CERT = "next-ca.crt"
NEXT_CA_KEY = "next-ca.key"
PHASES = ("trust", "switch")
DEFAULT_ROTATION_PHASE_SECONDS = 3900
# Certificates start a little in the past: nodes whose clocks lag must accept them at once.
CLOCK_SKEW = datetime.timedelta(minutes=5)
MAX_COMMON_NAME = 64  # ub-common-name in RFC 5280

DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_NAME = re.compile(rf"^(\*\.)?{DNS_LABEL}(\.{DNS_LABEL})*$")
SECRET_NAME = re.compile(rf"^{DNS_LABEL}(\.{DNS_LABEL})*$")
