# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenTelemetry Collector distributions and their components: data, in one place.

Read from the opentelemetry-collector-releases manifests (distributions/otelcol,
otelcol-k8s and otelcol-contrib, manifest.yaml) at release v0.159.0, and written here as
component TYPES, the names a collector configuration uses (``memory_limiter``, not
``memorylimiterprocessor``). Since 2026 the collector renames components to snake_case
and keeps the old name accepted as a deprecated alias (``otlp`` -> ``otlp_grpc``,
``k8sattributes`` -> ``k8s_attributes``): every spelling that is accepted is listed.

The names and aliases of every component the local node's collector build has (39 of
otelcol-k8s, plus two exporters) are checked against what that real binary accepts by
``tests/integration/test_collector_validate.py``. To update for a new release: compare the
three manifests with the sets below, move the version, and run the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

COLLECTOR_VERSION = "0.159.0"
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
SINGULAR = {
    "receivers": "receiver",
    "processors": "processor",
    "exporters": "exporter",
    "connectors": "connector",
    "extensions": "extension",
}
GHCR = "ghcr.io/open-telemetry/opentelemetry-collector-releases"

# Every accepted spelling -> the current name, per kind. Only renamed components appear.
ALIASES = {
    "receivers": {
        "hostmetrics": "host_metrics",
        "filelog": "file_log",
        "fluentforward": "fluent_forward",
        "httpcheck": "http_check",
        "k8sobjects": "k8s_objects",
        "kubeletstats": "kubelet_stats",
        "sshcheck": "ssh_check",
        "cloudfoundry": "cloud_foundry",
        "flinkmetrics": "flink_metrics",
        "tcplog": "tcp_log",
        "udplog": "udp_log",
    },
    "processors": {
        "k8sattributes": "k8s_attributes",
        "resourcedetection": "resource_detection",
        "cumulativetodelta": "cumulative_to_delta",
        "deltatocumulative": "delta_to_cumulative",
        "deltatorate": "delta_to_rate",
        "metricstransform": "metrics_transform",
    },
    "exporters": {
        "otlp": "otlp_grpc",
        "otlphttp": "otlp_http",
        "loadbalancing": "load_balancing",
        "prometheusremotewrite": "prometheus_remote_write",
    },
    "connectors": {"spanmetrics": "span_metrics", "servicegraph": "service_graph"},
    "extensions": {},
}


def _names(text: str) -> frozenset:
    return frozenset(text.split())


# ---------------------------------------------------------------- core: otelcol
_CORE = {
    "receivers": _names("nop otlp host_metrics jaeger kafka prometheus zipkin"),
    "processors": _names("batch memory_limiter attributes resource span probabilistic_sampler filter"),
    "exporters": _names("debug nop otlp_grpc otlp_http file kafka prometheus prometheus_remote_write zipkin"),
    "connectors": _names("forward"),
    "extensions": _names("zpages health_check pprof"),
}

# ---------------------------------------------------------------- k8s: otelcol-k8s
_K8S = {
    "receivers": _names(
        "otlp file_log fluent_forward host_metrics http_check jaeger journald k8s_cluster k8s_events "
        "k8s_objects kubelet_stats otelarrow prometheus receiver_creator zipkin"
    ),
    "processors": _names(
        "batch memory_limiter attributes cumulative_to_delta delta_to_cumulative delta_to_rate drain filter "
        "groupbyattrs groupbytrace interval k8s_attributes logdedup metricsgeneration "
        "metrics_transform probabilistic_sampler redaction remotetap resource_detection resource "
        "tail_sampling transform"
    ),
    # No prometheus and no prometheusremotewrite exporter in otelcol-k8s.
    "exporters": _names("debug nop otlp_grpc otlp_http file load_balancing otelarrow"),
    "connectors": _names("forward count exceptions failover otlpjson roundrobin routing service_graph span_metrics"),
    "extensions": _names(
        "zpages ack basicauth bearertokenauth cgroupruntime headers_setter health_check http_forwarder "
        "oauth2client host_observer k8s_observer oidc opamp pprof file_storage k8s_leader_elector"
    ),
}

