"""Streams survive a killed daemon and a dropped connection (issue 4, section 4).

The kill -9 test runs two real ``crushctl watch`` processes; the daemon they
share was spawned by them (found through ``/proc``, killed at teardown). The
drop test puts a unix-socket proxy between a watcher and a daemon that stays
up, and cuts the proxy's connections while events keep being published.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import trio

from crushctl import Client, Connected, open_watch
from crushd.proto import Event, Host, parse_host

from .conftest import DaemonFactory
from .test_spawn import (
    CLIENTS,
    daemon_pids,
    factory,
    host_in,
    log_file,
    log_size,
    pids_that_listened,
)

__all__ = ["factory"]  # the fixture, re-used from test_spawn

#: Bounds (not timing checks) for a watcher to report what it should.
WATCH_SECONDS = 60.0
#: Events the writer publishes while the proxy is cut now and then.
SESSIONS = 24
#: The watcher's connections are cut after this many events each.
CUT_AFTER = (3, 9, 15)


class Lines:
    """The JSON lines of a ``crushctl --json watch`` process's stdout."""

    def __init__(self, process: trio.Process) -> None:
        assert process.stdout is not None
        self.process = process
        self.stdout = process.stdout
        self.buffer = b""
        self.seen: list[dict[str, object]] = []

    async def until(self, wanted: str, **fields: object) -> dict[str, object]:
        """Read lines until one has ``type`` ``wanted`` and ``fields``; return it."""
        with trio.fail_after(WATCH_SECONDS):
            while True:
                for line in self._complete():
                    self.seen.append(line)
                    matches = all(line.get(k) == v for k, v in fields.items())
                    if line.get("type") == wanted and matches:
                        return line
                chunk = await self.stdout.receive_some()
                assert chunk, f"watch exited early after {self.seen}"
                self.buffer += chunk

    def _complete(self) -> list[dict[str, object]]:
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(raw) for raw in complete if raw.strip()]


