"""A benchmark client process: ``python -m stress.bench._worker '<job json>'``.

The driver starts one or more of these so that the clients never share a
process (or a GIL) with the daemon or with the publisher. Protocol on the
pipes, one JSON object per stdout line:

1. the worker sets up (opens its streams), then prints ``{"ready": true}``;
2. for each ``go`` on stdin it runs its job and prints ``{"result": ...}``
   (a ``burst`` job may be run again on the same streams: the agent
   benchmark's bursts share their clients);
3. ``stop`` (or EOF) on stdin closes everything and exits.

Jobs (``job["mode"]``): ``burst`` (count events per stream until ``events``
arrived, note when), ``trickle`` (publish-to-receive latency of every event),
``idle`` (hold streams open), ``churn`` (create+attach+detach+release loops),
``resume`` (reconnect with ``Last-Event-ID`` and time the catch-up).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from stress.bench._wire import AsyncConnection, HTTPError, open_event_stream

EVENT = b'"type":"debug"'
RESYNC = b'"type":"resync"'
_TIME = re.compile(rb'"t":([0-9.e+-]+),')
_CONNECTS_AT_ONCE = 25

Job = dict[str, Any]


class PatternCounter:
    """Count a pattern across a byte stream split at arbitrary points."""

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern
        self.count = 0
        self._carry = b""

    def feed(self, data: bytes) -> int:
        """Add the occurrences that end inside ``data``; return the total."""
        window = self._carry + data
        self.count += window.count(self.pattern)
        self._carry = window[-(len(self.pattern) - 1) :]
        return self.count


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _wait_line(stdin: trio.lowlevel.FdStream, buffer: list[bytes]) -> str:
    """Return the next line from stdin ('' at EOF)."""
    while b"\n" not in buffer[0]:
        chunk = await stdin.receive_some(1024)
        if not chunk:
            return ""
        buffer[0] += chunk
    line, _, buffer[0] = buffer[0].partition(b"\n")
    return line.decode().strip()


async def open_streams(job: Job, count: int, **kwargs: Any) -> list[AsyncConnection]:
    """Open ``count`` event streams, each as its own client id."""
    streams: list[AsyncConnection] = []
    limiter = trio.CapacityLimiter(_CONNECTS_AT_ONCE)

    async def one() -> None:
        async with limiter:
            client_id = str(uuid.uuid4())
            conn = await open_event_stream(
                job["socket"], job["workspace_id"], client_id, **kwargs
            )
            streams.append(conn)

    async with trio.open_nursery() as nursery:
        for _ in range(count):
            nursery.start_soon(one)
    return streams


async def _count_events(conn: AsyncConnection, expected: int) -> dict[str, Any]:
    events, resyncs = PatternCounter(EVENT), PatternCounter(RESYNC)
    data, conn.buffer = conn.buffer, b""
    while True:
        seen = events.feed(data)
        resyncs.feed(data)
        if seen >= expected:
            return {"done": time.monotonic(), "events": seen, "resyncs": resyncs.count}
        data = await conn.stream.receive_some(262144)
        if not data:
            return {"done": None, "events": seen, "resyncs": resyncs.count}


async def _gather(
    calls: list[Callable[[], Awaitable[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []

    async def run(call: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        results.append(await call())

    async with trio.open_nursery() as nursery:
        for call in calls:
            nursery.start_soon(run, call)
    return results


async def run_burst(job: Job, streams: list[AsyncConnection]) -> Any:
    """Per stream: when the ``events``-th event arrived (``time.monotonic``)."""
    expected = job["events"]
    return await _gather([partial(_count_events, c, expected) for c in streams])


class Latencies:
    """Publish-to-receive latencies (from each event's ``t``) and schedule lags."""

    def __init__(self, schedule_start: float, rate: float) -> None:
        self.start, self.rate = schedule_start, rate
        self.from_t: list[float] = []
        self.from_schedule: list[float] = []

    def add(self, now: float, index: int, stamps: list[bytes]) -> None:
        """Record events ``index..`` of one stream, all received at ``now``."""
        self.from_t.extend(now - float(stamp) for stamp in stamps)
        due = self.start + index / self.rate
        step = 1 / self.rate
        self.from_schedule.extend(now - due - k * step for k in range(len(stamps)))


async def _latencies(
    conn: AsyncConnection, expected: int, out: Latencies, seen: list[int]
) -> None:
    """Follow one stream until ``expected`` events; ``seen[0]`` counts them."""
    pending = conn.buffer
    conn.buffer = b""
    while True:
        cut = pending.rfind(b"\n\n") + 2
        if cut > 1:
            stamps = _TIME.findall(pending, 0, cut)
            out.add(time.time(), seen[0], stamps)
            seen[0] += len(stamps)
            pending = pending[cut:]
        if seen[0] >= expected:
            return
        data = await conn.stream.receive_some(65536)
        if not data:
            break
        pending += data


async def run_trickle(job: Job, streams: list[AsyncConnection]) -> Any:
    """Every latency seen, in seconds, plus events per stream."""
    out = Latencies(job["schedule_start"], job["rate"])
    counts = [[0] for _ in streams]
    with trio.move_on_after(job["timeout_seconds"]):
        async with trio.open_nursery() as nursery:
            for conn, seen in zip(streams, counts, strict=True):
                nursery.start_soon(_latencies, conn, job["events"], out, seen)
    return {
        "latencies": [round(x, 6) for x in out.from_t],
        "from_schedule": [round(x, 6) for x in out.from_schedule],
        "events": [seen[0] for seen in counts],
    }


async def run_idle(job: Job, streams: list[AsyncConnection]) -> Any:
    """Nothing to do: the streams stay open until ``stop``."""
    return {"streams": len(streams)}


async def _churn_client(job: Job, deadline: float, stats: dict[str, int]) -> None:
    client_id = str(uuid.uuid4())
    api = await AsyncConnection.open(job["socket"])
    body = {"path": job["project"], "client_id": client_id}
    while time.monotonic() < deadline:
        status, workspace = await api.request("POST", "/v1/workspaces", body)
        if status != 200:
            stats["errors"] += 1
            continue
        ws = workspace["id"]
        try:
            stream = await open_event_stream(job["socket"], ws, client_id)
        except HTTPError:
            stats["errors"] += 1
        else:
            await stream.aclose()
        target = f"/v1/workspaces/{ws}?client_id={client_id}"
        status, _ = await api.request("DELETE", target)
        stats["cycles" if status == 200 else "errors"] += 1
    await api.aclose()


async def run_churn(job: Job, streams: list[AsyncConnection]) -> Any:
    """Cycles completed by ``clients`` concurrent clients in ``seconds``."""
    stats = {"cycles": 0, "errors": 0}
    start = time.monotonic()
    deadline = start + job["seconds"]
    async with trio.open_nursery() as nursery:
        for _ in range(job["clients"]):
            nursery.start_soon(_churn_client, job, deadline, stats)
    return {**stats, "seconds": time.monotonic() - start}


async def run_resume(job: Job, streams: list[AsyncConnection]) -> Any:
    """Seconds from connect to the last of ``events`` events, per repeat."""
    times, resyncs = [], 0
    for _ in range(job["repeats"]):
        start = time.monotonic()
        conn = await open_event_stream(
            job["socket"],
            job["workspace_id"],
            str(uuid.uuid4()),
            last_event_id=job["last_event_id"],
        )
        counted = await _count_events(conn, job["events"])
        times.append(counted["done"] - start)
        resyncs += counted["resyncs"]
        await conn.aclose()
    return {"seconds": times, "resyncs": resyncs}


MODES = {
    "burst": run_burst,
    "trickle": run_trickle,
    "idle": run_idle,
    "churn": run_churn,
    "resume": run_resume,
}


async def serve_job(job: Job) -> None:
    """Set up, report ready, run and report on each ``go``, clean up on ``stop``."""
    stdin = trio.lowlevel.FdStream(os.dup(0))
    buffer = [b""]
    streams = await open_streams(job, job.get("streams", 0))
    _say({"ready": True})
    while True:
        command, _, extra = (await _wait_line(stdin, buffer)).partition(" ")
        if command != "go":
            break
        job.update(json.loads(extra or "{}"))
        _say({"result": await MODES[job["mode"]](job, streams)})
    for conn in streams:
        await conn.aclose()


def main() -> None:
    """Entry point: the job is ``sys.argv[1]`` as JSON."""
    trio.run(serve_job, json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
