"""A small HTTP proxy on loopback for the tests of the `proxy` connection options.

It does what a bastion's proxy does: CONNECT tunnels (for https API servers) and plain forwarding
of absolute-URL requests (for http ones). It records every request it saw (method, target,
headers), can demand a Proxy-Authorization (407 otherwise) or refuse a host (403), and can resolve names itself
(`hosts`): a server name the machine cannot resolve is then reachable only through the proxy.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ProxyServer

    def log_message(self, *args):
        pass

    def _allowed(self) -> bool:
        self.server.seen.append((self.command, self.path, dict(self.headers.items()), self.headers))
        if self.path.partition(":")[0] in self.server.forbidden:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if self.server.require_auth and self.headers.get("Proxy-Authorization") != self.server.require_auth:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        return True

    def _address(self, host: str, port: int) -> tuple:
        return (self.server.hosts.get(host, host), port)

    def do_CONNECT(self):  # noqa: N802 - the http.server API
        if not self._allowed():
            return
        host, _colon, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection(self._address(host, int(port)), timeout=10)
        except OSError:
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.server.tunnels += 1
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _w, _x = select.select(sockets, [], [], 30)
                if not readable:
                    break
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True

    def _forward(self):
        if not self._allowed():
            return
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        host, port = self._address(target.hostname, target.port or 80)
        upstream = http.client.HTTPConnection(host, port, timeout=10)
        headers = [(k, v) for k, v in self.headers.items() if not k.lower().startswith("proxy-")]
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            upstream.putheader(name, value)
        upstream.endheaders(body)
        answer = upstream.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hosts: dict | None = None, require_auth: str | None = None, forbidden: tuple = ()):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hosts = hosts or {}
        self.require_auth = require_auth
        self.forbidden = forbidden  # CONNECT targets (host names) it refuses with 403
        self.seen: list = []  # (method, target, headers as a dict, the message for repeated headers)
        self.tunnels = 0  # CONNECT tunnels opened

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def connects(self) -> list:
        return [target for method, target, _h, _m in self.seen if method == "CONNECT"]

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
