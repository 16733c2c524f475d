"""A real single-node Kubernetes cluster on this machine: control plane, kubelet, Pods.

What runs (every binary built here, see ``build.py``): etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, kubelet on Debian's containerd and runc, Debian's
CNI ``bridge`` + ``portmap`` plugins (hostPort works on the node IP), kube-proxy in iptables
mode (ClusterIP Services from Pods and from the host) and CoreDNS as cluster DNS.

Network, and why nothing leaves the machine:
- Pods live in 198.18.0.0/16 and Services in 198.19.0.0/16, inside 198.18.0.0/15, the range
  reserved for network benchmarks that no real network uses. The node's IP is the bridge's
  gateway address 198.18.0.1: the API server, the kubelet and hostPorts listen there or on
  loopback, nowhere else.
- A chain of our own (OTEL-NODE-EGRESS) rejects anything a Pod sends outside that range.
- CoreDNS has no forward plugin: names outside the cluster fail inside the node.
- containerd reaches registries through an HTTP proxy on a loopback port where nothing
  listens, so a pull of an image that was not imported beforehand fails at once
  ("proxyconnect ... connection refused") instead of dialing out; every image the manifests
  name is built here and imported at start.

Facts of this VM that the configuration works around:
- CAP_SYS_RESOURCE is missing from every process's bounding set, so nothing may lower
  ``oom_score_adj``: runc then fails every Pod sandbox ("can't get final child's PID from
  pipe: EOF"; runc --debug: "nsexec: failed to update /proc/self/oom_score_adj: Permission
  denied"). containerd's CRI plugin is set to ``restrict_oom_score_adj = true``.
- cgroup v1 (hybrid): kubelet 1.34 warns and runs (1.35+ would need ``failCgroupV1: false``);
  ``cgroupDriver: cgroupfs`` since there is no systemd.
- kubelet would set kernel sysctls (vm.overcommit_memory, kernel.panic...) and the bridge
  plugin turns on ip_forward; every sysctl such a component may change is recorded before the
  start and put back by ``down``.
- Every mount of this VM is private, ``/`` included, where systemd hosts make ``/`` shared:
  containerd then refuses a hostPath of ``/`` with ``mountPropagation: HostToContainer`` ("path
  "/" is mounted on "/" but it is not a shared or slave mount"), which the host metrics
  collector asks for. The node makes ``/`` rshared while it runs; ``down`` makes every mount
  private again when every mount was private before (else ``/`` alone).

``down`` (also run by a keeper process when the test run that started the node dies) leaves
no process, mount, network namespace, cgroup, iptables chain, bridge or sysctl change behind.
Only one node runs on a machine at a time (the bridge, the ranges and the host's netns folder
are shared): ``up`` stops a stale one first.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .build import build_all
from .gobuild import cache_root, log
from .pki import Pki

NODE_NAME = "otel-node"
BRIDGE = "otelbr0"
NODE_IP = "198.18.0.1"
POD_CIDR = "198.18.0.0/16"
SERVICE_CIDR = "198.19.0.0/16"
KUBERNETES_SERVICE_IP = "198.19.0.1"
DNS_SERVICE_IP = "198.19.0.10"
LOCAL_RANGE = "198.18.0.0/15"
CLUSTER_DOMAIN = "cluster.local"
EGRESS_CHAIN = "OTEL-NODE-EGRESS"
REFUSING_PROXY = "http://127.0.0.1:9"  # nothing listens on the discard port
OUR_CHAIN_PREFIXES = ("KUBE-", "CNI-", "OTEL-")
MARKER = Path("/run/otel-local-node")
ADMIN_USER = "otel-admin"
UNPRIVILEGED_USER = "otel-unprivileged"
START_TIMEOUT = 90.0
# Every sysctl the node's components may change: recorded at start, restored by down.
SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.route_localnet",
    "net.ipv4.conf.all.forwarding",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    "net.netfilter.nf_conntrack_tcp_be_liberal",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
COMPONENTS = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)


class NodeError(RuntimeError):
    """Raised with a message a person can act on."""


# --------------------------------------------------------------------------- host helpers
def _run(cmd: list, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, **kwargs)
    if check and result.returncode != 0:
        raise NodeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def _read_sysctls() -> dict:
    values = {}
    for name in SYSCTLS:
        with contextlib.suppress(OSError):
            values[name] = _sysctl_path(name).read_text().strip()
    return values


def _free_port(host: str) -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGKILL when the parent dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """TERM the process group, then KILL it after the timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)


