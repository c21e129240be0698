"""Per-request synchronous cleanups that run however the request ends.

A stream's claim must be detached even when its response body never starts
(the client vanished between the handler returning and the first send): an
async generator that never ran has no ``finally``. This ASGI middleware runs
the callbacks a handler registered once the whole request is over — normally,
on error, or cancelled — so detaching never depends on the body running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from quart import request, websocket

log = logging.getLogger("crushd.server")

_KEY = "crushd.cleanups"

ASGIApp = Callable[[Any, Any, Any], Any]


class RequestCleanups:
    """ASGI middleware: each request gets a list of sync callbacks run at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        callbacks: list[Callable[[], None]] = []
        scope = {**scope, _KEY: callbacks}
        try:
            await self.app(scope, receive, send)
        finally:
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("request cleanup failed")


def on_request_end(callback: Callable[[], None], *, ws: bool = False) -> None:
    """Run ``callback`` (synchronous, no await) when the current request ends.

    Args:
        callback: what to run; exceptions are logged, never raised.
        ws: the current request is a WebSocket (uses ``quart.websocket``).

    Raises:
        RuntimeError: the app is not wrapped in ``RequestCleanups``.
    """
    scope = (websocket if ws else request).scope
    callbacks = cast("list[Callable[[], None]] | None", scope.get(_KEY))
    if callbacks is None:
        raise RuntimeError("RequestCleanups middleware is not installed")
    callbacks.append(callback)
