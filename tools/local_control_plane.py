"""A real, local Kubernetes control plane for tests and for users without a cluster.

kube-apiserver and kube-controller-manager 1.20.2 are built from Debian 12's own
``kubernetes`` source package (the newest Debian release that ships the full tree)
and cached outside the checkout; etcd comes from Debian's ``etcd-server``. There is
no scheduler, kubelet or container runtime: Pods never start, so workloads never
become ready by themselves.

Usage::

    python tools/local_control_plane.py build             # build and cache the binaries
    python tools/local_control_plane.py up   DIR          # start; kubeconfigs land in DIR
    python tools/local_control_plane.py down DIR          # stop everything started in DIR
    python tools/local_control_plane.py env  DIR          # print `export KUBECONFIG=...`

``up`` writes ``DIR/admin.kubeconfig`` (group system:masters) and
``DIR/user.kubeconfig`` (an authenticated user with no permissions, for RBAC tests).

The apt configuration of the machine is never edited: source package look-ups use a
private sources folder under the cache through apt's ``Dir::Etc::*`` options.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import fcntl
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

K8S_VERSION = "1.20.2"
DEBIAN_SOURCE_VERSION = "1.20.5+really1.20.2-1.1+deb12u1"
# Kubernetes 1.20 vendors reflect2 1.0.1, whose map iteration crashes the API server
# (SIGSEGV in UnsafeIterate, seen when serving custom resources) once built with Go >= 1.18.
# Debian's reflect2 1.0.2 has the fix and replaces the vendored copy before the build.
REFLECT2_PACKAGE = "golang-github-modern-go-reflect2-dev"
REFLECT2_SOURCE = Path("/usr/share/gocode/src/github.com/modern-go/reflect2")
BUILD_PACKAGES = ("golang-go", "rsync", "jq", "etcd-server", REFLECT2_PACKAGE)
BUILD_REVISION = 2  # bump when the build recipe changes: cached binaries are rebuilt
ETCD_BINARY = "/usr/bin/etcd"
BINARIES = ("kube-apiserver", "kube-controller-manager")
ADMIN_USER = "otel-admin"
UNPRIVILEGED_USER = "otel-unprivileged"
START_TIMEOUT = 60.0


def cache_dir() -> Path:
    base = os.environ.get("OTEL_K8S_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "otel-kubernetes"
    )
    return Path(base) / f"kubernetes-{K8S_VERSION}-r{BUILD_REVISION}"


def log(message: str) -> None:
    print(f"[local-control-plane] {message}", file=sys.stderr, flush=True)


class ControlPlaneError(RuntimeError):
    """Raised with a message a person can act on."""


# --------------------------------------------------------------------------- build
def _run(cmd, **kwargs):
    log("$ " + " ".join(str(c) for c in cmd))
    result = subprocess.run(cmd, check=False, **kwargs)
    if result.returncode != 0:
        raise ControlPlaneError(f"command failed ({result.returncode}): {' '.join(map(str, cmd))}")
    return result


def _as_root(cmd):
    if os.geteuid() == 0:
        return list(cmd)
    if shutil.which("sudo"):
        return ["sudo", "-n", *cmd]
    raise ControlPlaneError("installing Debian packages needs root or sudo: " + " ".join(cmd))


def _missing_packages(packages) -> list[str]:
    missing = []
    for package in packages:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in probe.stdout:
            missing.append(package)
    return missing


def install_build_packages() -> None:
    missing = _missing_packages(BUILD_PACKAGES)
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(_as_root(["apt-get", "update", "-qq"]), env=env)
    _run(_as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]), env=env)


def _bookworm_source_entry() -> tuple[str, str]:
    """URIs and Signed-By of the machine's bookworm entry, reused for deb-src."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for stanza in sources.read_text().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.lstrip().startswith("#"):
                    key, value = line.split(":", 1)
                    fields[key.strip()] = value.strip()
            if "bookworm" in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"], fields.get("Signed-By", "/usr/share/keyrings/debian-archive-keyring.gpg")
    return "http://deb.debian.org/debian", "/usr/share/keyrings/debian-archive-keyring.gpg"


