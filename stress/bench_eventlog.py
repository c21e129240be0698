"""Benchmark the event log: deliveries per second for N readers x M events.

Each reader follows the log by cursor exactly as an SSE stream does (read all
pending as one chunk, then ``wait_after``) and hands the chunk to a sink that
costs one checkpoint, standing in for one socket write. The ``per-event`` mode
writes each frame separately, to show what coalescing buys (docs/architecture.md 4).

Run: ``.venv/bin/python stress/bench_eventlog.py [--events M] [--readers 1,10,50]``.
The whole run stops starting new scenarios after ``--budget`` seconds
(default 15), so it ends well inside 20 s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import attrs
import trio
import trio.lowlevel
import trio.testing

from crushd.workspace._eventlog import EventLog

#: No run lasts longer than this, whatever the arguments (seconds).
HARD_LIMIT_SECONDS = 18.0

# A typical streaming "message updated" payload (a few hundred bytes of JSON).
PAYLOAD = {
    "id": "6f1c0e9e-4c1b-4f0e-9a51-0f6c7c1b2d3e",
    "session_id": "2a7d6a4e-9f43-4a55-8d0e-5b4f1c2d3e4f",
    "role": "assistant",
    "parts": [
        {"type": "text", "data": {"text": "Hello, this is a streamed reply. " * 4}}
    ],
    "model": "gpt-x",
    "provider": "openai",
    "created_at": 1767225600,
    "updated_at": 1767225601,
}


@attrs.define
class Result:
    mode: str
    readers: int
    events: int
    seconds: float
    deliveries: int = 0
    writes: int = 0
    resyncs: int = 0

    def line(self) -> str:
        rate = self.deliveries / self.seconds if self.seconds else 0.0
        per_write = self.deliveries / self.writes if self.writes else 0.0
        return (
            f"{self.mode:>9}  readers={self.readers:<4} events={self.events:<7} "
            f"{rate:>12,.0f} deliveries/s  {self.seconds:6.3f} s  "
            f"writes={self.writes:<7} events/write={per_write:6.1f} "
            f"resyncs={self.resyncs}"
        )


async def _deliver_coalesced(log: EventLog, cursor: int, result: Result) -> int:
    batch = log.read_sse(cursor)
    if batch.data:
        result.writes += 1
        await trio.lowlevel.checkpoint()  # one write per wake-up
    result.resyncs += batch.resync
    return batch.cursor


async def _deliver_per_event(log: EventLog, cursor: int, result: Result) -> int:
    batch = log.read_ws(cursor)
    for _frame in batch.frames:
        result.writes += 1
        await trio.lowlevel.checkpoint()  # one write per event
    result.resyncs += batch.resync
    return batch.cursor


async def _reader(log: EventLog, result: Result, coalesce: bool) -> None:
    deliver = _deliver_coalesced if coalesce else _deliver_per_event
    cursor = 0
    while True:
        new_cursor = await deliver(log, cursor, result)
        result.deliveries += new_cursor - cursor
        cursor = new_cursor
        if log.is_drained(cursor):
            return
        await log.wait_after(cursor)


async def _publisher(log: EventLog, events: int, burst: int) -> None:
    for n in range(events):
        log.publish("message", "updated", PAYLOAD)
        if n % burst == burst - 1:
            await trio.lowlevel.checkpoint()  # let readers run, as real I/O would
    log.close()


async def run_scenario(
    mode: str, readers: int, events: int, burst: int, capacity: int
) -> Result:
    log = EventLog("bench", capacity_frames=capacity)
    result = Result(mode, readers, events, 0.0)
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(readers):
            nursery.start_soon(_reader, log, result, mode == "coalesced")
        await trio.testing.wait_all_tasks_blocked()
        start = time.perf_counter()
        nursery.start_soon(_publisher, log, events, burst)
    result.seconds = time.perf_counter() - start
    return result


def publish_cost_us(events: int) -> float:
    log = EventLog("bench", capacity_frames=4096)
    start = time.perf_counter()
    for _ in range(events):
        log.publish("message", "updated", PAYLOAD)
    return (time.perf_counter() - start) / events * 1e6


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--readers", default="1,10,50,200")
    parser.add_argument(
        "--burst", type=int, default=32, help="events per publish burst"
    )
    parser.add_argument("--capacity", type=int, default=4096)
    parser.add_argument("--budget", type=float, default=12.0, help="seconds")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    deadline = time.perf_counter() + args.budget
    print(f"publish: {publish_cost_us(args.events):.2f} us/event (no readers)")
    for readers in (int(r) for r in args.readers.split(",")):
        for mode in ("coalesced", "per-event"):
            if time.perf_counter() > deadline:
                print(f"budget of {args.budget} s spent; skipping the rest")
                return
            events = args.events if mode == "coalesced" else args.events // 10
            result = await run_scenario(
                mode, readers, events, args.burst, args.capacity
            )
            print(result.line())


async def _run_bounded(args: argparse.Namespace) -> None:
    with trio.move_on_after(HARD_LIMIT_SECONDS) as scope:
        await _run(args)
    if scope.cancelled_caught:
        print(f"hard limit of {HARD_LIMIT_SECONDS} s reached; last scenario cut")


def main(argv: Sequence[str] | None = None) -> None:
    """Run every scenario within the time budget and print one line each."""
    trio.run(_run_bounded, _parse(argv))


if __name__ == "__main__":
    main()
