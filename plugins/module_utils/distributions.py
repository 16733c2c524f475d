# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenTelemetry Collector distributions and their components: data, in one place.

The component lists are the opentelemetry-collector-releases manifests (distributions/otelcol,
otelcol-k8s and otelcol-contrib, manifest.yaml) at release v0.159.0, written here as component
TYPES, the names a collector configuration uses (``memory_limiter``, not
``memorylimiterprocessor``). Since 2026 the collector renames components to snake_case and
keeps the old name accepted as a deprecated alias (``otlp`` -> ``otlp_grpc``,
``k8sattributes`` -> ``k8s_attributes``): every spelling that is accepted is listed.

Each type and alias is the ``type:`` and ``deprecated_type:`` of the component's metadata.yaml
(or the alias its factory declares) at v0.159.0, read from the module zips the Go module
proxy serves and, for collector core, from the v0.159.0 tag. Where the proxy refuses the
v0.159.0 zip, SOURCES below says what was read instead (the nearest release it serves, or the
dated rename pull request). ``tests/integration/test_collector_validate.py`` holds every
component the local node's collector build has (whatever the proxy serves that day) to the
names that real binary accepts, both ways. To update for a new release: compare the three
manifests with the sets below, read each type again, move the version, and run the tests.
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

# Every deprecated spelling -> the current name, per kind. Only renamed components appear; a
# name that was never a type (``k8scluster``, ``k8sobserver``) is not accepted by any collector.
ALIASES = {
    "receivers": {
        "awscloudwatch": "aws_cloudwatch",
        "azureblob": "azure_blob",
        "azureeventhub": "azure_event_hub",
        "azuremonitor": "azure_monitor",
        "cloudfoundry": "cloud_foundry",
        "filelog": "file_log",
        "filestats": "file_stats",
        "flinkmetrics": "flink_metrics",
        "fluentforward": "fluent_forward",
        "hostmetrics": "host_metrics",
        "httpcheck": "http_check",
        "k8sobjects": "k8s_objects",
        "kafkametrics": "kafka_metrics",
        "kubeletstats": "kubelet_stats",
        "macosunifiedlogging": "macos_unified_logging",
        "mongodbatlas": "mongodb_atlas",
        "namedpipe": "named_pipe",
        "otlpjsonfile": "otlp_json_file",
        "prometheusremotewrite": "prometheus_remote_write",
        "sshcheck": "ssh_check",
        "tcpcheck": "tcp_check",
        "tcplog": "tcp_log",
        "tlscheck": "tls_check",
        "udplog": "udp_log",
        "webhookevent": "webhook_event",
        "windowseventlog": "windows_event_log",
        "windowsservice": "windows_service",
        "yanggrpc": "yang_grpc",
    },
    "processors": {
        "cumulativetodelta": "cumulative_to_delta",
        "deltatocumulative": "delta_to_cumulative",
        "deltatorate": "delta_to_rate",
        "k8sattributes": "k8s_attributes",
        "logdedup": "log_dedup",
        "metricstarttime": "metric_start_time",
        "metricstransform": "metrics_transform",
        "resourcedetection": "resource_detection",
    },
    "exporters": {
        "azureblob": "azure_blob",
        "bmchelix": "bmc_helix",
        "googlecloudstorage": "google_cloud_storage",
        "honeycombmarker": "honeycomb_marker",
        "loadbalancing": "load_balancing",
        "otlp": "otlp_grpc",
        "otlphttp": "otlp_http",
        "prometheusremotewrite": "prometheus_remote_write",
    },
    "connectors": {
        "otlpjson": "otlp_json",
        "servicegraph": "service_graph",
        "signaltometrics": "signal_to_metrics",
        "spanmetrics": "span_metrics",
    },
    "extensions": {
        "awslogs_encoding": "aws_logs_encoding",
        "azureauth": "azure_auth",
        "cgroupruntime": "cgroup_runtime",
    },
}

