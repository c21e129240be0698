"""Replay one generated script inside one ``trio.run``, then check the end state."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import trio
import trio.testing

from ._checks import check
from ._harness import Harness
from ._model import Model, Timings
from ._ops import Op, Restart
from ._world import EXAMPLE_SECONDS, World, lifecycle_log, settle


def run_example(
    timings: Timings,
    ops: list[Op],
    note: Callable[[str], None] = print,
    schedule: int = 0,
) -> Counter[str]:
    """Run ``ops`` against a fresh daemon and model; raise ``AssertionError`` on drift.

    Args:
        timings: the daemon's graces and replay window.
        ops: the script.
        note: where each step's line goes.
        schedule: seeds the order in which trio runs the tasks that are ready
            at the same time (see ``seed_scheduler``), so one script explores
            different interleavings and a failing one replays the same way.

    Returns:
        How often each interesting transition happened (``Model.stats``).
    """
    seed_scheduler(schedule)
    clock = trio.testing.MockClock()  # no autojump: time moves only in Advance
    model = Model(timings)
    trio.run(_replay, clock, model, ops, note, clock=clock)
    return model.stats


def seed_scheduler(schedule: int) -> None:
    """Make trio's choice among ready tasks a function of ``schedule``.

    Trio shuffles each batch of ready tasks with its module-level random
    generator (``trio._core._run._r``); importing hypothesis turns on its
    deterministic mode (sorted, then shuffled by that generator), and
    hypothesis reseeds the generator to a constant before every example.
    Seeding it from a drawn integer instead makes the interleaving part of
    the example: explored across scripts, shrunk and replayed with them.
    """
    random_generator: random.Random = trio._core._run._r
    random_generator.seed(schedule)


async def _replay(
    clock: trio.testing.MockClock,
    model: Model,
    ops: list[Op],
    note: Callable[[str], None],
) -> None:
    failure: BaseException | None = None
    hung = threading.Event()
    with lifecycle_log() as lifecycle:
        async with trio.open_nursery() as nursery:
            world = World(clock, model.t, nursery)
            harness = Harness(world, model, lifecycle, note)
            token = trio.lowlevel.current_trio_token()

            def on_hang() -> None:
                hung.set()
                token.run_sync_soon(nursery.cancel_scope.cancel)

            timer = threading.Timer(EXAMPLE_SECONDS, on_hang)
            timer.daemon = True
            timer.start()
            try:
                await _steps(harness, ops)
            except Exception as exc:  # noqa: BLE001 - re-raised outside the nursery
                failure = exc
            finally:
                timer.cancel()
                await harness.close_clients()
                nursery.cancel_scope.cancel()
                world.remove()
    if hung.is_set():
        raise AssertionError(f"example hung for {EXAMPLE_SECONDS} s of real time")
    if failure is not None:
        raise failure


async def _steps(h: Harness, ops: list[Op]) -> None:
    where = "before step 0"
    try:
        await check(h)
        for n, op in enumerate(ops):
            where = f"at step {n} ({op!r})"
            h.note(f"step {n}: {op!r}")
            await op.apply(h)
            await check(h)
        where = "at the finish (SIGTERM and the end checks)"
        await finish(h)
    except Exception as exc:
        exc.add_note(f"failed {where}; the daemon's last log lines (t in ticks):")
        for line in h.lifecycle.recent:
            exc.add_note(f"  {line}")
        raise


async def finish(h: Harness) -> None:
    """Stop the daemon (SIGTERM) and check that nothing survived it."""
    if h.model.up:
        h.note("finish: SIGTERM")
        await Restart().apply(h)
    await settle()
    await check(h)
    assert all(s.model is not None and s.model.ended for s in h.streams)
    assert all(s.eof or s.closed for s in h.streams), "a stream outlived the daemon"
    assert all(ws.torn_down for ws in h.model.built)