def fetch_source(work: Path) -> Path:
    """Download and unpack Debian's kubernetes source package; return the tree."""
    tree = work / f"kubernetes-{K8S_VERSION}"
    if (tree / "Makefile").exists():
        return tree
    apt_dir = work / "apt"
    parts = apt_dir / "sources.list.d"
    lists = apt_dir / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    parts.mkdir(parents=True, exist_ok=True)
    uris, signed_by = _bookworm_source_entry()
    (parts / "bookworm-src.sources").write_text(
        f"Types: deb-src\nURIs: {uris}\nSuites: bookworm\nComponents: main\nSigned-By: {signed_by}\n"
    )
    apt_options = [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={parts}",
        "-o",
        f"Dir::State::Lists={lists}",
    ]
    _run(["apt-get", *apt_options, "update", "-qq"])
    downloads = work / "download"
    downloads.mkdir(exist_ok=True)
    _run(
        ["apt-get", *apt_options, "source", "--download-only", f"kubernetes={DEBIAN_SOURCE_VERSION}"],
        cwd=downloads,
    )
    origs = sorted(downloads.glob("kubernetes_*.orig.tar.*"))
    if not origs:
        raise ControlPlaneError(f"no .orig tarball was downloaded into {downloads}")
    log(f"unpacking {origs[0].name}")
    with tarfile.open(origs[0]) as archive:
        archive.extractall(work, filter="tar") if hasattr(tarfile, "data_filter") else archive.extractall(work)
    if not (tree / "Makefile").exists():
        raise ControlPlaneError(f"{origs[0].name} did not unpack to {tree}")
    return tree


def compile_binaries(tree: Path) -> None:
    """Build the way Debian's debian/rules does: GOPATH mode, through the Makefile."""
    vendored = tree / "vendor" / "github.com" / "modern-go" / "reflect2"
    if not REFLECT2_SOURCE.is_dir():
        raise ControlPlaneError(f"{REFLECT2_SOURCE} is missing: apt-get install {REFLECT2_PACKAGE}")
    shutil.rmtree(vendored)
    shutil.copytree(REFLECT2_SOURCE, vendored)
    gopath = tree / ".go"
    link = gopath / "src" / "k8s.io" / "kubernetes"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../../..")
    shutil.rmtree(tree / "_output", ignore_errors=True)
    env = dict(
        os.environ,
        GOPATH=str(gopath),
        CGO_ENABLED="0",
        GO111MODULE="off",
        GOFLAGS="",
        # The tarball is no git checkout: give the version its build stamps would read.
        KUBE_GIT_VERSION=f"v{K8S_VERSION}",
        KUBE_GIT_MAJOR=K8S_VERSION.split(".", maxsplit=1)[0],
        KUBE_GIT_MINOR=K8S_VERSION.split(".")[1],
        KUBE_GIT_TREE_STATE="clean",
        KUBE_GIT_COMMIT="debian-" + DEBIAN_SOURCE_VERSION,
    )
    _run(["make", f"WHAT={' '.join('cmd/' + b for b in BINARIES)}"], cwd=link, env=env)


def build() -> Path:
    """Return the folder holding the cached binaries, building them once."""
    target = cache_dir() / "bin"
    if all((target / b).exists() for b in BINARIES) and Path(ETCD_BINARY).exists():
        return target
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second caller waits for the first build
        if all((target / b).exists() for b in BINARIES) and Path(ETCD_BINARY).exists():
            return target
        started = time.monotonic()
        install_build_packages()
        if not all((target / b).exists() for b in BINARIES):
            work = cache_dir() / "src"
            work.mkdir(parents=True, exist_ok=True)
            tree = fetch_source(work)
            compile_binaries(tree)
            staging = cache_dir() / "bin.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for binary in BINARIES:
                built = next((tree / "_output").rglob(binary), None)
                if built is None:
                    raise ControlPlaneError(f"the build produced no {binary} under {tree / '_output'}")
                shutil.copy2(built, staging / binary)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
            # The unpacked tree is 1+ GB; the binaries are all that is needed again.
            shutil.rmtree(tree, ignore_errors=True)
        log(f"binaries ready in {target} after {time.monotonic() - started:.0f}s")
    return target