# SOURCES: components whose v0.159.0 metadata.yaml could not be read (the proxy refuses the
# zip), and what was read instead. "A and B" brackets the release with the same answer; a
# pull request is its rename, dated against the v0.159.0 tag (2026-08-18); "GitHub" is the
# stored copy of opentelemetry-collector-contrib, of unknown date. Every other component was
# read at v0.159.0.
#   v0.158.0 and v0.160.0/v0.161.0/v0.165.0: receiver jaeger journald zipkin awsxray carbon
#     influxdb splunk_hec awsecscontainermetrics; exporter awsemf splunk_hec zipkin awss3;
#     connector count signal_to_metrics; extension oauth2client.
#   v0.15[2-7].0 and v0.160.0/v0.161.0: receiver k8s_cluster kafka_metrics prometheus_simple
#     receiver_creator docker_stats podman_stats zookeeper redis collectd wavefront; exporter
#     logzio sumologic alibabacloud_logservice influxdb awskinesis signalfx; extension
#     k8s_observer host_observer ecs_observer.
#   v0.158.0: receiver aws_cloudwatch awss3 cloudflare datadog faro file_stats github gitlab
#     googlecloudpubsub nginx otlp_json_file solace systemd vcenter; exporter coralogix faro
#     googlecloudpubsub syslog; processor unroll; extension ack googleclientauth headers_setter
#     jaegerremotesampling opamp.
#   v0.157.0: receiver apache chrony memcached mysql otelarrow postgresql
#     prometheus_remote_write; exporter elasticsearch; connector exceptions routing.
#   v0.156.0: receiver awscontainerinsightreceiver elasticsearch k8s_objects webhook_event;
#     exporter awscloudwatchlogs, azuremonitor (v0.161.0 has azure_monitor with the alias
#     azuremonitor; when it came is not known); processor log_dedup; extension awsproxy.
#   v0.155.0: receiver expvar loki.
#   v0.152.0: receiver aerospike azure_event_hub azure_monitor cloud_foundry couchdb haproxy
#     http_check iis k8s_events mongodb oracledb pulsar rabbitmq snmp sqlquery
#     windows_event_log, windowsperfcounters (its rename PR #50342 is of 2026-08-18, after the
#     tag); exporter azure_blob azuredataexplorer cassandra google_cloud_storage
#     honeycomb_marker mezmo pulsar rabbitmq tencentcloud_logservice; connector datadog
#     failover; processor geoip; extension json_log_encoding k8s_leader_elector sumologic
#     text_encoding.
#   v0.148.0: receiver sqlserver stef; exporter stef; extension aws_logs_encoding
#     cgroup_runtime.
#   v0.146.0: receiver active_directory_ds apachespark ciscoos ntp saphana snowflake
#     splunkenterprise, mongodb_atlas (alias in its factory), purefa (rename PR #49127 closed
#     unmerged), icmpcheckreceiver (rename PR #50400 of 2026-08-20, after the tag); connector
#     sum; extension docker_observer googlecloudlogentry_encoding http_forwarder.
#   Rename pull requests merged months before the tag: receiver azure_blob (#46721),
#     macos_unified_logging (#46729), yang_grpc (#46723), tcp_check (#47507), ssh_check
#     (#47515), tls_check (#47516), windows_service (#47967), flink_metrics (#47929); exporter
#     bmc_helix (#47961); connector otlp_json (#48019, and the v0.165.0 zip).
#   GitHub metadata.yaml: receiver awsfirehose awslambda envoyals googlecloudmonitoring
#     googlecloudspanner libhoney named_pipe netflow nsxt pprof purefb riak skywalking;
#     exporter dataset doris logicmonitor opensearch otelarrow tinybird; processor
#     cardinality_guardian coralogix drain isolationforest remotetap sumologic; connector
#     grafanacloud roundrobin; extension asapclient aws_iam_dbauth azure_auth azure_encoding
#     awscloudwatchmetricstreams_encoding datadog db_storage jaeger_encoding pebble_tail_storage
#     redis_storage skywalking_encoding.
#   Elsewhere: receiver obi (go.opentelemetry.io/obi v0.10.0, its collector factory);
#     processor gen_ai_normalizer (added 2026-04 as genainormalizer; configs of 2026 use
#     gen_ai_normalizer; no alias known); extension zipkin_encoding (collector core's list of
#     component types, the extension's README).


def _names(text: str) -> frozenset:
    return frozenset(text.split())


# ---------------------------------------------------------------- core: otelcol
_CORE = {
    "receivers": _names("host_metrics jaeger kafka nop otlp prometheus zipkin"),
    "processors": _names("attributes batch filter memory_limiter probabilistic_sampler resource span"),
    "exporters": _names("debug file kafka nop otlp_grpc otlp_http prometheus prometheus_remote_write zipkin"),
    "connectors": _names("forward"),
    "extensions": _names("health_check pprof zpages"),
}

