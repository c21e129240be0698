"""The harness: virtual clients talking HTTP to the daemon, beside the model.

Each virtual client is a ``crushctl.Client`` with its own client id (a slot
gets a fresh id once it retired, as a new process would). Streams are real
SSE responses read by ``crushctl.open_event_stream``, or WebSocket
connections (trio-websocket, ``?last_event_id=`` to resume), in their own
tasks; each
records the events it received and how it ended. ``call`` runs one HTTP call
and its model twin and checks that both answered the same status.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, wrap_client_stream

from crushctl import Client, CrushctlError, HTTPStatusError, open_event_stream
from crushd.proto import Event

from ._model import MEvent, Model, MStream, MWorkspace, Refused
from ._world import LifecycleLog, World, settle

T = TypeVar("T")
R = TypeVar("R")

CLIENT_SLOTS = 3
#: A workspace id no daemon ever minted.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
#: The WebSocket close code of a stream the daemon ended normally.
NORMAL_CLOSURE = 1000
#: The client id of the harness's own observer (it only ever reads).
OBSERVER_ID = "00000000-0000-4000-8000-0000000000ff"


def client_id(slot: int, generation: int) -> str:
    """The client id of slot ``slot`` after ``generation`` retires."""
    return str(uuid.UUID(int=(slot + 1) << 96 | generation, version=4))


def observed(event: Event) -> MEvent:
    """Reduce a received event to what the model predicts of it."""
    return _observed(event.id, event.type, event.event_type, event.payload)


def observed_frame(text: str | bytes) -> MEvent:
    """Reduce a WebSocket text frame (the envelope with ``"id"``) likewise."""
    frame = json.loads(text)
    inner = frame["payload"]
    return _observed(frame["id"], frame["type"], inner["type"], inner["payload"])


def _observed(id_: int, type_: str, event_type: str, payload: object) -> MEvent:
    data = payload if isinstance(payload, dict) else {}
    if type_ == "resync":
        subject, title = data.get("workspace_id"), data.get("oldest_id")
    else:
        subject, title = data.get("id"), data.get("title")
    return MEvent(id_, type_, event_type, str(subject), str(title))


def _leaf(group: BaseExceptionGroup[ConnectionRejected]) -> ConnectionRejected:
    first = group.exceptions[0]
    return _leaf(first) if isinstance(first, BaseExceptionGroup) else first


@attrs.define(eq=False)
class Stream:
    """A real SSE stream and its model twin.

    Attributes:
        model: what it must receive.
        received: what it received, in order.
        status: the attach's HTTP status (0 until answered; -1 on a transport
            error).
        eof: the daemon ended the stream cleanly.
        error: anything other than a clean end, else ``""``.
        closed: the harness closed it (the client went away).
    """

    model: MStream | None
    client: str
    workspace_id: str
    ws: bool = False
    received: list[MEvent] = attrs.field(factory=list)
    status: int = 0
    eof: bool = False
    error: str = ""
    closed: bool = False
    answered: trio.Event = attrs.field(factory=trio.Event)
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)


class Harness:
    """Runs each operation on the daemon and on the model; see the module docstring."""

    def __init__(
        self,
        world: World,
        model: Model,
        lifecycle: LifecycleLog,
        note: Callable[[str], None],
    ) -> None:
        self.world = world
        self.model = model
        self.lifecycle = lifecycle
        self.note = note
        self.generations = [0] * CLIENT_SLOTS
        self.clients: dict[str, Client] = {}
        self.streams: list[Stream] = []

    # ---------------------------------------------------------- clients

    def client_id(self, slot: int) -> str:
        """The current id of client slot ``slot``."""
        return client_id(slot, self.generations[slot])

    def client(self, cid: str) -> Client:
        """The ``crushctl.Client`` of client id ``cid`` (one per daemon run)."""
        if cid not in self.clients:
            self.clients[cid] = Client(self.world.host, client_id=cid)
        return self.clients[cid]

    def next_generation(self, slot: int) -> None:
        """Slot ``slot``'s process retired: its next process has a new id."""
        self.generations[slot] += 1

    async def close_clients(self) -> None:
        """Close every client's connection pool."""
        clients, self.clients = self.clients, {}
        for client in clients.values():
            await client.aclose()

    # ----------------------------------------------------------- daemon

    async def ensure_up(self) -> None:
        """Start the daemon if it is down (as crushctl's auto-spawn would)."""
        if self.model.up:
            return
        assert not self.world.up, "daemon runs although the model says it exited"
        await self.close_clients()
        await self.world.start()
        self.model.start()
        self.note(f"   (daemon started, run #{self.model.starts})")

    # ------------------------------------------------------------ calls

    async def call(
        self,
        real: Callable[[], Awaitable[T]],
        model: Callable[[T | None], R],
        what: str,
    ) -> tuple[T | None, R | None]:
        """Run ``real`` then (settled) ``model``; both must answer the same status."""
        got: T | None = None
        try:
            got, status = await real(), 200
        except HTTPStatusError as exc:
            status = exc.status
        await settle()
        want: R | None = None
        try:
            want, expected = model(got), 200
        except Refused as refused:
            expected = refused.status
        assert status == expected, f"{what}: daemon answered {status}, model {expected}"
        return got, want

    # ---------------------------------------------------------- streams

    async def open_stream(
        self,
        ws: MWorkspace | None,
        cid: str,
        cursor: int | None = None,
        *,
        websocket: bool = False,
    ) -> None:
        """Attach a stream (SSE or WebSocket, resuming after ``cursor``)."""
        wid = ws.real_id if ws and ws.real_id else UNKNOWN_ID
        stream = Stream(None, cid, wid, websocket)
        reader = self._read_ws if websocket else self._read
        self.world.nursery.start_soon(reader, stream, cursor)
        await stream.answered.wait()
        await settle()
        try:
            stream.model, expected = self.model.attach(ws, cid, cursor), 200
        except Refused as refused:
            expected = refused.status
        what = f"attach {cid[-4:]} to {stream.workspace_id[:8]} cursor={cursor}"
        assert stream.status == expected, f"{what}: {stream.status} vs {expected}"
        if stream.model is not None:
            self.streams.append(stream)

    async def _read(self, stream: Stream, cursor: int | None) -> None:
        client = self.client(stream.client)
        with stream.scope:
            try:
                async with open_event_stream(
                    client, stream.workspace_id, last_event_id=cursor
                ) as events:
                    stream.status = 200
                    stream.answered.set()
                    async for event in events:
                        stream.received.append(observed(event))
                stream.eof = True
            except HTTPStatusError as exc:
                stream.status = exc.status
            except CrushctlError as exc:
                stream.status = stream.status or -1
                stream.error = repr(exc)
            finally:
                stream.answered.set()

    async def _read_ws(self, stream: Stream, cursor: int | None) -> None:
        query = f"client_id={stream.client}"
        if cursor is not None:
            query += f"&last_event_id={cursor}"
        resource = f"/v1/workspaces/{stream.workspace_id}/ws?{query}"
        with stream.scope:
            try:
                async with trio.open_nursery() as nursery:
                    await self._follow_ws(nursery, stream, resource)
                    nursery.cancel_scope.cancel()
            except* ConnectionRejected as group:
                # The handshake runs in the connection's reader task.
                stream.status = _leaf(group).status_code
            finally:
                stream.answered.set()

    async def _follow_ws(
        self, nursery: trio.Nursery, stream: Stream, resource: str
    ) -> None:
        sock = await trio.open_unix_socket(self.world.host.address)
        try:
            connection = await wrap_client_stream(
                nursery, sock, "api.crush.localhost", resource
            )
            stream.status = 200
            stream.answered.set()
            while True:
                stream.received.append(observed_frame(await connection.get_message()))
        except ConnectionRejected as rejected:
            stream.status = rejected.status_code
        except ConnectionClosed as closed:
            code = closed.reason.code if closed.reason else None
            stream.eof = code == NORMAL_CLOSURE
            stream.error = "" if stream.eof else f"closed with {closed.reason}"
        finally:
            await sock.aclose()  # closes at once, even when cancelled

    def open_streams(self) -> list[Stream]:
        """Streams the model says are open, in attach order."""
        return [s for s in self.streams if s.model is not None and not s.model.ended]

    async def close_stream(self, stream: Stream) -> None:
        """The client goes away: cancel its reader (closing the response)."""
        assert stream.model is not None
        stream.closed = True
        stream.scope.cancel()
        await settle()
        self.model.detach(stream.model)