# --------------------------------------------------------------------------- certificates
def _pki(directory: Path) -> dict[str, Path]:
    """Create a CA, a serving certificate and client certificates; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=365)

    def write_key(key, path: Path) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)

    def name(common_name: str, organization: str | None = None):
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organization:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        return x509.Name(attributes)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("otel-kubernetes-local-ca"))
        .issuer_name(name("otel-kubernetes-local-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": directory / "ca.crt"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def leaf(label: str, subject, usage, sans=None) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(later)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        paths[label + "_cert"] = directory / f"{label}.crt"
        paths[label + "_key"] = directory / f"{label}.key"
        paths[label + "_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, paths[label + "_key"])

    leaf(
        "apiserver",
        name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
        ],
    )
    leaf("admin", name(ADMIN_USER, "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH)
    leaf("user", name(UNPRIVILEGED_USER), ExtendedKeyUsageOID.CLIENT_AUTH)
    leaf("controller-manager", name("system:kube-controller-manager"), ExtendedKeyUsageOID.CLIENT_AUTH)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    paths["sa_key"] = directory / "service-account.key"
    write_key(sa_key, paths["sa_key"])
    paths["sa_pub"] = directory / "service-account.pub"
    paths["sa_pub"].write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return paths


def _kubeconfig(path: Path, server: str, ca: Path, cert: Path, key: Path, user: str) -> None:
    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "otel-local", "cluster": {"server": server, "certificate-authority-data": b64(ca)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}}],
        "contexts": [{"name": f"{user}@otel-local", "context": {"cluster": "otel-local", "user": user}}],
        "current-context": f"{user}@otel-local",
        "preferences": {},
    }
    # JSON is YAML: no PyYAML needed to write it.
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGKILL when the parent dies."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    with contextlib.suppress(ChildProcessError):
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _terminate(pid: int, timeout: float = 15.0) -> None:
    """Stop a process group started by us: TERM, then KILL after the timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)


