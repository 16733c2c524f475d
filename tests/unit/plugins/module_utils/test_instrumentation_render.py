"""instrumentation_render: the Instrumentation, the injection annotations, and each seed mistake caught."""

from __future__ import annotations

import pytest

from ansible_collections.otel.kubernetes.plugins.module_utils.instrumentation import _render as render
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

P = "instrumentation.opentelemetry.io/"


def params(**options) -> dict:
    """Module-style options with the module's defaults."""
    base = {
        "name": "default",
        "namespace": "observability",
        "propagators": ["tracecontext", "baggage"],
        "agent_grpc_port": 4317,
        "agent_http_port": 4318,
        "namespaces": [],
        "workloads": [],
        "field_manager": "otel.kubernetes",
        "annotation_field_manager": "otel.kubernetes-instrumentation",
    }
    base.update(options)
    return base


def env_of(block: dict) -> dict:
    return {v["name"]: v.get("value", v.get("valueFrom")) for v in block.get("env", [])}


# ---------------------------------------------------------------- the seed, mistake by mistake

SEED_POD_ANNOTATIONS = {
    P + "inject-sdk": "true",
    P + "inject-contrib": "true",
    P + "service-name": "my-service",
    P + "otel-traces-sampler": "parentbased_traceidratio",
    P + "otel-traces-sampler-argument": "0.1",
}


@pytest.mark.parametrize(
    "key, fix",
    [
        ("inject-contrib", "inject-python"),
        ("service-name", "resource.opentelemetry.io/service.name"),
        ("otel-traces-sampler", "sampler_type"),
        ("otel-traces-sampler-argument", "sampler_argument"),
        ("inject-javaagent", "inject-java"),
        ("exporter-endpoint", "exporter_endpoint"),
    ],
)
def test_each_seed_annotation_that_does_not_exist_is_refused_with_the_right_way(key, fix):
    problems = render.check_annotations({P + key: "true"})
    assert len(problems) == 1
    assert "does not exist" in problems[0]
    assert fix in problems[0]


def test_seed_pod_annotations_name_every_mistake_and_keep_inject_sdk():
    problems = render.check_annotations(SEED_POD_ANNOTATIONS, "pod")
    assert len(problems) == 4
    assert not any("inject-sdk" in p for p in problems)


def test_seed_namespace_annotation_exporter_endpoint_is_refused_before_applying():
    with pytest.raises(OtelK8sError, match="exporter-endpoint.*does not exist.*exporter_endpoint") as caught:
        render.plan(
            params(
                namespaces=[
                    {
                        "name": "production",
                        "languages": ["sdk"],
                        "annotations": {
                            P + "inject-sdk": "true",
                            P + "exporter-endpoint": "http://otel-agent.observability:4317",
                        },
                    }
                ]
            )
        )
    assert "nothing was applied" in caught.value.message


def test_seed_inject_javaagent_as_a_language_or_extra_annotation_is_refused():
    with pytest.raises(OtelK8sError, match="'javaagent' is not a language of the operator; use java"):
        render.plan(params(namespaces=[{"name": "shop", "languages": ["javaagent"]}]))
    with pytest.raises(OtelK8sError, match="inject-javaagent.*inject-java"):
        render.plan(params(extra_annotations={P + "inject-javaagent": "true"}))
    with pytest.raises(OtelK8sError, match="'contrib'.*use python"):
        render.plan(params(workloads=[{"kind": "Deployment", "name": "web", "languages": ["contrib"]}]))


def test_seed_cluster_ip_endpoint_is_warned_as_not_node_local():
    warnings = []
    inst = render.render_instrumentation(
        "my-instrumentation",
        "default",
        exporter_endpoint="http://otel-agent.default:4317",
        sampler_type="parentbased_traceidratio",
        sampler_argument="0.1",
        warnings=warnings,
    )
    assert inst["spec"]["exporter"] == {"endpoint": "http://otel-agent.default:4317"}
    assert len(warnings) == 1
    assert "not the agent on the pod's own node" in warnings[0]
    assert "internalTrafficPolicy: Local" in warnings[0] and "agent_service" in warnings[0]
    # an explicit endpoint is the user's: no node-local env is added
    assert "env" not in inst["spec"]
    assert "python" not in inst["spec"]


