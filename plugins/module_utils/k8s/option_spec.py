# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module options declared once, as the fields of a dataclass. Pure.

Each field's metadata is its entry of the AnsibleModule argument spec, so the argument spec, the
code that reads the options (a dataclass instance instead of a dict of parameters) and the
documentation test (tests/unit/plugins/modules/test_documentation.py compares every module's
DOCUMENTATION with its argument spec) read one definition.
"""

from __future__ import annotations

import copy
import dataclasses


def option(type_name: str, default=None, unset=None, **spec) -> dataclasses.Field:
    """A dataclass field that is also a module option: ``type_name``, ``default`` and the other keys of
    ``spec`` (choices, elements, required, no_log, ...) as an AnsibleModule argument spec takes them.
    ``unset``: the field's value when an option without a default is not given (None unless said)."""
    entry = {"type": type_name, **spec}
    if default is not None:
        entry["default"] = default
    metadata = {"argument_spec": entry}
    value = default if default is not None else unset
    # The field is made here and used in a dataclass body (pylint sees only this call).
    if isinstance(value, (list, dict)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(value), metadata=metadata)  # pylint: disable=invalid-field-call
    return dataclasses.field(default=value, metadata=metadata)  # pylint: disable=invalid-field-call


def argument_spec(options_class) -> dict:
    """The argument spec entries of the dataclass's options, in field order."""
    return {
        field.name: copy.deepcopy(field.metadata["argument_spec"])
        for field in dataclasses.fields(options_class)
        if "argument_spec" in field.metadata
    }


def unset_by_default(options_class) -> tuple:
    """The options whose default is None: "not given" can be told from any value given."""
    return tuple(
        field.name
        for field in dataclasses.fields(options_class)
        if "argument_spec" in field.metadata and field.default is None
    )


def from_params(options_class, params: dict):
    """An instance of the dataclass from module parameters (other parameters are left out)."""
    return options_class(
        **{field.name: params[field.name] for field in dataclasses.fields(options_class) if field.name in params}
    )
