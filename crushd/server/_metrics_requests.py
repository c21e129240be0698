"""Every request, counted and timed by route template; failed ones logged.

``ObserveRequests`` is one layer of the request path (``_request_path``),
outside the access checks and the hot dispatch, so it sees quart's routes,
the hot ones and the 401/403 answers alike. It notes the response head
(``http.response.start``, or a WebSocket's accept): the status, and the
seconds since the request arrived. A streamed answer (the SSE stream) is
counted at its 200 head, not when the stream ends. A request at 400 or more
logs one line naming the method, the route template (``/v1/workspaces/
<workspace_id>/permissions/grant``, never the raw path), the status and the
duration in milliseconds: 500 and other daemon faults at ERROR; 401/403 and
the expected 5xx answers (501 not supported, 503 busy or shutting down) at
WARNING; other client mistakes at INFO; never with a traceback.

The cost per request is a path split, a few dict lookups and int adds
(``RequestStats``); prometheus-client is not touched here, ``GET
/v1/metrics`` reads these counters at scrape time (``_metrics_collect``).

Source: issue 15 sections 1 and 3 (requests by route template and status,
latency histograms; failed requests logged).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from typing import Any

import trio

from crushd._durations import REQUEST_BUCKETS, Durations

from .http import WEBSOCKET, Route

__all__ = ["UNMATCHED", "ObserveRequests", "RequestStats", "RouteIndex"]

log = logging.getLogger("crushd.server.requests")

ASGIApp = Any

#: The route label of a path that no route matches (bounded cardinality).
UNMATCHED = "<unmatched>"
#: Methods labelled as sent; any other is labelled ``OTHER``.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class _Node:
    __slots__ = ("param", "static", "template")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.template: str | None = None


class RouteIndex:
    """Find the route template of a path, as the url map would, in O(segments).

    ``<name>`` is one non-empty segment; a fixed segment wins over a
    ``<name>`` one; a trailing ``/`` is ignored (``strict_slashes`` off).

    Args:
        routes: the route table.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._root = _Node()
        for route in routes:
            node = self._root
            for part in route.path.strip("/").split("/"):
                node = self._child(node, part)
            node.template = route.path

    @staticmethod
    def _child(node: _Node, part: str) -> _Node:
        if part.startswith("<") and part.endswith(">"):
            node.param = node.param or _Node()
            return node.param
        return node.static.setdefault(part, _Node())

    def template(self, path: str) -> str:
        """The template of ``path`` (any method), else ``UNMATCHED``."""
        path = path.removesuffix("/")
        found = _match(self._root, path.split("/")[1:], 0)
        return UNMATCHED if found is None else found


def _match(node: _Node, parts: list[str], index: int) -> str | None:
    if index == len(parts):
        return node.template
    part = parts[index]
    child = node.static.get(part)
    if child is not None and (found := _match(child, parts, index + 1)) is not None:
        return found
    if node.param is not None and part:
        return _match(node.param, parts, index + 1)
    return None