# ---------------------------------------------------------------- contrib: otelcol-contrib
# Everything of core and k8s, plus the components below.
_CONTRIB_EXTRA = {
    "receivers": _names(
        "nop obi active_directory_ds aerospike apache apachespark awscloudwatch awscontainerinsightreceiver "
        "awsecscontainermetrics awsfirehose awslambda awss3 awsxray azureblob azureeventhub azuremonitor "
        "carbon chrony ciscoos cloudflare cloud_foundry collectd couchdb datadog docker_stats elasticsearch "
        "envoyals expvar faro filestats flink_metrics github gitlab googlecloudmonitoring googlecloudpubsub "
        "googlecloudspanner haproxy icmpcheck influxdb iis kafka kafkametrics libhoney loki "
        "macosunifiedlogging memcached mongodbatlas mongodb mysql namedpipe netflow nginx nsxt ntp oracledb "
        "otlpjsonfile podman_stats postgresql pprof prometheusremotewrite purefa purefb pulsar rabbitmq "
        "redis riak saphana prometheus_simple skywalking snowflake solace splunkenterprise splunk_hec stef "
        "sqlquery sqlserver ssh_check statsd syslog systemd tcpcheck tcp_log tlscheck udp_log vcenter "
        "wavefront snmp webhookevent windowseventlog windowsperfcounters windowsservice yanggrpc zookeeper"
    ),
    "processors": _names(
        "coralogix gen_ai_normalizer geoip isolationforest metricstarttime schema span sumologic unroll "
        "cardinality_guardian"
    ),
    "exporters": _names(
        "alibabacloud_logservice awscloudwatchlogs awsemf awskinesis awsxray awss3 azureblob "
        "azuredataexplorer azuremonitor bmchelix cassandra clickhouse coralogix datadog dataset doris "
        "elasticsearch faro googlecloud googlecloudpubsub googlecloudstorage googlemanagedprometheus "
        "honeycombmarker influxdb kafka logicmonitor logzio mezmo opensearch prometheus prometheus_remote_write "
        "pulsar rabbitmq sentry signalfx splunk_hec stef sumologic syslog tencentcloud_logservice tinybird "
        "zipkin"
    ),
    "connectors": _names("datadog grafanacloud sum signaltometrics"),
    "extensions": _names(
        "asapclient aws_iam_dbauth awsproxy azureauth datadog awscloudwatchmetricstreams_encoding "
        "awslogs_encoding azure_encoding googlecloudlogentry_encoding jaeger_encoding json_log_encoding "
        "otlp_encoding skywalking_encoding text_encoding zipkin_encoding googleclientauth jaegerremotesampling "
        "docker_observer ecs_observer sigv4auth db_storage redis_storage pebble_tail_storage sumologic"
    ),
}
_CONTRIB = {kind: _CORE[kind] | _K8S[kind] | _CONTRIB_EXTRA[kind] for kind in KINDS}

# Components a configuration may still name but that no current distribution has:
# (kind, type) -> what to use instead.
REMOVED = {
    ("exporters", "loki"): (
        "the loki exporter was removed from the contrib distribution in v0.131.0 (deprecated since July 2024). "
        "Loki 3 takes OTLP natively: use an `otlphttp` exporter with endpoint `http://<loki>:3100/otlp` "
        "(for example `exporters: {otlphttp/loki: {endpoint: http://loki:3100/otlp}}`)"
    ),
    ("exporters", "logging"): "the logging exporter was removed in v0.111.0: use the `debug` exporter",
    ("exporters", "jaeger"): (
        "the jaeger exporter was removed in v0.85.0; Jaeger takes OTLP: use an `otlp` exporter to the "
        "Jaeger collector's port 4317"
    ),
    ("exporters", "jaeger_thrift"): "the jaeger_thrift exporter was removed; use an `otlp` exporter to Jaeger",
    ("exporters", "opencensus"): "the opencensus exporter was removed; use `otlp`",
    ("receivers", "opencensus"): "the opencensus receiver was removed; use `otlp`",
    ("exporters", "sapm"): "the sapm exporter was removed; use `otlp_http`",
    ("receivers", "sapm"): "the sapm receiver was removed from contrib in v0.133.0; use `otlp`",
    ("receivers", "jmx"): "the jmx receiver was removed from the contrib distribution in v0.154.0",
    ("receivers", "signalfx"): "the signalfx receiver was removed from the contrib distribution in v0.157.0",
    ("extensions", "kafkatopics_observer"): "the kafkatopics_observer extension was removed from contrib in v0.159.0",
    ("extensions", "memory_ballast"): (
        "the memory_ballast extension was removed; set the GOMEMLIMIT environment variable instead "
        "(otel.kubernetes.collector sets it from the memory limit)"
    ),
    ("processors", "routing"): "the routing processor was removed; use the `routing` connector",
    ("processors", "spanmetrics"): "the spanmetrics processor was removed; use the `spanmetrics` connector",
    ("processors", "servicegraph"): "the servicegraph processor was removed; use the `servicegraph` connector",
    ("processors", "experimental_metricsgeneration"): (
        "the processor is now `metricsgeneration`; collectors since v0.159.0 refuse the `experimental_` name"
    ),
}

