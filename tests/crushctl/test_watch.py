"""open_watch: reconnect with backoff, Last-Event-ID resume, resync, re-create."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio.testing

from crushctl import (
    Client,
    ConflictError,
    Connected,
    EventWatcher,
    Retrying,
    WatchItem,
    open_watch,
)
from crushd.proto import Event, Resync, Workspace, parse_host

CID = "0b6f1c1e-4a0e-4a53-9d43-0c1b2f5d7a11"
W1 = Workspace(id="w1", path="/proj")


def frame(seq: int, type_: str = "session", payload: object = None) -> bytes:
    inner = {"type": "updated", "payload": payload if payload is not None else {}}
    data = json.dumps({"type": type_, "payload": inner}).encode()
    return b"id: %d\ndata: %s\n\n" % (seq, data)


def event(seq: int) -> Event:
    return Event("session", "updated", {}, seq)


class Body(httpx.AsyncByteStream):
    """An SSE body: the given chunks, then EOF or (``hang``) silence."""

    def __init__(self, chunks: list[bytes], *, hang: bool = False) -> None:
        self.chunks = chunks
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await trio.lowlevel.checkpoint()
            yield chunk
        if self.hang:
            await trio.sleep_forever()

    async def aclose(self) -> None:
        self.closed = True


Step = Body | int | Exception


class Daemon:
    """Answers each events request with the next scripted step.

    A step is a ``Body`` (200 stream), a status code (JSON error), or an
    exception to raise (e.g. ``httpx.ConnectError``: the daemon is gone).
    ``POST /v1/workspaces`` answers with the next of ``created``.
    """

    def __init__(
        self, steps: list[Step], created: list[Workspace] | None = None
    ) -> None:
        self.steps = steps
        self.created = created or []
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path == "/v1/workspaces":
            return self._create(request)
        self.times.append(trio.current_time())
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return httpx.Response(step, json={"message": f"status {step}"})
        return httpx.Response(200, stream=step)

    def _create(self, request: httpx.Request) -> httpx.Response:
        workspace = self.created.pop(0)
        assert json.loads(request.content)["path"] == "/proj"
        return httpx.Response(200, json={"id": workspace.id, "path": workspace.path})

    @property
    def event_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/events")]


def client_for(daemon: Daemon) -> Client:
    return Client(
        parse_host("unix:///tmp/crushctl-test.sock"),
        client_id=CID,
        transport=httpx.MockTransport(daemon),
    )


async def take(watcher: EventWatcher, count: int) -> list[WatchItem]:
    return [await anext(watcher) for _ in range(count)]


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


async def test_watch_resumes_with_last_event_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After the stream ends it reconnects 250 ms later with Last-Event-ID."""
    daemon = Daemon([Body([frame(1), frame(2)]), Body([frame(3)], hang=True)])
    async with client_for(daemon) as client, open_watch(client, W1) as watcher:
        items = await take(watcher, 6)
    assert items == [
        Connected(W1, resumed_after=None, reconnected=False, recreated=False),
        event(1),
        event(2),
        Retrying("stream ended", 0.25, 0),
        Connected(W1, resumed_after=2, reconnected=True, recreated=False),
        event(3),
    ]
    first, second = daemon.event_requests
    assert "Last-Event-ID" not in first.headers
    assert second.headers["Last-Event-ID"] == "2"
    assert daemon.times[1] - daemon.times[0] == pytest.approx(0.25)


