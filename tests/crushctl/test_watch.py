"""open_watch: backoff, Last-Event-ID resume, resync, re-create, respawn, retire."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from crushctl import (
    STUCK_FAILURES,
    Client,
    ConflictError,
    Connected,
    EventWatcher,
    Retrying,
    ServerStartError,
    Stuck,
    WatchItem,
    WorkspaceSpec,
    open_watch,
)
from crushd.proto import Event, Host, Resync, Workspace, parse_host

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

    retire_status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path == "/v1/workspaces":
            return self._create(request)
        if path.startswith("/v1/clients/"):
            return httpx.Response(self.retire_status, json={"message": "x"})
        if not path.endswith("/events"):
            return httpx.Response(200)  # current-session, DELETE workspace
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

    def sent(self, method: str, suffix: str) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.method == method and r.url.path.endswith(suffix)
        ]


class Nominal(random.Random):
    """A jitter source that always draws 0: every delay is the nominal one."""

    def random(self) -> float:
        return 0.0


def watching(
    client: Client, workspace: Workspace = W1, **options: Any
) -> contextlib.AbstractAsyncContextManager[EventWatcher]:
    """``open_watch`` with the jitter turned off unless ``rng`` is given."""
    options.setdefault("rng", Nominal())
    return open_watch(client, workspace, **options)


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
    async with client_for(daemon) as client, watching(client) as watcher:
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
    async with client_for(daemon) as client, watching(client) as watcher:
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
    async with client_for(daemon) as client, watching(client) as watcher:
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
    async with client_for(daemon) as client, watching(client) as watcher:
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
        watching(client, last_event_id=3) as watcher,
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
    async with client_for(daemon) as client, watching(client) as watcher:
        with pytest.raises(ConflictError, match="status 409"):
            await anext(watcher)
        assert [item async for item in watcher] == []


async def test_watch_exit_closes_stream(autojump_clock: trio.testing.MockClock) -> None:
    """Leaving the block closes the live response (detaching on the daemon)."""
    body = Body([frame(1)], hang=True)
    daemon = Daemon([body])
    async with client_for(daemon) as client:
        async with watching(client) as watcher:
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
            async with watching(client) as watcher:
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
            async with watching(client) as watcher:
                await anext(watcher)


# -- jitter, stuck, respawn, re-create from the spec, current-session, retire --------


async def test_watch_delays_are_jittered_below_the_nominal_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Each wait is the nominal 0.25 s doubling delay scaled into [1/2, 1]."""
    steps: list[Step] = [connect_error() for _ in range(6)]
    daemon = Daemon([*steps, Body([], hang=True)])
    async with (
        client_for(daemon) as client,
        watching(client, rng=random.Random(7)) as watcher,
    ):
        items = await take(watcher, 7)
    delays = [item.delay_seconds for item in items if isinstance(item, Retrying)]
    nominal = [0.25, 0.5, 1, 2, 4, 8]
    assert all(n / 2 <= d <= n for d, n in zip(delays, nominal, strict=True))
    assert len(set(delays)) == len(delays)
    assert any(d < n for d, n in zip(delays, nominal, strict=True))
    gaps = [b - a for a, b in zip(daemon.times, daemon.times[1:], strict=False)]
    assert gaps == pytest.approx(delays)


