"""A real HTTP server on 127.0.0.1 for the fetch/download tests (a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

#: path -> (status, headers, body) the server answers with.
Routes = dict[str, tuple[int, dict[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[Routes] = {}
    seen: ClassVar[list[tuple[str, str]]] = []
    origins: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("User-Agent", "")))
        self.origins.append(self.headers.get("X-Crushd-Original-URL", ""))
        status, headers, body = self.routes.get(self.path, (404, {}, b"no such page"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


class LocalServer:
    """A threaded server answering ``routes``; ``url(path)`` names a page."""

    def __init__(self, routes: Routes) -> None:
        answers = routes

        class Handler(_Handler):
            routes: ClassVar[Routes] = answers
            seen: ClassVar[list[tuple[str, str]]] = []
            origins: ClassVar[list[str]] = []

        self.seen = Handler.seen
        self.origins = Handler.origins
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever)

    def url(self, path: str) -> str:
        """Return the full URL of ``path`` on this server."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve(routes: Routes) -> Iterator[LocalServer]:
    """Yield a running server for ``routes`` (use from a fixture)."""
    with LocalServer(routes) as server:
        yield server
