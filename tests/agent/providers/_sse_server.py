"""A tiny scripted HTTP server speaking OpenAI chat-completions SSE.

Each request gets the next scripted ``Reply``: a status, headers, and either a
JSON body or a list of SSE ``data:`` payloads (dicts become JSON; the string
``[DONE]`` ends the stream; a ``trio.Event`` holds the stream until set).
Request bodies and headers are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs
import trio


@attrs.frozen
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    events: Sequence[object] = ()
    body: object = None


@attrs.define
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, object]


@attrs.define
class SSEServer:
    """Serves ``replies`` in order on 127.0.0.1; ``port`` is set once started."""

    replies: list[Reply]
    requests: list[Recorded] = attrs.field(factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def serve(self, *, task_status: trio.TaskStatus[None]) -> None:
        """Listen and answer until cancelled."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            await self._record(stream)
            reply = self.replies.pop(0)
            await stream.send_all(_head(reply))
            if reply.body is not None:
                await stream.send_all(json.dumps(reply.body).encode())
                return
            for event in reply.events:
                if isinstance(event, trio.Event):
                    await event.wait()
                    continue
                data = event if isinstance(event, str) else json.dumps(event)
                await stream.send_all(f"data: {data}\n\n".encode())

    async def _record(self, stream: trio.SocketStream) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += await stream.receive_some()
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        pairs = (line.split(":", 1) for line in lines[1:])
        headers = {k.strip().lower(): v.strip() for k, v in pairs}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += await stream.receive_some()
        body = json.loads(rest) if rest else {}
        self.requests.append(Recorded(lines[0].split()[1], headers, body))


def _head(reply: Reply) -> bytes:
    kind = "application/json" if reply.body is not None else "text/event-stream"
    lines = [f"HTTP/1.1 {reply.status} X", f"content-type: {kind}", "connection: close"]
    if reply.body is not None:
        lines.append(f"content-length: {len(json.dumps(reply.body).encode())}")
    lines.extend(f"{k}: {v}" for k, v in reply.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(
    delta: dict[str, object] | None = None,
    finish: str | None = None,
    usage: dict[str, object] | None = None,
) -> dict[str, object]:
    """One ``chat.completion.chunk`` payload."""
    choices = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    )
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        "usage": usage,
    }
