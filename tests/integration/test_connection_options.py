"""kubernetes.core's proxy options on the real node: the API server reached only through an HTTP
CONNECT proxy on loopback (tests/support/http_proxy.py), as from a bastion behind a proxy.

The kubeconfig names the API server `kubernetes.default.svc`, a name of its certificate that this
machine cannot resolve: only the proxy, which resolves it to the node, can reach it, so a task that
succeeds went through the proxy (and TLS was verified end to end against that name).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from http_proxy import ProxyServer

SERVICE_NAME = "kubernetes.default.svc"


def proxied_kubeconfig(cluster, tmp_path, proxy_url: str | None) -> str:
    config = json.loads(cluster.node.admin_kubeconfig.read_text())
    entry = config["clusters"][0]["cluster"]
    entry["server"] = f"https://{SERVICE_NAME}:{urlsplit(cluster.node.server).port}"
    if proxy_url:
        entry["proxy-url"] = proxy_url
    path = tmp_path / ("proxied.kubeconfig" if proxy_url else "unreachable.kubeconfig")
    path.write_text(json.dumps(config))
    return str(path)


def tasks(namespace: str) -> list:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "through-proxy", "namespace": namespace},
        "data": {"a": "1"},
    }
    return [
        {"name": "apply", "otel.kubernetes.apply": {"definition": config_map}},
        {
            "name": "read",
            "otel.kubernetes.info": {"kind": "ConfigMap", "namespace": namespace, "name": "through-proxy"},
        },
    ]


def test_the_api_server_is_reached_only_through_the_proxy(cluster, namespace, tmp_path):
    node_address = urlsplit(cluster.node.server).hostname
    with ProxyServer(hosts={SERVICE_NAME: node_address}) as proxy:
        # The kubeconfig's proxy-url, then the proxy option (K8S_AUTH_PROXY) with a kubeconfig without one.
        for label, kubeconfig, env in (
            ("proxy-url", proxied_kubeconfig(cluster, tmp_path, proxy.url), {}),
            ("K8S_AUTH_PROXY", proxied_kubeconfig(cluster, tmp_path, None), {"K8S_AUTH_PROXY": proxy.url}),
        ):
            before = len(proxy.seen)
            run = cluster.run(tasks(namespace), env={"K8S_AUTH_KUBECONFIG": kubeconfig, **env})
            assert run.rc == 0, (label, run.stdout[-3000:], run.stderr[-2000:])
            assert run.task("read")["resources"][0]["data"] == {"a": "1"}
            seen = proxy.seen[before:]
            # Only CONNECT tunnels to the API server (TLS inside them); at least one per task's process.
            assert seen and {(method, target) for method, target, _h, _m in seen} == {
                ("CONNECT", f"{SERVICE_NAME}:{urlsplit(cluster.node.server).port}")
            }, (label, seen)
            assert run.task("apply")["api_requests"] >= 1
        assert proxy.tunnels == len(proxy.connects()) >= 2

    # Without the proxy the same kubeconfig reaches nothing, naming the server.
    run = cluster.run(
        [{"name": "direct", "otel.kubernetes.info": {"kind": "Namespace", "retry_timeout": 1}, "ignore_errors": True}],
        env={"K8S_AUTH_KUBECONFIG": proxied_kubeconfig(cluster, tmp_path, None)},
    )
    assert f"cannot reach the Kubernetes API server https://{SERVICE_NAME}" in run.task("direct")["msg"]