async def test_watch_reports_stuck_after_twenty_failures_and_keeps_trying(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The 20th failure in a row yields one Stuck marker; the 21st attempt connects."""
    steps: list[Step] = [connect_error() for _ in range(STUCK_FAILURES + 2)]
    daemon = Daemon([*steps, Body([frame(1)], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        items = await take(watcher, STUCK_FAILURES + 2 + 2)
    stuck = [item for item in items if isinstance(item, Stuck)]
    assert stuck == [
        Stuck(STUCK_FAILURES, "crushd is not running at unix:///tmp/crushctl-test.sock")
    ]
    index = items.index(stuck[0])
    assert isinstance(items[index - 1], Retrying)
    assert items[index - 1].failures == STUCK_FAILURES - 1  # type: ignore[union-attr]
    assert items[index + 1] == Retrying(stuck[0].reason, 10.0, STUCK_FAILURES)
    assert isinstance(items[-1], Connected)


class Ensures:
    """Stands in for ``ensure_server``: records calls, fails as scripted."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.calls: list[tuple[str, float]] = []
        self.failures = failures or []

    async def __call__(self, host: Host | None = None) -> None:
        assert host is not None
        self.calls.append((host.url, trio.current_time()))
        if self.failures:
            raise self.failures.pop(0)


@pytest.fixture
def ensures(monkeypatch: pytest.MonkeyPatch) -> Ensures:
    fake = Ensures()
    monkeypatch.setattr("crushctl._watch.ensure_server", fake)
    return fake


@pytest.mark.parametrize("gone", [connect_error, lambda: 503])
async def test_watch_with_spawn_ensures_a_server_after_daemon_loss(
    autojump_clock: trio.testing.MockClock,
    ensures: Ensures,
    gone: Callable[[], Step],
) -> None:
    """Refused or 503: the next attempt first runs ensure_server, then attaches."""
    daemon = Daemon([Body([frame(4)]), gone(), Body([frame(5)], hang=True)])
    async with client_for(daemon) as client, watching(client, spawn=True) as watcher:
        items = await take(watcher, 6)
    assert items[-2:] == [
        Connected(W1, resumed_after=4, reconnected=True, recreated=False),
        event(5),
    ]
    [(url, when)] = ensures.calls
    assert url == "unix:///tmp/crushctl-test.sock"
    assert daemon.times[1] < when <= daemon.times[2]


async def test_watch_without_spawn_never_ensures_a_server(
    autojump_clock: trio.testing.MockClock, ensures: Ensures
) -> None:
    """Without spawn a lost daemon is only retried (--no-spawn)."""
    daemon = Daemon([connect_error(), 503, Body([], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        items = await take(watcher, 3)
    assert isinstance(items[-1], Connected)
    assert ensures.calls == []


async def test_watch_failed_spawn_counts_as_a_failure_and_is_retried(
    autojump_clock: trio.testing.MockClock, ensures: Ensures
) -> None:
    """A ServerStartError from ensure_server is retried with backoff, then succeeds."""
    ensures.failures.append(ServerStartError("crushd serve exited", Path("/logs")))
    daemon = Daemon([connect_error(), Body([], hang=True)])
    async with client_for(daemon) as client, watching(client, spawn=True) as watcher:
        items = await take(watcher, 3)
    first, second, connected = items
    assert isinstance(first, Retrying)
    assert isinstance(second, Retrying)
    assert second.failures == 2
    assert second.reason.startswith("failed to initialize crush server")
    assert isinstance(connected, Connected)
    assert len(ensures.calls) == 2
    assert len(daemon.event_requests) == 2


async def test_watch_recreates_from_the_cached_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 404 re-creates from the cached arguments (data_dir, flags, env)."""
    spec = WorkspaceSpec(
        "/proj", data_dir="/data", yolo=True, debug=True, env=["API_KEY=secret"]
    )
    answer = Workspace(id="w1", path="/proj", env=["API_KEY=••••cret"])
    daemon = Daemon([404, Body([], hang=True)], created=[Workspace("w2", "/proj")])
    async with (
        client_for(daemon) as client,
        watching(client, answer, spec=spec) as watcher,
    ):
        await take(watcher, 1)
        assert watcher.workspace.id == "w2"
    [create] = daemon.sent("POST", "/v1/workspaces")
    body = json.loads(create.content)
    assert (body["data_dir"], body["yolo"], body["debug"]) == ("/data", True, True)
    assert body["env"] == ["API_KEY=secret"]
    assert body["client_id"] == CID


async def test_watch_default_spec_is_the_workspace_answer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Without a spec the workspace's own fields are used to re-create it."""
    answer = Workspace(id="w1", path="/proj", data_dir="/d", env=["A=1"])
    daemon = Daemon([404, Body([], hang=True)], created=[Workspace("w2", "/proj")])
    async with client_for(daemon) as client, watching(client, answer) as watcher:
        await take(watcher, 1)
    body = json.loads(daemon.sent("POST", "/v1/workspaces")[0].content)
    assert (body["data_dir"], body["env"]) == ("/d", ["A=1"])


async def test_watch_reasserts_current_session_after_every_stream(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """current-session is sent after each attach, to the re-created id after a 404."""
    daemon = Daemon(
        [Body([frame(1)]), 404, Body([], hang=True)],
        created=[Workspace("w2", "/proj")],
    )
    async with (
        client_for(daemon) as client,
        watching(client, current_session_id="s1") as watcher,
    ):
        await take(watcher, 4)
        await watcher.set_current_session("s2")
    posts = daemon.sent("POST", "/current-session")
    assert [r.url.path for r in posts] == [
        "/v1/workspaces/w1/current-session",
        "/v1/workspaces/w2/current-session",
        "/v1/workspaces/w2/current-session",
    ]
    assert [json.loads(r.content)["session_id"] for r in posts] == ["s1", "s1", "s2"]
    assert all(r.url.params["client_id"] == CID for r in posts)
    kinds = [r.url.path.rsplit("/", 1)[1] for r in daemon.requests]
    assert kinds.index("current-session") == kinds.index("events") + 1


async def test_watch_without_session_sends_no_current_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With no selected session nothing is re-asserted."""
    daemon = Daemon([Body([frame(1)]), Body([], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        await take(watcher, 4)
    assert daemon.sent("POST", "/current-session") == []


@pytest.mark.parametrize("retire_status", [200, 404])
async def test_watch_retire_on_exit(
    autojump_clock: trio.testing.MockClock, retire_status: int
) -> None:
    """retire_on_exit sends DELETE /clients/{id}; on 404 it releases the workspace."""
    daemon = Daemon([Body([], hang=True)])
    daemon.retire_status = retire_status
    async with client_for(daemon) as client:
        async with watching(client, retire_on_exit=True) as watcher:
            await take(watcher, 1)
            assert daemon.sent("DELETE", f"/v1/clients/{CID}") == []
        assert len(daemon.sent("DELETE", f"/v1/clients/{CID}")) == 1
        released = daemon.sent("DELETE", "/v1/workspaces/w1")
    assert len(released) == (retire_status == 404)


async def test_watch_retire_on_exit_ignores_errors_and_runs_on_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The goodbye also runs when iteration failed, and its own error is ignored."""
    daemon = Daemon([409])
    daemon.retire_status = 500
    async with client_for(daemon) as client:
        with pytest.raises(ConflictError):
            async with watching(client, retire_on_exit=True) as watcher:
                await anext(watcher)
    assert len(daemon.sent("DELETE", f"/v1/clients/{CID}")) == 1


async def test_watch_without_retire_on_exit_says_no_goodbye(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """By default leaving the block neither retires nor releases."""
    daemon = Daemon([Body([], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        await take(watcher, 1)
    assert [r.method for r in daemon.requests] == ["GET"]


class Broken(Body):
    """An SSE body that delivers its chunks, then breaks like a reset connection."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in super().__aiter__():
            yield chunk
        raise httpx.ReadError("connection reset by peer")


async def test_watch_connection_broken_mid_stream_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A stream cut mid-body is reported with its reason and resumed after its id."""
    daemon = Daemon([Broken([frame(1)]), Body([frame(2)], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        items = await take(watcher, 5)
    retrying = items[2]
    assert isinstance(retrying, Retrying)
    assert "connection reset by peer" in retrying.reason
    assert retrying.failures == 0
    assert items[3] == Connected(W1, resumed_after=1, reconnected=True, recreated=False)


async def test_watch_malformed_resync_payload_still_says_resync(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A resync frame whose payload is not the expected shape is still a Resync."""
    daemon = Daemon([Body([frame(3, "resync", {"oldest": "x"})], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        items = await take(watcher, 2)
    assert items[1] == Resync(workspace_id="w1", oldest_id=0)
