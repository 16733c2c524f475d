# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes the collector refuse a common component's settings, checked without a collector. Pure.

The facts are those of collector release 0.159.0 (``distributions.COLLECTOR_VERSION``):
the keys a component accepts (a key it does not know stops the collector: "has invalid
keys"), the fields it requires, the values some fields take, the certificate and key every
server TLS block needs, and the tail-sampling policy types. They are written by hand, not
generated, because the collection must run on controllers with no Go and no collector
binary, and a generated schema is a build output we do not ship. They are kept honest
instead by ``tests/integration/test_collector_validate.py``, which checks them against the
real collector built for the local node: the key lists against the defaults the binary
prints (``print-config``), the policy types against the processor's source in the Go module
cache, and every check here against what the collector's ``validate`` (or start) really
refuses. Only components whose every key is known are checked for unknown keys; the others
get their required fields checked.
"""

from __future__ import annotations

import re

_DURATION_RE = re.compile(r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$")

# (kind, current type) -> every key the component accepts.
KEYS = {
    ("receivers", "otlp"): frozenset({"protocols"}),
    ("processors", "batch"): frozenset(
        {"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"}
    ),
    ("processors", "memory_limiter"): frozenset(
        {
            "check_interval",
            "limit_mib",
            "spike_limit_mib",
            "limit_percentage",
            "spike_limit_percentage",
            "min_gc_interval_when_soft_limited",
            "min_gc_interval_when_hard_limited",
            "max_gc_interval_when_soft_limited",
            "max_gc_interval_when_hard_limited",
        }
    ),
    ("processors", "tail_sampling"): frozenset(
        {
            "decision_wait",
            "decision_wait_after_root_received",
            "num_traces",
            "num_shards",
            "expected_new_traces_per_sec",
            "policies",
            "decision_cache",
            "sample_on_first_match",
            "drop_pending_traces_on_shutdown",
            "maximum_trace_size_bytes",
            "block_on_overflow",
            "sampling_strategy",
            "tail_storage",
        }
    ),
    ("processors", "k8s_attributes"): frozenset(
        {
            "auth_type",
            "context",
            "passthrough",
            "extract",
            "filter",
            "pod_association",
            "exclude",
            "wait_for_metadata",
            "wait_for_metadata_timeout",
            "watch_sync_period",
            "pod_delete_grace_period",
            "kube_api_qps",
            "kube_api_burst",
        }
    ),
    ("exporters", "load_balancing"): frozenset(
        {"timeout", "retry_on_failure", "sending_queue", "protocol", "resolver", "routing_key", "routing_attributes"}
    ),
    ("exporters", "debug"): frozenset(
        {"verbosity", "sampling_initial", "sampling_thereafter", "use_internal_logger", "output_paths", "sending_queue"}
    ),
}
OTLP_PROTOCOLS = ("grpc", "http")
DEBUG_VERBOSITY = ("basic", "normal", "detailed")
LOAD_BALANCING_RESOLVERS = ("static", "dns", "k8s", "aws_cloud_map")
# The tail_sampling processor's policy types (PolicyType constants of its config.go).
POLICY_TYPES = frozenset(
    {
        "always_sample",
        "latency",
        "numeric_attribute",
        "probabilistic",
        "status_code",
        "string_attribute",
        "rate_limiting",
        "composite",
        "and",
        "not",
        "drop",
        "span_count",
        "trace_state",
        "boolean_attribute",
        "ottl_condition",
        "bytes_limiting",
        "trace_flags",
    }
)
# Policy types whose sub-policies sit under <type>.<key>.
SUB_POLICIES = {"and": "and_sub_policy", "composite": "composite_sub_policy", "drop": "drop_sub_policy"}

# (kind, current type) -> where its servers' TLS blocks are (configtls.ServerConfig). A server
# needs its certificate and its key: a block that sets only min_version, cipher_suites or
# client_ca_file (or nothing) is refused ("TLS configuration must include both certificate and
# key for server connections"), as is one with only the certificate or only the key. `tls: null`
# (or no `tls`) serves plain text.
SERVER_TLS = {
    ("receivers", "otlp"): ("protocols.grpc.tls", "protocols.http.tls"),
    ("receivers", "jaeger"): ("protocols.grpc.tls", "protocols.thrift_http.tls"),
    ("receivers", "zipkin"): ("tls",),
    ("receivers", "otelarrow"): ("protocols.grpc.tls",),
    ("exporters", "prometheus"): ("tls",),
    ("extensions", "health_check"): ("tls", "http.tls", "grpc.tls"),
    ("extensions", "zpages"): ("tls",),
    ("extensions", "http_forwarder"): ("ingress.tls",),
}
# The two ways to give each half of a server's key pair: a file, or the PEM text itself.
TLS_HALVES = {"certificate": ("cert_file", "cert_pem"), "key": ("key_file", "key_pem")}


def is_env(value) -> bool:
    """An environment reference (`${env:NAME}`), resolved only in the collector's container."""
    return isinstance(value, str) and "${" in value


def _missing(value) -> bool:
    return value is None or value in ("", [], {})


_DURATION_PART_RE = re.compile(r"([0-9]+(?:[.][0-9]+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def is_duration(value) -> bool:
    """A Go duration as the collector reads it (`200ms`, `1m30s`, `0`), or an env reference."""
    return is_env(value) or (isinstance(value, str) and bool(_DURATION_RE.match(value.strip())))


def duration_seconds(value, default: float) -> float:
    """A Go duration (`10s`, `1m30s`, `500ms`) in seconds; `default` when it is not one (or an env reference)."""
    text = value.strip() if isinstance(value, str) else ""
    parts = _DURATION_PART_RE.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return default
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


class _Checker:
    def __init__(self, where: str, settings: dict):
        self.where = where
        self.settings = settings
        self.errors = []

    def error(self, text: str) -> None:
        self.errors.append(f"{self.where}{text}")

    def unknown_keys(self, known: frozenset) -> None:
        unknown = sorted(k for k in self.settings if k not in known)
        if unknown:
            self.error(
                f': unknown key(s) {", ".join(unknown)}, which the collector refuses ("has invalid keys"); '
                f"this component takes {', '.join(sorted(known))}"
            )

    def required(self, keys: tuple, example: str) -> None:
        if all(_missing(self.settings.get(k)) for k in keys):
            which = keys[0] if len(keys) == 1 else f"one of {', '.join(keys)}"
            self.error(f": {which} is required and the collector refuses to start without it; set {example}")

    def duration(self, key: str) -> None:
        value = self.settings.get(key)
        if value is not None and not is_duration(value):
            self.error(f".{key}: {value!r} is not a duration; write a number with a unit, for example `5s` or `200ms`")

    def whole_number(self, key: str) -> None:
        value = self.settings.get(key)
        if value is None or is_env(value):
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(f".{key}: {value!r} is not a whole number of 0 or more")

    def server_tls(self, path: str) -> None:
        block = self.settings
        for step in path.split("."):
            block = block.get(step) if isinstance(block, dict) else None
        if block is None:
            return
        where = f"{self.where}.{path}"
        if not isinstance(block, dict):
            self.errors.append(f"{where}: expected a mapping with cert_file and key_file, got {block!r}")
            return
        given = {half: [k for k in keys if not _missing(block.get(k))] for half, keys in TLS_HALVES.items()}
        for half, keys in given.items():
            if len(keys) == 2:
                self.errors.append(
                    f"{where}: both {keys[0]} and {keys[1]} give the {half}, which the collector refuses; keep one"
                )
        if not given["certificate"] and not given["key"]:
            sets = ", ".join(sorted(block)) or "nothing"
            self.errors.append(
                f"{where}: a server's TLS block needs its certificate and key, and this one sets {sets}; the "
                'collector refuses it ("TLS configuration must include both certificate and key for server '
                'connections"). Add cert_file and key_file (for example from a mounted kubernetes.io/tls Secret: '
                "/etc/otelcol/tls/tls.crt and /etc/otelcol/tls/tls.key), or remove `tls` to serve without TLS"
            )
        elif not given["certificate"] or not given["key"]:
            has, lacks = ("certificate", "key") if given["certificate"] else ("key", "certificate")
            self.errors.append(
                f"{where}: {given[has][0]} gives the {has} but nothing gives the {lacks}; the collector refuses a "
                f"TLS block with only one of them. Add {' or '.join(TLS_HALVES[lacks])}"
            )

    def policies(self, policies, where: str, names: set) -> None:
        if not isinstance(policies, list):
            self.errors.append(f"{where}: expected a list of policies, got {type(policies).__name__}")
            return
        for index, policy in enumerate(policies):
            place = f"{where}[{index}]"
            if not isinstance(policy, dict):
                self.errors.append(f"{place}: expected a policy mapping with `name` and `type`, got {policy!r}")
                continue
            name, kind = policy.get("name"), policy.get("type")
            if _missing(name):
                self.errors.append(f"{place}.name: missing; the collector refuses a policy without a name")
            elif name in names:
                self.errors.append(f"{place}.name: `{name}` is used twice; the collector refuses duplicate names")
            names.add(name)
            if kind not in POLICY_TYPES:
                self.errors.append(
                    f"{place}.type: {kind!r} is not a tail-sampling policy type, and the collector refuses to "
                    f"start with it; use one of {', '.join(sorted(POLICY_TYPES))}"
                )
            elif kind in SUB_POLICIES and isinstance(policy.get(kind), dict):
                key = SUB_POLICIES[kind]
                self.policies(policy[kind].get(key, []), f"{place}.{kind}.{key}", set())


def check(kind: str, cid: str, current: str, settings: dict) -> list:
    """Errors (place, value, fix) for one component's settings; `current` is its current type name."""
    checker = _Checker(f"{kind}.{cid}", settings)
    known = KEYS.get((kind, current))
    if known:
        checker.unknown_keys(known)
    rules = _RULES.get((kind, current))
    if rules:
        rules(checker, settings)
    for path in SERVER_TLS.get((kind, current), ()):
        checker.server_tls(path)
    return checker.errors


def _otlp_receiver(c: _Checker, s: dict) -> None:
    protocols = s.get("protocols")
    if not isinstance(protocols, dict) or not any(p in protocols for p in OTLP_PROTOCOLS):
        c.error(
            ".protocols: the OTLP receiver needs at least one protocol, or the collector refuses to start; "
            "write `protocols: {grpc: {endpoint: 0.0.0.0:4317}, http: {endpoint: 0.0.0.0:4318}}`"
        )
        return
    unknown = sorted(p for p in protocols if p not in OTLP_PROTOCOLS)
    if unknown:
        c.error(f".protocols: unknown protocol(s) {', '.join(unknown)}; the OTLP receiver takes grpc and http")


def _batch(c: _Checker, s: dict) -> None:
    c.duration("timeout")
    for key in ("send_batch_size", "send_batch_max_size"):
        c.whole_number(key)
    size, most = s.get("send_batch_size"), s.get("send_batch_max_size")
    if isinstance(size, int) and isinstance(most, int) and most and most < size:
        c.error(
            f".send_batch_max_size: {most} is below send_batch_size ({size}), which the collector refuses; set it "
            f"to 0 (no maximum) or at least {size}"
        )


def _tail_sampling(c: _Checker, s: dict) -> None:
    c.duration("decision_wait")
    c.whole_number("num_traces")
    c.policies(s.get("policies", []), f"{c.where}.policies", set())


def _load_balancing(c: _Checker, s: dict) -> None:
    resolver = s.get("resolver")
    if not isinstance(resolver, dict) or not any(r in resolver for r in LOAD_BALANCING_RESOLVERS):
        c.error(
            f".resolver: missing; the collector refuses a load_balancing exporter without one of "
            f"{', '.join(LOAD_BALANCING_RESOLVERS)}; for a gateway Deployment write "
            f"`resolver: {{dns: {{hostname: <gateway>-collector-headless.<namespace>.svc.cluster.local}}}}`"
        )


def _debug(c: _Checker, s: dict) -> None:
    verbosity = s.get("verbosity")
    if verbosity is not None and not is_env(verbosity) and str(verbosity).lower() not in DEBUG_VERBOSITY:
        c.error(f".verbosity: {verbosity!r} is not a verbosity; use one of {', '.join(DEBUG_VERBOSITY)}")


def _requires(*keys: str, example: str):
    def rule(c: _Checker, s: dict) -> None:
        c.required(keys, example)

    return rule


_RULES = {
    ("receivers", "otlp"): _otlp_receiver,
    ("receivers", "host_metrics"): _requires("scrapers", example="`scrapers: {cpu: {}, memory: {}}`"),
    ("processors", "batch"): _batch,
    ("processors", "tail_sampling"): _tail_sampling,
    ("processors", "attributes"): _requires("actions", example="`actions: [{key: env, value: prod, action: upsert}]`"),
    ("processors", "resource"): _requires(
        "attributes", example="`attributes: [{key: env, value: prod, action: upsert}]`"
    ),
    ("exporters", "otlp_grpc"): _requires("endpoint", example="`endpoint: <host>:4317`"),
    ("exporters", "otlp_http"): _requires(
        "endpoint",
        "traces_endpoint",
        "metrics_endpoint",
        "logs_endpoint",
        "profiles_endpoint",
        example="`endpoint: http://<host>:4318`",
    ),
    ("exporters", "file"): _requires("path", example="`path: /var/lib/otelcol/out.jsonl`"),
    ("exporters", "load_balancing"): _load_balancing,
    ("exporters", "debug"): _debug,
    ("extensions", "bearertokenauth"): _requires(
        "token", "filename", "tokens", example="`filename: /var/run/secrets/token` (a mounted Secret)"
    ),
}
