"""Daemon lifecycle against real processes: resume, restart, locks, signals, stalls."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

import pytest
import trio

from crushctl import HTTPStatusError, open_event_stream
from crushd.proto import Event

from .conftest import DaemonFactory
from .test_multiclient import PROMPT, next_event

#: Decision B.19: SIGTERM exits 0 within this many seconds.
SIGTERM_DEADLINE = 5.0


async def test_resume_with_last_event_id_gets_exactly_the_missed_events(
    daemons: DaemonFactory, project: Path
) -> None:
    """A client reconnecting with Last-Event-ID receives exactly what it missed."""
    daemon = await daemons.start()
    async with daemon.client() as watcher, daemon.client() as writer:
        ws = await watcher.create_workspace(str(project))
        await writer.create_workspace(str(project))
        async with open_event_stream(watcher, ws.id) as stream:
            await writer.create_session(ws.id, "seen")
            seen = await next_event(stream)
        missed = [await writer.create_session(ws.id, f"missed {i}") for i in range(3)]
        async with open_event_stream(watcher, ws.id, last_event_id=seen.id) as stream:
            replayed = [await next_event(stream) for _ in missed]
            await writer.create_session(ws.id, "live")
            live = await next_event(stream)
    assert [e.payload["id"] for e in replayed] == [s.id for s in missed]  # type: ignore[index]
    assert [e.id for e in replayed] == [seen.id + 1, seen.id + 2, seen.id + 3]
    assert live.id == seen.id + 4


async def test_resume_behind_the_window_gets_resync_first(
    daemons: DaemonFactory, project: Path
) -> None:
    """A client further behind than --replay-window first receives a resync frame."""
    daemon = await daemons.start("--replay-window", "2")
    async with daemon.client() as client:
        ws = await client.create_workspace(str(project))
        for i in range(5):
            await client.create_session(ws.id, f"s{i}")
        async with open_event_stream(client, ws.id, last_event_id=0) as stream:
            first = await next_event(stream, "resync")
            following = await next_event(stream)
    assert first.payload == {"workspace_id": ws.id, "oldest_id": 4}
    assert following.id == 4


async def test_restart_keeps_sessions(daemons: DaemonFactory, project: Path) -> None:
    """Sessions survive a daemon restart (they live in <project>/.crush/crush.db)."""
    daemon = await daemons.start()
    async with daemon.client() as client:
        ws = await client.create_workspace(str(project))
        session = await client.create_session(ws.id, "durable")
    daemon.terminate()
    assert await daemon.wait_exit(SIGTERM_DEADLINE) == 0
    again = await daemons.start()
    async with again.client() as client:
        ws = await client.create_workspace(str(project))
        sessions = await client.sessions(ws.id)
    assert [(s.id, s.title) for s in sessions] == [(session.id, "durable")]


async def test_second_daemon_on_same_data_dir_is_refused(
    daemons: DaemonFactory, project: Path
) -> None:
    """A second daemon cannot open a data directory the first holds; names the owner."""
    first = await daemons.start()
    second = await daemons.start(socket_name="other.sock")
    async with first.client() as a, second.client() as b:
        await a.create_workspace(str(project))
        with pytest.raises(HTTPStatusError) as caught:
            await b.create_workspace(str(project))
    assert caught.value.status == 500
    message = caught.value.message
    assert message.startswith("failed to connect to database: data directory already")
    assert f"pid={first.process.pid}" in message
    owner = json.loads((project / ".crush" / "crush.lock").read_text())
    assert owner["pid"] == first.process.pid


async def test_live_daemon_on_socket_refuses_second(
    daemons: DaemonFactory, project: Path
) -> None:
    """A daemon started on a live daemon's socket exits 1; the first keeps running."""
    first = await daemons.start()
    second = await daemons.start(wait=False)
    assert await second.wait_exit(PROMPT) == 1
    assert "already" in second.stderr_path.read_text()
    async with first.client() as client:
        await client.health()


async def test_sigterm_with_open_streams_exits_zero_and_frees_lock(
    daemons: DaemonFactory, project: Path
) -> None:
    """SIGTERM ends open streams cleanly, exits 0 within 5 s and frees crush.lock."""
    daemon = await daemons.start()
    async with daemon.client() as a, daemon.client() as b:
        ws = await a.create_workspace(str(project))
        async with (
            open_event_stream(a, ws.id) as stream_a,
            open_event_stream(b, ws.id) as stream_b,
        ):
            daemon.terminate()
            with trio.fail_after(SIGTERM_DEADLINE):
                ended = [[e async for e in stream_a], [e async for e in stream_b]]
            code = await daemon.wait_exit(SIGTERM_DEADLINE)
    marker = {"workspace_id": ws.id, "reason": "shutdown"}  # C.11, then the end
    assert ended == [[Event("workspace_closed", "deleted", marker, 1)]] * 2
    assert code == 0
    assert not daemon.socket_path.exists()
    with (project / ".crush" / "crush.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


async def test_non_reading_client_does_not_block_others_or_shutdown(
    daemons: DaemonFactory, project: Path
) -> None:
    """A stream whose reader stopped does not stall other clients nor a SIGTERM."""
    daemon = await daemons.start("--send-timeout", "1")
    async with daemon.client() as writer, daemon.client() as reader:
        ws = await writer.create_workspace(str(project))
        stalled = _open_stalled_stream(daemon.socket_path, ws.id)
        try:
            async with open_event_stream(reader, ws.id) as stream:
                title = "x" * 200_000
                for _ in range(20):
                    await writer.create_session(ws.id, title)
                    got = await next_event(stream)
                    assert isinstance(got, Event)
            daemon.terminate()
            assert await daemon.wait_exit(SIGTERM_DEADLINE) == 0
        finally:
            stalled.close()


def _open_stalled_stream(path: Path, workspace_id: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(os.fspath(path))
    client_id = "5f0c6a8e-2f1b-4c1e-9a59-0d7b8f1d2c3a"
    request = (
        f"GET /v1/workspaces/{workspace_id}/events?client_id={client_id} HTTP/1.1\r\n"
        "Host: api.crush.localhost\r\n\r\n"
    )
    sock.sendall(request.encode())
    return sock
