"""A scripted OpenAI-compatible server: ``python -m stress.bench._scripted_llm DIR``.

It listens on ``127.0.0.1`` (a port the kernel picks, printed on stdout as
``{"port": N}``) and answers ``POST /v1/chat/completions`` with a streamed
answer whose size and pace the prompt itself asks for: a prompt containing
``bench-run <tag> <deltas> <rate>`` gets ``<deltas>`` text deltas, ``rate``
per second (``0``: as fast as the reader takes them). Delta ``k`` is
``delta_text(k)``, so a reader knows how many deltas a text holds from its
length alone. When the answer is written, the wall-clock time of every delta
write goes to ``DIR/<tag>.json`` (``{"writes": [...]}``).

A request offering no tools is the daemon's title job: it gets a one-word
answer. HTTP/1.1 is written by hand (keep-alive, chunked answers) so the
server costs the machine as little as possible (paced answers are written
by a plain thread, not a Trio task per delta); it runs in its own process,
apart from the daemon, the watchers and the driver. It exits on stdin EOF.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import trio

from stress.bench._script import MARKER, TITLE, delta_text

_HEAD_END = b"\r\n\r\n"
_CHUNK_ID = "chatcmpl-bench"


def _chunk(model: str, delta: dict[str, object], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {
        "id": _CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [choice],
    }
    return _event(json.dumps(body, separators=(",", ":")))


def _event(data: str) -> bytes:
    payload = f"data: {data}\n\n".encode()
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


def _usage(model: str, completion: int) -> bytes:
    body = {
        "id": _CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": completion,
            "total_tokens": 100 + completion,
        },
    }
    return _event(json.dumps(body, separators=(",", ":")))


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def _json_answer(status: int, body: object) -> bytes:
    data = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data


class ScriptedServer:
    """Serves scripted answers; records the delta write times in ``out``."""

    def __init__(self, out: Path) -> None:
        self.out = out

    async def handle(self, stream: trio.SocketStream) -> None:
        """Serve one keep-alive connection until the client closes it."""
        buffer = b""
        try:
            while True:
                while (end := buffer.find(_HEAD_END)) < 0:
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head = buffer[:end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body_start = end + 4
                while len(buffer) < body_start + length:
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body = buffer[body_start : body_start + length]
                buffer = buffer[body_start + length :]
                await self._answer(stream, head.split(" ", 2)[:2], body)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return  # the daemon hung up (OSError: from a paced writer thread)
        finally:
            await stream.aclose()

    async def _answer(
        self, stream: trio.SocketStream, request: list[str], body: bytes
    ) -> None:
        method, path = request[0], request[1] if len(request) > 1 else ""
        if method == "GET" and path.endswith("/models"):
            data = [
                {"id": m, "object": "model"} for m in ("bench-large", "bench-small")
            ]
            await stream.send_all(_json_answer(200, {"object": "list", "data": data}))
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            error = {"error": {"message": "no route", "type": "not_found"}}
            await stream.send_all(_json_answer(404, error))
            return
        request_body = json.loads(body)
        model = str(request_body.get("model", ""))
        match = MARKER.search(body) if request_body.get("tools") else None
        if match is None:
            await self._title(stream, model)
        else:
            tag, deltas, rate = match.group(1).decode(), int(match[2]), float(match[3])
            await self._scripted(stream, model, tag, deltas, rate)

    async def _title(self, stream: trio.SocketStream, model: str) -> None:
        parts = [_chunk(model, {"role": "assistant", "content": TITLE})]
        parts += [_chunk(model, {}, "stop"), _usage(model, 1)]
        parts += [_event("[DONE]"), b"0\r\n\r\n"]
        await stream.send_all(_STREAM_HEAD + b"".join(parts))

    async def _scripted(
        self, stream: trio.SocketStream, model: str, tag: str, deltas: int, rate: float
    ) -> None:
        await stream.send_all(_STREAM_HEAD + _chunk(model, {"role": "assistant"}))
        if rate > 0:
            writes = await trio.to_thread.run_sync(
                _paced_writes, stream.socket.fileno(), model, deltas, rate
            )
        else:
            writes = []
            for k in range(deltas):
                writes.append(time.time())
                await stream.send_all(_chunk(model, {"content": delta_text(k)}))
        tail = [_chunk(model, {}, "stop"), _usage(model, deltas)]
        await stream.send_all(b"".join([*tail, _event("[DONE]"), b"0\r\n\r\n"]))
        path = self.out / f"{tag}.json"
        path.write_text(json.dumps({"writes": writes}))


def _paced_writes(fd: int, model: str, deltas: int, rate: float) -> list[float]:
    """Write ``deltas`` deltas at ``rate``/s on a copy of socket ``fd``.

    A plain thread with ``time.sleep`` rather than a Trio task: a Trio
    sleep per delta cost this process ~0.18 of a core at 3 x 200 deltas/s,
    taken from the daemon on the 2-core benchmark machine, where a real
    provider is remote and costs nothing (stress/RESULTS.md). The copy shares
    the non-blocking file; ``settimeout`` waits for room with ``poll``.
    """
    writes: list[float] = []
    with socket.socket(fileno=os.dup(fd)) as sock:
        sock.settimeout(60)
        start = time.monotonic()
        for k in range(deltas):
            wait = start + k / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            data = _chunk(model, {"content": delta_text(k)})
            writes.append(time.time())
            sock.sendall(data)
    return writes


async def serve(out: Path) -> None:
    """Listen, print the port, serve until stdin closes."""
    server = ScriptedServer(out)
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    stdin = trio.lowlevel.FdStream(os.dup(0))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, server.handle, listeners)
        while await stdin.receive_some(1024):
            pass
        nursery.cancel_scope.cancel()


def main() -> None:
    """Entry point: ``sys.argv[1]`` is the folder for the write times."""
    trio.run(serve, Path(sys.argv[1]))


if __name__ == "__main__":
    main()
