# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline certificates' settings (role otel_certificates): see presets/settings.py; after a change run
``python tools/role_files.py``."""

from __future__ import annotations

from ansible_collections.otel.kubernetes.plugins.module_utils.certs.api import BACKENDS, KEY_TYPES
from ansible_collections.otel.kubernetes.plugins.module_utils.presets.settings import (
    TASK,
    RoleSettings,
    Setting,
    connection_settings,
    pod_security_setting,
)

SETTINGS = RoleSettings(
    "otel_certificates",
    Setting(
        "state",
        "str",
        "present",
        "V(present) issues, keeps or renews the certificates; V(absent) removes them.",
        choices=("present", "absent"),
        scope=TASK,
    ),
    Setting(
        "namespace",
        "str",
        "observability",
        "Namespace of the CA Secret and of both certificates (the collectors mount them from there).",
    ),
    Setting(
        "create_namespace",
        "bool",
        True,
        "Apply the namespace first. It is never deleted by O(otel_certificates_state=absent).",
    ),
    pod_security_setting(
        "Roles that apply the same namespace must give it the same level (the last one applied wins).",
    ),
    Setting(
        "backend",
        "str",
        "self_signed",
        (
            "V(self_signed) makes the keys on the managed host (C(cryptography)) and stores them as Secrets.",
            "V(cert_manager) applies cert-manager Issuers and Certificates; cert-manager writes and renews the "
            "Secrets with the same layout. It fails when cert-manager is not installed.",
            "V(auto) uses cert-manager when the cluster serves C(cert-manager.io/v1), else V(self_signed).",
            "Always V(cert_manager) in render mode.",
        ),
        choices=BACKENDS,
    ),
    Setting(
        "ca_secret", "str", "otel-ca", "Name of the CA Secret (it also holds the CA key, so that later runs can sign)."
    ),
    Setting(
        "ca_common_name",
        "str",
        "otel-ca",
        "Common name of the CA certificate. Changing it renews the CA and both certificates.",
    ),
    Setting("ca_validity_days", "int", 3650, "Validity of a new CA certificate, in days."),
    Setting(
        "ca_generation",
        "int",
        1,
        (
            "The CA generation, from 1. Raise it by one to rotate the CA in three phases, one per run (see the "
            "README). It stays as it is while nothing is to be done."
        ),
    ),
    Setting(
        "ca_rotation_phase_seconds",
        "int",
        3900,
        (
            "The least time between two phases of a CA rotation (also when the CA rotates because it is due). At "
            "least the kubelet's Secret refresh (about 60 s) plus the collectors' reload interval, and the time "
            "to restart the agents after phase 1."
        ),
    ),
    Setting(
        "gateway_name",
        "str",
        "otel-gateway",
        (
            "Name of the gateway OpenTelemetryCollector; its Services' DNS names go into the server certificate. "
            "Keep it equal to C(otel_gateway_name)."
        ),
    ),
    Setting(
        "gateway_secret",
        "str",
        "otel-gateway-tls",
        "Name of the gateway's server certificate Secret (C(otel_gateway_tls_secret)).",
    ),
    Setting(
        "gateway_extra_dns_names",
        "list",
        [],
        "More DNS names for the gateway certificate, for example a name applications outside use.",
        elements="str",
    ),
    Setting(
        "agent_secret",
        "str",
        "otel-agent-tls",
        "Name of the agents' client certificate Secret (C(otel_agent_tls_secret)).",
    ),
    Setting("agent_common_name", "str", "otel-agent", "Common name of the agents' client certificate."),
    Setting(
        "cluster_secret",
        "str",
        "otel-cluster-tls",
        (
            "The C(kubernetes.io/tls) Secret of the cluster collector's client certificate (role C(otel_cluster), "
            "its O(otel_certificates_cluster_secret) is C(otel_cluster_tls_secret)). Empty issues none."
        ),
    ),
    Setting("cluster_common_name", "str", "otel-cluster", "Common name of the cluster collector's client certificate."),
    Setting(
        "validity_days",
        "int",
        365,
        "Validity of a new gateway or agent certificate, in days (capped at the CA's expiry).",
    ),
    Setting(
        "renew_before_days",
        "int",
        30,
        "Renew a certificate on a run within this many days of its expiry. Must be below both validities.",
    ),
    Setting(
        "key_type",
        "str",
        "ecdsa-p256",
        "Key algorithm of the CA and both certificates. Changing it renews everything.",
        choices=KEY_TYPES,
    ),
    Setting(
        "cluster_domain",
        "str",
        "cluster.local",
        "The cluster's DNS domain, for the fully qualified Service names in the gateway certificate.",
    ),
    Setting(
        "wait", "bool", False, "With cert-manager, wait until every Issuer and Certificate reports Ready.", scope=TASK
    ),
    Setting("wait_timeout", "int", 120, "Seconds to wait with O(otel_certificates_wait).", scope=TASK),
    *connection_settings(),
)