# ---------------------------------------------------------------- k8s: otelcol-k8s
_K8S = {
    "receivers": _names(
        "file_log fluent_forward host_metrics http_check jaeger journald k8s_cluster k8s_events k8s_objects "
        "kubelet_stats otelarrow otlp prometheus receiver_creator zipkin"
    ),
    "processors": _names(
        "attributes batch cumulative_to_delta delta_to_cumulative delta_to_rate drain filter groupbyattrs "
        "groupbytrace interval k8s_attributes log_dedup memory_limiter metrics_transform metricsgeneration "
        "probabilistic_sampler redaction remotetap resource resource_detection tail_sampling transform"
    ),
    # No prometheus and no prometheus_remote_write exporter in otelcol-k8s.
    "exporters": _names("debug file load_balancing nop otelarrow otlp_grpc otlp_http"),
    "connectors": _names("count exceptions failover forward otlp_json roundrobin routing service_graph span_metrics"),
    "extensions": _names(
        "ack basicauth bearertokenauth cgroup_runtime file_storage headers_setter health_check host_observer "
        "http_forwarder k8s_leader_elector k8s_observer oauth2client oidc opamp pprof zpages"
    ),
}

# ---------------------------------------------------------------- contrib: otelcol-contrib
# Everything of core and k8s, plus the components below.
_CONTRIB_EXTRA = {
    "receivers": _names(
        "active_directory_ds aerospike apache apachespark aws_cloudwatch awscontainerinsightreceiver "
        "awsecscontainermetrics awsfirehose awslambda awss3 awsxray azure_blob azure_event_hub azure_monitor "
        "carbon chrony ciscoos cloud_foundry cloudflare collectd couchdb datadog docker_stats elasticsearch "
        "envoyals expvar faro file_stats flink_metrics github gitlab googlecloudmonitoring googlecloudpubsub "
        "googlecloudspanner haproxy icmpcheckreceiver iis influxdb kafka_metrics libhoney loki "
        "macos_unified_logging memcached mongodb mongodb_atlas mysql named_pipe netflow nginx nsxt ntp obi "
        "oracledb otlp_json_file podman_stats postgresql pprof prometheus_remote_write prometheus_simple pulsar "
        "purefa purefb rabbitmq redis riak saphana skywalking snmp snowflake solace splunk_hec splunkenterprise "
        "sqlquery sqlserver ssh_check statsd stef syslog systemd tcp_check tcp_log tls_check udp_log vcenter "
        "wavefront webhook_event windows_event_log windows_service windowsperfcounters yang_grpc zookeeper"
    ),
    "processors": _names(
        "cardinality_guardian coralogix gen_ai_normalizer geoip isolationforest metric_start_time schema "
        "sumologic unroll"
    ),
    "exporters": _names(
        "alibabacloud_logservice awscloudwatchlogs awsemf awskinesis awss3 awsxray azure_blob azuredataexplorer "
        "azuremonitor bmc_helix cassandra clickhouse coralogix datadog dataset doris elasticsearch faro "
        "google_cloud_storage googlecloud googlecloudpubsub googlemanagedprometheus honeycomb_marker influxdb "
        "logicmonitor logzio mezmo opensearch pulsar rabbitmq sentry signalfx splunk_hec stef sumologic syslog "
        "tencentcloud_logservice tinybird"
    ),
    "connectors": _names("datadog grafanacloud signal_to_metrics sum"),
    "extensions": _names(
        "asapclient aws_iam_dbauth aws_logs_encoding awscloudwatchmetricstreams_encoding awsproxy azure_auth "
        "azure_encoding datadog db_storage docker_observer ecs_observer googleclientauth "
        "googlecloudlogentry_encoding jaeger_encoding jaegerremotesampling json_log_encoding otlp_encoding "
        "pebble_tail_storage redis_storage sigv4auth skywalking_encoding sumologic text_encoding zipkin_encoding"
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
    ("processors", "spanmetrics"): "the spanmetrics processor was removed; use the `span_metrics` connector",
    ("processors", "servicegraph"): "the servicegraph processor was removed; use the `service_graph` connector",
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
