"""Cluster DNS for the local node: a minimal CoreDNS built from its Go module, and its objects.

Facts this module relies on (read in the CoreDNS v1.14.1 sources):

* Version: CoreDNS **v1.14.1**, the newest release whose go.mod requires the Kubernetes client
  libraries of the node's minor (k8s.io/client-go v0.34.3; v1.14.2 and later moved to v0.35), so
  the shared module and build caches compile one client-go for Kubernetes and CoreDNS. Its
  go.mod says ``go 1.24``; it builds with the local Go 1.26 toolchain.
* How a CoreDNS binary is assembled: ``coredns.go`` is only ``main`` importing
  ``core/plugin`` (generated: one blank import per plugin of ``plugin.cfg``) and calling
  ``coremain.Run()``. Each plugin package registers its setup function with caddy in ``init``;
  ``core/dnsserver.Directives`` (generated ``zdirectives.go``) is a plain package variable read
  when a Corefile is parsed: it decides which directives exist and in which order the plugins
  chain (a directive missing from it is "unknown"). So a ``main`` of our own that imports only
  the plugins below and sets ``dnsserver.Directives`` to them, in the upstream relative order,
  is a complete CoreDNS with nothing else in it.
* Plugins, in chain order: ``ready`` (readiness probe on :8181, ready once the kubernetes
  plugin has synced), ``health`` (liveness probe on :8080), ``errors`` (log failures),
  ``log`` (query log: not in the Corefile, linked only so a debugging session can turn it on),
  ``cache`` (answers from memory, capped by the records' TTL), ``template`` (the catch-all
  answering NXDOMAIN), ``kubernetes`` (the cluster.local zone and the reverse zones of the pod
  and service ranges, from services, endpointslices and namespaces it lists and watches).
  Left out: ``forward`` (see below), ``loop`` (it only detects forwarding loops: there is no
  forwarding), ``reload`` (nothing edits the ConfigMap; restart the pod instead),
  ``loadbalance`` (shuffling A records buys the tests nothing), ``prometheus`` (nothing scrapes
  it), ``autopath``, ``hosts``, ``rewrite``...
* No ``forward``: the test machine has no network, and nothing may ever be resolved outside it.
  A name outside the cluster zones hits the ``.`` server block, whose only plugin (``template
  ANY ANY`` with ``rcode NXDOMAIN``) answers NXDOMAIN at once. (Without a ``.`` block CoreDNS
  would answer REFUSED, which resolvers treat as a server failure and retry; NXDOMAIN is the
  clean "no such name" that ends a search-list walk.) The binary cannot send a query anywhere.
* No ``fallthrough`` in the kubernetes block: its server block is keyed by the reverse zones of
  the pod and service ranges only, so every reverse name it sees belongs to the cluster; with
  ``fallthrough`` an unknown one would reach the end of the chain and get SERVFAIL ("no next
  plugin found") instead of the kubernetes plugin's authoritative NXDOMAIN. Other reverse names
  go to the ``.`` block: NXDOMAIN.
* RBAC (controller.go of the kubernetes plugin): it lists and watches services, endpointslices
  (discovery.k8s.io) and namespaces always; pods only with ``pods verified`` (we use ``pods
  insecure``: no pod informer is started); nodes only for federation. Nothing else.
* Port: the container listens on **1053**, the Service maps 53 to it. A non-root process gets
  NET_BIND_SERVICE from ``capabilities.add`` only through file capabilities (the upstream image
  runs ``setcap`` on its binary) or ambient capabilities, which containerd 1.6 does not set
  (nor ``ip_unprivileged_port_start=0``: ``enable_unprivileged_ports`` defaults to false), so
  binding :53 as 65532 would fail with "permission denied". On 1053 the container drops ALL
  capabilities and adds none, which the restricted Pod Security level allows.
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess
import time
from pathlib import Path

from .gobuild import BuildError, cache_root, cached_outputs, go_env, log, run_logged, write_module
from .images import build_image

VERSION = "v1.14.1"
MODULE = "github.com/coredns/coredns"
IMAGE = f"registry.k8s.io/coredns/coredns:{VERSION}"

# (directive, package under github.com/coredns/coredns/plugin), in CoreDNS's chain order.
PLUGINS = (
    ("ready", "ready"),
    ("health", "health"),
    ("errors", "errors"),
    ("log", "log"),
    ("cache", "cache"),
    ("template", "template"),
    ("kubernetes", "kubernetes"),
)

POD_CIDR = "198.18.0.0/16"
SERVICE_CIDR = "198.19.0.0/16"
CLUSTER_DNS_IP = "198.19.0.10"
DNS_PORT = 1053  # inside the pod; the Service answers on 53
HEALTH_PORT = 8080
READY_PORT = 8181
NAMESPACE = "kube-system"
LABELS = {"k8s-app": "kube-dns"}


def _main_go() -> str:
    imports = "\n".join(f'\t_ "{MODULE}/plugin/{package}"' for _name, package in PLUGINS)
    directives = "\n".join(f'\t\t"{name}",' for name, _package in PLUGINS)
    return f"""// Command coredns is CoreDNS with only the plugins the local test node's cluster DNS uses.
