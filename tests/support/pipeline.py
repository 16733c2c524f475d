"""Role variables shared by the tests that deploy the whole pipeline into one namespace."""

from __future__ import annotations


def pipeline_settings(namespace: str, **more) -> dict:
    """Role variables that put the certificates, the gateway and the agent into `namespace`."""
    return {
        "otel_certificates_namespace": namespace,
        "otel_gateway_namespace": namespace,
        "otel_agent_namespace": namespace,
        "otel_agent_gateway_namespace": namespace,
        "otel_agent_rbac_name": f"{namespace}-otel-agent",
        **more,
    }