# Components that handle only some signals: in `otelcol components` the others' stability is
# "Undefined", and the collector refuses a pipeline of another signal with them ("telemetry
# type is not supported"). Current names; every other component takes traces, metrics and logs.
SIGNALS_OF = {
    ("receivers", "file_log"): ("logs",),
    ("receivers", "fluent_forward"): ("logs",),
    ("receivers", "journald"): ("logs",),
    ("receivers", "k8s_cluster"): ("logs", "metrics"),
    ("receivers", "k8s_events"): ("logs",),
    ("receivers", "k8s_objects"): ("logs",),
    ("receivers", "host_metrics"): ("logs", "metrics"),
    ("receivers", "kubelet_stats"): ("metrics",),
    ("receivers", "prometheus"): ("metrics",),
    ("receivers", "jaeger"): ("traces",),
    ("receivers", "zipkin"): ("traces",),
    ("processors", "cumulative_to_delta"): ("metrics",),
    ("processors", "delta_to_cumulative"): ("metrics",),
    ("processors", "delta_to_rate"): ("metrics",),
    ("processors", "interval"): ("metrics",),
    ("processors", "metrics_transform"): ("metrics",),
    ("processors", "metricsgeneration"): ("metrics",),
    ("processors", "groupbytrace"): ("traces",),
    ("processors", "tail_sampling"): ("traces",),
    ("processors", "probabilistic_sampler"): ("logs", "traces"),
    ("exporters", "prometheus"): ("metrics",),
    ("exporters", "prometheus_remote_write"): ("metrics",),
    ("exporters", "zipkin"): ("traces",),
}

# A way out, per component missing from a distribution, besides a larger image.
HINTS = {
    ("exporters", "prometheus"): (
        "to stay on otelcol-k8s, push metrics with an `otlphttp` exporter to Prometheus' OTLP endpoint "
        "(http://<prometheus>:9090/api/v1/otlp, Prometheus started with --web.enable-otlp-receiver)"
    ),
    ("processors", "tail_sampling"): "tail sampling belongs in the gateway, whose image must be k8s or contrib",
    ("processors", "k8s_attributes"): "k8sattributes needs the k8s or contrib image",
}


@dataclass(frozen=True)
class Distribution:
    name: str  # core, k8s, contrib
    binary: str  # otelcol, otelcol-k8s, otelcol-contrib
    image_name: str  # last path segment of the image repository
    components: dict  # kind -> frozenset of current type names

    @property
    def images(self) -> tuple:
        """The repositories this distribution is published to."""
        return (f"{GHCR}/{self.image_name}", f"otel/{self.image_name}")

    def image(self, version: str | None = None) -> str:
        return f"{GHCR}/{self.image_name}:{version or COLLECTOR_VERSION}"

    def has(self, kind: str, type_name: str) -> bool:
        return canonical(kind, type_name) in self.components[kind]


# Smallest first: the lint picks the first one that has every component.
DISTRIBUTIONS = {
    "core": Distribution("core", "otelcol", "opentelemetry-collector", _CORE),
    "k8s": Distribution("k8s", "otelcol-k8s", "opentelemetry-collector-k8s", _K8S),
    "contrib": Distribution("contrib", "otelcol-contrib", "opentelemetry-collector-contrib", _CONTRIB),
}
ORDER = ("core", "k8s", "contrib")
_BY_IMAGE_NAME = {d.image_name: d.name for d in DISTRIBUTIONS.values()}
_BY_IMAGE_NAME.update({d.binary: d.name for d in DISTRIBUTIONS.values()})


def canonical(kind: str, type_name: str) -> str:
    """The current name of a component type (aliases resolved)."""
    return ALIASES.get(kind, {}).get(type_name, type_name)


def squash(type_name: str) -> str:
    """A spelling-insensitive key: the snake_case renames only add underscores."""
    return type_name.replace("_", "").lower()


def spellings(kind: str, current: str) -> list:
    """Every accepted spelling of a component, current name first."""
    return [current] + sorted(old for old, new in ALIASES.get(kind, {}).items() if new == current)


def similar(kind: str, type_name: str, distribution: str) -> str | None:
    """A known component of this distribution spelled the same except for underscores."""
    key = squash(type_name)
    for name in sorted(DISTRIBUTIONS[distribution].components[kind]):
        if any(squash(s) == key for s in spellings(kind, name)):
            return name
    return None


def distributions_with(kind: str, type_name: str) -> list:
    return [name for name in ORDER if DISTRIBUTIONS[name].has(kind, type_name)]


def image_repository(image: str) -> str:
    """'registry/path/name:tag@sha256:...' -> 'registry/path/name'."""
    image = image.split("@", 1)[0]
    last_slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > last_slash:
        image = image[:colon]
    return image


def image_tag(image: str) -> str | None:
    image = image.split("@", 1)[0]
    colon = image.rfind(":")
    return image[colon + 1 :] if colon > image.rfind("/") else None


def distribution_of_image(image: str) -> str | None:
    """core, k8s or contrib from an image's repository name (mirrors included), else None."""
    name = image_repository(image).rsplit("/", 1)[-1]
    return _BY_IMAGE_NAME.get(name)
