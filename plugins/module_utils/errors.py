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
