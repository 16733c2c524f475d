# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every ansible-core name the in-process front uses that is not a public API, in one place.

Running a module inside the controller needs what AnsiballZ does around it: the module's
arguments handed over through ``basic._ANSIBLE_ARGS`` (and, from 2.19, ``_ANSIBLE_PROFILE``),
the module JSON encoding of 2.19 (``get_module_encoder``), and, for a module that raises, the
result AnsiballZ's exception handler writes (``_messages.ErrorSummary`` of the exception,
with its traceback when ``DISPLAY_TRACEBACK`` asks for one). A core upgrade that moves any of
these breaks this file alone: ``available()`` turns False and modules run as usual
(tests/unit/plugins/plugin_utils/test_in_process.py runs on every ansible-core the collection claims).
"""

from __future__ import annotations

from ansible.module_utils import basic

try:  # ansible-core 2.19+: the encoding AnsiballZ uses for module arguments and results
    from ansible.module_utils._internal import _errors, _messages, _traceback
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # older cores: no in-process front
    Direction = get_module_encoder = _errors = _messages = _traceback = None

# The serialization profile of modules that declare no METADATA (all of this collection's).
PROFILE = "legacy"


def available() -> bool:
    """Does this ansible-core have everything the in-process front needs?"""
    return get_module_encoder is not None


def module_arguments() -> tuple:
    """What the module's arguments are now (to put them back after)."""
    return basic._ANSIBLE_ARGS, getattr(basic, "_ANSIBLE_PROFILE", None)


def set_module_arguments(arguments, profile=PROFILE) -> None:
    """Hand `arguments` (encoded JSON bytes) to the next AnsibleModule, as AnsiballZ does."""
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = arguments, profile


def encode_arguments(arguments: dict) -> bytes:
    """ANSIBLE_MODULE_ARGS encoded as AnsiballZ encodes them for the module."""
    import json

    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    return json.dumps({"ANSIBLE_MODULE_ARGS": arguments}, cls=encoder).encode()


def exception_result(error: BaseException) -> str:
    """The JSON a module process prints when the module raises `error`: failed, and the error's
    summary (its messages; its traceback when the controller's DISPLAY_TRACEBACK includes error)."""
    import json

    event = _errors.EventFactory.from_exception(error, _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR))
    result = {"failed": True, "exception": _messages.ErrorSummary(event=event)}
    return json.dumps(result, cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER))
