"""``crushctl watch``: live lines, reconnect notices, JSON lines, exit cleanup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio.testing

from crushctl import CLIENT_ID
from crushctl.cli import main_async

HOST = "unix:///tmp/crushctl-test.sock"


@pytest.fixture(autouse=True)
def nominal_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the backoff's jitter off so the printed delays are the nominal ones."""
    monkeypatch.setattr("crushctl._backoff.JITTER_FRACTION", 0.0)


def frame(seq: int, type_: str, event_type: str, payload: object) -> bytes:
    envelope = {"type": type_, "payload": {"type": event_type, "payload": payload}}
    return b"id: %d\ndata: %s\n\n" % (seq, json.dumps(envelope).encode())


MESSAGE = frame(
    1,
    "message",
    "updated",
    {
        "id": "m1",
        "role": "assistant",
        "session_id": "s1",
        "parts": [
            {"type": "reasoning", "data": {}},
            {"type": "text", "data": {"text": "Hi\nthere"}},
        ],
    },
)
SESSION = frame(2, "session", "created", {"id": "s1", "title": "hello"})
RESYNC = frame(4, "resync", "updated", {"workspace_id": "w1", "oldest_id": 5})
AGENT = frame(
    5, "agent_event", "created", {"type": "agent_finished", "session_id": "s1"}
)


class Body(httpx.AsyncByteStream):
    """An SSE body: the given chunks, then EOF or (``hang``) silence."""

    def __init__(self, chunks: list[bytes], *, hang: bool = False) -> None:
        self.chunks = chunks
        self.hang = hang

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await trio.lowlevel.checkpoint()
            yield chunk
        if self.hang:
            await trio.sleep_forever()


class Daemon:
    """Scripted events answers; creates hand out ``workspace_ids`` in order."""

    def __init__(self, steps: list[Body | int], workspace_ids: list[str]) -> None:
        self.steps = steps
        self.workspace_ids = workspace_ids
        self.retire_status = 200
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path == "/v1/workspaces":
            workspace = {"id": self.workspace_ids.pop(0), "path": "/proj"}
            return httpx.Response(200, json=workspace)
        if path.startswith("/v1/clients/"):
            return httpx.Response(self.retire_status, json={"message": "x"})
        if not path.endswith("/events"):
            return httpx.Response(200)
        step = self.steps.pop(0)
        if isinstance(step, int):
            message = (
                "client has been retired" if step == 409 else "workspace not found"
            )
            return httpx.Response(step, json={"message": message})
        return httpx.Response(200, stream=step)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]


def script() -> Daemon:
    return Daemon(
        [Body([MESSAGE, SESSION]), Body([RESYNC + AGENT]), 409], workspace_ids=["w1"]
    )


async def watch(daemon: Daemon, *argv: str) -> int:
    transport = httpx.MockTransport(daemon)
    return await main_async(
        ["--host", HOST, "watch", "--cwd", "/", *argv], transport=transport
    )


async def test_watch_human_lines_and_notices(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events print one line each on stdout; connection changes go to stderr."""
    daemon = script()
    assert await watch(daemon) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        '#1 message updated m1 assistant: +8 chars "Hi\\nthere"',
        '#2 session created id=s1 title="hello"',
        "#5 agent_event created agent_finished s1",
    ]
    assert captured.err.splitlines() == [
        "crushctl: watching workspace w1 (/proj)",
        "crushctl: connection lost (stream ended); retrying in 0.25 s",
        "crushctl: reconnected; resuming after event #2",
        "crushctl: resync: events before #5 were missed; refetch state",
        "crushctl: connection lost (stream ended); retrying in 0.25 s",
        "crushctl: client has been retired",
    ]
    second = daemon.sent("GET", "/v1/workspaces/w1/events")[1]
    assert second.headers["Last-Event-ID"] == "2"
    assert daemon.sent("DELETE", f"/v1/clients/{CLIENT_ID}")


async def test_watch_json_lines(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints one JSON object per line, markers included."""
    assert await watch(script(), "--json") == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["type"] for line in lines] == [
        "connected",
        "message",
        "session",
        "retrying",
        "connected",
        "resync",
        "agent_event",
        "retrying",
    ]
    assert lines[1] == {
        "id": 1,
        "type": "message",
        "event_type": "updated",
        "payload": json.loads(MESSAGE.split(b"data: ")[1])["payload"]["payload"],
    }
    assert lines[4]["resumed_after"] == 2
    assert lines[5] == {"type": "resync", "workspace_id": "w1", "oldest_id": 5}


async def test_watch_recreated_notice(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 on attach re-creates the workspace and says so."""
    daemon = Daemon([404, Body([]), 409], workspace_ids=["w1", "w2"])
    assert await watch(daemon) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "crushctl: workspace was gone; re-created it as w2 (events missed)"
    assert daemon.sent("GET", "/v1/workspaces/w2/events")


async def test_watch_cancelled_retires_client(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a running watch still retires the client on the way out."""
    daemon = Daemon([Body([], hang=True)], workspace_ids=["w1"])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch, daemon)
        await trio.testing.wait_all_tasks_blocked()
        assert daemon.sent("GET", "/v1/workspaces/w1/events")
        nursery.cancel_scope.cancel()
    assert daemon.sent("DELETE", f"/v1/clients/{CLIENT_ID}")


async def test_watch_falls_back_to_release_without_retire_route(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """When the daemon lacks the retire route (404) the workspace hold is released."""
    daemon = Daemon([409], workspace_ids=["w1"])
    daemon.retire_status = 404
    assert await watch(daemon) == 1
    [release] = daemon.sent("DELETE", "/v1/workspaces/w1")
    assert dict(release.url.params) == {"client_id": CLIENT_ID}


def test_watch_stuck_marker_line_and_json() -> None:
    """A Stuck marker reads as a notice that retrying goes on, and as JSON."""
    from crushctl import Stuck
    from crushctl.cli._watch import item_json, item_notice

    stuck = Stuck(20, "crushd is not running at unix:///s")
    assert item_notice(stuck) == (
        "connection looks stuck: 20 attempts failed"
        " (crushd is not running at unix:///s); still retrying"
    )
    assert item_json(stuck) == {
        "type": "stuck",
        "failures": 20,
        "reason": "crushd is not running at unix:///s",
    }
