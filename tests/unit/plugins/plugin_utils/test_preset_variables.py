"""The action plugins hand a preset its role's variables as preset_settings (plugin_utils/preset_variables.py)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.otel.kubernetes.plugins.action.certs import ActionModule as CertsAction
from ansible_collections.otel.kubernetes.plugins.action.collector import ActionModule as CollectorAction
from ansible_collections.otel.kubernetes.plugins.action.info import ActionModule as InfoAction

try:  # ansible-core 2.19+: variables are templated only when trusted
    from ansible.template import trust_as_template
except ImportError:
    trust_as_template = str


def module_args(cls, args: dict, task_vars: dict) -> dict:
    """The arguments the action front gives its module (in-process or as a module process alike)."""
    the_task = SimpleNamespace(action="otel.kubernetes.x", args=args, async_val=0, environment=[])
    play_context = PlayContext()
    connection = connection_loader.get("local", play_context, os.devnull)
    loader = DataLoader()
    action = cls(the_task, connection, play_context, loader, Templar(loader=loader, variables=task_vars), None)
    return action.module_args(task_vars)


AGENT_VARS = {
    "otel_agent_name": "agent-a",
    "otel_agent_otlp_grpc_port": 4417,
    # Templated with the task's variables, as the role's defaults are.
    "otel_agent_rbac_name": trust_as_template("{{ otel_agent_name }}-rbac"),
    "otel_agent_resources": {"limits": {"memory": trust_as_template("{{ '1' ~ 'Gi' }}")}},
    # Not settings of the agent preset: left to the task (state) or to other roles.
    "otel_agent_state": "absent",
    "otel_agent_status": {"name": "old"},
    "otel_gateway_name": "gateway-g",
}


def test_a_preset_task_gets_its_role_variables_templated():
    args = module_args(CollectorAction, {"preset": "agent", "render_only": True}, AGENT_VARS)
    assert args == {
        "preset": "agent",
        "render_only": True,
        "preset_settings": {
            "name": "agent-a",
            "rbac_name": "agent-a-rbac",
            "resources": {"limits": {"memory": "1Gi"}},
            "otlp_grpc_port": 4417,
        },
    }


def test_settings_given_in_the_task_win_one_by_one():
    given = {"name": "explicit", "namespace": "ns"}
    args = module_args(CollectorAction, {"preset": "agent", "preset_settings": given}, AGENT_VARS)
    assert args["preset_settings"] == {
        "name": "explicit",
        "namespace": "ns",
        "rbac_name": "agent-a-rbac",
        "resources": {"limits": {"memory": "1Gi"}},
        "otlp_grpc_port": 4417,
    }
    assert given == {"name": "explicit", "namespace": "ns"}


def test_each_preset_reads_its_own_role():
    task_vars = {"otel_gateway_replicas": 5, "otel_cluster_events": False, "otel_certificates_key_type": "rsa-2048"}
    assert module_args(CollectorAction, {"preset": "gateway"}, task_vars)["preset_settings"] == {"replicas": 5}
    assert module_args(CollectorAction, {"preset": "cluster"}, task_vars)["preset_settings"] == {"events": False}
    assert module_args(CertsAction, {"preset": "pipeline"}, task_vars)["preset_settings"] == {"key_type": "rsa-2048"}


@pytest.mark.parametrize(
    ("cls", "args"),
    [
        (CollectorAction, {"name": "plain", "config": {}}),  # no preset: the collector's own options
        (CollectorAction, {"preset": "agent", "preset_settings": "name=x"}),  # not a mapping: the module says so
        (InfoAction, {"kind": "Namespace", "preset": "agent"}),  # a module without presets
    ],
)
def test_other_tasks_keep_their_arguments(cls, args):
    assert module_args(cls, dict(args), AGENT_VARS) == args