async def test_watch_backoff_doubles_caps_and_resets(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Failed attempts wait 0.25 s doubling to 10 s; a live stream resets it."""
    steps: list[Step] = [connect_error() for _ in range(7)]
    steps += [Body([frame(1)]), connect_error(), Body([], hang=True)]
    daemon = Daemon(steps)
    async with client_for(daemon) as client, open_watch(client, W1) as watcher:
        items = await take(watcher, 12)
    retries = [item for item in items if isinstance(item, Retrying)]
    assert [r.delay_seconds for r in retries] == [0.25, 0.5, 1, 2, 4, 8, 10, 0.25, 0.5]
    assert [r.failures for r in retries] == [1, 2, 3, 4, 5, 6, 7, 0, 1]
    assert (
        retries[0].reason == "crushd is not running at unix:///tmp/crushctl-test.sock"
    )
    gaps = [b - a for a, b in zip(daemon.times, daemon.times[1:], strict=False)]
    assert gaps == pytest.approx([0.25, 0.5, 1, 2, 4, 8, 10, 0.25, 0.5])
    assert isinstance(items[-1], Connected)
    assert items[-1].resumed_after == 1


async def test_watch_recreates_workspace_on_404(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 404 re-creates the workspace for the same path and resumes from its start."""
    w2 = Workspace(id="w2", path="/proj")
    daemon = Daemon([Body([frame(5)]), 404, Body([frame(1)], hang=True)], created=[w2])
    async with client_for(daemon) as client, open_watch(client, W1) as watcher:
        items = await take(watcher, 5)
        assert watcher.workspace == w2
    assert items[2:] == [
        Retrying("stream ended", 0.25, 0),
        Connected(w2, resumed_after=None, reconnected=True, recreated=True),
        event(1),
    ]
    gone, fresh = daemon.event_requests[1:]
    assert gone.url.path == "/v1/workspaces/w1/events"
    assert gone.headers["Last-Event-ID"] == "5"
    assert fresh.url.path == "/v1/workspaces/w2/events"
    assert "Last-Event-ID" not in fresh.headers


async def test_watch_recreate_failure_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """If re-creating fails (daemon gone), the next attempt re-creates again."""
    w2 = Workspace(id="w2", path="/proj")
    daemon = Daemon([404, Body([], hang=True)], created=[w2])
    real_create = daemon._create
    calls: list[int] = []

    def flaky_create(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise connect_error()
        return real_create(request)

    daemon._create = flaky_create  # type: ignore[method-assign]
    async with client_for(daemon) as client, open_watch(client, W1) as watcher:
        items = await take(watcher, 2)
    assert isinstance(items[0], Retrying)
    assert items[0].failures == 1
    assert items[1] == Connected(w2, None, reconnected=False, recreated=True)
    assert len(calls) == 2


async def test_watch_reports_resync(autojump_clock: trio.testing.MockClock) -> None:
    """A resync frame becomes a Resync marker and its id becomes the resume point."""
    resync = frame(9, "resync", {"workspace_id": "w1", "oldest_id": 10})
    daemon = Daemon([Body([resync, frame(10)]), Body([], hang=True)])
    async with (
        client_for(daemon) as client,
        open_watch(client, W1, last_event_id=3) as watcher,
    ):
        items = await take(watcher, 5)
        assert watcher.last_event_id == 10
    assert items[:3] == [
        Connected(W1, resumed_after=3, reconnected=False, recreated=False),
        Resync(workspace_id="w1", oldest_id=10),
        event(10),
    ]
    assert daemon.event_requests[0].headers["Last-Event-ID"] == "3"
    assert daemon.event_requests[1].headers["Last-Event-ID"] == "10"


async def test_watch_conflict_ends_iteration(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 409 (client retired) is raised from iteration, which then ends."""
    daemon = Daemon([409])
    async with client_for(daemon) as client, open_watch(client, W1) as watcher:
        with pytest.raises(ConflictError, match="status 409"):
            await anext(watcher)
        assert [item async for item in watcher] == []


async def test_watch_exit_closes_stream(autojump_clock: trio.testing.MockClock) -> None:
    """Leaving the block closes the live response (detaching on the daemon)."""
    body = Body([frame(1)], hang=True)
    daemon = Daemon([body])
    async with client_for(daemon) as client:
        async with open_watch(client, W1) as watcher:
            await take(watcher, 2)
            assert not body.closed
        assert body.closed


async def test_watch_cancelled_while_backing_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling during a backoff sleep exits cleanly with no further attempts."""
    daemon = Daemon([connect_error(), connect_error()])
    async with client_for(daemon) as client:
        with trio.move_on_after(0.1):
            async with open_watch(client, W1) as watcher:
                await take(watcher, 1)
                await anext(watcher)  # blocks: the next attempt is 0.25 s away
    assert len(daemon.event_requests) == 1


async def test_watch_error_leaves_block_unwrapped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The 409 raised from iteration can be caught around the whole block."""
    daemon = Daemon([409])
    async with client_for(daemon) as client:
        with pytest.raises(ConflictError):
            async with open_watch(client, W1) as watcher:
                await anext(watcher)
