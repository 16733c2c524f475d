"""The OpenTelemetry Operator on the local node, as the integration tests need it installed.

The otel_operator role applies the operator's REAL v0.158.0 release manifest (its CRDs, RBAC,
Services and webhook configurations, failurePolicy Fail, patched with the CA bundle the role
makes), as users install it; only the manager's image is the local node's test stand-in
(otel_operator_manager_image). It is installed when it is not there: other test modules remove it.
"""

from __future__ import annotations

import upstream

NAMESPACE = "opentelemetry-operator-system"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/opentelemetry-operator-controller-manager"
WEBHOOKS = (
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
    "opentelemetry-operator-validating-webhook-configuration",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"
    "opentelemetry-operator-mutating-webhook-configuration",
)
CRDS = tuple(
    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}.opentelemetry.io"
    for name in ("opentelemetrycollectors", "instrumentations", "opampbridges", "targetallocators")
)


def operator_running(cluster) -> bool:
    """Installed, its stand-in manager rolled out and Available, its webhooks configured?"""
    deployment = cluster.get(DEPLOYMENT)
    if deployment is None or any(cluster.get(path) is None for path in (*WEBHOOKS, *CRDS)):
        return False
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    status = deployment.get("status") or {}
    settled = status.get("updatedReplicas") == status.get("replicas") == status.get("availableReplicas") == 1
    return image == upstream.MANAGER_IMAGE and settled


def ensure_operator(cluster) -> str:
    """The operator installed by the role (when it is not running) and waited for; its namespace."""
    if not operator_running(cluster):
        task = {
            "name": "operator",
            "ansible.builtin.include_role": {"name": "otel.kubernetes.otel_operator"},
            "vars": {"otel_operator_manager_image": upstream.MANAGER_IMAGE, "otel_operator_wait_timeout": 180},
        }
        run = cluster.run([task])
        assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return NAMESPACE
