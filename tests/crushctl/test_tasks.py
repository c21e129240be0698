"""open_helper_nursery: helpers cancelled at exit, the block's errors unwrapped."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from crushctl._tasks import open_helper_nursery


async def test_helper_nursery_cancels_helpers_at_exit() -> None:
    """A helper still running when the block ends is cancelled, not awaited."""
    finished: list[str] = []

    async def helper() -> None:
        try:
            await trio.sleep_forever()
        finally:
            finished.append("helper")

    async with open_helper_nursery() as nursery:
        nursery.start_soon(helper)
        await trio.testing.wait_all_tasks_blocked()
    assert finished == ["helper"]


async def fail_in_block() -> None:
    async with open_helper_nursery() as nursery:
        nursery.start_soon(trio.sleep_forever)
        try:
            raise KeyError("inner")
        except KeyError:
            raise LookupError("outer")  # noqa: B904 - testing the implicit context


async def test_helper_nursery_unwraps_block_error_keeping_context() -> None:
    """The block's lone exception leaves unwrapped, with its original context."""
    with pytest.raises(LookupError) as info:
        await fail_in_block()
    assert isinstance(info.value.__context__, KeyError)


async def fail_in_block_and_helper() -> None:
    async def broken() -> None:
        raise RuntimeError("helper bug")

    async with open_helper_nursery() as nursery:
        nursery.start_soon(broken)
        raise ValueError("block")


async def test_helper_nursery_keeps_groups_of_several() -> None:
    """A helper that raises as well produces the full group, unchanged."""
    with pytest.RaisesGroup(RuntimeError, ValueError):
        await fail_in_block_and_helper()
