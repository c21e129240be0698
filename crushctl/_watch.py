"""Follow a workspace's events across disconnects: backoff, resume, re-create."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import trio

from crushd.proto import Event, Resync, Workspace, from_json

from ._client import Client
from ._exceptions import (
    CrushctlError,
    NotFoundError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
)
from ._stream import EventStream, open_event_stream
from ._tasks import open_helper_nursery, receive_or_raise

#: The first reconnect waits this long; each failed attempt doubles it.
INITIAL_BACKOFF_SECONDS = 0.25
#: The longest wait between reconnect attempts.
MAX_BACKOFF_SECONDS = 10.0

_RESYNC = "resync"
_RETRYABLE = (ServerUnavailable, RequestError, NotFoundError, ShuttingDownError)


@attrs.frozen
class Connected:
    """A stream was (re-)established.

    Attributes:
        workspace: the workspace now followed (a new id when ``recreated``).
        resumed_after: the ``Last-Event-ID`` sent, ``None`` for a fresh start.
        reconnected: false for the first connection, true afterwards.
        recreated: the old workspace was gone (404), so it was created again
            for the same path; events in between are lost.
    """

    workspace: Workspace
    resumed_after: int | None
    reconnected: bool
    recreated: bool


@attrs.frozen
class Retrying:
    """The stream is down; the next attempt starts after ``delay_seconds``.

    Attributes:
        reason: why (``stream ended`` or the error's message).
        delay_seconds: how long the watcher waits before trying again.
        failures: consecutive failed attempts; 0 when a live stream just ended.
    """

    reason: str
    delay_seconds: float
    failures: int


#: What ``EventWatcher`` yields: events, plus markers for the caller to report.
WatchItem = Event | Resync | Connected | Retrying

_Item = WatchItem | CrushctlError


class EventWatcher:
    """The items of one ``open_watch`` block; iterate it with ``async for``.

    Yields a ``Connected`` marker each time a stream is established, every
    ``Event``, a ``Resync`` (in place of the ``resync`` event) when the daemon
    no longer held the events after ``Last-Event-ID``, and a ``Retrying``
    marker when the stream is lost or an attempt fails. Attempts wait 250 ms,
    doubling to 10 s, reset by each established stream, and resume with
    ``Last-Event-ID`` = the last id seen. When the workspace is gone (404) it
    is created again and followed from its start. The watcher runs ahead of
    the caller by at most one item.

    Raises:
        ConflictError: from iteration, 409 (e.g. ``client has been retired``);
            iteration ends after it.
        BadRequestError: from iteration, 400 (e.g. invalid ``client_id``).
        HTTPStatusError: from iteration, any other status retrying cannot fix
            (500 when re-creating the workspace fails on the daemon, ...).

    Source: PROTOCOL.md 5.7 step 2 (the Go client's reconnect loop, 250 ms
    doubling to 10 s, re-create on 404), C.1 (resume and resync).
    """

    def __init__(
        self,
        client: Client,
        workspace: Workspace,
        *,
        last_event_id: int | None,
        recreate: Callable[[], Awaitable[Workspace]] | None,
    ) -> None:
        self._client = client
        self._workspace = workspace
        self._last_id = last_event_id
        self._resume: int | None = None
        self._recreate = recreate or self._create_again
        self._send, self._receive = trio.open_memory_channel[_Item](0)
        self._delay = INITIAL_BACKOFF_SECONDS
        self._failures = 0
        self._connections = 0
        self._gone = False
        self._recreated = False

    @property
    def workspace(self) -> Workspace:
        """The workspace followed now (replaced after a re-create)."""
        return self._workspace

    @property
    def last_event_id(self) -> int | None:
        """The id of the last event seen; the next resume starts after it."""
        return self._last_id

    def __aiter__(self) -> EventWatcher:
        return self

    async def __anext__(self) -> WatchItem:
        return await receive_or_raise(self._receive)

    async def _run(self) -> None:
        """Connect and reconnect until cancelled or a non-retryable error."""
        async with self._send:
            try:
                await self._follow()
            except CrushctlError as exc:
                await self._send.send(exc)

    async def _follow(self) -> None:
        while True:
            reason = await self._session()
            delay = self._delay
            self._delay = min(delay * 2, MAX_BACKOFF_SECONDS)
            await self._send.send(Retrying(reason, delay, self._failures))
            await trio.sleep(delay)

    async def _session(self) -> str:
        """Run one connection to its end; return why it ended."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                stream = await self._enter_stream(stack)
            except _RETRYABLE as exc:
                self._failures += 1
                return _reason(exc)
            await self._send.send(self._established())
            try:
                await self._forward(stream)
            except RequestError as exc:
                return exc.message
        return "stream ended"

    async def _enter_stream(self, stack: contextlib.AsyncExitStack) -> EventStream:
        if self._gone:
            await self._replace_workspace()
        try:
            return await stack.enter_async_context(self._open())
        except NotFoundError:
            self._gone = True
        await self._replace_workspace()
        return await stack.enter_async_context(self._open())

    def _open(self) -> contextlib.AbstractAsyncContextManager[EventStream]:
        self._resume = self._last_id
        return open_event_stream(
            self._client, self._workspace.id, last_event_id=self._resume
        )

    async def _replace_workspace(self) -> None:
        self._workspace = await self._recreate()
        self._gone = False
        self._recreated = True
        self._last_id = None

    async def _create_again(self) -> Workspace:
        return await self._client.create_workspace(self._workspace.path)

    def _established(self) -> Connected:
        marker = Connected(
            workspace=self._workspace,
            resumed_after=self._resume,
            reconnected=self._connections > 0,
            recreated=self._recreated,
        )
        self._connections += 1
        self._recreated = False
        self._failures = 0
        self._delay = INITIAL_BACKOFF_SECONDS
        return marker

    async def _forward(self, stream: EventStream) -> None:
        async for event in stream:
            if stream.last_event_id is not None:
                self._last_id = stream.last_event_id
            await self._send.send(self._as_item(event))

    def _as_item(self, event: Event) -> WatchItem:
        if event.type != _RESYNC:
            return event
        try:
            return from_json(event.payload, Resync)
        except ValueError:
            return Resync(workspace_id=self._workspace.id, oldest_id=0)


def _reason(exc: CrushctlError) -> str:
    if isinstance(exc, ServerUnavailable):
        # Said on every retry: leave out the "start it with" hint.
        return f"crushd is not running at {exc.host}"
    return exc.message


@contextlib.asynccontextmanager
async def open_watch(
    client: Client,
    workspace: Workspace,
    *,
    last_event_id: int | None = None,
    recreate: Callable[[], Awaitable[Workspace]] | None = None,
) -> AsyncIterator[EventWatcher]:
    """Follow ``workspace``'s events, reconnecting, until the block exits.

    ``async with open_watch(client, ws) as watcher: async for item in watcher:``;
    see ``EventWatcher`` for the items and errors. The connection loop is a
    task inside the block; enter and exit it in the same task.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace: the workspace to follow (from ``create_workspace``).
        last_event_id: resume after this id on the first connection.
        recreate: builds a replacement workspace after a 404; ``None`` means
            ``client.create_workspace(workspace.path)``.

    Yields:
        The ``EventWatcher``.

    Cancellation:
        Exiting (or cancelling) closes the open stream, which detaches it on
        the daemon. The workspace is not released: call
        ``Client.delete_workspace`` or ``Client.retire`` for that.

    Source: PROTOCOL.md 5.7 step 2 (Go client reconnect loop).
    """
    watcher = EventWatcher(
        client, workspace, last_event_id=last_event_id, recreate=recreate
    )
    async with open_helper_nursery() as nursery:
        nursery.start_soon(watcher._run)
        yield watcher