def test_corrected_seed_configuration_passes():
    instrumentation, injections, warnings = render.plan(
        params(
            name="my-instrumentation",
            sampler_type="parentbased_traceidratio",
            sampler_argument="0.1",
            namespaces=[{"name": "production", "languages": ["python"]}],
            workloads=[
                {
                    "kind": "Deployment",
                    "name": "my-app",
                    "namespace": "production",
                    "languages": ["sdk"],
                    "annotations": {"resource.opentelemetry.io/service.name": "my-service"},
                }
            ],
        )
    )
    assert warnings == []
    spec = instrumentation["spec"]
    assert spec["exporter"] == {"endpoint": "http://otel-agent-collector.observability.svc.cluster.local:4317"}
    assert spec["propagators"] == ["tracecontext", "baggage"]
    assert spec["sampler"] == {"type": "parentbased_traceidratio", "argument": "0.1"}
    assert injections[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "production", "annotations": {P + "inject-python": "observability/my-instrumentation"}},
    }
    assert injections[1]["spec"]["template"]["metadata"]["annotations"] == {
        P + "inject-sdk": "observability/my-instrumentation",
        "resource.opentelemetry.io/service.name": "my-service",
    }


# ---------------------------------------------------------------- the Instrumentation


def test_default_endpoint_is_the_agents_node_local_service():
    inst = render.render_instrumentation("default", "observability")
    spec = inst["spec"]
    assert spec["exporter"]["endpoint"] == "http://otel-agent-collector.observability.svc.cluster.local:4317"
    assert "env" not in spec  # no node IP needed
    for language in ("python", "dotnet", "go", "java", "nodejs"):
        assert env_of(spec[language]) == {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-agent-collector.observability.svc.cluster.local:4318"
        }, language
    assert "apacheHttpd" not in spec and "nginx" not in spec  # they use the main (gRPC) endpoint


def test_another_agent_service_and_cluster_domain():
    inst = render.render_instrumentation("d", "o", agent_service="node-agent-collector.agents", cluster_domain="k8s.co")
    agent = "http://node-agent-collector.agents.svc.k8s.co"
    assert inst["spec"]["exporter"]["endpoint"] == f"{agent}:4317"
    assert env_of(inst["spec"]["go"]) == {"OTEL_EXPORTER_OTLP_ENDPOINT": f"{agent}:4318"}


@pytest.mark.parametrize("service", ["otel-agent-collector", "a.b.c", "Agent.observability", "a_b.observability"])
def test_an_agent_service_that_is_not_service_dot_namespace_is_refused(service):
    with pytest.raises(OtelK8sError) as error:
        render.render_instrumentation("d", "o", agent_service=service)
    assert f"agent_service {service!r}" in error.value.message
    assert "<service>.<namespace>" in error.value.message and "empty string" in error.value.message


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://otel-agent-collector.observability:4317",
        "http://otel-agent-collector.observability.svc:4318",
        "http://otel-agent-collector.observability.svc.cluster.local:4317",
    ],
)
def test_the_agents_own_service_is_node_local_and_not_warned_about(endpoint):
    warnings = []
    render.render_instrumentation("d", "o", exporter_endpoint=endpoint, warnings=warnings)
    assert warnings == []
    # another Service in the same namespace is not the agent's
    render.render_instrumentation("d", "o", exporter_endpoint=endpoint.replace("agent", "gateway"), warnings=warnings)
    assert len(warnings) == 1 and "is a Service name" in warnings[0]


