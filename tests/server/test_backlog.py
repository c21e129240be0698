"""The listen backlog absorbs a burst of connections (regression from the soak)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import trio

from crushd.server import bind_unix

BURST = 200


async def test_unix_listener_queues_a_burst_of_200_connections() -> None:
    """200 clients connecting at once to a busy daemon all get a working socket."""
    folder = Path(tempfile.mkdtemp(prefix="crushd-t-", dir="/tmp"))
    bound = bind_unix(folder / "s.sock")
    streams: list[trio.SocketStream] = []
    try:
        # Nobody accepts: every connection waits in the listen queue.
        for _ in range(BURST):
            stream = await trio.open_unix_socket(str(folder / "s.sock"))
            streams.append(stream)
            await stream.send_all(b"GET /v1/health HTTP/1.1\r\n\r\n")
    finally:
        for stream in streams:
            await stream.aclose()
        bound.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert len(streams) == BURST
