"""Publish debug events on a fixed schedule, never waiting for the daemon.

A steady-rate benchmark must not slow its own publisher down when the daemon
is slow (that would hide the delay), so each request is written at its
scheduled time and the answers are read by a separate thread. Connections
are rotated before hypercorn's 1000-requests-per-connection limit.
"""

from __future__ import annotations

import threading
import time

from stress.bench._procs import BenchError
from stress.bench._wire import Connection, request_bytes

_PER_CONNECTION = 500


def _drain(conn: Connection, count: int, failures: list[str]) -> None:
    try:
        for _ in range(count):
            status, body = conn.read_answer()
            if status != 200:
                failures.append(f"publish answered {status}: {body}")
    except OSError as exc:
        failures.append(f"publish connection failed: {exc}")
    finally:
        conn.close()


def publish_paced(
    socket_path: str,
    workspace_id: str,
    total: int,
    rate: float,
    pad: int,
    lanes: int = 4,
) -> tuple[float, float]:
    """Publish ``total`` single events at ``rate``/s from ``time.time()`` now.

    Requests go round-robin over ``lanes`` connections: one connection would
    serialize every publish behind the previous one's fan-out, which no real
    event source does (an agent run publishes inside the daemon).

    Returns:
        ``(schedule_start, seconds)``: the epoch time event 0 was due and how
        long sending took (about ``total / rate`` unless this process lagged).

    Raises:
        BenchError: a publish failed.
    """
    target = f"/v1/debug/workspaces/{workspace_id}/publish"
    request = request_bytes("POST", target, {"count": 1, "payload_bytes": pad})
    failures: list[str] = []
    readers: list[threading.Thread] = []
    start, wall = time.monotonic(), time.time()
    conns: list[Connection] = []
    block = _PER_CONNECTION * lanes
    for index in range(total):
        if index % block == 0:
            conns = []
            for lane in range(lanes):
                share = len(range(index + lane, min(index + block, total), lanes))
                conn = Connection(socket_path)
                reader = threading.Thread(target=_drain, args=(conn, share, failures))
                reader.start()
                readers.append(reader)
                conns.append(conn)
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        conns[index % lanes].sock.sendall(request)
    spent = time.monotonic() - start
    for reader in readers:
        reader.join(60)
    if failures:
        raise BenchError(failures[0])
    return wall, spent
