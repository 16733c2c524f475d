"""OpenTelemetry Collector binaries and images, built here with the Collector Builder (OCB).

Release 0.159.0: OCB ``go.opentelemetry.io/collector/cmd/builder`` v0.159.0, core component
modules v0.159.0 (their v1 dependencies resolve to v1.65.0; the confmap providers are pinned
there), contrib modules v0.159.0. The module lists below are our own, written from the
releases manifests (distributions/otelcol-k8s, otelcol-contrib) at tag v0.159.0. Module paths
keep the old names (``kubeletstatsreceiver``); the TYPES are snake_case, and the binaries
list each component once, by its new name (``components``) while ``validate`` also accepts
the old one. Beware names that differ from a plain underscore insertion or from our
distributions.py: ``load_balancing``, ``span_metrics``, ``prometheus_remote_write``,
``cumulative_to_delta``, ``delta_to_cumulative``, ``delta_to_rate``, ``metrics_transform``,
and ``metricsgeneration`` (no ``experimental_`` name is accepted).

* ``otelcol-k8s``: the otelcol-k8s component list (69 components), build tag ``grpcnotrace``,
  ``-s -w``, CGO off, as upstream. The Go module proxy here serves only part of contrib
  v0.159.0, and which part changes from day to day (404, 403 "not available", or no
  checksum): absent modules are dropped and ``missing`` carries go's error for each; the
  tests hold whatever is built to the collection's tables. At a cold build of 2026-08 29 were
  absent, so the binary had 40 components: receivers k8s_cluster, k8s_events, k8s_objects,
  receiver_creator, http_check, journald, jaeger, zipkin, otelarrow; processors drain,
  log_dedup, remotetap; exporter otelarrow; connectors routing, count, exceptions, failover,
  otlp_json, roundrobin (service_graph, span_metrics and forward are there); extensions
  basicauth (its internal module is refused), opamp, k8s_observer, host_observer,
  k8s_leader_elector, headers_setter, oauth2client, http_forwarder, cgroup_runtime, ack.
* ``otelcol-contrib``: the same plus the prometheus and prometheus_remote_write exporters
  (neither is in the real otelcol-k8s); NOT the ~240 components of the real contrib.
* ``telemetrygen``: the proxy refuses the v0.159.0 zip (403), so the first served of
  TELEMETRYGEN_VERSIONS is installed (v0.160.0) and its image is tagged with that version.

Images as the upstream Dockerfiles make them (FROM scratch + CA bundle, user 10001:10001,
the binary at /<name> as ENTRYPOINT). The upstream contrib image also has ``CMD --config
/etc/otelcol-contrib/config.yaml``; images.py clears CMD, so a pod must pass ``--config``,
as the operator and the Helm chart do. telemetrygen images are tagged with the contrib git
tag, ``v`` included (``.../telemetrygen:v0.160.0``).

Cold build on 2 cores shared with a Kubernetes build: OCB install 43 s; k8s: proxy check
and downloads ~2 min, compile 29 min; contrib (sharing the build cache) 1 min; telemetrygen
1 min; images ~10 s each. A cached call takes ~0.1 s.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .gobuild import BuildError, cache_root, cached_outputs, go_env, log, run_logged
from .images import build_image, image_archive

VERSION = "0.159.0"
STABLE = "1.65.0"  # confmap providers: the v1 modules released with 0.159.0
# The cluster collector's build (role otel_cluster): the newest release at which the proxy serves
# k8s_cluster, k8s_events and k8s_objects (none of the three at 0.153.0-0.160.0).
CLUSTER_VERSION = "0.152.0"
CLUSTER_STABLE = "1.58.0"
BUILD_REVISION = 1  # bump when the recipe changes: the cached outputs are rebuilt
CORE = "go.opentelemetry.io/collector"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
GHCR = "ghcr.io/open-telemetry"
IMAGES = {
    "k8s": f"{GHCR}/opentelemetry-collector-releases/opentelemetry-collector-k8s:{VERSION}",
    "contrib": f"{GHCR}/opentelemetry-collector-releases/opentelemetry-collector-contrib:{VERSION}",
    # Tagged as the collection renders the k8s image at that version (otel_cluster_collector_version).
    "cluster": f"{GHCR}/opentelemetry-collector-releases/opentelemetry-collector-k8s:{CLUSTER_VERSION}",
}
TELEMETRYGEN_IMAGE = GHCR + "/opentelemetry-collector-contrib/telemetrygen:v{version}"  # the git tag, v included
TELEMETRYGEN_VERSIONS = (VERSION, "0.160.0", "0.157.0")  # the proxy serves no v0.159.0 zip (403)
USER = "10001:10001"  # USER_UID/USER_GID of the upstream Dockerfiles

# Module paths, "core/..." or "contrib/...", per kind: the otelcol-k8s component set.
K8S_MODULES = {
    "receivers": """core/receiver/otlpreceiver contrib/receiver/filelogreceiver
        contrib/receiver/fluentforwardreceiver contrib/receiver/hostmetricsreceiver
        contrib/receiver/httpcheckreceiver contrib/receiver/jaegerreceiver contrib/receiver/journaldreceiver
        contrib/receiver/k8sclusterreceiver contrib/receiver/k8seventsreceiver contrib/receiver/k8sobjectsreceiver
        contrib/receiver/kubeletstatsreceiver contrib/receiver/otelarrowreceiver contrib/receiver/prometheusreceiver
        contrib/receiver/receivercreator contrib/receiver/zipkinreceiver""",
    "processors": """core/processor/batchprocessor core/processor/memorylimiterprocessor
        contrib/processor/attributesprocessor contrib/processor/cumulativetodeltaprocessor
        contrib/processor/deltatocumulativeprocessor contrib/processor/deltatorateprocessor
        contrib/processor/drainprocessor contrib/processor/filterprocessor contrib/processor/groupbyattrsprocessor
        contrib/processor/groupbytraceprocessor contrib/processor/intervalprocessor
        contrib/processor/k8sattributesprocessor contrib/processor/logdedupprocessor
        contrib/processor/metricsgenerationprocessor contrib/processor/metricstransformprocessor
        contrib/processor/probabilisticsamplerprocessor contrib/processor/redactionprocessor
        contrib/processor/remotetapprocessor contrib/processor/resourcedetectionprocessor
        contrib/processor/resourceprocessor contrib/processor/tailsamplingprocessor
        contrib/processor/transformprocessor""",
    "exporters": """core/exporter/debugexporter core/exporter/nopexporter core/exporter/otlpexporter
        core/exporter/otlphttpexporter contrib/exporter/fileexporter contrib/exporter/loadbalancingexporter
        contrib/exporter/otelarrowexporter""",
    "connectors": """core/connector/forwardconnector contrib/connector/countconnector
        contrib/connector/exceptionsconnector contrib/connector/failoverconnector contrib/connector/otlpjsonconnector
        contrib/connector/roundrobinconnector contrib/connector/routingconnector
        contrib/connector/servicegraphconnector contrib/connector/spanmetricsconnector""",
    "extensions": """core/extension/zpagesextension contrib/extension/ackextension
        contrib/extension/basicauthextension contrib/extension/bearertokenauthextension
        contrib/extension/cgroupruntimeextension contrib/extension/headerssetterextension
        contrib/extension/healthcheckextension contrib/extension/httpforwarderextension
        contrib/extension/oauth2clientauthextension contrib/extension/observer/hostobserver
        contrib/extension/observer/k8sobserver contrib/extension/oidcauthextension contrib/extension/opampextension
        contrib/extension/pprofextension contrib/extension/storage/filestorage contrib/extension/k8sleaderelector""",
}
CONTRIB_EXTRA = {"exporters": "contrib/exporter/prometheusexporter contrib/exporter/prometheusremotewriteexporter"}
# The cluster collector: what the cluster preset renders (and k8s_events, as cheap), nothing more.
CLUSTER_MODULES = {
    "receivers": """contrib/receiver/k8sclusterreceiver contrib/receiver/k8seventsreceiver
        contrib/receiver/k8sobjectsreceiver""",
    "processors": """core/processor/batchprocessor core/processor/memorylimiterprocessor
        contrib/processor/resourceprocessor""",
    "exporters": "core/exporter/debugexporter core/exporter/otlpexporter",
    "extensions": "contrib/extension/healthcheckextension",
}
PROVIDERS = "envprovider fileprovider httpprovider httpsprovider yamlprovider"


@dataclass(frozen=True)
class Release:
    """A collector release: its component modules' version and the v1 modules (confmap providers) of it."""

    version: str
    stable: str


