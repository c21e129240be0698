"""Serve the ASGI app with hypercorn's trio worker on sockets the daemon bound.

One ``serve_app`` call can serve several listeners (they then share one graceful
shutdown), or the daemon can run one call per listener (docs/architecture.md 2).

Source: docs/architecture.md 2 and 4b; CONTRIBUTING.md pitfalls on ``fd://`` adoption,
``task_status`` and hypercorn's logging.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import hypercorn.trio
import trio
from hypercorn.typing import ASGIFramework

from ._request_path import Transport, app_layers_of, request_path
from .listen import BoundSocket, ConnectionGate, ConnectionLimits, install_peer_check
from .patches import SendTimeoutConfig, install_http1_only, install_send_timeout

__all__ = ["serve_app"]

# The final send is one small write (bounded by the send timeout) plus a few
# non-blocking steps; this slack covers those.
_FINAL_SEND_SLACK_SECONDS = 1.0


class _DaemonConfig(SendTimeoutConfig):
    """The hypercorn config plus the TCP connection caps ``_peercred`` applies."""

    connection_gate: ConnectionGate | None = None


async def serve_app(
    app: ASGIFramework,
    sockets: Sequence[BoundSocket],
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
    graceful_timeout_seconds: float,
    keep_alive_seconds: float,
    send_timeout_seconds: float,
    max_connections: int,
    max_unauthenticated: int,
) -> None:
    """Serve ``app`` on ``sockets`` until ``shutdown_trigger`` returns.

    Takes ownership of the sockets: each is detached and handed to hypercorn as
    ``fd://N``; hypercorn closes them when it returns (socket files are the
    caller's: see ``BoundSocket.remove_if_ours``). Serves the whole request
    path (``_request_path``: the app layers ``create_app`` left on ``app``
    plus this call's transport layers), applies both fixes of
    ``patches._hypercorn_fixes`` (``ShieldFinalSend`` and the send
    timeout), speaks HTTP/1.1 only (``_http1``: HTTP/2 would escape the send
    timeout), checks unix peers' uid (``_peercred``) and caps each TCP
    listener's connections (``_connections``). hypercorn's own log lines
    (``Running on ...``) go to the ``crushd.http`` logger instead of stderr;
    there is no access log.

    Every timing and cap is required: their defaults live in
    ``crushd.settings`` only, and the daemon passes them from ``Settings``.

    Args:
        app: the ASGI app (the quart-trio app).
        sockets: bound, listening sockets; at least one.
        shutdown_trigger: returns when the server should stop accepting and
            shut down gracefully.
        task_status: receives the sockets' URLs once every socket is served.
        graceful_timeout_seconds: after the trigger, how long open requests
            (streams included) may run before they are cancelled.
        keep_alive_seconds: idle time after which a keep-alive connection is
            closed.
        send_timeout_seconds: a peer that accepts no 64 KiB for this long has
            its connection aborted (> 0, finite).
        max_connections: open connections per TCP listener (>= 1); when
            full, the oldest unauthenticated one is closed, else a new one is
            answered 503 (``_connections``).
        max_unauthenticated: of those, connections that have not yet passed
            the token check (>= 1); a new one closes the oldest.

    Raises:
        ValueError: no sockets, a send timeout that is not > 0 and finite, or
            a cap under 1 (raised before any socket is detached).

    Cancellation:
        Cancelling this cancels every connection at once, with no grace and
        possibly without the app's shutdown hooks; use ``shutdown_trigger`` for
        an orderly stop. A send to a stalled peer can still hold the exit for up
        to ``send_timeout_seconds``. A cancel before hypercorn has adopted the
        fds (during app startup) leaves them open until the process exits.

    Source: hypercorn ``trio.serve`` / ``worker_serve``; docs/architecture.md 4b.
    """
    if min(max_connections, max_unauthenticated) < 1:
        raise ValueError("connection caps must be >= 1")
    install_send_timeout()
    install_http1_only()
    install_peer_check()
    config = _make_config(
        sockets,
        graceful_timeout_seconds=graceful_timeout_seconds,
        keep_alive_seconds=keep_alive_seconds,
        send_timeout_seconds=send_timeout_seconds,
    )
    gate = ConnectionGate(ConnectionLimits(max_connections, max_unauthenticated))
    config.connection_gate = gate
    shield_seconds = send_timeout_seconds + _FINAL_SEND_SLACK_SECONDS
    core, layers = app_layers_of(app)
    transport = Transport(gate, shield_seconds)
    wrapped = request_path(core, layers=layers, transport=transport)
    serve = partial(
        hypercorn.trio.serve, wrapped, config, shutdown_trigger=shutdown_trigger
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve, mode="asgi"))
        task_status.started([bound.url for bound in sockets])


def _make_config(
    sockets: Sequence[BoundSocket],
    *,
    graceful_timeout_seconds: float,
    keep_alive_seconds: float,
    send_timeout_seconds: float,
) -> _DaemonConfig:
    """Build the hypercorn config; detaches the sockets into ``fd://`` binds."""
    if not sockets:
        raise ValueError("serve_app needs at least one socket")
    if not 0 < send_timeout_seconds < math.inf:
        raise ValueError(f"send timeout must be > 0 and finite: {send_timeout_seconds}")
    config = _DaemonConfig()
    config.alpn_protocols = ["http/1.1"]  # no TLS today; never offer h2 if added
    config.backlog = max(bound.backlog for bound in sockets)
    config.bind = [f"fd://{bound.detach()}" for bound in sockets]
    config.graceful_timeout = graceful_timeout_seconds
    config.keep_alive_timeout = keep_alive_seconds
    config.send_timeout_seconds = send_timeout_seconds
    config.accesslog = None
    config.errorlog = logging.getLogger("crushd.http")
    return config