async def start_watch(
    factory: DaemonFactory, host: Host, project: Path, *, traced: bool = True
) -> Lines:
    command = [sys.executable, "-m", "crushctl", "--host", host.url, "--json"]
    stderr = (factory.root / f"watch-{os.urandom(4).hex()}.stderr").open("wb")
    with stderr:
        process = await trio.lowlevel.open_process(
            [*command, "watch", "--cwd", str(project)],
            env=factory.env(traced=traced),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    return Lines(process)


async def new_session(host: Host, project: Path, title: str) -> str:
    """Create a session in ``project``'s workspace from a third client."""
    async with Client(host, client_id=str(uuid.uuid4())) as client:
        workspace = await client.create_workspace(project)
        session = await client.create_session(workspace.id, title)
        await client.delete_workspace(workspace.id)
    return session.id


async def stop_watchers(watchers: list[Lines]) -> None:
    for watcher in watchers:
        if watcher.process.returncode is None:
            watcher.process.send_signal(signal.SIGINT)
    with trio.fail_after(WATCH_SECONDS):
        for watcher in watchers:
            await watcher.process.wait()


async def test_kill_9_both_watchers_recreate_on_the_respawned_daemon(
    factory: DaemonFactory, project: Path
) -> None:
    """kill -9 under two `crushctl watch`: both respawn/rejoin one daemon and go on."""
    host = host_in(factory.root)
    watchers = [await start_watch(factory, host, project) for _ in range(2)]
    try:
        first = [await w.until("connected") for w in watchers]
        assert first[0]["workspace_id"] == first[1]["workspace_id"]
        title = "before the crash"
        await new_session(host, project, title)
        for watcher in watchers:
            await watcher.until("session", event_type="created")
        (old_pid,) = daemon_pids(factory.root)
        log = log_file(factory, host)
        offset = log_size(log)
        os.kill(old_pid, signal.SIGKILL)
        again = [await w.until("connected", recreated=True) for w in watchers]
        assert again[0]["workspace_id"] == again[1]["workspace_id"]
        assert again[0]["workspace_id"] != first[0]["workspace_id"]
        assert all(w.process.returncode is None for w in watchers)
        (new_pid,) = pids_that_listened(log, offset)  # one replacement, not two
        assert new_pid in daemon_pids(factory.root)
        assert new_pid != old_pid
        session_id = await new_session(host, project, "after the crash")
        for watcher in watchers:
            line = await watcher.until("session", event_type="created")
            assert line["payload"]["id"] == session_id  # type: ignore[index]
        assert all(any(line["type"] == "retrying" for line in w.seen) for w in watchers)
    finally:
        await stop_watchers(watchers)
    assert [w.process.returncode for w in watchers] == [130, 130]


async def test_eight_watchers_started_at_once_share_one_daemon(
    factory: DaemonFactory, project: Path
) -> None:
    """8 `crushctl watch` at once with no daemon: one is spawned and all join it."""
    host = host_in(factory.root)
    watchers: list[Lines] = []
    try:
        async with trio.open_nursery() as starting:
            for _ in range(CLIENTS):
                starting.start_soon(_start_into, watchers, factory, host, project)
        connected = [await w.until("connected") for w in watchers]
        assert len({line["workspace_id"] for line in connected}) == 1
        (pid,) = pids_that_listened(log_file(factory, host), 0)
        assert pid in daemon_pids(factory.root)
        await new_session(host, project, "seen by all")
        for watcher in watchers:
            await watcher.until("session", event_type="created")
    finally:
        await stop_watchers(watchers)
    assert [w.process.returncode for w in watchers] == [130] * CLIENTS


async def _start_into(
    watchers: list[Lines], factory: DaemonFactory, host: Host, project: Path
) -> None:
    # Untraced: eight traced interpreters starting at once only add CPU load.
    watchers.append(await start_watch(factory, host, project, traced=False))


# -- a dropped stream while the daemon stays up ---------------------------------------


class Proxy:
    """A unix-socket proxy to ``target`` whose connections can be cut at will."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path = path
        self.target = target
        self.scopes: set[trio.CancelScope] = set()
        self.cuts = 0

    @property
    def host(self) -> Host:
        return parse_host(f"unix://{self.path}")

    async def serve(self, *, task_status: trio.TaskStatus[None]) -> None:
        sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        await sock.bind(os.fspath(self.path))
        sock.listen()
        listener = trio.SocketListener(sock)
        task_status.started()
        await trio.serve_listeners(self._relay, [listener])

    def cut(self) -> None:
        """Close every connection open now (the daemon never notices why)."""
        self.cuts += 1
        for scope in self.scopes:
            scope.cancel()

    async def _relay(self, downstream: trio.SocketStream) -> None:
        upstream = await trio.open_unix_socket(os.fspath(self.target))
        async with downstream, upstream:
            with trio.CancelScope() as scope:
                self.scopes.add(scope)
                try:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(_pump, downstream, upstream, scope)
                        nursery.start_soon(_pump, upstream, downstream, scope)
                finally:
                    self.scopes.discard(scope)


async def _pump(
    source: trio.SocketStream, sink: trio.SocketStream, scope: trio.CancelScope
) -> None:
    try:
        async for data in source:
            await sink.send_all(data)
    except trio.BrokenResourceError:
        pass
    scope.cancel()  # either side gone: close both


@pytest.fixture
async def proxied(daemons: DaemonFactory, nursery: trio.Nursery) -> tuple[Host, Proxy]:
    """A daemon that keeps workspaces for a while, and a proxy in front of it."""
    daemon = await daemons.start("--create-grace", "300", "--detach-grace", "300")
    proxy = Proxy(daemons.root / "proxy.sock", daemon.socket_path)
    await nursery.start(proxy.serve)
    return daemon.host, proxy


async def write_sessions(host: Host, project: Path, created: list[str]) -> None:
    async with Client(host, client_id=str(uuid.uuid4())) as writer:
        workspace = await writer.create_workspace(project)
        for number in range(SESSIONS):
            created.append((await writer.create_session(workspace.id, f"s{number}")).id)
            await trio.sleep(0.05)


async def test_dropped_stream_resumes_without_gaps(
    proxied: tuple[Host, Proxy], project: Path
) -> None:
    """Cut three times while events flow: the ids seen are gapless and none repeat."""
    host, proxy = proxied
    created: list[str] = []
    events: list[Event] = []
    connects: list[Connected] = []
    async with Client(proxy.host, client_id=str(uuid.uuid4())) as client:
        workspace = await client.create_workspace(project)
        with trio.fail_after(WATCH_SECONDS):
            async with (
                open_watch(client, workspace) as watcher,
                trio.open_nursery() as writing,
            ):
                async for item in watcher:
                    if isinstance(item, Connected):
                        connects.append(item)
                        if len(connects) == 1:
                            writing.start_soon(write_sessions, host, project, created)
                    elif isinstance(item, Event):
                        events.append(item)
                        _maybe_cut(proxy, len(events))
                        if len(_session_ids(events)) == SESSIONS:
                            break
    ids = [event.id for event in events]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert _session_ids(events) == created
    assert proxy.cuts == len(CUT_AFTER)
    assert len(connects) == 1 + len(CUT_AFTER)
    for connect in connects[1:]:
        assert connect.reconnected
        assert not connect.recreated
        assert connect.workspace.id == workspace.id
        assert connect.resumed_after is not None
        assert connect.resumed_after in ids


def _maybe_cut(proxy: Proxy, seen: int) -> None:
    if proxy.cuts < len(CUT_AFTER) and seen == CUT_AFTER[proxy.cuts]:
        proxy.cut()


def _session_ids(events: list[Event]) -> list[str]:
    return [
        str(event.payload["id"])  # type: ignore[index]
        for event in events
        if event.type == "session" and event.event_type == "created"
    ]