def test_without_agent_service_the_endpoint_is_the_node_ip_and_host_port():
    inst = render.render_instrumentation("default", "observability", agent_service="")
    spec = inst["spec"]
    assert inst["apiVersion"] == "opentelemetry.io/v1alpha1" and inst["kind"] == "Instrumentation"
    assert spec["exporter"]["endpoint"] == "http://$(OTEL_NODE_IP):4317"
    assert spec["env"][0] == {"name": "OTEL_NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}
    for language in ("python", "dotnet", "go", "java", "nodejs"):
        assert env_of(spec[language]) == {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://$(OTEL_NODE_IP):4318"}, language
    assert "apacheHttpd" not in spec and "nginx" not in spec  # they use the main (gRPC) endpoint


def test_agent_ports_and_user_language_env_win():
    inst = render.render_instrumentation(
        "default",
        "observability",
        agent_service="",
        agent_grpc_port=14317,
        agent_http_port=14318,
        languages={
            "python": {
                "image": "registry.example/python:1",
                "env": [{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://$(OTEL_NODE_IP):9999"}],
            }
        },
        env=[
            {"name": "OTEL_NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "OTEL_LOG_LEVEL", "value": "debug"},
        ],
    )
    spec = inst["spec"]
    assert spec["exporter"]["endpoint"] == "http://$(OTEL_NODE_IP):14317"
    assert [v["name"] for v in spec["env"]] == ["OTEL_NODE_IP", "OTEL_LOG_LEVEL"]
    assert spec["python"]["image"] == "registry.example/python:1"
    assert env_of(spec["python"]) == {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://$(OTEL_NODE_IP):9999"}
    assert env_of(spec["dotnet"]) == {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://$(OTEL_NODE_IP):14318"}


def test_tls_resource_attributes_and_blocks():
    warnings = []
    inst = render.render_instrumentation(
        "default",
        "observability",
        exporter_endpoint="https://otel-agent.observability:4317",
        exporter_tls={"secretName": "otel-tls", "ca_file": "/tls/ca.crt"},
        resource_attributes={"deployment.environment": "prod"},
        languages={"java": {"resources": {"limits": {"memory": "128Mi"}}}, "apacheHttpd": {"version": "2.4"}},
        warnings=warnings,
    )
    spec = inst["spec"]
    assert spec["exporter"]["tls"] == {"secretName": "otel-tls", "ca_file": "/tls/ca.crt"}
    assert spec["resource"] == {"resourceAttributes": {"deployment.environment": "prod"}}
    assert spec["java"] == {"resources": {"limits": {"memory": "128Mi"}}}
    assert spec["apacheHttpd"] == {"version": "2.4"}
    assert len(warnings) == 1 and "Service name" in warnings[0]


@pytest.mark.parametrize(
    "sampler, argument",
    [
        ("always_on", None),
        ("always_off", None),
        ("traceidratio", "0"),
        ("traceidratio", "1"),
        ("parentbased_always_on", None),
        ("parentbased_always_off", None),
        ("parentbased_traceidratio", "0.25"),
        ("jaeger_remote", "endpoint=http://localhost:14250,pollingIntervalMs=5000,initialSamplingRate=0.25"),
        ("xray", None),
    ],
)
def test_documented_samplers_pass(sampler, argument):
    inst = render.render_instrumentation("d", "o", sampler_type=sampler, sampler_argument=argument)
    assert inst["spec"]["sampler"]["type"] == sampler


@pytest.mark.parametrize(
    "sampler, argument, message",
    [
        ("probabilistic", None, "not a sampler"),
        ("parentbased_traceidratio", "10%", "number from 0 to 1"),
        ("traceidratio", "1.5", "number from 0 to 1"),
        ("traceidratio", "-0.1", "number from 0 to 1"),
        ("traceidratio", "nan", "number from 0 to 1"),
        ("parentbased_jaeger_remote", None, "CRD refuses it"),
        (None, "0.1", "without sampler_type"),
    ],
)
def test_bad_samplers_are_refused(sampler, argument, message):
    with pytest.raises(OtelK8sError, match=message):
        render.render_instrumentation("d", "o", sampler_type=sampler, sampler_argument=argument)


def test_argument_of_a_sampler_that_takes_none_is_a_warning():
    warnings = []
    render.render_instrumentation("d", "o", sampler_type="always_on", sampler_argument="0.5", warnings=warnings)
    assert warnings == ["sampler_argument is ignored by the always_on sampler"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"propagators": ["tracecontext", "w3c"]}, "propagators"),
        ({"exporter_endpoint": "otel-agent:4317"}, "scheme, host and port"),
        ({"languages": {"python": {"resources": {}}}}, "resourceRequirements for python"),
        ({"languages": {"java": {"resourceRequirements": {}}}}, "resources for java"),
        ({"languages": {"nodejs": {"imagePullPolicy": "Always"}}}, "not a field"),
        ({"languages": {"ruby": {}}}, "not a language block"),
        ({"env": [{"value": "x"}]}, "needs a name"),
        ({"env": [{"name": "N", "value": 3}]}, "must be a string"),
        ({"exporter_tls": {"insecure": True}}, "unknown keys"),
        ({"agent_grpc_port": 70000}, "not a port"),
        (
            {"sampler_type": "always_on", "env": [{"name": "OTEL_TRACES_SAMPLER", "value": "always_off"}]},
            "give it once",
        ),
    ],
)
def test_bad_instrumentation_options_are_refused(options, message):
    with pytest.raises(OtelK8sError, match=message):
        render.render_instrumentation("d", "o", **options)


def test_every_problem_is_listed_at_once():
    with pytest.raises(OtelK8sError) as caught:
        render.plan(
            params(sampler_type="nope", propagators=["w3c"], namespaces=[{"name": "shop", "languages": ["javaagent"]}])
        )
    assert caught.value.message.count("\n- ") == 3


# ---------------------------------------------------------------- annotations


def test_valid_annotations_pass():
    assert (
        render.check_annotations(
            {
                P + "inject-java": "true",
                P + "inject-python": "false",
                P + "inject-nodejs": "my-inst",
                P + "inject-dotnet": "observability/my-inst",
                P + "container-names": "app,sidecar",
                P + "java-container-names": "app",
                P + "inject-nginx-container-names": "web",
                P + "otel-go-auto-target-exe": "/app/main",
                P + "otel-python-platform": "musl",
                P + "otel-dotnet-auto-runtime": "linux-musl-x64",
                "resource.opentelemetry.io/service.name": "shop",
                "team": "payments",
                "sidecar.opentelemetry.io/inject": "true",
            }
        )
        == []
    )


@pytest.mark.parametrize(
    "annotations, message",
    [
        ({P + "inject-ruby": "true"}, "reads no such annotation"),
        ({P + "inject-java": "yes please"}, "not an injection value"),
        ({P + "inject-java": "a/b/c"}, "not an injection value"),
        ({P + "inject-java": True}, "quote it"),
        ({"inject-java": "true"}, "need their prefix"),
        ({"otel-traces-sampler": "always_on"}, "need their prefix"),
    ],
)
def test_bad_annotations_are_refused(annotations, message):
    problems = render.check_annotations(annotations)
    assert problems and message in " ".join(problems)


def test_injection_value_names_the_instrumentation_from_anywhere():
    objects = render.render_injection(
        "inst", "observability", namespaces=[{"name": "observability", "languages": ["java"]}]
    )
    assert objects[0]["metadata"]["annotations"] == {P + "inject-java": "observability/inst"}


def test_workload_annotations_are_partial_pod_template_objects():
    objects = render.render_injection(
        "inst",
        "observability",
        workloads=[
            {
                "kind": "Deployment",
                "name": "web",
                "namespace": "shop",
                "languages": ["java"],
                "container_names": ["app"],
            },
            {
                "kind": "StatefulSet",
                "name": "db",
                "namespace": "shop",
                "languages": ["java", "python"],
                "container_names": ["a", "b"],
            },
            {"kind": "DaemonSet", "name": "edge", "languages": ["nginx", "sdk"], "container_names": "proxy"},
        ],
    )
    web, db, edge = objects
    assert web == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"annotations": {P + "inject-java": "observability/inst", P + "container-names": "app"}}
            }
        },
    }
    assert set(db["spec"]["template"]["metadata"]["annotations"]) == {
        P + "inject-java",
        P + "inject-python",
        P + "java-container-names",
        P + "python-container-names",
    }
    assert edge["metadata"]["namespace"] == "observability"
    assert set(edge["spec"]["template"]["metadata"]["annotations"]) == {
        P + "inject-nginx",
        P + "inject-sdk",
        P + "inject-nginx-container-names",
        P + "sdk-container-names",
    }