RELEASE = Release(VERSION, STABLE)
CLUSTER_RELEASE = Release(CLUSTER_VERSION, CLUSTER_STABLE)


def _modules(spec: dict, version: str = VERSION) -> dict:
    """{kind: ["full/module/path vX.Y.Z", ...]} from the short lists above."""
    prefix = {"core": CORE, "contrib": CONTRIB}
    out = {}
    for kind, text in spec.items():
        out[kind] = [f"{prefix[m.split('/', 1)[0]]}/{m.split('/', 1)[1]} v{version}" for m in text.split()]
    return out


def distribution_modules() -> dict:
    """{"k8s": {kind: [gomod]}, "contrib": {kind: [gomod]}}."""
    k8s = _modules(K8S_MODULES)
    contrib = {kind: k8s[kind] + _modules(CONTRIB_EXTRA).get(kind, []) for kind in k8s}
    return {"k8s": k8s, "contrib": contrib}


def _digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


def _bin_dir(name: str, version: str = VERSION) -> Path:
    return cache_root() / "bin" / f"collector-v{version}-r{BUILD_REVISION}" / name


def _absent(modules: list, env: dict, logfile: Path) -> dict:
    """Ask the proxy for every module at once (downloading them): {module: go's error} for the absent."""
    answer = subprocess.run(
        ["go", "mod", "download", "-json", *(m.replace(" ", "@") for m in modules)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=cache_root(),
    )
    with open(logfile, "a") as out:
        out.write(answer.stdout + answer.stderr)
    decoder, text, index, errors = json.JSONDecoder(), answer.stdout.strip(), 0, {}
    while index < len(text):
        item, index = decoder.raw_decode(text, index)
        errors[f"{item['Path']} {item.get('Version', '')}"] = item.get("Error")
        index = len(text) - len(text[index:].lstrip())
    return {m: errors.get(m, "not answered by go mod download") for m in modules if errors.get(m, "?")}


def _install(step: str, package: str, version: str, gobin: Path, logfile: Path, times: dict) -> None:
    cmd = ["go", "install", "-ldflags=-s -w", f"{package}@v{version}"]
    times[step] = run_logged(step, cmd, logfile, env=_proxy_env() | {"GOBIN": str(gobin)})


def _ocb(version: str = VERSION) -> Path:
    """The Collector Builder of the release whose components it builds (its generated code follows its core)."""

    def build(staging: Path) -> None:
        times = {}
        _install(f"ocb v{version}: go install", f"{CORE}/cmd/builder", version, staging, staging / "build.log", times)
        (staging / "build.json").write_text(json.dumps({"seconds": times}))

    return cached_outputs(_bin_dir("ocb", version), ("builder", "build.json"), build) / "builder"


def _proxy_env() -> dict:
    """go_env() without the ``direct`` fallback: there is no network but the proxy, and its
    answer ("404 Not Found") says more than a failed ``git ls-remote``."""
    configured = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True, check=True).stdout.strip()
    proxies = [p for p in re.split(r"[,|]", configured) if p and p not in ("direct", "off")]
    return go_env(GOPROXY=",".join(proxies) or configured)


