"""Tests for crushd/workspace/_flush_window.py: provider reads lined up with flushes.

Readers here are tasks calling ``pace`` then ``stamp`` as ``PacedStream``
does around each socket read; time is ``MockClock``'s.
"""

from __future__ import annotations

import trio
import trio.testing

from crushd.workspace._flush_window import SETTLE_SECONDS, FlushWindow


class Reader:
    """A provider connection's side of the window: when each read began."""

    def __init__(self, window: FlushWindow) -> None:
        self.window = window
        self.last: int | None = None
        self.began: list[float] = []

    async def read(self) -> None:
        await self.window.pace(self.last)
        self.began.append(trio.current_time())
        self.last = self.window.stamp()


async def _read_in_open_window() -> tuple[FlushWindow, Reader]:
    """A window open and one reader that already read in it."""
    window = FlushWindow()
    window.open()
    reader = Reader(window)
    await reader.read()
    return window, reader


async def _parked(nursery: trio.Nursery) -> tuple[FlushWindow, Reader]:
    """As ``_read_in_open_window``, with the reader's next read parked."""
    window, reader = await _read_in_open_window()
    nursery.start_soon(reader.read)
    await trio.testing.wait_all_tasks_blocked()
    return window, reader


async def test_no_open_window_holds_no_read(
    mock_clock: trio.testing.MockClock,
) -> None:
    """Without a window (a quiet model, no flusher) every read is at once."""
    mock_clock.autojump_threshold = 0
    reader = Reader(FlushWindow())
    for _ in range(3):
        await reader.read()
    assert reader.began == [0.0, 0.0, 0.0]


async def test_a_second_read_in_the_window_waits_for_its_close(
    mock_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """One read per window: the next parks until the flusher closes it."""
    mock_clock.autojump_threshold = 0
    window, reader = await _parked(nursery)
    assert len(reader.began) == 1
    await trio.sleep(0.033)
    assert window.close() == 1
    await trio.testing.wait_all_tasks_blocked()
    assert reader.began == [0.0, 0.033]


async def test_close_opens_the_next_window_only_for_woken_readers(
    nursery: trio.Nursery,
) -> None:
    """Readers woke: the gathering goes on; none parked: the window ends."""
    window, _reader = await _parked(nursery)
    assert window.close() == 1
    assert window.is_open
    await trio.testing.wait_all_tasks_blocked()
    assert window.close() == 0
    assert not window.is_open


async def test_a_read_with_no_window_counts_toward_the_next(
    nursery: trio.Nursery,
) -> None:
    """Its tokens open the next window, so the reader's next read waits for it."""
    window = FlushWindow()
    reader = Reader(window)
    await reader.read()  # no window: at once
    window.open()  # the flusher, woken by that read's tokens
    nursery.start_soon(reader.read)
    await trio.testing.wait_all_tasks_blocked()
    assert len(reader.began) == 1
    window.close()
    await trio.testing.wait_all_tasks_blocked()
    assert len(reader.began) == 2


async def test_a_reader_that_read_in_an_older_window_is_not_held(
    nursery: trio.Nursery,
) -> None:
    """Only a read in *this* window parks the next (a reader idle meanwhile reads)."""
    window, reader = await _read_in_open_window()
    window.close()  # nobody parked: the window ends
    window.open()  # a later window, opened by another session's tokens
    await reader.read()
    assert len(reader.began) == 2


async def test_settle_waits_until_woken_readers_are_back(
    mock_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """What a woken reader's read brought is handled before the flusher writes."""
    mock_clock.autojump_threshold = 0
    window, reader = await _read_in_open_window()
    handled: list[float] = []

    async def turn() -> None:
        await reader.read()  # parks, then reads at the close
        await trio.sleep(0.002)  # the turn handles the tokens
        handled.append(trio.current_time())
        await window.pace(reader.last)  # back for the next read

    nursery.start_soon(turn)
    await trio.testing.wait_all_tasks_blocked()
    window.close()
    await window.settle()
    assert handled == [0.002]
    assert trio.current_time() == 0.002


async def test_settle_gives_up_after_its_cap(
    mock_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """A woken reader that does not come back delays the flush by the cap only."""
    mock_clock.autojump_threshold = 0
    window, reader = await _read_in_open_window()

    async def stuck() -> None:
        await reader.read()
        await trio.sleep_forever()  # e.g. its socket has nothing after all

    nursery.start_soon(stuck)
    await trio.testing.wait_all_tasks_blocked()
    window.close()
    await window.settle()
    assert trio.current_time() == SETTLE_SECONDS
    await window.settle()  # nothing is awaited twice
    assert trio.current_time() == SETTLE_SECONDS
    nursery.cancel_scope.cancel()


async def test_settle_without_woken_readers_is_immediate() -> None:
    """A close that woke nobody lets the flusher write at once."""
    window = FlushWindow()
    window.open()
    window.close()
    with trio.testing.assert_no_checkpoints():
        await window.settle()


async def test_shut_wakes_every_reader_and_opens_nothing(
    nursery: trio.Nursery,
) -> None:
    """The flusher stopping never strands a reader in a window."""
    window, reader = await _parked(nursery)
    window.shut()
    await trio.testing.wait_all_tasks_blocked()
    assert len(reader.began) == 2
    assert not window.is_open
    await reader.read()  # and later reads are not held
    assert len(reader.began) == 3


async def test_a_cancelled_reader_leaves_the_window(nursery: trio.Nursery) -> None:
    """A turn cancelled while parked is not woken, counted or waited for."""
    window, reader = await _read_in_open_window()
    with trio.CancelScope() as scope:
        nursery.start_soon(lambda: _cancel_soon(scope))
        await reader.read()
    assert scope.cancelled_caught
    assert window.close() == 0
    with trio.testing.assert_no_checkpoints():
        await window.settle()


async def _cancel_soon(scope: trio.CancelScope) -> None:
    await trio.testing.wait_all_tasks_blocked()
    scope.cancel()
