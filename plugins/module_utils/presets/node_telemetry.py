# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a node collector reads about its own node: the kubelet's metrics, the containers' log files and the
host's metrics, as the agent preset (and its host collector) configures them. Pure.

Names are the collector's current ones (``kubelet_stats``, ``file_log``, ``host_metrics``; the old
``kubeletstats``, ``filelog``, ``hostmetrics`` are still accepted and logged as deprecated).
"""

from __future__ import annotations

# Inside the collector container; the host side of each is a role setting.
POD_LOGS_PATH = "/var/log/pods"
STORAGE_PATH = "/var/lib/otelcol/file_storage"
HOSTFS_PATH = "/hostfs"
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
# The container the operator runs a collector in, in every Pod it makes.
COLLECTOR_CONTAINER = "otc-container"
STORAGE = "file_storage"
NODE_RESOURCE = "resource/node"

# The opentelemetry-collector Helm chart's hostMetrics preset, as regular expressions that match what it means.
EXCLUDED_MOUNT_POINTS = (
    "^/dev/.*",
    "^/proc/.*",
    "^/sys/.*",
    "^/run/k3s/containerd/.*",
    "^/run/containerd/.*",
    "^/var/lib/docker/.*",
    "^/var/lib/kubelet/.*",
    "^/var/lib/containerd/.*",
    "^/snap/.*",
)
EXCLUDED_FS_TYPES = (
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nsfs",
    "overlay",
    "proc",
    "procfs",
    "pstore",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tracefs",
)
# A collector that reads the host's files runs as root: the kubelet's pod log files are root's, mode
# 0640, and the checkpoint directory it makes is root's. Root with no capability at all, on a read-only
# root filesystem, without privilege escalation.
HOST_READER_SECURITY_CONTEXT = {"runAsNonRoot": False, "runAsUser": 0}


def kubelet_stats(s: dict) -> dict:
    """The kubelet of the collector's own node, with the service account's token, its certificate verified."""
    receiver = {
        "auth_type": "serviceAccount",
        "endpoint": s["kubelet_endpoint"],
        "collection_interval": s["kubelet_collection_interval"],
        "metric_groups": list(s["kubelet_metric_groups"]),
        "node": "${env:K8S_NODE_NAME}",
        "insecure_skip_verify": bool(s["kubelet_insecure_skip_verify"]),
    }
    if not s["kubelet_insecure_skip_verify"] and s["kubelet_ca_file"]:
        receiver["ca_file"] = s["kubelet_ca_file"]
    return receiver


def excluded_logs(namespaces: list) -> list:
    """The log files of every collector the operator runs in these namespaces (its container is otc-container):
    a collector reading its own logs would feed on its own errors."""
    return [f"{POD_LOGS_PATH}/{ns}_*/{COLLECTOR_CONTAINER}/*.log" for ns in dict.fromkeys(namespaces)]


def file_log(excluded_namespaces: list) -> dict:
    """Every container's log file, the Pod's identity from its path, read from where the checkpoint says."""
    return {
        "include": [f"{POD_LOGS_PATH}/*/*/*.log"],
        "exclude": excluded_logs(excluded_namespaces),
        # A file first seen is read whole (a Pod started while the collector was down loses nothing); the
        # checkpoints in file_storage resume every known file where it was left.
        "start_at": "beginning",
        "include_file_path": True,
        "include_file_name": False,
        "operators": [{"type": "container", "id": "container-parser"}],
        "storage": STORAGE,
        "retry_on_failure": {"enabled": True},
    }


def host_metrics(s: dict) -> dict:
    """The Helm chart's hostMetrics preset: cpu, memory, load, filesystem (the usual excludes), network, disk."""
    return {
        "collection_interval": s["host_metrics_collection_interval"],
        "root_path": HOSTFS_PATH,
        "scrapers": {
            "cpu": {},
            "load": {},
            "memory": {},
            "disk": {},
            "filesystem": {
                "exclude_mount_points": {"match_type": "regexp", "mount_points": list(EXCLUDED_MOUNT_POINTS)},
                "exclude_fs_types": {"match_type": "strict", "fs_types": list(EXCLUDED_FS_TYPES)},
            },
            "network": {},
        },
    }


def node_resource() -> dict:
    """The node's name on what the host metrics say (they carry no Kubernetes identity of their own)."""
    return {"attributes": [{"key": "k8s.node.name", "value": "${env:K8S_NODE_NAME}", "action": "upsert"}]}


def storage() -> dict:
    return {"directory": STORAGE_PATH, "create_directory": True}


def volumes(s: dict, namespace: str, name: str, logs: bool, host: bool) -> tuple:
    """(volumes, volume mounts) of a collector that reads the host."""
    found, mounts = [], []
    if logs:
        found += [
            {"name": "pod-logs", "hostPath": {"path": s["pod_logs_host_path"], "type": "Directory"}},
            {
                "name": "otel-storage",
                "hostPath": {"path": f"{s['storage_host_path']}/{namespace}/{name}", "type": "DirectoryOrCreate"},
            },
        ]
        mounts += [
            {"name": "pod-logs", "mountPath": POD_LOGS_PATH, "readOnly": True},
            {"name": "otel-storage", "mountPath": STORAGE_PATH},
        ]
    if host:
        found.append({"name": "hostfs", "hostPath": {"path": "/", "type": "Directory"}})
        mounts.append(
            {"name": "hostfs", "mountPath": HOSTFS_PATH, "readOnly": True, "mountPropagation": "HostToContainer"}
        )
    return found, mounts