def _unresolved(text: str, modules: list) -> dict:
    """{component gomod: error} from ``go mod tidy -e`` import chains ("go: X imports / pkg ...: error")."""
    found, lines = {}, text.splitlines()
    for index, line in enumerate(lines):
        if not re.match(r"^go: \S+ imports$", line) or index + 1 >= len(lines):
            continue
        package = lines[index + 1].strip().split(" ")[0].rstrip(":")
        chain = []
        for follow in lines[index + 1 :]:
            if not follow.startswith("\t"):
                break
            chain.append(follow.strip())
        owner = next((m for m in modules if package == m.split()[0] or package.startswith(m.split()[0] + "/")), None)
        # A chain through a dependency's tests ("X tested by") is not in the binary: the component stays.
        if owner and not any(link.endswith(" tested by") for link in chain):
            found.setdefault(owner, " ".join(chain[1:] or chain))
    return found


def _only_tests_unresolved(text: str) -> bool:
    """Every import chain ``go mod tidy -e`` could not resolve goes through a dependency's tests
    ("X tested by X.test imports ..."): what the binary compiles is all there. Seen at 0.152.0, where
    the proxy refuses test helpers (service/telemetry/telemetrytest, extension/zpagesextension)."""
    chains = [index for index, line in enumerate(text.splitlines()) if re.match(r"^go: \S+ imports$", line)]
    lines = text.splitlines()
    for index in chains:
        chain = []
        for follow in lines[index + 1 :]:
            if not follow.startswith("\t"):
                break
            chain.append(follow)
        if not any(line.rstrip().endswith(" tested by") for line in chain):
            return False
    return bool(chains)


