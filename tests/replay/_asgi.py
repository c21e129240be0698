"""The HTTP plumbing of the replay server: ASGI helpers and serving on loopback.

hypercorn runs the app under trio on ``127.0.0.1`` with a port the kernel
picks; every request is its own task, so title and agent calls overlap as
they do against a real provider.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope, Scope

#: An ASGI HTTP handler: the request's scope, receive and send.
Handler = Callable[[HTTPScope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]
#: An ASGI app.
App = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]

#: hypercorn's own messages (and any handler traceback) go here.
logger = logging.getLogger("tests.replay")


async def read_body(receive: ASGIReceiveCallable) -> bytes:
    """Read a request body to its end."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def start_response(
    send: ASGISendCallable,
    status: int,
    content_type: str,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Send the status line and headers."""
    raw = [(b"content-type", content_type.encode())]
    raw.extend((name.encode(), value.encode()) for name, value in headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})


async def send_json(
    send: ASGISendCallable,
    status: int,
    body: object,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Send a whole JSON answer."""
    await start_response(send, status, "application/json", headers)
    data = json.dumps(body).encode()
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def send_error(
    send: ASGISendCallable,
    status: int,
    kind: str,
    message: str,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Send an OpenAI-style error: ``{"error": {"message", "type", "code"}}``."""
    error = {"message": message, "type": kind, "code": kind}
    await send_json(send, status, {"error": error}, headers)


async def send_event(send: ASGISendCallable, data: str, *, last: bool) -> None:
    """Write one ``data:`` event (one write)."""
    chunk = f"data: {data}\n\n".encode()
    await send({"type": "http.response.body", "body": chunk, "more_body": not last})


async def wait_disconnect(receive: ASGIReceiveCallable) -> None:
    """Return once the client has closed the connection."""
    while (await receive())["type"] != "http.disconnect":
        pass


def asgi_app(handler: Handler) -> App:
    """Wrap ``handler`` (HTTP only) into an app that also answers lifespan."""

    async def app(
        scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            await handler(scope, receive, send)

    return app


async def serve_loopback(
    handler: Handler, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve ``handler`` on ``127.0.0.1`` until cancelled.

    Args:
        handler: the HTTP handler.
        task_status: receives the bound port (for ``nursery.start``).
    """
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.errorlog = logger
    config.accesslog = None
    config.graceful_timeout = 0.1

    async with trio.open_nursery() as nursery:
        binds = await nursery.start(functools.partial(serve, asgi_app(handler), config))
        task_status.started(int(binds[0].rsplit(":", 1)[1]))