def test_target_without_language_renders_its_bare_identity_and_removal_strips_annotations():
    objects = render.render_injection(
        "inst",
        "obs",
        namespaces=[{"name": "shop", "languages": []}],
        workloads=[{"kind": "Deployment", "name": "web", "namespace": "shop"}],
    )
    assert objects == [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}},
    ]
    full = render.render_injection(
        "inst",
        "obs",
        namespaces=[{"name": "shop", "languages": ["java"]}],
        workloads=[{"kind": "Deployment", "name": "web", "namespace": "shop", "languages": ["python"]}],
    )
    assert render.removal_objects(full) == objects


def test_extra_annotations_go_to_every_target_and_are_checked():
    objects = render.render_injection(
        "inst", "obs", namespaces=[{"name": "shop", "languages": ["java"]}], extra_annotations={"team": "payments"}
    )
    assert objects[0]["metadata"]["annotations"]["team"] == "payments"
    with pytest.raises(OtelK8sError, match="extra_annotations"):
        render.render_injection("inst", "obs", extra_annotations={P + "service-name": "x"})


@pytest.mark.parametrize(
    "namespaces, workloads, message",
    [
        ([{"name": "shop", "languages": ["java"]}, {"name": "shop", "languages": ["python"]}], [], "listed twice"),
        ([], [{"kind": "Pod", "name": "x", "languages": ["java"]}], "use one of Deployment"),
        ([], [{"kind": "Deployment", "name": "web", "languages": ["java", "java"]}], "listed twice"),
        ([{"name": "shop", "languages": ["java"], "container_names": ["a"]}], [], "pod templates only"),
        ([{"name": "Not_A_Namespace", "languages": ["java"]}], [], "give name"),
        (
            [],
            [{"kind": "Deployment", "name": "web", "languages": ["java"], "container_names": ["Bad Name"]}],
            "container names",
        ),
    ],
)
def test_bad_targets_are_refused(namespaces, workloads, message):
    with pytest.raises(OtelK8sError, match=message):
        render.render_injection("inst", "obs", namespaces, workloads)


