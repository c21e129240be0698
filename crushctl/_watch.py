"""Follow a workspace's events across disconnects: backoff, resume, re-create."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType

import attrs
import trio

from crushd.proto import Event, Resync, Workspace, from_json

from ._client import CLEANUP_SECONDS, Client
from ._exceptions import (
    NotFoundError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
)
from ._stream import EventStream, open_event_stream

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


class EventWatcher:
    """Follow one workspace's events, reconnecting until closed.

    Iterating yields a ``Connected`` marker each time a stream is established,
    every ``Event``, a ``Resync`` (instead of the ``resync`` event) when the
    daemon no longer held the events after ``Last-Event-ID``, and a
    ``Retrying`` marker when the stream is lost or an attempt fails. Attempts
    wait 250 ms, doubling to 10 s, reset by each established stream, and
    resume with ``Last-Event-ID`` = the last id seen. When the workspace is
    gone (404) it is created again (``recreate``) and followed from its start.
    Use as ``async with open_watch(client, workspace) as watcher:``.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace: the workspace to follow.
        last_event_id: resume after this id on the first connection.
        recreate: builds a replacement workspace after a 404; ``None`` means
            ``client.create_workspace(workspace.path)``.

    Raises:
        ConflictError: from iteration, 409 (e.g. ``client has been retired``).
        BadRequestError: from iteration, 400 (e.g. invalid ``client_id``).
        HTTPStatusError: from iteration, any other status that retrying cannot
            fix (500 when re-creating fails on the daemon, ...).

    Source: PROTOCOL.md 5.7 step 2 (Go client reconnect loop, 250 ms doubling
    to 10 s, re-create on 404), C.1 (resume and resync).
    """

    def __init__(
        self,
        client: Client,
        workspace: Workspace,
        *,
        last_event_id: int | None = None,
        recreate: Callable[[], Awaitable[Workspace]] | None = None,
    ) -> None:
        self._client = client
        self._workspace = workspace
        self._last_id = last_event_id
        self._recreate = recreate or self._create_again
        self._stack: contextlib.AsyncExitStack | None = None
        self._stream: EventStream | None = None
        self._delay = INITIAL_BACKOFF_SECONDS
        self._wait_seconds = 0.0
        self._failures = 0
        self._connections = 0
        self._gone = False
        self._recreated = False
        self._closed = False

    @property
    def workspace(self) -> Workspace:
        """The workspace followed now (replaced after a re-create)."""
        return self._workspace

    @property
    def last_event_id(self) -> int | None:
        """The id of the last event seen; the next resume starts after it."""
        return self._last_id

    async def __aenter__(self) -> EventWatcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> EventWatcher:
        return self

    async def __anext__(self) -> WatchItem:
        if self._closed:
            raise StopAsyncIteration
        if self._stream is None:
            return await self._connect()
        return await self._receive()

    async def aclose(self) -> None:
        """Close the open stream (detaching on the daemon) and end iteration.

        Idempotent. Does not release the workspace: call
        ``Client.delete_workspace`` or ``Client.retire`` for that.

        Cancellation:
            Closes even if cancelled (bounded, shielded).
        """
        self._closed = True
        await self._close_stream()

    async def _connect(self) -> Connected | Retrying:
        await trio.sleep(self._wait_seconds)
        try:
            resumed_after = await self._attempt()
        except _RETRYABLE as exc:
            self._failures += 1
            return self._schedule_retry(str(exc))
        return self._established(resumed_after)

    async def _attempt(self) -> int | None:
        """Open a stream, re-creating the workspace if it is gone."""
        if self._gone:
            await self._replace_workspace()
        try:
            return await self._open()
        except NotFoundError:
            self._gone = True
        await self._replace_workspace()
        return await self._open()

    async def _replace_workspace(self) -> None:
        self._workspace = await self._recreate()
        self._gone = False
        self._recreated = True
        self._last_id = None

    async def _create_again(self) -> Workspace:
        return await self._client.create_workspace(self._workspace.path)

    async def _open(self) -> int | None:
        stack = contextlib.AsyncExitStack()
        resume = self._last_id
        self._stream = await stack.enter_async_context(
            open_event_stream(self._client, self._workspace.id, last_event_id=resume)
        )
        self._stack = stack
        return resume

    def _established(self, resumed_after: int | None) -> Connected:
        marker = Connected(
            workspace=self._workspace,
            resumed_after=resumed_after,
            reconnected=self._connections > 0,
            recreated=self._recreated,
        )
        self._connections += 1
        self._recreated = False
        self._failures = 0
        self._delay = INITIAL_BACKOFF_SECONDS
        return marker

    def _schedule_retry(self, reason: str) -> Retrying:
        self._wait_seconds = self._delay
        self._delay = min(self._delay * 2, MAX_BACKOFF_SECONDS)
        return Retrying(reason, self._wait_seconds, self._failures)

    async def _receive(self) -> WatchItem:
        assert self._stream is not None
        try:
            event = await anext(self._stream)
        except StopAsyncIteration:
            return await self._lose("stream ended")
        except RequestError as exc:
            return await self._lose(str(exc))
        self._last_id = self._stream.last_event_id
        if event.type == _RESYNC:
            return self._resync(event)
        return event

    async def _lose(self, reason: str) -> Retrying:
        await self._close_stream()
        return self._schedule_retry(reason)

    def _resync(self, event: Event) -> Resync:
        try:
            return from_json(event.payload, Resync)
        except ValueError:
            return Resync(workspace_id=self._workspace.id, oldest_id=0)

    async def _close_stream(self) -> None:
        stack, self._stack, self._stream = self._stack, None, None
        if stack is not None:
            with trio.move_on_after(CLEANUP_SECONDS, shield=True):
                await stack.aclose()


def open_watch(
    client: Client,
    workspace: Workspace,
    *,
    last_event_id: int | None = None,
    recreate: Callable[[], Awaitable[Workspace]] | None = None,
) -> EventWatcher:
    """Return an ``EventWatcher`` to use as an async context manager.

    ``async with open_watch(client, ws) as watcher: async for item in watcher:``
    follows ``ws`` until the block exits; see ``EventWatcher`` for the items,
    arguments and errors.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace: the workspace to follow.
        last_event_id: resume after this id on the first connection.
        recreate: builds a replacement workspace after a 404.

    Returns:
        The watcher; exiting the ``async with`` closes its stream.
    """
    return EventWatcher(
        client, workspace, last_event_id=last_event_id, recreate=recreate
    )