package main

import (
\t"{MODULE}/core/dnsserver"
\t"{MODULE}/coremain"

{imports}
)

func init() {{
\t// The directives a Corefile may use, in the order their plugins chain.
\tdnsserver.Directives = []string{{
{directives}
\t}}
}}

func main() {{
\tcoremain.Run()
}}
"""


def _go_mod() -> str:
    return f"module otel-kubernetes.local/coredns\n\ngo 1.24\n\nrequire {MODULE} {VERSION}\n"


def build_coredns() -> dict:
    """Build the minimal CoreDNS binary and its image (both cached).

    Returns ``{"binary": Path, "image": ref, "archive": Path, "seconds": {step: seconds}}``.
    """
    sources = {"go.mod": _go_mod(), "main.go": _main_go()}
    key = hashlib.sha256(repr(sorted(sources.items())).encode()).hexdigest()[:12]
    target = cache_root() / "coredns" / f"{VERSION}-{key}"
    seconds: dict = {}

    def build(staging: Path) -> None:
        source = cache_root() / "build" / f"coredns-{VERSION}"
        write_module(source, sources)
        env = go_env()
        logfile = staging / "build.log"
        seconds["go mod tidy"] = run_logged(
            f"coredns {VERSION}: go mod tidy", ["go", "mod", "tidy"], logfile, cwd=source, env=env
        )
        binary = staging / "coredns"
        seconds["go build"] = run_logged(
            f"coredns {VERSION}: go build",
            ["go", "build", "-ldflags", "-s -w", "-o", binary, "."],
            logfile,
            cwd=source,
            env=env,
        )
        listed = subprocess.run([binary, "-plugins"], capture_output=True, text=True, timeout=60, check=False)
        # One name a line; packages our plugins import register a few more (metadata, prometheus,
        # transfer), unusable since they are no directives. Forward must not be there at all.
        found = {line.strip().removeprefix("dns.") for line in listed.stdout.splitlines() if line.strip()}
        wanted = {name for name, _package in PLUGINS}
        if listed.returncode != 0 or not wanted <= found or "forward" in found:
            raise BuildError(
                f"coredns -plugins lists {sorted(found)} (exit {listed.returncode}); expected {sorted(wanted)}"
            )
        log(f"coredns {VERSION}: registered plugins: {' '.join(sorted(found))}")

    started = time.monotonic()
    cached = (target / "coredns").exists()
    cached_outputs(target, ("coredns",), build)
    seconds["binary"] = time.monotonic() - started
    log(
        f"coredns {VERSION}: binary {'cached' if cached else 'built'} in {seconds['binary']:.1f}s: {target / 'coredns'}"
    )

    started = time.monotonic()
    archive = build_image(IMAGE, files={"/coredns": target / "coredns"}, entrypoint=["/coredns"], user="65532:65532")
    seconds["image"] = time.monotonic() - started
    log(f"coredns {VERSION}: image {IMAGE} ready in {seconds['image']:.1f}s: {archive}")
    return {"binary": target / "coredns", "image": IMAGE, "archive": archive, "seconds": seconds}


def reverse_zones(cidr: str) -> list:
    """The reverse DNS zones covering ``cidr``: whole octets for IPv4, whole nibbles for IPv6."""
    network = ipaddress.ip_network(cidr, strict=False)
    step = 8 if network.version == 4 else 4
    prefix = -(-network.prefixlen // step) * step
    zones = []
    for subnet in network.subnets(new_prefix=prefix) if prefix > network.prefixlen else [network]:
        labels = subnet.network_address.reverse_pointer.split(".")
        zones.append(".".join(labels[len(labels) - 2 - prefix // step :]))
    return zones


def corefile(cluster_domain: str = "cluster.local", pod_cidr: str = POD_CIDR, service_cidr: str = SERVICE_CIDR) -> str:
    """The Corefile: the cluster zones from the API, NXDOMAIN for every other name."""
    zones = [cluster_domain] + reverse_zones(pod_cidr) + reverse_zones(service_cidr)
    zones = list(dict.fromkeys(zones))
    keys = " ".join(f"{zone}:{DNS_PORT}" for zone in zones)
    return (
        f"# Cluster DNS of the local test node: answers for the cluster, NXDOMAIN for everything else.\n"
        f"{keys} {{\n"
        f"    errors\n"
        f"    health :{HEALTH_PORT}\n"
        f"    ready :{READY_PORT}\n"
        f"    kubernetes {' '.join(zones)} {{\n"
        f"        pods insecure\n"
        f"        ttl 5\n"
        f"    }}\n"
        f"    cache 30\n"
        f"}}\n"
        f"# Nothing is forwarded: no name outside the cluster is ever looked up elsewhere.\n"
        f".:{DNS_PORT} {{\n"
        f"    errors\n"
        f"    template ANY ANY {{\n"
        f"        rcode NXDOMAIN\n"
        f"    }}\n"
        f"}}\n"
    )


def dns_objects(
    cluster_ip: str = CLUSTER_DNS_IP,
    cluster_domain: str = "cluster.local",
    pod_cidr: str = POD_CIDR,
    service_cidr: str = SERVICE_CIDR,
    image: str = IMAGE,
) -> list:
    """ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, Deployment and Service ``kube-dns``."""
    name = "coredns"
    meta = {"name": name, "namespace": NAMESPACE, "labels": dict(LABELS)}
    security = {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": DNS_PORT, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": DNS_PORT, "protocol": "TCP"},
            {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
            {"name": "ready", "containerPort": READY_PORT, "protocol": "TCP"},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "40Mi"}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": READY_PORT, "scheme": "HTTP"},
            "periodSeconds": 2,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": HEALTH_PORT, "scheme": "HTTP"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 5,
        },
        "securityContext": security,
    }
    pod_spec = {
        "serviceAccountName": name,
        "priorityClassName": "system-cluster-critical",
        "dnsPolicy": "Default",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": name, "items": [{"key": "Corefile", "path": "Corefile"}]}}
        ],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns", "labels": dict(LABELS)},
            "rules": [
                {"apiGroups": [""], "resources": ["services", "namespaces"], "verbs": ["list", "watch"]},
                {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns", "labels": dict(LABELS)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": dict(meta),
            "data": {"Corefile": corefile(cluster_domain, pod_cidr, service_cidr)},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dict(meta),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": dict(LABELS)},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "template": {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": NAMESPACE,
                "labels": {**LABELS, "kubernetes.io/name": "CoreDNS"},
            },
            "spec": {
                "selector": dict(LABELS),
                "clusterIP": cluster_ip,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"},
                ],
            },
        },
    ]
