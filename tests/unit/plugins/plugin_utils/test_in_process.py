"""The action plugin front: which tasks run in-process, and that they give what a module
process gives (validation messages, no_log masking, environment, warnings, failures).

The modules run for real here (their main() with a real AnsibleModule) through a real local
connection; only tasks that need no API server are used (the real one is in tests/integration).
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleError
from ansible.module_utils.basic import AnsibleModule
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.otel.kubernetes.plugins.action.apply import ActionModule as ApplyAction
from ansible_collections.otel.kubernetes.plugins.action.info import ActionModule as InfoAction
from ansible_collections.otel.kubernetes.plugins.modules import info as info_module
from ansible_collections.otel.kubernetes.plugins.plugin_utils import core_internals, in_process

try:  # ansible-core 2.19+: variables are templated only when trusted
    from ansible.template import trust_as_template
except ImportError:
    trust_as_template = str

# Before ansible-core 2.19 there is no module argument encoder: every task must fall back to a module
# process, and the tests of in-process behaviour check that fallback instead (ran_in_process).
IN_PROCESS = core_internals.available()
SECRET_VALUE = "s3cr3t-Value-42"
TOKEN = "tok-SECRET-9"
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "p", "namespace": "ns"},
    "stringData": {"k": SECRET_VALUE},
}


def task(action: str, args: dict, **settings):
    fields = {"check_mode": False, "diff": False, "no_log": False, "async_val": 0, "environment": []}
    fields.update(settings)
    return SimpleNamespace(action=action, args=args, **fields)


def front(cls, the_task, transport="local", become=False):
    play_context = PlayContext()
    play_context.become = become
    connection = connection_loader.get("local", play_context, os.devnull)
    connection.transport = transport
    loader = DataLoader()
    action = cls(the_task, connection, play_context, loader, Templar(loader=loader), None)
    action.executed_as_module = []
    action._execute_module = lambda **kwargs: action.executed_as_module.append(kwargs) or {"ran": "as a module"}
    return action


def ran_in_process(action, result) -> bool:
    """True when the task ran in-process (2.19+); otherwise it must have run as a module process."""
    if IN_PROCESS:
        assert not action.executed_as_module, result
        return True
    assert len(action.executed_as_module) == 1 and result["ran"] == "as a module", result
    return False


def test_in_process_needs_the_module_encoder_of_ansible_core_2_19():
    refusal = in_process.in_process_refusal("local", False, 0, True)
    if IN_PROCESS:
        assert refusal is None
    else:
        assert refusal == "this ansible-core has no module argument encoder (2.19 or newer runs modules in-process)"


@pytest.mark.parametrize(
    ("transport", "become", "async_val", "enabled", "reason"),
    [
        ("local", False, 0, True, None),
        ("ansible.builtin.local", False, 0, True, None),
        ("ssh", False, 0, True, "the connection is ssh, not local"),
        ("local", True, 0, True, "become is set"),
        ("local", False, 30, True, "the task is async"),
        ("local", False, 0, False, "disabled by otel_in_process"),
    ],
)
def test_in_process_only_for_local_tasks_without_become_or_async(transport, become, async_val, enabled, reason):
    refusal = in_process.in_process_refusal(transport, become, async_val, enabled)
    if enabled and not IN_PROCESS:  # the first reason on older cores, whatever the task
        reason = "no module argument encoder"
    assert refusal is None if reason is None else reason in refusal


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("false", False), ("no", False), ("0", False), ("yes", True)]
)
def test_setting_values(value, expected):
    assert in_process.setting(value, "otel_in_process") is expected


def test_a_setting_that_is_not_a_boolean_is_refused_with_its_name():
    with pytest.raises(AnsibleError, match=r"OTEL_KUBERNETES_IN_PROCESS='sometimes' is not a boolean; use true"):
        in_process.setting("sometimes", "OTEL_KUBERNETES_IN_PROCESS")


@pytest.mark.parametrize(
    ("transport", "become", "task_vars", "in_proc"),
    [
        ("local", False, {}, True),
        ("ssh", False, {}, False),
        ("local", True, {}, False),
        ("local", False, {"otel_in_process": False}, False),
        ("local", False, {"otel_in_process": trust_as_template("{{ 'no' }}")}, False),  # a template, as vars are
    ],
)
def test_the_front_falls_back_to_a_module_process(transport, become, task_vars, in_proc):
    action = front(InfoAction, task("otel.kubernetes.info", {"kind": "Namespace", "nme": "x"}), transport, become)
    result = action.run(task_vars=task_vars)
    if in_proc and IN_PROCESS:
        assert not action.executed_as_module
        assert result["failed"] and "Unsupported parameters for (otel.kubernetes.info) module: nme" in result["msg"]
    else:
        assert action.executed_as_module == [
            {"module_args": {"kind": "Namespace", "nme": "x"}, "task_vars": task_vars, "wrap_async": 0}
        ]
        assert result["ran"] == "as a module"


def test_the_environment_variable_disables_it(monkeypatch):
    monkeypatch.setenv("OTEL_KUBERNETES_IN_PROCESS", "false")
    action = front(InfoAction, task("otel.kubernetes.info", {"kind": "Namespace"}))
    assert action.run(task_vars={})["ran"] == "as a module"


@pytest.mark.parametrize(
    ("action_cls", "name", "args", "message"),
    [
        (InfoAction, "otel.kubernetes.info", {"name": "x"}, "missing required arguments: kind"),
        (
            ApplyAction,
            "otel.kubernetes.apply",
            {"definition": SECRET, "wait_timeout": "abc"},
            "argument 'wait_timeout' is of type str and we were unable to convert to int",
        ),
        (
            ApplyAction,
            "otel.kubernetes.apply",
            {"definition": SECRET, "src": "/x"},
            "parameters are mutually exclusive: definition|src",
        ),
        (ApplyAction, "otel.kubernetes.apply", {}, "one of the following is required: definition, src"),
        (
            ApplyAction,
            "otel.kubernetes.apply",
            {"definition": SECRET, "state": "gone"},
            "value of state must be one of: present, absent, got: gone",
        ),
        (
            ApplyAction,
            "otel.kubernetes.apply",
            {"definition": SECRET, "render_only": True, "state": "absent"},
            "render_only renders the objects that state=present would apply",
        ),
    ],
)
def test_argument_errors_are_the_modules_own(action_cls, name, args, message):
    action = front(action_cls, task(name, args))
    result = action.run(task_vars={})
    if not ran_in_process(action, result):
        return
    assert result["failed"] is True
    assert message in result["msg"]
    text = json.dumps(result, default=str)
    assert "Traceback" not in text
    # The module failed before it could mask the Secret it was given: the front masks it.
    assert SECRET_VALUE not in text


def test_no_log_values_are_masked_and_invocation_is_added():
    args = {"definition": [SECRET], "render_only": True, "api_key": TOKEN, "verify_ssl": False}
    action = front(ApplyAction, task("otel.kubernetes.apply", args, diff=True))
    result = action.run(task_vars={})
    if not ran_in_process(action, result):
        return
    text = json.dumps(result, default=str)
    assert not result.get("failed"), result
    assert TOKEN not in text and SECRET_VALUE not in text
    module_args = result["invocation"]["module_args"]
    assert module_args["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert module_args["validate_certs"] is False  # the alias resolved, as AnsibleModule does
    assert module_args["wait_timeout"] == 120  # defaults filled in
    assert [o["kind"] for o in result["objects"]] == ["Secret"]


def test_the_tasks_environment_reaches_env_fallbacks_and_is_restored(tmp_path, monkeypatch):
    monkeypatch.delenv("K8S_AUTH_CONTEXT", raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters: [{name: a, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: a, context: {cluster: a, user: a}}]\nusers: [{name: a, user: {token: t}}]\n"
    )
    environment = [{"K8S_AUTH_KUBECONFIG": str(kubeconfig)}, {"K8S_AUTH_CONTEXT": "nope"}]
    action = front(InfoAction, task("otel.kubernetes.info", {"kind": "Namespace"}, environment=environment))
    result = action.run(task_vars={})
    if not ran_in_process(action, result):
        return
    assert result["failed"] and "no context named 'nope'" in result["msg"], result
    assert "K8S_AUTH_CONTEXT" not in os.environ


def test_check_mode_and_diff_reach_the_module():
    payload = json.dumps(
        {"ANSIBLE_MODULE_ARGS": {"_ansible_check_mode": True, "_ansible_diff": True, "x": "1"}}
    ).encode()
    with in_process.module_process(payload, {}):
        module = AnsibleModule(argument_spec={"x": {"type": "int"}}, supports_check_mode=True)
    assert module.check_mode is True and module._diff is True and module.params["x"] == 1


def test_an_unexpected_exception_is_reported_as_a_module_process_reports_it(monkeypatch):
    # What AnsiballZ prints for a module that raises: failed, and the exception's summary, whose
    # traceback the controller shows when DISPLAY_TRACEBACK includes error; -vvv shows it too.
    def broken():
        raise KeyError("surprise")

    shown = []
    monkeypatch.setattr(info_module, "main", broken)
    monkeypatch.setattr(in_process.display, "vvv", lambda text, *args, **kwargs: shown.append(text))
    action = front(InfoAction, task("otel.kubernetes.info", {"kind": "Namespace"}))
    result = action.run(task_vars={})
    if not ran_in_process(action, result):
        return
    assert result["failed"] is True
    assert result["exception"].event.msg == "'surprise'"
    assert result["exception"].event.formatted_traceback is None  # DISPLAY_TRACEBACK is never here
    assert any("Traceback" in text and "KeyError: 'surprise'" in text for text in shown), shown
    monkeypatch.setattr(core_internals._traceback, "is_traceback_enabled", lambda event: True)
    result = front(InfoAction, task("otel.kubernetes.info", {"kind": "Namespace"})).run(task_vars={})
    assert "KeyError: 'surprise'" in result["exception"].event.formatted_traceback
