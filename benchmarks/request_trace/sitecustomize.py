"""Logs every HTTP request a Python process makes, for benchmarks/site_benchmark.py.

Put on PYTHONPATH with OTEL_BENCH_REQUEST_LOG=FILE: ansible-playbook, its forks and every
AnsiballZ module it starts (they inherit the environment) then append one line per request,
"METHOD HOST:PORT PATH", to FILE. The shared local node has no audit log, so requests are
counted at the client; urllib3 (the collection's client and the kubernetes package) sends
every request through http.client's putrequest.
"""

import http.client
import os

_LOG = os.environ.get("OTEL_BENCH_REQUEST_LOG")

if _LOG:
    _putrequest = http.client.HTTPConnection.putrequest

    def _logged_putrequest(self, method, url, *args, **kwargs):
        line = f"{method} {self.host}:{self.port} {url}\n".encode()
        # One write() of O_APPEND per request: lines of parallel processes never mix.
        descriptor = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        return _putrequest(self, method, url, *args, **kwargs)

    http.client.HTTPConnection.putrequest = _logged_putrequest
