"""A nursery for one helper task, whose caller sees its own errors unwrapped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import trio


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
