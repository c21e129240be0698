"""Agent-benchmark watchers: ``python -m stress.bench._agent_worker '<job json>'``.

Each worker holds ``job["streams"]`` event streams on one workspace, each as
its own client. Protocol on the pipes (one JSON object per stdout line), as
``stress.bench._worker`` but for several rounds:

1. it opens its streams, then prints ``{"ready": true}``;
2. for every ``go {"runs": [...], "timeout_seconds": T}`` line on stdin it
   follows the streams until every run's ``run_complete`` arrived on every
   stream (or ``T`` passed) and prints ``{"result": [...]}``, one entry per
   stream;
3. ``stop`` (or EOF) closes everything.

A run is ``{"session_id", "run_id"}``. For every assistant
``message`` event of a run's session a stream notes, when the text covers
more deltas than before, ``[deltas covered, time.time()]`` (each delta is
``DELTA_CHARS`` characters, see ``_scripted_llm``). It also keeps the last
text it saw and the text of the run's ``run_complete``, so the driver can
check that nothing was lost.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import trio

from stress.bench._script import DELTA_CHARS
from stress.bench._wire import AsyncConnection
from stress.bench._worker import _say, _wait_line, open_streams

_MESSAGE = b'"type":"message"'
_RUN_COMPLETE = b'"type":"run_complete"'


class Dechunker:
    """Undo HTTP/1.1 chunked transfer encoding, fed arbitrary pieces."""

    def __init__(self) -> None:
        self._buffer = b""
        self._left = 0  # bytes of the current chunk still to come

    def feed(self, data: bytes) -> bytes:
        """Return the body bytes ``data`` completes."""
        self._buffer += data
        out: list[bytes] = []
        while self._buffer:
            if self._left:
                piece = self._buffer[: self._left]
                out.append(piece)
                self._left -= len(piece)
                self._buffer = self._buffer[len(piece) :]
                continue
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                break
            line = self._buffer[:line_end]
            self._buffer = self._buffer[line_end + 2 :]
            if line:  # empty: the CRLF that ends a chunk
                self._left = int(line.split(b";")[0], 16)
        return b"".join(out)


class Follower:
    """What one stream saw of the runs."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.sessions = {r["session_id"]: r for r in runs}
        self.covered = {r["session_id"]: 0 for r in runs}
        self.steps: dict[str, list[list[float]]] = {r["session_id"]: [] for r in runs}
        self.last_text = {r["session_id"]: "" for r in runs}
        self.final_text: dict[str, str | None] = {r["session_id"]: None for r in runs}
        self.pending = {r["run_id"] for r in runs}

    def event(self, data: bytes, now: float) -> None:
        """Take one event's ``data:`` JSON."""
        if _MESSAGE in data[:40]:
            message = json.loads(data)["payload"]["payload"]
            session = message.get("session_id")
            if message.get("role") != "assistant" or session not in self.sessions:
                return
            text = "".join(
                str(p["data"].get("text", ""))
                for p in message["parts"]
                if p["type"] == "text"
            )
            self.last_text[session] = text
            covered = len(text) // DELTA_CHARS
            if covered > self.covered[session]:
                self.covered[session] = covered
                self.steps[session].append([covered, now])
        elif _RUN_COMPLETE in data[:40]:
            payload = json.loads(data)["payload"]["payload"]
            if payload.get("run_id") in self.pending:
                self.pending.discard(payload["run_id"])
                self.final_text[payload["session_id"]] = payload.get("text", "")

    def result(self) -> dict[str, Any]:
        """The stream's record: steps, last and final text per session."""
        return {
            "steps": self.steps,
            "last_text": self.last_text,
            "final_text": self.final_text,
            "missing_run_complete": sorted(self.pending),
        }


class Watch:
    """One event stream and its decoding state, kept across rounds."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dechunk = Dechunker()
        self.pending = self.dechunk.feed(conn.buffer)  # de-chunked, not yet parsed
        conn.buffer = b""

    async def follow(self, follower: Follower) -> None:
        """Feed ``follower`` until every run completed (cancel to stop early)."""
        while follower.pending:
            now = time.time()
            cut = self.pending.rfind(b"\n\n")
            if cut >= 0:
                for block in self.pending[:cut].split(b"\n\n"):
                    start = block.find(b"data: ")
                    if start >= 0:
                        follower.event(block[start + 6 :], now)
                self.pending = self.pending[cut + 2 :]
            if not follower.pending:
                return
            data = await self.conn.stream.receive_some(262144)
            if not data:
                return
            self.pending += self.dechunk.feed(data)


async def run_round(watches: list[Watch], job: dict[str, Any]) -> Any:
    """Follow every stream through ``job["runs"]``; one record per stream."""
    followers = [Follower(job["runs"]) for _ in watches]
    with trio.move_on_after(job["timeout_seconds"]):
        async with trio.open_nursery() as nursery:
            for watch, follower in zip(watches, followers, strict=True):
                nursery.start_soon(watch.follow, follower)
    return [f.result() for f in followers]


async def serve_job(job: dict[str, Any]) -> None:
    """Open the streams, then answer ``go`` rounds until ``stop``."""
    stdin = trio.lowlevel.FdStream(os.dup(0))
    buffer = [b""]
    streams = await open_streams(job, job["streams"])
    watches = [Watch(conn) for conn in streams]
    _say({"ready": True})
    while True:
        command, _, extra = (await _wait_line(stdin, buffer)).partition(" ")
        if command != "go":
            break
        _say({"result": await run_round(watches, json.loads(extra))})
    for conn in streams:
        await conn.aclose()


def main() -> None:
    """Entry point: the job is ``sys.argv[1]`` as JSON."""
    trio.run(serve_job, json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
