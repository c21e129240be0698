"""The faults the soak driver injects, and the client burst.

Each fault is an async function of the ``Soak`` driver that returns a short
description for the log; failures it observes are appended to
``soak.violations``.
"""

from __future__ import annotations

import signal
import socket
import struct
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from crushctl import Client, CrushctlError, open_event_stream

from .._env import lock_free
from ._daemon import DETACH_GRACE, integrity

if TYPE_CHECKING:
    from ._main import Soak

#: Clients that connect at once in a burst.
BURST_CLIENTS = 200
BURST_SECONDS = 60.0


async def kill_client(soak: Soak) -> str:
    """SIGKILL a working client mid-stream and start a new one in its place."""
    slot = soak.rng.randrange(len(soak.workers))
    soak.workers[slot].kill()
    await soak.workers[slot].wait()
    soak.killed_outputs.add(soak.outputs[slot])
    await soak.spawn_worker(slot)
    return f"SIGKILL client {slot}"


async def stop_client(soak: Soak) -> str:
    """SIGSTOP a client for longer than the detach grace, then SIGCONT it."""
    slot = soak.rng.randrange(len(soak.workers))
    process = soak.workers[slot]
    process.send_signal(signal.SIGSTOP)
    await trio.sleep(3 * DETACH_GRACE + 0.5)
    process.send_signal(signal.SIGCONT)
    return f"SIGSTOP client {slot} for {3 * DETACH_GRACE + 0.5:.1f} s"


async def resets(soak: Soak) -> str:
    """Connections that vanish: mid-request, right after the headers, unread.

    Half go over the unix socket, half over tcp, where closing with
    ``SO_LINGER`` 0 sends a real RST in the middle of a stream.
    """
    async with Client(soak.daemon.host, client_id=str(uuid.uuid4())) as client:
        try:
            ws = await client.create_workspace(soak.projects[0])
        except CrushctlError as exc:
            return f"resets skipped ({exc})"
        path = f"/v1/workspaces/{ws.id}/events?client_id={client.client_id}"
        for n in range(RESETS):
            await _abrupt(soak, path, n % 3, tcp=n % 2 == 1)
        await client.delete_workspace(ws.id)
    return f"{RESETS} abrupt disconnects (unix and tcp RST)"


RESETS = 24


async def _connect(soak: Soak, tcp: bool) -> tuple[trio.SocketStream, bytes]:
    if not tcp:
        sock = await trio.open_unix_socket(soak.daemon.host.address)
        return sock, b"Host: api.crush.localhost\r\n"
    sock = await trio.open_tcp_stream("127.0.0.1", soak.daemon.tcp_port)
    sock.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    host = f"Host: 127.0.0.1:{soak.daemon.tcp_port}\r\n"
    auth = f"Authorization: Bearer {soak.daemon.token}\r\n"
    return sock, (host + auth).encode()


async def _abrupt(soak: Soak, path: str, how: int, *, tcp: bool) -> None:
    try:
        sock, headers = await _connect(soak, tcp)
    except OSError:
        return
    request = f"GET {path} HTTP/1.1\r\n".encode() + headers + b"\r\n"
    try:
        if how == 0:  # half a request
            await sock.send_all(request[: len(request) // 2])
        elif how == 1:  # a stream, closed as soon as it started
            await sock.send_all(request)
            with trio.move_on_after(2):
                head = await sock.receive_some(12)
                if head[:12] != b"HTTP/1.1 200":
                    soak.violations.append(f"reset stream answered {head!r}")
        else:  # a stream closed with its data unread
            await sock.send_all(request)
            await trio.sleep(0.05)
    except OSError:
        pass
    finally:
        sock.socket.close()  # no graceful shutdown: unread data is dropped


async def burst(soak: Soak, count: int = BURST_CLIENTS) -> str:
    """``count`` clients create, stream and leave, all at once."""
    failures: list[str] = []

    async def one() -> None:
        async with Client(soak.daemon.host, client_id=str(uuid.uuid4())) as client:
            try:
                ws = await client.create_workspace(soak.rng.choice(soak.projects))
                async with open_event_stream(client, ws.id):
                    await trio.sleep(0.2)
                await client.delete_workspace(ws.id)
            except CrushctlError as exc:
                failures.append(repr(exc))

    with trio.move_on_after(BURST_SECONDS) as timeout:
        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(one)
    if timeout.cancelled_caught:
        failures.append(f"burst did not finish in {BURST_SECONDS} s")
    if failures:
        soak.violations.append(
            f"burst: {len(failures)} of {count} clients failed, e.g. {failures[0]}"
        )
    return f"burst of {count} clients ({len(failures)} failed)"


async def kill_daemon(soak: Soak) -> str:
    """SIGKILL the daemon, check the databases and locks, start a new one."""
    await soak.daemon.kill()
    soak.daemon_kills += 1
    soak.check_files("after SIGKILL")
    await soak.daemon.start()
    return f"SIGKILL daemon, restarted as pid {soak.daemon.pid}"


def check_files(soak: Soak, when: str) -> None:
    """Every project's database is intact and its ``crush.lock`` free."""
    for project in soak.projects:
        data = soak.data_dir(project)
        result = integrity(data / "crush.db")
        soak.integrity_checks += 1
        if result != "ok":
            soak.violations.append(f"{when}: integrity_check of {data}: {result}")
        if not lock_free(data):
            soak.violations.append(f"{when}: {data}/crush.lock still held")


Fault = Callable[["Soak"], Awaitable[str]]

FAULTS: tuple[Fault, ...] = (stop_client, kill_client, resets, burst, kill_daemon)
