"""Replay one operation list against a fresh registry and model, then close both."""

from __future__ import annotations

import trio

from ._checks import check, check_final
from ._harness import Harness
from ._ops import Op, step
from ._world import FINISH_BOUND, Params, settle


async def replay(params: Params, ops: list[Op]) -> None:
    """Run ``ops`` step by step, comparing after each; raise ``AssertionError``."""
    async with trio.open_nursery() as nursery:
        h = Harness(params, nursery)
        await nursery.start(h.serve)
        check(h)
        for op in ops:
            await step(h, op)
        await finish(h)


async def finish(h: Harness) -> None:
    """Close, wait for ``serve`` to return, and check that nothing is left."""
    h.registry.close()
    await settle()
    h.model.close()
    with trio.move_on_after(FINISH_BOUND):
        await h.served.wait()
    assert h.served.is_set(), "Registry.serve did not return after close()"
    await settle()
    h.model.advance(trio.current_time() - h.model.now)
    check(h)
    check_final(h)
