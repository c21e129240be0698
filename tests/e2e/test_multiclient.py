"""Seeds' e2e scenarios against a real daemon: shared events, isolation, last leaver."""

from __future__ import annotations

from pathlib import Path

import trio

from crushctl import NotFoundError, ServerUnavailable, open_event_stream
from crushd.proto import Event

from .conftest import DaemonFactory

#: Bound for "this should happen promptly" on a real daemon, seconds.
PROMPT = 20.0


async def next_event(stream: object, event_type: str = "session") -> Event:
    """Read the stream until an event of ``event_type`` arrives."""
    with trio.fail_after(PROMPT):
        async for event in stream:  # type: ignore[attr-defined]
            if event.type == event_type:
                assert isinstance(event, Event)
                return event
    raise AssertionError("stream ended")


async def test_two_clients_receive_same_session_event(
    daemons: DaemonFactory, project: Path
) -> None:
    """Two clients joined to one workspace both receive a session made by a third."""
    daemon = await daemons.start()
    async with daemon.client() as a, daemon.client() as b, daemon.client() as c:
        ws_a = await a.create_workspace(str(project))
        ws_b = await b.create_workspace(str(project))
        assert ws_a.id == ws_b.id
        async with (
            open_event_stream(a, ws_a.id) as stream_a,
            open_event_stream(b, ws_b.id) as stream_b,
        ):
            ws_c = await c.create_workspace(str(project))
            session = await c.create_session(ws_c.id, "hello")
            got_a = await next_event(stream_a)
            got_b = await next_event(stream_b)
    for got in (got_a, got_b):
        assert got.event_type == "created"
        assert isinstance(got.payload, dict)
        assert got.payload["id"] == session.id
        assert got.payload["title"] == "hello"
    assert got_a.id == got_b.id > 0


async def test_killing_client_a_stream_does_not_break_client_b(
    daemons: DaemonFactory, project: Path
) -> None:
    """Closing A's stream drops its claim; B keeps the workspace and keeps receiving."""
    daemon = await daemons.start("--detach-grace", "0")
    async with daemon.client() as a, daemon.client() as b:
        ws = await a.create_workspace(str(project))
        await b.create_workspace(str(project))
        async with open_event_stream(b, ws.id) as stream_b:
            async with open_event_stream(a, ws.id):
                roster = await b.clients(ws.id)
                assert sorted(r.streams for r in roster) == [1, 1]
            await a.delete_workspace(ws.id)
            with trio.fail_after(PROMPT):
                while {r.client_id for r in await b.clients(ws.id)} != {b.client_id}:
                    await trio.sleep(0.02)
            session = await b.create_session(ws.id, "after a left")
            got = await next_event(stream_b)
    assert isinstance(got.payload, dict)
    assert got.payload["id"] == session.id


async def test_last_client_leaving_shuts_daemon_down(
    daemons: DaemonFactory, project: Path
) -> None:
    """When the last client leaves, the workspace goes and the daemon exits 0."""
    daemon = await daemons.start(
        "--detach-grace", "0", "--idle-timeout", "3", "--create-grace", "30"
    )
    async with daemon.client() as a, daemon.client() as b:
        ws = await a.create_workspace(str(project))
        await b.create_workspace(str(project))
        async with open_event_stream(a, ws.id), open_event_stream(b, ws.id):
            await a.delete_workspace(ws.id)
            await b.delete_workspace(ws.id)
            assert (await a.workspace(ws.id)).id == ws.id
        with trio.fail_after(PROMPT):
            while True:
                try:
                    await a.workspace(ws.id)
                except (NotFoundError, ServerUnavailable):
                    break  # torn down; the daemon may even be gone already
                await trio.sleep(0.02)
    assert await daemon.wait_exit(PROMPT) == 0
    assert not daemon.socket_path.exists()