class LocalControlPlane:
    """etcd + kube-apiserver + kube-controller-manager on free loopback ports.

    The state (PIDs, ports) is written to ``DIR/state.json`` so that another process
    (``down``) can stop what ``up`` started.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike,
        controller_manager: bool = True,
        audit: bool = False,
        tied_to_parent: bool = False,
    ):
        self.dir = Path(state_dir).resolve()
        # Tests tie the processes to their own life: a killed test run leaves nothing behind.
        self.tied_to_parent = tied_to_parent
        self.controller_manager = controller_manager
        self.audit = audit  # log every request (metadata only) to DIR/audit.log, to count them
        self.state: dict = {}
        state_file = self.dir / "state.json"
        if state_file.exists():
            self.state = json.loads(state_file.read_text())

    # paths users need
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
        return f"https://127.0.0.1:{self.state['apiserver_port']}"

    def _save(self) -> None:
        (self.dir / "state.json").write_text(json.dumps(self.state, indent=2))

    def _spawn(self, label: str, cmd: list[str]) -> int:
        logfile = open(self.dir / f"{label}.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            cmd,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # The child runs only a prctl() before exec: safe despite the caller's threads.
            preexec_fn=_die_with_parent if self.tied_to_parent else None,  # noqa: PLW1509
        )
        logfile.close()
        self.state.setdefault("pids", {})[label] = process.pid
        self._save()
        return process.pid

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.dir / "pki" / "ca.crt"))
        context.load_cert_chain(str(self.dir / "pki" / "admin.crt"), str(self.dir / "pki" / "admin.key"))
        return context

    def _wait_healthy(self, label: str, url: str, context, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            pid = self.state["pids"][label]
            if not _pid_alive(pid):
                raise ControlPlaneError(f"{label} exited at start; see {self.dir / (label + '.log')}")
            try:
                with urllib.request.urlopen(url, context=context, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.2)
        raise ControlPlaneError(f"{label} not healthy after {timeout:.0f}s ({last}); see {self.dir / (label + '.log')}")

    def start(self) -> LocalControlPlane:
        if self.running():
            return self
        binaries = build()
        self.dir.mkdir(parents=True, exist_ok=True)
        pki = _pki(self.dir / "pki")
        self.state = {
            "etcd_port": free_port(),
            "etcd_peer_port": free_port(),
            "apiserver_port": free_port(),
            "pids": {},
        }
        self._save()
        etcd_url = f"http://127.0.0.1:{self.state['etcd_port']}"
        shutil.rmtree(self.dir / "etcd", ignore_errors=True)
        self._spawn(
            "etcd",
            [
                ETCD_BINARY,
                "--data-dir",
                str(self.dir / "etcd"),
                "--listen-client-urls",
                etcd_url,
                "--advertise-client-urls",
                etcd_url,
                "--listen-peer-urls",
                f"http://127.0.0.1:{self.state['etcd_peer_port']}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{self.state['etcd_peer_port']}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{self.state['etcd_peer_port']}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        self._wait_healthy("etcd", etcd_url + "/health", None)
        self.state["apiserver_cmd"] = [
            str(binaries / "kube-apiserver"),
            "--etcd-servers",
            etcd_url,
            "--secure-port",
            str(self.state["apiserver_port"]),
            "--bind-address",
            "127.0.0.1",
            "--advertise-address",
            "127.0.0.1",
            "--tls-cert-file",
            str(pki["apiserver_cert"]),
            "--tls-private-key-file",
            str(pki["apiserver_key"]),
            "--client-ca-file",
            str(pki["ca"]),
            "--service-account-issuer",
            "https://kubernetes.default.svc",
            "--service-account-key-file",
            str(pki["sa_pub"]),
            "--service-account-signing-key-file",
            str(pki["sa_key"]),
            "--authorization-mode",
            "RBAC",
            "--service-cluster-ip-range",
            "10.0.0.0/24",
            "--profiling=false",
            "--v",
            "1",
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
            self.state["apiserver_cmd"] += [
                "--audit-policy-file",
                str(policy),
                "--audit-log-path",
                str(self.audit_log),
                "--audit-log-mode",
                "blocking",
            ]
        self._save()
        self.start_apiserver()
        _kubeconfig(self.admin_kubeconfig, self.server, pki["ca"], pki["admin_cert"], pki["admin_key"], ADMIN_USER)
        _kubeconfig(self.user_kubeconfig, self.server, pki["ca"], pki["user_cert"], pki["user_key"], UNPRIVILEGED_USER)
        if self.controller_manager:
            kcm_config = self.dir / "controller-manager.kubeconfig"
            _kubeconfig(
                kcm_config,
                self.server,
                pki["ca"],
                pki["controller-manager_cert"],
                pki["controller-manager_key"],
                "system:kube-controller-manager",
            )
            self._spawn(
                "kube-controller-manager",
                [
                    str(binaries / "kube-controller-manager"),
                    "--kubeconfig",
                    str(kcm_config),
                    "--authentication-kubeconfig",
                    str(kcm_config),
                    "--authorization-kubeconfig",
                    str(kcm_config),
                    "--service-account-private-key-file",
                    str(pki["sa_key"]),
                    "--root-ca-file",
                    str(pki["ca"]),
                    "--use-service-account-credentials",
                    "--leader-elect=false",
                    "--secure-port=0",
                    "--port=0",
                    "--v",
                    "1",
                ],
            )
        return self

    def start_apiserver(self) -> None:
        """(Re)start only the API server, on the same port, e.g. after `stop_apiserver`."""
        self._spawn("kube-apiserver", self.state["apiserver_cmd"])
        self._wait_healthy("kube-apiserver", self.server + "/readyz", self._ssl_context())

    def stop_apiserver(self) -> None:
        pid = self.state.get("pids", {}).pop("kube-apiserver", None)
        if pid:
            _terminate(pid)
        self._save()

    def running(self) -> bool:
        pids = self.state.get("pids", {})
        return bool(pids) and all(_pid_alive(pid) for pid in pids.values())

    def stop(self) -> None:
        # Reverse order of start: the controller-manager and API server before etcd.
        for label in ("kube-controller-manager", "kube-apiserver", "etcd"):
            pid = self.state.get("pids", {}).pop(label, None)
            if pid:
                _terminate(pid)
        if self.dir.exists():
            self._save()
            shutil.rmtree(self.dir / "etcd", ignore_errors=True)

    def __enter__(self) -> LocalControlPlane:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build and cache kube-apiserver and kube-controller-manager")
    for command, text in (("up", "start"), ("down", "stop"), ("env", "print shell exports for")):
        cmd = sub.add_parser(command, help=f"{text} the control plane whose state lives in DIR")
        cmd.add_argument("dir", nargs="?", default=os.environ.get("OTEL_K8S_DIR", ".local-control-plane"))
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build())
        elif args.command == "up":
            plane = LocalControlPlane(args.dir).start()
            log(f"API server {plane.server}; admin kubeconfig {plane.admin_kubeconfig}")
            print(f"export KUBECONFIG={plane.admin_kubeconfig}")
        elif args.command == "down":
            LocalControlPlane(args.dir).stop()
        elif args.command == "env":
            print(f"export KUBECONFIG={LocalControlPlane(args.dir).admin_kubeconfig}")
    except ControlPlaneError as error:
        log(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