def _manifest(binary: str, work: Path, modules: dict, release: Release = RELEASE) -> dict:
    return {
        "dist": {
            "module": f"otelk8s.local/{binary}",
            "name": binary,
            "description": f"{binary} {release.version} built by otel.kubernetes' local node",
            "version": release.version,
            "output_path": str(work / "src"),
            "build_tags": "grpcnotrace",
        },
        **{kind: [{"gomod": m} for m in mods] for kind, mods in modules.items() if mods},
        "providers": [{"gomod": f"{CORE}/confmap/provider/{p} v{release.stable}"} for p in PROVIDERS.split()],
    }


def _collector(name: str, modules: dict, release: Release = RELEASE, binary: str = "") -> Path:
    """Build otelcol-<name> (or ``binary``) of ``release`` from ``modules``; its folder holds the binary
    and build.json.

    A component whose module, or a module it imports, the proxy does not serve is dropped
    (and named in build.json's ``missing``): the proxy is asked for the component modules
    first, then ``go mod tidy -e`` names the import chains it could not resolve.
    """
    binary = binary or f"otelcol-{name}"
    target = _bin_dir(f"{name}-{_digest(modules)}", release.version)

    def build(staging: Path) -> None:
        ocb, env, times = _ocb(release.version), _proxy_env(), {}
        work = cache_root() / "build" / f"collector-v{release.version}" / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        logfile = staging / "build.log"
        started = time.monotonic()
        everything = [m for kind in modules.values() for m in kind]
        missing = _absent(everything, env, logfile)
        times[f"{name}: ask the proxy"] = time.monotonic() - started
        started = time.monotonic()
        for attempt in range(1, 6):
            kept = {kind: [m for m in mods if m not in missing] for kind, mods in modules.items()}
            (work / "manifest.yaml").write_text(yaml.safe_dump(_manifest(binary, work, kept, release), sort_keys=False))
            try:
                run_logged(
                    f"{name}: generate sources and resolve modules (ocb, pass {attempt})",
                    [ocb, "--config", work / "manifest.yaml", "--skip-compilation"],
                    logfile,
                    cwd=work,
                    env=env,
                )
                break
            except BuildError:
                pass  # go mod tidy failed: its -e form names every import chain the proxy cannot serve
            tidy = subprocess.run(
                ["go", "mod", "tidy", "-e"], cwd=work / "src", env=env, capture_output=True, text=True, check=False
            )
            with open(logfile, "a") as out:
                out.write(tidy.stdout + tidy.stderr)
            broken = _unresolved(tidy.stderr, everything)
            if not broken and _only_tests_unresolved(tidy.stderr):
                log(f"{name}: only tests of dependencies need modules the proxy refuses; build with tidy -e's go.mod")
                break
            if not broken:
                raise BuildError(f"{name}: go mod tidy failed for no missing module; see {logfile}")
            for module, error in broken.items():
                log(f"{name}: dropping {module}: {error}")
            missing.update(broken)
        else:
            raise BuildError(f"{name}: modules still unresolved after 5 passes; see {logfile}")
        times[f"{name}: generate and resolve (ocb, go mod tidy)"] = time.monotonic() - started
        times[f"{name}: compile"] = run_logged(
            f"{name}: compile {binary} (cold: many minutes on 2 cores)",
            ["go", "build", "-ldflags=-s -w", "-tags", "grpcnotrace", "-o", staging / binary, "."],
            logfile,
            cwd=work / "src",
            env=env,
        )
        listing = subprocess.run([staging / binary, "components"], capture_output=True, text=True, check=True).stdout
        parsed = yaml.safe_load(listing)
        components = {kind: sorted(c["name"] for c in parsed.get(kind) or []) for kind in modules}
        (staging / "build.json").write_text(
            json.dumps(
                {
                    "components": components,
                    "missing": [{"module": m, "error": e} for m, e in missing.items()],
                    "seconds": times,
                },
                indent=1,
            )
        )

    return cached_outputs(target, (binary, "build.json"), build)


