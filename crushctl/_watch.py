"""Follow a workspace's events across disconnects: resume, re-create, respawn."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import trio

from crushd.proto import Event, Resync, Workspace, from_json

from ._backoff import Backoff
from ._client import Client
from ._exceptions import (
    CrushctlError,
    NotFoundError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
)
from ._http import CLEANUP_SECONDS
from ._launch import ServerStartError
from ._recovery import WorkspaceSpec, retire_or_release
from ._spawn import ensure_server
from ._stream import EventStream, open_event_stream
from ._tasks import open_helper_nursery, receive_or_raise

#: After this many failed attempts in a row the watcher reports ``Stuck``.
STUCK_FAILURES = 20
#: After a deliberate shutdown, the longest wait between attempts (seconds).
STOPPED_POLL_SECONDS = 0.5

_RESYNC = "resync"
_CLOSED = "workspace_closed"
_RETRYABLE = (
    ServerUnavailable,
    RequestError,
    NotFoundError,
    ShuttingDownError,
    ServerStartError,
)
#: Failures that mean "no daemon (or a leaving one)": ensure_server next time.
_DAEMON_GONE = (ServerUnavailable, ShuttingDownError)


@attrs.frozen
class Connected:
    """A stream was (re-)established.

    After a reconnect the caller should refetch whatever state it shows
    (sessions, messages): events are resumed, but a re-created workspace
    starts a new log.

    Attributes:
        workspace: the workspace now followed (a new id when ``recreated``).
        resumed_after: the ``Last-Event-ID`` sent, ``None`` for a fresh start.
        reconnected: false for the first connection, true afterwards.
        recreated: the old workspace was gone (404), so it was created again
            from the cached ``WorkspaceSpec``; events in between are lost.
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
        delay_seconds: how long the watcher waits before trying again
            (jittered; at most the nominal 250 ms .. 10 s backoff).
        failures: consecutive failed attempts; 0 when a live stream just ended.
    """

    reason: str
    delay_seconds: float
    failures: int


@attrs.frozen
class Stuck:
    """``STUCK_FAILURES`` attempts in a row failed; the watcher keeps trying.

    Reported once per run of failures (again only after a stream was
    established and lost anew).

    Attributes:
        failures: consecutive failed attempts so far.
        reason: the last attempt's error.
    """

    failures: int
    reason: str


@attrs.frozen
class Stopped:
    """The daemon shut down on purpose (its stream's shutdown marker).

    Unlike a crash, this starts no new daemon: the watcher keeps trying, every
    ``STOPPED_POLL_SECONDS`` at most and without ``Retrying`` or ``Stuck``
    markers, until a daemon is started again, then joins it (``Connected``).

    Attributes:
        workspace_id: the workspace the stream followed.
        reason: the marker's ``reason`` (``shutdown``).

    Source: docs/protocol.md C.11.
    """

    workspace_id: str
    reason: str


#: What ``EventWatcher`` yields: events, plus markers for the caller to report.
WatchItem = Event | Resync | Connected | Retrying | Stuck | Stopped

_Item = WatchItem | CrushctlError


class EventWatcher:
    """The items of one ``open_watch`` block; iterate it with ``async for``.

    Yields a ``Connected`` marker each time a stream is established, every
    ``Event``, a ``Resync`` (in place of the ``resync`` event: refetch state)
    when the daemon no longer held the events after ``Last-Event-ID``, a
    ``Retrying`` marker when the stream is lost or an attempt fails, a
    ``Stuck`` marker after ``STUCK_FAILURES`` failures in a row, and a
    ``Stopped`` marker (in place of the shutdown marker event) when the daemon
    shut down on purpose.

    Recovery, per attempt: wait (``Backoff``: 250 ms doubling to 10 s,
    jittered, reset by each established stream); if the last failure said no
    daemon listens or it is leaving (503) and spawning is allowed, run
    ``ensure_server``; attach with ``Last-Event-ID`` = the last id seen; on
    404 create the workspace again from the cached ``WorkspaceSpec``, adopt
    its id and attach from its start; then re-assert ``current-session``.
    After ``Stopped`` nothing is spawned (a crash, seen as a broken connection
    or a stream ending without the marker, does spawn) until a stream is up
    again. The watcher runs ahead of the caller by at most one item.

    Raises:
        ConflictError: from iteration, 409 (e.g. ``client has been retired``);
            iteration ends after it.
        BadRequestError: from iteration, 400 (e.g. invalid ``client_id``).
        HTTPStatusError: from iteration, any other status retrying cannot fix
            (500 when re-creating the workspace fails on the daemon, ...).
        CrushctlError: from iteration, ``ensure_server`` found something that
            is not a socket at the socket path.

    Source: docs/protocol.md 5.7 step 2 (the Go client's reconnect loop, 250 ms
    doubling to 10 s, re-create on 404, re-assert current-session, "stuck"
    after 20 failures), 8.4 (ensure_server), C.1 (resume and resync), C.11
    (shutdown marker).
    """

    def __init__(
        self,
        client: Client,
        workspace: Workspace,
        *,
        last_event_id: int | None = None,
        recreate: Callable[[], Awaitable[Workspace]] | None = None,
        spec: WorkspaceSpec | None = None,
        spawn: bool = False,
        current_session_id: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._workspace = workspace
        self._last_id = last_event_id
        self._resume: int | None = None
        self._spec = spec or WorkspaceSpec.of(workspace)
        self._recreate = recreate or self._create_again
        self._spawn = spawn
        self._session_id = current_session_id
        self._backoff = Backoff(rng)
        self._send, self._receive = trio.open_memory_channel[_Item](0)
        self._failures = 0
        self._connections = 0
        self._gone = False
        self._recreated = False
        self._ensure = False
        self._stopped = False

    @property
    def workspace(self) -> Workspace:
        """The workspace followed now (replaced after a re-create)."""
        return self._workspace

    @property
    def last_event_id(self) -> int | None:
        """The id of the last event seen; the next resume starts after it."""
        return self._last_id

    async def set_current_session(self, session_id: str) -> None:
        """Select ``session_id`` as this client's session, now and after reconnects.

        Args:
            session_id: the session; ``""`` clears the selection.

        Raises:
            ConflictError: 409 ``client not attached`` (no stream right now;
                the selection is still re-asserted on the next connection).
            NotFoundError: 404, the workspace is gone (likewise).

        Cancellation:
            The selection is remembered even if cancelled.

        Source: docs/protocol.md 2.2 ``current-session``, 5.7 step 2.
        """
        self._session_id = session_id
        await self._client.set_current_session(self._workspace.id, session_id)

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
            delay = self._backoff.next_delay()
            if self._stopped:
                delay = min(delay, STOPPED_POLL_SECONDS)
            else:
                await self._report(reason, delay)
            await trio.sleep(delay)

    async def _report(self, reason: str, delay: float) -> None:
        if self._failures == STUCK_FAILURES:
            await self._send.send(Stuck(self._failures, reason))
        await self._send.send(Retrying(reason, delay, self._failures))

    async def _session(self) -> str:
        """Run one connection to its end; return why it ended."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                stream = await self._connect(stack)
            except _RETRYABLE as exc:
                self._failed(exc)
                return _reason(exc)
            await self._send.send(self._established())
            try:
                await self._forward(stream)
            except RequestError as exc:
                return exc.message
        return "stream ended"

    def _failed(self, exc: CrushctlError) -> None:
        self._failures += 1
        if self._may_spawn and isinstance(exc, _DAEMON_GONE):
            self._ensure = True

    async def _connect(self, stack: contextlib.AsyncExitStack) -> EventStream:
        if self._ensure:
            await ensure_server(self._client.host)
            self._ensure = False
        stream = await self._enter_stream(stack)
        if self._session_id:
            await self._client.set_current_session(self._workspace.id, self._session_id)
        return stream

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

    @property
    def _may_spawn(self) -> bool:
        return self._spawn and not self._stopped

    async def _create_again(self) -> Workspace:
        return await self._spec.create(self._client, spawn=self._may_spawn)

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
        self._stopped = False
        self._backoff.reset()
        return marker

    async def _forward(self, stream: EventStream) -> None:
        async for event in stream:
            if stream.last_event_id is not None:
                self._last_id = stream.last_event_id
            await self._send.send(self._as_item(event))

    def _as_item(self, event: Event) -> WatchItem:
        if event.type == _CLOSED and _is_shutdown(event.payload):
            self._stopped = True
            return Stopped(self._workspace.id, "shutdown")
        if event.type != _RESYNC:
            return event
        try:
            return from_json(event.payload, Resync)
        except ValueError:
            return Resync(workspace_id=self._workspace.id, oldest_id=0)


def _is_shutdown(payload: object) -> bool:
    return isinstance(payload, dict) and payload.get("reason") == "shutdown"


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
    spec: WorkspaceSpec | None = None,
    spawn: bool = False,
    current_session_id: str = "",
    retire_on_exit: bool = False,
    rng: random.Random | None = None,
) -> AsyncIterator[EventWatcher]:
    """Follow ``workspace``'s events, reconnecting, until the block exits.

    ``async with open_watch(client, ws) as watcher: async for item in watcher:``;
    see ``EventWatcher`` for the items, the recovery steps and the errors.
    The connection loop is a task inside the block; enter and exit it in the
    same task.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace: the workspace to follow (from ``create_workspace``).
        last_event_id: resume after this id on the first connection.
        recreate: builds a replacement workspace after a 404; ``None`` means
            ``spec.create(client, spawn=spawn)``.
        spec: the arguments ``workspace`` was created with; ``None`` means
            ``WorkspaceSpec.of(workspace)`` (redacted env values stay redacted).
        spawn: a daemon that is gone or leaving is replaced through
            ``ensure_server`` (unix hosts); false only retries.
        current_session_id: this client's selected session, re-asserted
            after every established stream (``""``: none; see
            ``EventWatcher.set_current_session``).
        retire_on_exit: on leaving the block (any way), retire the client
            (``retire_or_release``; errors ignored, bounded by
            ``CLEANUP_SECONDS``). Retiring drops this ``client_id``'s claims
            on every workspace of the daemon.
        rng: the backoff's jitter source (tests pass a seeded one).

    Yields:
        The ``EventWatcher``.

    Cancellation:
        Exiting (or cancelling) closes the open stream, which detaches it on
        the daemon. Unless ``retire_on_exit``, the workspace is not released:
        call ``Client.delete_workspace`` or ``Client.retire`` for that.

    Source: docs/protocol.md 5.7 steps 2 and 4 (Go client reconnect loop and exit).
    """
    watcher = EventWatcher(
        client,
        workspace,
        last_event_id=last_event_id,
        recreate=recreate,
        spec=spec,
        spawn=spawn,
        current_session_id=current_session_id,
        rng=rng,
    )
    try:
        async with open_helper_nursery() as nursery:
            nursery.start_soon(watcher._run)
            yield watcher
    finally:
        if retire_on_exit:
            await _leave(client, watcher.workspace.id)


async def _leave(client: Client, workspace_id: str) -> None:
    # Best effort, like the Go client's exit: the daemon's graces clean up anyway.
    with (
        trio.move_on_after(CLEANUP_SECONDS, shield=True),
        contextlib.suppress(CrushctlError),
    ):
        await retire_or_release(client, workspace_id)