def _processes() -> list:
    """(pid, argv) of every process on the machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                found.append((int(entry.name), [a.decode(errors="replace") for a in argv if a]))
    return found


_libc = ctypes.CDLL("libc.so.6", use_errno=True)
MNT_DETACH = 2


def _mounts_under(*prefixes: str) -> list:
    """Mount points under any of the prefixes, deepest first."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def _shared_mounts() -> list:
    """Mount points that are shared or a slave (mountinfo's optional fields), of this mount namespace."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" - ", 1)[0].split()
        if any(f.startswith(("shared:", "master:")) for f in fields[6:]):
            found.append(fields[4].replace("\\040", " "))
    return found


def _unmount(point: str) -> None:
    _libc.umount2(point.encode(), MNT_DETACH)


def _declares_our_chain(line: str) -> bool:
    """An iptables-save line declaring a KUBE-*, CNI-* or OTEL-* chain."""
    return line.startswith(":") and line[1:].startswith(OUR_CHAIN_PREFIXES)


# --------------------------------------------------------------------------- the node
class LocalNode:
    """One real Kubernetes node whose state (PIDs, ports, recorded sysctls) lives in DIR."""

    def __init__(self, state_dir: str | os.PathLike, tied_to_parent: bool = False, audit: bool = False):
        self.dir = Path(state_dir).resolve()
        self.tied_to_parent = tied_to_parent
        self.audit = audit  # log every request (metadata) to DIR/audit.log, to count them
        self.state: dict = {}
        state_file = self.dir / "state.json"
        if state_file.exists():
            self.state = json.loads(state_file.read_text())
        self.pki = Pki(self.dir / "pki")

    # paths and addresses users need
    @property
    def admin_kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    @property
    def user_kubeconfig(self) -> Path:
        return self.dir / "user.kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit.log"

    @property
    def server(self) -> str:
        return f"https://{NODE_IP}:{self.state['apiserver_port']}"

    @property
    def containerd_socket(self) -> Path:
        return self.dir / "containerd" / "containerd.sock"

    @property
    def kubectl(self) -> str:
        return self.state.get("kubectl") or str(build_all(quiet=True)["kubernetes"] / "kubectl")

    def _save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "state.json").write_text(json.dumps(self.state, indent=2))

    # ----------------------------------------------------------------- processes
    def _spawn(self, label: str, cmd: list, env: dict | None = None) -> int:
        logs = self.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{label}.log", "ab") as logfile:
            process = subprocess.Popen(
                [str(c) for c in cmd],
                stdout=logfile,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                # The child runs only a prctl() before exec: safe despite the caller's threads.
                preexec_fn=_die_with_parent if self.tied_to_parent else None,  # noqa: PLW1509
            )
        self.state.setdefault("pids", {})[label] = process.pid
        self.state.setdefault("commands", {})[label] = [str(c) for c in cmd]
        self._save()
        return process.pid

    def start_component(self, label: str) -> None:
        """(Re)start one component with the command it had, e.g. after ``stop_component``. etcd
        counts as back once the running API server is ready over it again (its /readyz checks
        etcd): the API server reconnects with a back-off, so it can lag etcd's own health."""
        env = dict(os.environ, **self.state.get("envs", {}).get(label, {}))
        self._spawn(label, self.state["commands"][label], env)
        self._wait_component(label)
        if label == "etcd" and "kube-apiserver" in self.state.get("pids", {}):
            self._wait_component("kube-apiserver")

    def stop_component(self, label: str) -> None:
        pid = self.state.get("pids", {}).pop(label, None)
        if pid:
            _terminate(pid)
        self._save()

    # the API server alone, as the engine's retry tests need it
    def start_apiserver(self) -> None:
        self.start_component("kube-apiserver")

    def stop_apiserver(self) -> None:
        self.stop_component("kube-apiserver")

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.dir / "pki" / "admin.crt"), str(self.dir / "pki" / "admin.key"))
        return context

    def api(self, path: str):
        """GET from the API server as the admin; the decoded JSON."""
        with urllib.request.urlopen(self.server + path, context=self._ssl_context(), timeout=5) as answer:
            return json.loads(answer.read())

    def _probe(self, label: str) -> tuple[bool, str]:
        """Is the component up? (ok, why not)."""
        try:
            if label == "containerd":
                ok = _run(["ctr", "--address", self.containerd_socket, "version"], check=False).returncode == 0
                return ok, "no answer on its socket"
            if label == "etcd":
                url = f"http://127.0.0.1:{self.state['etcd_port']}/health"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    return answer.status == 200, "unhealthy"
            if label == "kube-apiserver":
                with urllib.request.urlopen(self.server + "/readyz", context=self._ssl_context(), timeout=3) as answer:
                    return answer.status == 200, "not ready"
            ports = {"kubelet": "kubelet_healthz_port", "kube-proxy": "proxy_healthz_port"}
            if label in ports:
                url = f"http://127.0.0.1:{self.state[ports[label]]}/healthz"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    return answer.status == 200, "unhealthy"
            return True, ""
        except (urllib.error.URLError, OSError, ValueError) as error:
            return False, str(error)

    def _fail_if_exited(self, label: str) -> None:
        if not _pid_alive(self.state["pids"][label]):
            tail = (self.dir / "logs" / f"{label}.log").read_text(errors="replace").splitlines()[-15:]
            raise NodeError(f"{label} exited; last lines of its log:\n" + "\n".join(tail))

    def _wait_component(self, label: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        why = "no answer"
        while time.monotonic() < deadline:
            self._fail_if_exited(label)
            ok, why = self._probe(label)
            if ok:
                return
            time.sleep(0.25)
        raise NodeError(f"{label} not ready after {timeout:.0f}s ({why}); see {self.dir / 'logs' / (label + '.log')}")

    def running(self) -> bool:
        pids = self.state.get("pids", {})
        return bool(pids) and all(_pid_alive(pid) for pid in pids.values())

    # ----------------------------------------------------------------- start
    def start(self) -> LocalNode:
        if self.running():
            return self
        started = time.monotonic()
        artifacts = build_all()
        self._claim_machine()
        self.state = {"pids": {}, "commands": {}, "envs": {}, "kubectl": str(artifacts["kubernetes"] / "kubectl")}
        self.state["sysctls"] = _read_sysctls()
        self.state["had_var_log_containers"] = Path("/var/log/containers").exists()
        self.state["shared_mounts_before"] = _shared_mounts()
        self._save()
        if self.tied_to_parent:
            self._spawn_keeper()
        try:
            self._shared_root()
            self._host_network()
            self._certificates()
            self._start_containerd(artifacts)
            self._import_images(artifacts["images"])
            self._start_control_plane(artifacts["kubernetes"])
            self._start_node(artifacts["kubernetes"])
            self._wait_node_ready()
            self._cluster_dns(artifacts)
        except BaseException:
            self.stop()
            raise
        self.state["started_seconds"] = round(time.monotonic() - started, 1)
        self._save()
        log(f"node {NODE_NAME} Ready in {self.state['started_seconds']}s; API server {self.server}")
        return self

    def _spawn_keeper(self) -> None:
        """A process outside our group that stops the node when this one dies, even by SIGKILL."""
        tools = str(Path(__file__).parents[1])
        code = (
            f"import sys; sys.path.insert(0, {tools!r}); "
            f"from localnode.node import keep; keep({str(self.dir)!r}, {os.getpid()})"
        )
        logs = self.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "keeper.log", "ab") as logfile:
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdout=logfile,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _claim_machine(self) -> None:
        """One node per machine: stop a stale one left by a killed run, refuse a live one."""
        if MARKER.exists():
            other = Path(MARKER.read_text().strip())
            if other != self.dir and (other / "state.json").exists():
                node = LocalNode(other)
                if node.running():
                    raise NodeError(
                        f"a local node started from {other} is running; stop it first: "
                        f"python tools/local_node.py down {other}"
                    )
                log(f"cleaning up what a stopped node left behind ({other})")
                node.stop()
        self.dir.mkdir(parents=True, exist_ok=True)
        MARKER.write_text(str(self.dir))
        # Leftovers of a node whose state is gone (a deleted test folder).
        self._clean_host()

    def _shared_root(self) -> None:
        """/ rshared, as on systemd hosts, for hostPath volumes with HostToContainer propagation."""
        if "/" not in _shared_mounts():
            _run(["mount", "--make-rshared", "/"])
            self.state["made_root_shared"] = True
            self._save()

    def _host_network(self) -> None:
        """The bridge exists before the API server binds its address; egress is refused."""
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        _run(["ip", "addr", "add", f"{NODE_IP}/16", "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])
        _run(["iptables", "-w", "-N", EGRESS_CHAIN])
        _run(["iptables", "-w", "-A", EGRESS_CHAIN, "-s", LOCAL_RANGE, "-d", LOCAL_RANGE, "-j", "RETURN"])
        _run(["iptables", "-w", "-A", EGRESS_CHAIN, "-s", LOCAL_RANGE, "-j", "REJECT"])
        _run(["iptables", "-w", "-I", "FORWARD", "1", "-j", EGRESS_CHAIN])
        net = self.dir / "cni"
        (net / "net.d").mkdir(parents=True, exist_ok=True)
        conflist = {
            "cniVersion": "0.4.0",
            "name": "otel-node",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                        # Only Services are routed: any other destination is unreachable in a Pod.
                        "routes": [{"dst": SERVICE_CIDR}],
                        "dataDir": str(net / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }
        (net / "net.d" / "10-otel-node.conflist").write_text(json.dumps(conflist, indent=2))

    def _certificates(self) -> None:
        pki = self.pki
        pki.create_ca()
        pki.issue(
            "apiserver",
            "kube-apiserver",
            server_names=(
                NODE_IP,
                KUBERNETES_SERVICE_IP,
                "127.0.0.1",
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
            ),
            client=False,
        )
        pki.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters")
        pki.issue("kubelet-server", f"system:node:{NODE_NAME}", "system:nodes", (NODE_IP, NODE_NAME), client=False)
        identities = {
            "admin": (ADMIN_USER, "system:masters"),
            "user": (UNPRIVILEGED_USER, None),
            "controller-manager": ("system:kube-controller-manager", None),
            "scheduler": ("system:kube-scheduler", None),
            "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
            "kube-proxy": ("system:kube-proxy", None),
        }
        self.state["apiserver_port"] = _free_port(NODE_IP)
        for label, (user, group) in identities.items():
            cert, key = pki.issue(label, user, group)
            target = {"admin": self.admin_kubeconfig, "user": self.user_kubeconfig}.get(
                label, self.dir / f"{label}.kubeconfig"
            )
            pki.kubeconfig(target, self.server, user, cert, key)
        pki.service_account_keys()
        self._save()

    def _start_containerd(self, artifacts: dict) -> None:
        base = self.dir / "containerd"
        base.mkdir(parents=True, exist_ok=True)
        cri = '[plugins."io.containerd.grpc.v1.cri"]'
        config = f"""version = 2
root = "{base / "root"}"
state = "{base / "state"}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{self.containerd_socket}"
[ttrpc]
  address = "{base / "containerd.sock.ttrpc"}"
[metrics]
  address = ""
{cri}
  sandbox_image = "{artifacts["pause_image"]}"
  # This VM lacks CAP_SYS_RESOURCE: runc may not lower oom_score_adj (see the module docstring).
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false
{cri[:-1]}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
{cri[:-1]}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
{cri[:-1]}.containerd.runtimes.runc.options]
  SystemdCgroup = false
{cri[:-1]}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{self.dir / "cni" / "net.d"}"
"""
        (base / "config.toml").write_text(config)
        # Registry traffic goes to a proxy that refuses: a pull fails here, never dials out.
        proxy = {"HTTP_PROXY": REFUSING_PROXY, "HTTPS_PROXY": REFUSING_PROXY, "NO_PROXY": "", "no_proxy": ""}
        self.state["envs"]["containerd"] = proxy
        self._spawn("containerd", ["containerd", "--config", base / "config.toml"], dict(os.environ, **proxy))
        self._wait_component("containerd", 30)

    def _ctr(self, *args) -> subprocess.CompletedProcess:
        return _run(["ctr", "--address", self.containerd_socket, "--namespace", "k8s.io", *args])

    def _import_images(self, archives: dict) -> None:
        started = time.monotonic()
        for ref, archive in archives.items():
            self._ctr("images", "import", archive)
            log(f"image {ref} imported")
        log(f"{len(archives)} images imported in {time.monotonic() - started:.0f}s")

    def _start_control_plane(self, binaries: Path) -> None:
        pki = self.dir / "pki"
        self.state["etcd_port"] = _free_port("127.0.0.1")
        peer = _free_port("127.0.0.1")
        etcd_url = f"http://127.0.0.1:{self.state['etcd_port']}"
        self._spawn(
            "etcd",
            [
                binaries / "etcd",
                "--name",
                NODE_NAME,
                "--data-dir",
                self.dir / "etcd",
                "--listen-client-urls",
                etcd_url,
                "--advertise-client-urls",
                etcd_url,
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"{NODE_NAME}=http://127.0.0.1:{peer}",
                "--listen-metrics-urls",
                "",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        self._wait_component("etcd")
        apiserver = [
            binaries / "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--bind-address={NODE_IP}",
            f"--advertise-address={NODE_IP}",
            f"--secure-port={self.state['apiserver_port']}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalIP",
            f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
            f"--service-account-key-file={pki / 'service-account.pub'}",
            f"--service-account-signing-key-file={pki / 'service-account.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--profiling=false",
            "--v=1",
        ]
        if self.audit:
            policy = self.dir / "audit-policy.json"
            policy.write_text(
                json.dumps(
                    {
                        "apiVersion": "audit.k8s.io/v1",
                        "kind": "Policy",
                        "omitStages": ["RequestReceived"],
                        "rules": [{"level": "Metadata"}],
                    }
                )
            )
            apiserver += [
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-mode=blocking",
            ]
        self._spawn("kube-apiserver", apiserver)
        self._wait_component("kube-apiserver")
        self._spawn(
            "kube-controller-manager",
            [
                binaries / "kube-controller-manager",
                f"--kubeconfig={self.dir / 'controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={self.dir / 'controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={self.dir / 'controller-manager.kubeconfig'}",
                f"--service-account-private-key-file={pki / 'service-account.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--cluster-cidr={POD_CIDR}",
                "--use-service-account-credentials",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={_free_port('127.0.0.1')}",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                binaries / "kube-scheduler",
                f"--kubeconfig={self.dir / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={self.dir / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={self.dir / 'scheduler.kubeconfig'}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={_free_port('127.0.0.1')}",
                "--v=1",
            ],
        )

    def _start_node(self, binaries: Path) -> None:
        pki = self.dir / "pki"
        kubelet_dir = self.dir / "kubelet"
        kubelet_dir.mkdir(parents=True, exist_ok=True)
        # No upstream resolver: Pods resolve cluster names only (dnsPolicy Default gets nothing).
        resolv = self.dir / "resolv.conf"
        resolv.write_text("# no upstream resolver on the local node: outside names fail here\n")
        self.state["kubelet_healthz_port"] = _free_port("127.0.0.1")
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": NODE_IP,
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": self.state["kubelet_healthz_port"],
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "tlsCertFile": str(pki / "kubelet-server.crt"),
            "tlsPrivateKeyFile": str(pki / "kubelet-server.key"),
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "cgroupDriver": "cgroupfs",
            "failSwapOn": False,
            "failCgroupV1": False,
            "clusterDNS": [DNS_SERVICE_IP],
            "clusterDomain": CLUSTER_DOMAIN,
            "resolvConf": str(resolv),
            "podLogsDir": str(self.dir / "pod-logs"),
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "imageMinimumGCAge": "87600h",
            "protectKernelDefaults": False,
            "serializeImagePulls": False,
            "nodeStatusUpdateFrequency": "4s",
            "syncFrequency": "10s",
            "fileCheckFrequency": "10s",
            "shutdownGracePeriod": "0s",
        }
        (self.dir / "kubelet.json").write_text(json.dumps(config, indent=2))
        self._spawn(
            "kubelet",
            [
                binaries / "kubelet",
                f"--config={self.dir / 'kubelet.json'}",
                f"--kubeconfig={self.dir / 'kubelet.kubeconfig'}",
                f"--root-dir={kubelet_dir}",
                f"--cert-dir={pki}",
                f"--node-ip={NODE_IP}",
                f"--hostname-override={NODE_NAME}",
                "--v=1",
            ],
        )
        self.state["proxy_healthz_port"] = _free_port("127.0.0.1")
        proxy_config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "iptables",
            "clientConnection": {"kubeconfig": str(self.dir / "kube-proxy.kubeconfig")},
            "hostnameOverride": NODE_NAME,
            "clusterCIDR": POD_CIDR,
            "bindAddress": "127.0.0.1",
            "healthzBindAddress": f"127.0.0.1:{self.state['proxy_healthz_port']}",
            "metricsBindAddress": f"127.0.0.1:{_free_port('127.0.0.1')}",
            "nodePortAddresses": [f"{NODE_IP}/32"],
            # 0 leaves the host's conntrack settings alone.
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
            "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
        }
        (self.dir / "kube-proxy.json").write_text(json.dumps(proxy_config, indent=2))
        self._spawn("kube-proxy", [binaries / "kube-proxy", f"--config={self.dir / 'kube-proxy.json'}", "--v=1"])
        self._wait_component("kubelet")
        self._wait_component("kube-proxy")

    def _wait_node_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        why = "not registered"
        while time.monotonic() < deadline:
            for label in ("kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
                self._fail_if_exited(label)
            with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
                node = self.api(f"/api/v1/nodes/{NODE_NAME}")
                ready = [c for c in node["status"].get("conditions", []) if c["type"] == "Ready"]
                if ready and ready[0]["status"] == "True":
                    return
                why = ready[0].get("message", "not ready") if ready else "no Ready condition yet"
            time.sleep(0.5)
        raise NodeError(
            f"node {NODE_NAME} not Ready after {timeout:.0f}s: {why}; see {self.dir / 'logs' / 'kubelet.log'}"
        )

    def kubectl_run(self, *args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return _run(
            [self.kubectl, f"--kubeconfig={self.admin_kubeconfig}", *args],
            check=check,
            input=input_text,
        )

    def _cluster_dns(self, artifacts: dict) -> None:
        from .coredns import dns_objects

        objects = dns_objects(
            DNS_SERVICE_IP,
            CLUSTER_DOMAIN,
            pod_cidr=POD_CIDR,
            service_cidr=SERVICE_CIDR,
            image=artifacts["coredns_image"],
        )
        manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        for attempt in range(5):  # a freshly started API server on a loaded machine may time out once
            applied = self.kubectl_run(
                "apply", "--server-side", "--field-manager=otel-local-node", "-f", "-", input_text=manifest, check=False
            )
            if applied.returncode == 0:
                break
            if attempt == 4:
                raise NodeError(f"cluster DNS could not be applied: {applied.stderr.strip()}")
            time.sleep(2)
        self.kubectl_run("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=90s")

    # ----------------------------------------------------------------- stop
    def stop(self) -> None:
        """Stop everything and put the machine back as it was. Safe to run again."""
        for label in reversed(COMPONENTS):
            if label == "containerd":
                self._kill_pods()
            pid = self.state.get("pids", {}).pop(label, None)
            if pid:
                _terminate(pid)
        self._clean_host()
        sysctls = self.state.get("sysctls", {})
        for name, value in sysctls.items():
            with contextlib.suppress(OSError):
                if _sysctl_path(name).read_text().strip() != value:
                    _sysctl_path(name).write_text(value)
        if self.state.get("made_root_shared"):
            # Private again: all of them when all were (the VM's state), else / alone.
            everything = not self.state.get("shared_mounts_before")
            _run(["mount", "--make-rprivate" if everything else "--make-private", "/"], check=False)
        if self.state.get("had_var_log_containers") is False:
            shutil.rmtree("/var/log/containers", ignore_errors=True)
        for runtime in ("containerd", "kubelet", "etcd", "cni", "pod-logs"):
            shutil.rmtree(self.dir / runtime, ignore_errors=True)
        self.state = {k: v for k, v in self.state.items() if k in ("kubectl",)}
        if self.dir.exists():
            self._save()
        with contextlib.suppress(OSError):
            if MARKER.read_text().strip() == str(self.dir):
                MARKER.unlink()

    @staticmethod
    def _kill_pods() -> None:
        """Every container process (the kubepods cgroups); the shims go in ``_clean_host``."""
        pods = Path("/sys/fs/cgroup/pids/kubepods")
        for _round in range(3):
            pids = set()
            for procs in pods.rglob("cgroup.procs") if pods.exists() else []:
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in procs.read_text().split())
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if not pids:
                break
            time.sleep(0.2)

    def _clean_host(self) -> None:
        """What the node's components leave on the host, whether or not its state was saved."""
        # Shims of any local node (their socket paths name a containerd.sock of ours).
        for pid, argv in _processes():
            if (
                argv
                and argv[0].endswith("containerd-shim-runc-v2")
                and any(a.endswith("/containerd/containerd.sock") for a in argv)
            ):
                _terminate(pid, 2)
        for point in _mounts_under(str(self.dir), "/run/netns", "/var/run/netns"):
            _unmount(point)
        for netns in Path("/run/netns").glob("cni-*") if Path("/run/netns").exists() else []:
            with contextlib.suppress(OSError):
                netns.unlink()
        for controller in Path("/sys/fs/cgroup").iterdir():
            root = controller / "kubepods"
            if root.is_dir():
                for group in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if group.is_dir():
                        with contextlib.suppress(OSError):
                            group.rmdir()
                with contextlib.suppress(OSError):
                    root.rmdir()
        for binary in ("iptables", "ip6tables"):
            self._drop_chains(binary)
        if Path(f"/sys/class/net/{BRIDGE}").exists():
            _run(["ip", "link", "del", BRIDGE], check=False)
        for link in Path("/var/log/containers").glob("*.log") if Path("/var/log/containers").exists() else []:
            with contextlib.suppress(OSError):
                if str(self.dir) in os.readlink(link) or not link.exists():
                    link.unlink()

    @staticmethod
    def _drop_chains(binary: str) -> None:
        """Remove every KUBE-*, CNI-* and OTEL-* chain and every rule that names one."""
        saved = _run([f"{binary}-save"], check=False)
        if saved.returncode != 0 or not any(p in saved.stdout for p in OUR_CHAIN_PREFIXES):
            return
        kept = []
        for line in saved.stdout.splitlines():
            words = line.split()
            if _declares_our_chain(line):
                continue
            if (
                words
                and words[0] == "-A"
                and (
                    words[1].startswith(OUR_CHAIN_PREFIXES)
                    or any(w.startswith(OUR_CHAIN_PREFIXES) for w in words[2:] if not w.startswith('"'))
                )
            ):
                continue
            kept.append(line)
        _run([f"{binary}-restore", "-w"], check=False, input="\n".join(kept) + "\n")

    def __enter__(self) -> LocalNode:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def keep(state_dir: str, parent: int) -> None:
    """Wait for ``parent`` to die, then stop the node (a killed test run leaves nothing)."""
    while _pid_alive(parent):
        time.sleep(0.5)
    node = LocalNode(state_dir)
    if node.state.get("pids"):
        print(f"[local-node] the process that started the node ({parent}) is gone: stopping it", file=sys.stderr)
        node.stop()


def leftovers(node_dir: str | os.PathLike | None = None) -> list:
    """What a node could leave on the host (and in ``node_dir``, its state folder); empty after ``down``."""
    found = []
    for pid, argv in _processes():
        name = Path(argv[0]).name if argv else ""
        if name in {*COMPONENTS, "etcd", "coredns", "containerd-shim-runc-v2"} or name.startswith(
            ("otelcol", "manager")
        ):
            found.append(f"process {pid}: {' '.join(argv[:3])}")
    places = ["/run/netns", str(cache_root())] + ([str(Path(node_dir).resolve())] if node_dir else [])
    found += [f"mount {p}" for p in _mounts_under(*places)]
    if Path("/run/netns").exists():
        found += [f"netns {p.name}" for p in Path("/run/netns").glob("cni-*")]
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        found.append(f"bridge {BRIDGE}")
    for binary in ("iptables", "ip6tables"):
        saved = _run([f"{binary}-save"], check=False).stdout
        found += [f"{binary} chain {line[1:].split()[0]}" for line in saved.splitlines() if _declares_our_chain(line)]
    found += [f"cgroup {p}" for p in Path("/sys/fs/cgroup").glob("*/kubepods")]
    return found
