"""The message flusher's window, which the provider socket reads line up with.

A model streams one token per SSE event, each written on its own. The
message flusher coalesces the tokens of a window (33 ms) into one update per
message anyway, so reading each token as it arrives buys no latency: it only
costs the event loop a wake-up and a trip through the HTTP stack per token.
Instead a provider connection that has already read during the open window
*parks* until the window closes; the tokens meanwhile wait in the kernel's
buffer. At the close the flusher wakes the parked readers, waits until each
has handled what its read brought (it is back for its next read) or
``SETTLE_SECONDS`` passed, and then writes and publishes: every token read
in time is in that flush, and a token waits at most one window before it is
on the wire.

Measured with the agent benchmark (three sessions at 200 deltas/s to 50
watchers, stress/RESULTS.md): the daemon's CPU per 1,000 deltas 367 -> 290
ms and the delta-to-client p99 54 -> 44 ms against a fixed 10 ms read pace,
which cost a Trio deadline, a cancellation and its exception per read.

Never held back: a read with no window open (a quiet model's next token, an
answer's first bytes), the first read after a write (the head of the next
request's answer), a read after one that filled the buffer (a fast stream),
the reads that end a body after ``[DONE]`` (the reader's ``unpaced()``).

Source: docs/agent.md 1.5 (one flusher per workspace, 33 ms) and 5.1
(provider reads); the readers' side is ``crushd.agent.providers._paced_reads``.
"""

from __future__ import annotations

import trio

__all__ = ["SETTLE_SECONDS", "FlushWindow"]

#: Longest wait, after the window closed, for the woken readers to hand over
#: their tokens, seconds; a later one's tokens go in the next flush.
SETTLE_SECONDS = 0.005


class FlushWindow:
    """One workspace's flush window: opened and closed by its flusher.

    The flusher calls ``open`` when it starts gathering, ``close`` when the
    debounce is over and ``settle`` before it writes. Readers call ``pace``
    before each socket read and ``stamp`` after it. All of it is synchronous
    but the two waits, so no state changes halfway.
    """

    def __init__(self) -> None:
        self._lot = trio.lowlevel.ParkingLot()
        self._serial = 0
        self._open = False
        self._woken: set[trio.lowlevel.Task] = set()
        self._settled = trio.Event()

    @property
    def is_open(self) -> bool:
        """Whether the flusher is gathering now."""
        return self._open

    # -- the flusher's side --------------------------------------------------

    def open(self) -> None:
        """Start a new window: readers that read in it park until ``close``."""
        self._serial += 1
        self._open = True

    def close(self) -> int:
        """End the window and wake its parked readers; return how many woke.

        If any woke, the next window opens at once: they read in it (the
        flusher gathers back to back while tokens keep coming).
        """
        woken = self._lot.unpark_all()
        self._woken = set(woken)
        self._settled = trio.Event()
        if woken:
            self._serial += 1
        else:
            self._open = False
        return len(woken)

    def shut(self) -> None:
        """End the window for good (the flusher stops): wake every reader."""
        self._open = False
        self._lot.unpark_all()

    async def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Wait until every reader woken by ``close`` is back, at most ``seconds``."""
        if self._woken:
            with trio.move_on_after(seconds):
                await self._settled.wait()
        self._woken.clear()

    # -- the readers' side ---------------------------------------------------

    async def pace(self, last: int | None) -> None:
        """Before a read: park until the close if this reader read in the window.

        Args:
            last: what ``stamp`` returned after the reader's previous read;
                None when that read must not hold this one back.
        """
        self._back()
        if self._open and last == self._serial:
            await self._lot.park()

    def stamp(self) -> int:
        """The window a read made now counts toward (the next if none is open).

        With no window open, the read's tokens are what opens the next one.
        """
        return self._serial if self._open else self._serial + 1

    def _back(self) -> None:
        # A reader woken at the close asks for its next read only once all
        # that its previous read brought went through the turn.
        woken = self._woken
        if woken:
            woken.discard(trio.lowlevel.current_task())
            if not woken:
                self._settled.set()