class RequestStats:
    """The server's request counters, read at scrape time.

    Attributes:
        statuses: ``(method, template, status)`` -> requests.
        latency: ``(method, template)`` -> seconds from arrival to head.
        streams: ``"sse"``/``"websocket"`` -> event streams open now.
        scrape_state: what ``GET /v1/metrics`` keeps between scrapes (its
            registry), ``None`` before the first scrape.
    """

    def __init__(self) -> None:
        self.statuses: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], Durations] = {}
        self.streams: dict[str, int] = {"sse": 0, "websocket": 0}
        self.scrape_state: object | None = None

    def observe(self, method: str, template: str, status: int, seconds: float) -> None:
        """Count one answered request and its time to the response head."""
        key = (method, template, status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        durations = self.latency.get((method, template))
        if durations is None:
            durations = self.latency[method, template] = Durations(REQUEST_BUCKETS)
        durations.observe(seconds)


#: Statuses that are answers, not faults: refused access, not served, busy.
_EXPECTED_REFUSALS = frozenset({401, 403, 501, 503})


def log_failure(method: str, template: str, status: int, seconds: float) -> None:
    """Log one failed request (status >= 400) at its level, without traceback."""
    level = logging.INFO
    if status in _EXPECTED_REFUSALS:
        level = logging.WARNING
    elif status >= 500:
        level = logging.ERROR
    millis = seconds * 1000
    extra = {"method": method, "route": template, "status": status}
    extra["duration_ms"] = round(millis, 3)
    log.log(
        level, "%s %s -> %d in %.1f ms", method, template, status, millis, extra=extra
    )


class _Request:
    """One request being observed: answers ``note`` at its head, once."""

    __slots__ = ("done", "method", "started", "stats", "template")

    def __init__(self, stats: RequestStats, method: str, template: str) -> None:
        self.stats = stats
        self.method = method
        self.template = template
        self.started = trio.current_time()
        self.done = False

    def note(self, status: int) -> None:
        self.done = True
        seconds = trio.current_time() - self.started
        self.stats.observe(self.method, self.template, status, seconds)
        if status >= 400:
            log_failure(self.method, self.template, status, seconds)


class ObserveRequests:
    """ASGI middleware: count, time and log each request at its response head.

    Args:
        app: the ASGI app behind (the access checks and everything inside).
        stats: where the counts go (one per server).
        routes: the route table (its templates label the requests).
    """

    def __init__(
        self, app: ASGIApp, stats: RequestStats, routes: Iterable[Route]
    ) -> None:
        self.app = app
        self.stats = stats
        routes = list(routes)
        self.index = RouteIndex(routes)
        self._sse = {r.path for r in routes if r.hot and r.method == "GET"}
        self._sse &= {r.path for r in routes if r.path.endswith("/events")}
        self._ws = {r.path for r in routes if r.method == WEBSOCKET}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        template = self.index.template(scope["path"])
        if kind == "websocket":
            await self._websocket(scope, receive, send, template)
            return
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        await self._http(scope, receive, send, _Request(self.stats, method, template))

    async def _http(self, scope: Any, receive: Any, send: Any, req: _Request) -> None:
        stream = "sse" if req.template in self._sse else ""
        streaming = False

        def observed_send(message: Any) -> Awaitable[None]:
            # Not a coroutine: returning ``send``'s awaitable adds no frame
            # to each body chunk of a stream.
            nonlocal streaming
            if not req.done and message["type"] == "http.response.start":
                req.note(message["status"])
                streaming = stream != "" and message["status"] == 200
                if streaming:
                    self.stats.streams[stream] += 1
            return send(message)  # type: ignore[no-any-return]

        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            if not req.done:
                req.note(500)  # hypercorn answers 500 for an escaped error
            raise
        finally:
            if streaming:
                self.stats.streams[stream] -= 1

    async def _websocket(
        self, scope: Any, receive: Any, send: Any, template: str
    ) -> None:
        req = _Request(self.stats, "GET", template)
        accepted = False

        def observed_send(message: Any) -> Awaitable[None]:
            nonlocal accepted
            if not req.done:
                accepted = self._ws_head(req, message)
            return send(message)  # type: ignore[no-any-return]

        try:
            await self.app(scope, receive, observed_send)
        finally:
            if accepted:
                self.stats.streams["websocket"] -= 1

    def _ws_head(self, req: _Request, message: Any) -> bool:
        """Note a WebSocket's answer: 101 on accept, else the refusal's status."""
        kind = message["type"]
        if kind == "websocket.accept":
            req.note(101)
            counted = req.template in self._ws
            self.stats.streams["websocket"] += counted
            return counted
        if kind == "websocket.http.response.start":
            req.note(message["status"])
        elif kind == "websocket.close":
            req.note(403)  # closed before the accept: the handshake is refused
        return False
