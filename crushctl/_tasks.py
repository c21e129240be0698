"""Helper tasks: a nursery whose caller sees errors unwrapped, and their channels."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import trio

from ._exceptions import CrushctlError

T = TypeVar("T")


@contextlib.asynccontextmanager
async def open_helper_nursery() -> AsyncIterator[trio.Nursery]:
    """Open a nursery whose tasks are cancelled when the block exits.

    Helper tasks started in it must report failures through a channel rather
    than raise. Then an ExceptionGroup leaving the nursery holds only the
    block's own exception, which is re-raised unwrapped (with its original
    ``__context__``), so ``except CrushctlError`` around the block works.
    Groups of several exceptions (a helper's bug) pass through unchanged.

    Cancellation:
        The helpers are cancelled on every exit path.
    """
    try:
        async with trio.open_nursery() as nursery:
            try:
                yield nursery
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        _raise_single(group)
        raise


def _raise_single(group: BaseExceptionGroup[BaseException]) -> None:
    if len(group.exceptions) != 1:
        return
    exc = group.exceptions[0]
    context = exc.__context__
    try:
        raise exc
    finally:
        # Raising inside "except" set the group as context; restore the original.
        exc.__context__ = context


async def receive_or_raise(channel: trio.MemoryReceiveChannel[T | CrushctlError]) -> T:
    """Receive the next item a helper task sent; re-raise an error it sent.

    Raises:
        StopAsyncIteration: the helper closed the channel (the stream ended).
        CrushctlError: the helper failed and sent its error instead of an item.
    """
    try:
        item = await channel.receive()
    except (trio.EndOfChannel, trio.ClosedResourceError):
        raise StopAsyncIteration from None
    if isinstance(item, CrushctlError):
        raise item
    return item
