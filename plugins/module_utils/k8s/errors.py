# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of the collection: a message a person can act on, plus facts."""

from __future__ import annotations


class OtelK8sError(Exception):
    """An error whose message is meant for the user, never a traceback.

    ``details`` are extra result keys (for example ``results`` already applied) that
    the module returns alongside ``msg`` when it fails.
    """

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class ApiError(OtelK8sError):
    """The API server answered with a non-success status (after retries, if transient)."""

    def __init__(self, status: int, reason: str, message: str, body=None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body if isinstance(body, dict) else {}

    @property
    def causes(self) -> list:
        return (self.body.get("details") or {}).get("causes") or []


def yaml_problem(error, text: str) -> str:
    """A YAML parse error for a person: the line as written, what is wrong there, and the fix."""
    lines = text.splitlines()
    where = ""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        # A problem found at the end of the text (an unclosed bracket) is shown on the last line written.
        number = min(mark.line, len(lines) - 1)
        while number > 0 and not lines[number].strip():
            number -= 1
        if 0 <= number < len(lines) and lines[number].strip():
            where = f"line {number + 1} `{lines[number].strip()}`: "
    problem = " ".join(
        part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part
    ) or str(error)
    return (
        f"{where}{problem}; fix the YAML (close every bracket and quote, indent consistently, "
        "quote values that hold ': ' or ' #')"
    )
