# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection shares on the Ansible side: the argument specs of
the connection and apply options, and one way from objects to exit_json/fail_json."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.otel.kubernetes.plugins.module_utils.k8s import manifests
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.connection import (
    AUTH_ENV,
    KubeClient,
    resolve_connection,
)
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.discovery import Discovery
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.engine import ApplyEngine, ApplyOptions
from ansible_collections.otel.kubernetes.plugins.module_utils.k8s.errors import OtelK8sError

_AUTH_TYPES = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "persist_config": {"type": "bool"},
    "impersonate_user": {"type": "str"},
    "impersonate_groups": {"type": "list", "elements": "str"},
}
AUTH_ARG_SPEC = {name: dict(spec, fallback=(env_fallback, list(AUTH_ENV[name]))) for name, spec in _AUTH_TYPES.items()}
# Without the option, connection.resolve_connection reads its K8S_AUTH_PROXY_HEADERS_* variables.
AUTH_ARG_SPEC["proxy_headers"] = {
    "type": "dict",
    "options": {
        "proxy_basic_auth": {"type": "str", "no_log": True},
        "basic_auth": {"type": "str", "no_log": True},
        "user_agent": {"type": "str"},
    },
}
# Options of every module that talks to the API server (doc fragment otel.kubernetes.auth): the
# credentials, and how long the client retries transient failures.
CONNECTION_ARG_SPEC = dict(AUTH_ARG_SPEC, retry_timeout={"type": "int", "default": 60})

# Options of every module that writes to the cluster (doc fragment otel.kubernetes.apply).
APPLY_ARG_SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "field_manager": {"type": "str", "default": "otel.kubernetes"},
    "force_conflicts": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
    "wait_sleep": {"type": "int", "default": 1},
    "render_only": {"type": "bool", "default": False},
    "rendered_before": {"type": "list", "elements": "dict", "default": []},
}

RENDER_ONLY_ABSENT = (
    "render_only renders the objects that state=present would apply; with state=absent there is nothing to "
    "render. To remove objects kept in Git, delete them there; to see what state=absent would delete, use "
    "check mode against the cluster"
)


def not_rendered_before(module: AnsibleModule, objects: list) -> list:
    """render_only: objects without the Namespaces in rendered_before (several roles' components
    share a namespace; the first role that renders it writes it)."""

    def namespace_name(obj: dict) -> str | None:
        is_namespace = obj.get("apiVersion") == "v1" and obj.get("kind") == "Namespace"
        return (obj.get("metadata") or {}).get("name") if is_namespace else None

    before = {namespace_name(o) for o in module.params.get("rendered_before") or []} - {None}
    return [o for o in objects if namespace_name(o) not in before]


def with_apply_options(own: dict) -> dict:
    """The argument spec of a module that writes to the cluster: its own options, the connection
    options (doc fragment otel.kubernetes.auth) and the apply options (otel.kubernetes.apply)."""
    return {**CONNECTION_ARG_SPEC, **APPLY_ARG_SPEC, **own}


def with_connection_options(own: dict) -> dict:
    """The argument spec of a module that only reads: its own options and the connection options."""
    return {**CONNECTION_ARG_SPEC, **own}


def new_module(argument_spec: dict, **kwargs) -> AnsibleModule:
    """The AnsibleModule of every module's main() (check mode supported by all): the argument spec its
    runner declares, and kwargs such as required_one_of. render_only with state=absent is refused."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    if module.params.get("render_only") and module.params.get("state") == "absent":
        module.fail_json(msg=RENDER_ONLY_ABSENT)
    return module


def render_only(module: AnsibleModule) -> bool:
    """True when the task renders objects and must not contact the cluster at all."""
    return bool(module.params.get("render_only"))


def connect(module: AnsibleModule) -> KubeClient:
    """A client for the cluster the module's auth options name (for reads before applying)."""
    return KubeClient(resolve_connection(module.params), retry_timeout=module.params["retry_timeout"])


def apply_objects(
    module: AnsibleModule,
    objects: list,
    namespace: str | None = None,
    wait_condition: dict | None = None,
    client: KubeClient | None = None,
    state: str | None = None,
    field_manager: str | None = None,
    live: list | None = None,
) -> dict:
    """Hand objects to the engine with the module's options; returns the engine's result.

    state and field_manager override the module's options for this call (a module that
    owns two sets of fields applies each under its own manager); live: objects just read
    (ApplyEngine.run). Raises OtelK8sError;
    `fail` turns it into fail_json.

    With render_only, nothing is contacted (no credentials are even read): the result is
    ``changed: false``, no results, and ``objects``, the checked objects in apply order with
    the namespace set where the kind is known to be namespaced (manifests.rendered).
    """
    params = module.params
    if render_only(module):
        objects = not_rendered_before(module, objects)
        return {"changed": False, "objects": manifests.rendered(objects, namespace), "results": [], "api_requests": 0}
    client = client or connect(module)
    options = ApplyOptions.from_params(
        params,
        module.check_mode,
        module._diff,
        state=state,
        namespace=namespace,
        field_manager=field_manager,
        wait_condition=wait_condition,
    )
    engine = ApplyEngine(client, Discovery(client), options, client.conn.default_namespace)
    result = engine.run(objects, live)
    result["api_requests"] = client.requests
    return result


# Larger inputs (a release manifest of megabytes) are not echoed back in 'invocation':
# the results list every object already.
ECHO_LIMIT = 20


def redacted_params(module: AnsibleModule, objects_key: str = "definition") -> dict:
    """Module arguments as echoed back in 'invocation', with Secret values replaced."""
    params = dict(module.params)
    value = params.get(objects_key)
    if isinstance(value, list) and len(value) > ECHO_LIMIT:
        params[objects_key] = f"({len(value)} objects; see results)"
    elif isinstance(value, str) and value.count("\n---") >= ECHO_LIMIT:
        params[objects_key] = "(YAML text of many documents; see results)"
    elif isinstance(value, dict):
        params[objects_key] = manifests.redact(value)
    elif isinstance(value, list):
        params[objects_key] = [manifests.redact(v) if isinstance(v, dict) else v for v in value]
    elif isinstance(value, str) and "Secret" in value:
        params[objects_key] = "(YAML text holding a Secret; not echoed)"
    return params


def fail(module: AnsibleModule, error: OtelK8sError, **extra) -> None:
    details = dict(error.details)
    details.update(extra)
    module.fail_json(msg=error.message, **details)