def _telemetrygen() -> Path:
    """telemetrygen at the first version of TELEMETRYGEN_VERSIONS that the proxy serves whole."""

    def build(staging: Path) -> None:
        times, skipped = {}, []
        for version in TELEMETRYGEN_VERSIONS:
            try:
                step = f"telemetrygen v{version}: go install"
                _install(step, f"{CONTRIB}/cmd/telemetrygen", version, staging, staging / "build.log", times)
                break
            except BuildError as error:
                lines = str(error).splitlines()
                reason = [line for line in lines if line.startswith("go: ") and "downloading" not in line]
                skipped.append({"module": f"{CONTRIB}/cmd/telemetrygen v{version}", "error": (reason or [""])[-1]})
                log(f"telemetrygen v{version}: not served, trying the next version")
        else:
            raise BuildError(f"no telemetrygen version served: {skipped}")
        (staging / "build.json").write_text(json.dumps({"version": version, "missing": skipped, "seconds": times}))

    return cached_outputs(_bin_dir("telemetrygen"), ("telemetrygen", "build.json"), build)


def _image(ref: str, binary: Path) -> Path:
    """The image of ``binary`` as the upstream Dockerfiles make it: FROM scratch, the CA bundle,
    the binary at /<name> as entrypoint, user 10001. A stamp beside the (never changing) binary
    spares hashing it again on every call."""
    entrypoint, stamp = [f"/{binary.name}"], binary.parent / "image.json"
    archive = image_archive(ref)
    if stamp.exists() and archive.exists() and json.loads(stamp.read_text()) == [ref, USER, archive.stat().st_mtime_ns]:
        return archive
    archive = build_image(ref, {entrypoint[0]: binary, str(CA_BUNDLE): CA_BUNDLE}, entrypoint=entrypoint, user=USER)
    stamp.write_text(json.dumps([ref, USER, archive.stat().st_mtime_ns]))
    return archive


def build_collectors() -> dict:
    """Build (once) otelcol-k8s, otelcol-contrib, telemetrygen and their images.

    ``missing``: [{module, error, builds}] for every module left out because the proxy does
    not serve it (or a module it needs); ``seconds``: the cold-build time of each step.
    """
    result = {"binaries": {}, "images": {}, "components": {}, "missing": [], "seconds": {}}
    missing = {}
    folders = {name: _collector(name, mods) for name, mods in distribution_modules().items()}
    # The cluster collector: an otelcol-k8s of CLUSTER_VERSION with CLUSTER_MODULES only.
    cluster_modules = _modules(CLUSTER_MODULES, CLUSTER_VERSION)
    folders["cluster"] = _collector("cluster", cluster_modules, CLUSTER_RELEASE, binary="otelcol-k8s")
    folders["telemetrygen"] = _telemetrygen()
    binaries = {"telemetrygen": "telemetrygen", "cluster": "otelcol-k8s"}
    builders = {"ocb": _ocb().parent, "ocb-cluster": _ocb(CLUSTER_VERSION).parent}
    for name, folder in {**builders, **folders}.items():
        facts = json.loads((folder / "build.json").read_text())
        result["seconds"].update({step: round(took, 1) for step, took in facts["seconds"].items()})
        for item in facts.get("missing", ()):
            missing.setdefault(item["module"], dict(item, builds=[]))["builds"].append(name)
    result["missing"] = list(missing.values())
    for name, folder in folders.items():
        binary = folder / binaries.get(name, f"otelcol-{name}")
        facts = json.loads((folder / "build.json").read_text())
        ref = TELEMETRYGEN_IMAGE.format(version=facts["version"]) if name == "telemetrygen" else IMAGES[name]
        started = time.monotonic()
        result["images"][ref] = _image(ref, binary)
        result["binaries"][name] = binary
        if "components" in facts:
            result["components"][name] = facts["components"]
        if time.monotonic() - started > 1:
            result["seconds"][f"image {name}"] = round(time.monotonic() - started, 1)
    return result
