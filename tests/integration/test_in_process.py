"""In-process module execution (plugins/plugin_utils/in_process.py) gives the results a module
process gives: the same tasks, run once each way through ansible-playbook against the real node,
return the same results (writes, no-op re-runs, check mode with --diff, reads, argument errors,
no_log masking of options and suboptions, warnings, the task's environment), and the verbose
output shows which way each task ran. Each way writes to a namespace of its own, so both start
from the same state. On every ansible-core of tests/ansible-cores.txt: before 2.19 (no module
encoder) the front must fall back to a module process for every task, and say why.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from cores import cores

SECRET_VALUE = "in-process-s3cr3t-42"
TOKEN = "in-process-token-9"
PASSWORD = "in-process-passw0rd-7"
PROXY_PASSWORD = "in-process-proxy-pw-3"
CORES = cores()
PAYLOAD_DIR = re.compile(r"/[^\s\"']*/ansible_otel\.kubernetes\.\w+?_payload_\w+")
MISORDERED = {
    "receivers": {"otlp": {"protocols": {"grpc": {}}}},
    "processors": {
        "batch": {},
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
    },
    "exporters": {"debug": {}},
    "service": {
        "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], "exporters": ["debug"]}
        }
    },
}
# Fields the API server or the clock sets differently on every run; api_requests depends on the
# discovery cache, which the first of the two runs fills for the second.
VOLATILE = {
    "duration",
    "start",
    "end",
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "time",
    "managedFields",
    "api_requests",
}


def tasks_for(namespace: str) -> list:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": namespace},
            "data": {"a": "1"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": namespace},
            "stringData": {"password": SECRET_VALUE},
        },
    ]
    changed = [objects[0], dict(objects[1], data={"a": "2"}), objects[2]]
    return [
        {"name": "check mode on nothing", "otel.kubernetes.apply": {"definition": objects}, "check_mode": True},
        {"name": "apply", "otel.kubernetes.apply": {"definition": objects}},
        {"name": "apply again", "otel.kubernetes.apply": {"definition": objects}},
        {"name": "check mode change", "otel.kubernetes.apply": {"definition": changed}, "check_mode": True},
        {"name": "read", "otel.kubernetes.info": {"kind": "ConfigMap", "namespace": namespace, "name": "c"}},
        {"name": "read a kind not served", "otel.kubernetes.info": {"api_version": "x.example/v1", "kind": "Nope"}},
        {
            "name": "environment",
            "otel.kubernetes.info": {"kind": "Namespace"},
            "environment": {"K8S_AUTH_CONTEXT": "no-such-context"},
            "ignore_errors": True,
        },
        {"name": "unknown option", "otel.kubernetes.info": {"kind": "Namespace", "nme": "x"}, "ignore_errors": True},
        # Without the Secret: a task refused by argument validation echoes its arguments unmasked
        # (AnsibleModule's invocation, before the module's own redaction), both ways.
        {
            "name": "wrong type",
            "otel.kubernetes.apply": {"definition": objects[:2], "wait_timeout": "abc"},
            "ignore_errors": True,
        },
        {
            "name": "no_log option",
            "otel.kubernetes.apply": {"definition": objects, "render_only": True, "api_key": TOKEN},
        },
        {
            "name": "no_log suboption",
            "otel.kubernetes.apply": {
                "definition": objects[:2],
                "render_only": True,
                "username": "someone",
                "password": PASSWORD,
                "proxy_headers": {"proxy_basic_auth": f"bastion:{PROXY_PASSWORD}", "user_agent": "ua/1"},
            },
        },
        {"name": "warnings", "otel.kubernetes.collector_config": {"config": MISORDERED}},
        {
            "name": "errors",
            "otel.kubernetes.collector_config": {"config": {"exporters": {"loki": {}}}},
            "ignore_errors": True,
        },
        {
            "name": "sampler refused",
            "otel.kubernetes.instrumentation": {"name": "i", "namespace": namespace, "sampler_type": "bogus"},
            "ignore_errors": True,
        },
        {"name": "no_log task", "otel.kubernetes.info": {"kind": "Namespace", "name": namespace}, "no_log": True},
    ]


def comparable(value, namespace: str):
    if isinstance(value, dict):
        return {k: comparable(v, namespace) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [comparable(v, namespace) for v in value]
    if isinstance(value, str):
        # Before 2.19, a module failing in an except block returns its traceback at -vvv ('exception'),
        # with the module process's own temporary directory in it.
        return PAYLOAD_DIR.sub("PAYLOAD_DIR", value.replace(namespace, "NAMESPACE"))
    return value


@pytest.mark.parametrize("core", CORES, ids=[core.version for core in CORES])
def test_in_process_results_are_the_module_process_results(cluster, core):
    runs = {}
    for mode in ("true", "false"):
        namespace = "inproc-" + uuid.uuid4().hex[:8]
        run = cluster.run(
            tasks_for(namespace),
            "--diff",
            "-vvv",
            env={"OTEL_KUBERNETES_IN_PROCESS": mode, "ANSIBLE_VERBOSE_TO_STDERR": "true"},
            ansible_playbook=core.ansible_playbook,
        )
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
        for secret in (SECRET_VALUE, TOKEN, PASSWORD, PROXY_PASSWORD):
            assert secret not in run.stdout + run.stderr, secret
        runs[mode] = (run, namespace)
        cluster.request("DELETE", f"/api/v1/namespaces/{namespace}")

    in_process, in_process_ns = runs["true"]
    module, module_ns = runs["false"]
    count = len(tasks_for("x"))
    if core.in_process:
        assert in_process.stderr.count("runs in the controller's process") == count
        assert "AnsiballZ" not in in_process.stderr
    else:
        fallback = "runs as a module process: this ansible-core has no module argument encoder"
        assert in_process.stderr.count(fallback) == count, in_process.stderr[-3000:]
        assert "runs in the controller's process" not in in_process.stderr
    assert module.stderr.count("runs as a module process: disabled by otel_in_process") == count
    assert module.stderr.count("AnsiballZ_") >= count

    by_name = {}
    for a, b in zip(in_process.tasks, module.tasks, strict=True):
        assert a["task"] == b["task"]
        by_name[a["task"]] = a
        assert comparable(a, in_process_ns) == comparable(b, module_ns), json.dumps([a, b], default=str)[:4000]

    # What the shared results hold (so that "the same" is not "the same nothing").
    assert by_name["apply"]["changed"] is True and by_name["apply again"]["changed"] is False
    assert by_name["check mode change"]["changed"] is True and by_name["check mode change"]["diff"]
    assert by_name["read"]["resources"][0]["data"] == {"a": "1"}
    assert by_name["read a kind not served"]["api_found"] is False
    assert "no context named 'no-such-context'" in by_name["environment"]["msg"]
    assert "Unsupported parameters for (otel.kubernetes.info) module: nme" in by_name["unknown option"]["msg"]
    assert "wait_timeout" in by_name["wrong type"]["msg"]
    assert by_name["no_log option"]["invocation"]["module_args"]["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    suboptions = by_name["no_log suboption"]["invocation"]["module_args"]
    assert suboptions["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert suboptions["proxy_headers"]["proxy_basic_auth"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert suboptions["proxy_headers"]["user_agent"] == "ua/1"
    assert len(by_name["warnings"]["warnings"]) == 2
    assert "loki" in by_name["errors"]["msg"]
    assert "sampler_type 'bogus'" in by_name["sampler refused"]["msg"]
    assert by_name["no_log task"].get("censored")
