"""API-server blips injected into the collection's client, for tests/integration/test_faults.py.

Put this folder on PYTHONPATH and set OTEL_TEST_BLIPS=<seed>:<rate> and OTEL_TEST_BLIPS_LOG=<file>:
every process that starts then (ansible-playbook, its workers, module processes) wraps urllib3's
request so that the first of the collection's requests (User-Agent otel.kubernetes) in each
process, and a share `rate` of the others, meet one of the failures a flapping API server or
network gives: connection refused or reset, a TLS connection closed mid-handshake, a read
timeout, a 429/500/502/503/504 answer, or a write that reached the server and whose answer was
lost. Each injected blip is one line in the log file.
Test plumbing only: nothing of the collection imports it.
"""

from __future__ import annotations

import json
import os
import random
import ssl

try:
    import urllib3
    from urllib3._request_methods import RequestMethods
except ImportError:  # not a process that talks to Kubernetes
    urllib3 = None

KINDS = ("refused", "reset", "tls-eof", "read-timeout", "status", "answer-lost")
STATUS = (429, 500, 502, 503, 504)


def _install(seed: int, rate: float, log: str) -> None:
    chooser = random.Random(seed * 1000003 + os.getpid())
    original = RequestMethods.request
    # The processes that have sent a request: a forked worker inherits this and the chooser, so it
    # draws from a seed of its own pid. A first request always meets a blip, so a run of few
    # requests (a no-op re-run in process) meets some whatever the draw.
    started = set()

    def request(self, method, url, *args, **kwargs):
        headers = kwargs.get("headers") or {}
        if headers.get("User-Agent") != "otel.kubernetes":
            return original(self, method, url, *args, **kwargs)
        first = os.getpid() not in started
        if first:
            started.add(os.getpid())
            chooser.seed(seed * 1000003 + os.getpid())
        if not first and chooser.random() >= rate:
            return original(self, method, url, *args, **kwargs)
        kind = chooser.choice(KINDS)
        with open(log, "a") as out:
            out.write(json.dumps({"pid": os.getpid(), "kind": kind, "method": method, "url": url}) + "\n")
        if kind == "refused":
            raise urllib3.exceptions.NewConnectionError(None, "blip: [Errno 111] Connection refused")
        if kind == "reset":
            raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "blip"))
        if kind == "tls-eof":
            raise urllib3.exceptions.SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol (blip)"))
        if kind == "read-timeout":
            raise urllib3.exceptions.ReadTimeoutError(None, url, "blip: read timed out")
        if kind == "status":
            status = chooser.choice(STATUS)
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status, "message": "blip"}
            return urllib3.response.HTTPResponse(
                body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
            )
        original(self, method, url, *args, **kwargs)  # answer-lost: the server did it, the client never hears
        raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "blip after the write"))

    RequestMethods.request = request


if urllib3 is not None and os.environ.get("OTEL_TEST_BLIPS"):
    _seed, _rate = os.environ["OTEL_TEST_BLIPS"].split(":")
    _install(int(_seed), float(_rate), os.environ["OTEL_TEST_BLIPS_LOG"])
