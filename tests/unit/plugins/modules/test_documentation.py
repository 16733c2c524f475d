"""Every module's DOCUMENTATION says what its argument spec does: the same options, each with the
same type, default, choices, elements, requirement and aliases, suboptions included.

The argument spec is the one the module's main() hands to AnsibleModule (captured, nothing runs);
the doc fragments a module extends are merged in as ansible-doc merges them.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml
from ansible.module_utils import basic

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
PACKAGE = "ansible_collections.otel.kubernetes.plugins"


class Captured(Exception):
    def __init__(self, kwargs):
        super().__init__("argument spec captured")
        self.kwargs = kwargs


def argument_spec(name: str, monkeypatch) -> dict:
    def capture(self, *args, **kwargs):
        raise Captured(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "__init__", capture)
    module = importlib.import_module(f"{PACKAGE}.modules.{name}")
    with pytest.raises(Captured) as captured:
        module.main()
    return captured.value.kwargs["argument_spec"]


def documented_options(name: str) -> dict:
    module = importlib.import_module(f"{PACKAGE}.modules.{name}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    for fragment in doc.get("extends_documentation_fragment") or []:
        fragment_module = importlib.import_module(f"{PACKAGE}.doc_fragments.{fragment.split('.')[-1]}")
        options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(doc.get("options") or {})
    return options


def shape(option: dict, sub_key: str) -> dict:
    """What a spec entry or a documented option says about the option's values."""
    return {
        "type": option.get("type") or "str",
        "default": option.get("default"),
        "choices": sorted(str(c) for c in option["choices"]) if option.get("choices") is not None else None,
        "elements": option.get("elements"),
        "required": bool(option.get("required")),
        "aliases": sorted(option.get("aliases") or []),
        "suboptions": {k: shape(v, sub_key) for k, v in (option.get(sub_key) or {}).items()},
    }


@pytest.mark.parametrize("name", MODULES)
def test_documentation_describes_the_argument_spec(name, monkeypatch):
    spec = {key: shape(entry, "options") for key, entry in argument_spec(name, monkeypatch).items()}
    documented = {key: shape(entry, "suboptions") for key, entry in documented_options(name).items()}
    assert sorted(documented) == sorted(spec), "options documented but not in the spec, or the reverse"
    for key, wanted in spec.items():
        assert documented[key] == wanted, f"{name}: option {key}"


def test_every_module_is_checked():
    assert len(MODULES) == 10 and "collector" in MODULES
