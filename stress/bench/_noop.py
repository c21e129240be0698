"""A no-op ASGI app on hypercorn's trio worker: the churn benchmark's reference.

``python -m stress.bench._noop SOCKET`` serves, on a unix socket, the three
requests of a churn cycle with no work behind them: ``POST /v1/workspaces``
answers a fixed JSON body, ``GET .../events`` answers 200 and waits for the
client to leave, ``DELETE`` answers an empty 200 (and ``GET /v1/health``
200). Running the churn clients against it measures what the HTTP server
alone costs per cycle on this machine: no daemon on hypercorn can beat it.
"""

from __future__ import annotations

import sys
from typing import Any

import hypercorn.config
import hypercorn.trio
import trio

_WORKSPACE = b'{"id":"noop","path":"/"}\n'
_JSON = [(b"content-type", b"application/json")]


async def _reply(send: Any, status: int, body: bytes, headers: list[Any]) -> None:
    length = [(b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + length}
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Any, receive: Any, send: Any) -> None:
    """The no-op ASGI app (see the module docstring)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    method, path = scope["method"], scope["path"]
    if method == "POST":
        while (await receive()).get("more_body"):
            pass
        await _reply(send, 200, _WORKSPACE, _JSON)
    elif path.endswith("/events"):
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        while (await receive())["type"] != "http.disconnect":
            pass
    elif method == "DELETE":
        await _reply(send, 200, b"", [])
    else:
        await _reply(send, 200, b"{}\n", _JSON)


def main(socket_path: str) -> None:
    """Serve ``app`` on ``socket_path`` until killed."""
    config = hypercorn.config.Config()
    config.bind = [f"unix:{socket_path}"]
    config.accesslog = None
    config.errorlog = None
    trio.run(hypercorn.trio.serve, app, config)


if __name__ == "__main__":
    main(sys.argv[1])
