"""Collector configurations shared by several test files."""

# The corrected agent of the seed design, as the collector module takes it.
AGENT_CONFIG = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
        "k8sattributes": {"filter": {"node_from_env_var": "K8S_NODE_NAME"}},
        "batch": {},
    },
    "exporters": {"otlp": {"endpoint": "otel-gateway-collector:4317", "tls": {"insecure": True}}},
    "service": {
        "pipelines": {
            "traces": {
                "receivers": ["otlp"],
                "processors": ["memory_limiter", "k8sattributes", "batch"],
                "exporters": ["otlp"],
            }
        }
    },
}