def test_go_and_nginx_are_warned_about():
    warnings = render.plan(
        params(
            workloads=[
                {"kind": "Deployment", "name": "api", "namespace": "shop", "languages": ["go"]},
                {"kind": "Deployment", "name": "proxy", "namespace": "shop", "languages": ["nginx"]},
            ]
        )
    )[2]
    assert any("--enable-go-instrumentation" in w for w in warnings)
    assert any("--enable-nginx-instrumentation" in w for w in warnings)
    assert any("otel-go-auto-target-exe" in w for w in warnings)
    with_exe = render.plan(
        params(
            workloads=[
                {
                    "kind": "Deployment",
                    "name": "api",
                    "namespace": "shop",
                    "languages": ["go"],
                    "annotations": {P + "otel-go-auto-target-exe": "/app/api"},
                }
            ]
        )
    )[2]
    assert not any("otel-go-auto-target-exe" in w for w in with_exe)


def test_annotation_field_manager_must_be_its_own():
    with pytest.raises(OtelK8sError, match="field manager of their own"):
        render.plan(params(annotation_field_manager="otel.kubernetes"))


def test_languages_must_be_a_list_and_annotations_given_once():
    with pytest.raises(OtelK8sError, match="expected a list of languages"):
        render.render_injection("inst", "obs", namespaces=[{"name": "shop", "languages": "java"}])
    with pytest.raises(OtelK8sError, match="also given in annotations"):
        render.render_injection(
            "inst",
            "obs",
            workloads=[
                {"kind": "Deployment", "name": "web", "languages": ["java"], "annotations": {P + "inject-java": "true"}}
            ],
        )
