"""The daemon's root: listeners, registry, store pool, signals, shutdown.

Task tree (DESIGN.md 2): the root nursery holds the signal watcher and the
registry (which owns one task per workspace); the HTTP server runs in the
foreground. Shutdown (signal, idle linger, ``POST /v1/control``) closes every
workspace's event log first so streams end on their own, then stops
hypercorn, waits for workspace cleanup (flush, DB close, ``crush.lock``) and
removes socket files that are still ours. A watchdog bounds the whole
shutdown (decision B.19: exit 0 within 5 s even with open streams).
"""

from __future__ import annotations

import ipaddress
import logging
import signal

import trio

from crushd import __version__
from crushd.proto import Host
from crushd.registry import Registry, RegistrySettings
from crushd.server import (
    BoundSocket,
    ListenerError,
    ServerContext,
    bind_host,
    create_app,
    serve_app,
)
from crushd.settings import Settings
from crushd.store import StorePool
from crushd.workspace import WorkspaceOpener

log = logging.getLogger("crushd.daemon")

#: Everything after a shutdown request must finish within this many seconds.
SHUTDOWN_DEADLINE_SECONDS = 4.5
#: Hypercorn's grace for connections still open after the streams ended.
GRACEFUL_TIMEOUT_SECONDS = 2.0
#: Idle keep-alive HTTP connections are closed after this many seconds.
KEEP_ALIVE_SECONDS = 5.0


def bind_all(hosts: tuple[Host, ...]) -> list[BoundSocket]:
    """Bind every host, closing those already bound if a later one fails.

    Raises:
        OSError: a host cannot be bound (address in use, live daemon, bad dir).
        ListenerError: a tcp host is not a loopback address; TCP has no
            authentication yet, so only this machine may connect (C.6).
    """
    for host in hosts:
        _require_loopback(host)
    bound: list[BoundSocket] = []
    try:
        bound.extend(bind_host(host) for host in hosts)
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


def _require_loopback(host: Host) -> None:
    if host.scheme != "tcp":
        return
    name = host.tcp_host_port[0]
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ListenerError(
            f"refusing to listen on {host.url}: TCP listeners have no "
            "authentication yet, so only loopback addresses are allowed"
        )


async def run(settings: Settings, sockets: list[BoundSocket]) -> None:
    """Serve ``sockets`` until a signal, the idle linger or a control shutdown.

    Args:
        settings: the daemon's settings.
        sockets: already bound listeners (see ``bind_all``); their files are
            removed on exit if still ours.

    Cancellation: cancelling this task tears everything down the same way.
    """
    shutdown = trio.Event()
    pool = StorePool(__version__)
    registry = Registry(
        WorkspaceOpener(pool, settings.replay_window_frames),
        RegistrySettings(
            create_grace_seconds=settings.create_grace_seconds,
            detach_grace_seconds=settings.detach_grace_seconds,
            idle_timeout_seconds=settings.idle_timeout_seconds,
        ),
        on_idle=shutdown.set,
    )
    ctx = ServerContext(
        registry,
        heartbeat_seconds=settings.heartbeat_seconds,
        server_config=settings.redacted(),
    )
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_signals, shutdown)
            nursery.start_soon(_watchdog, shutdown, nursery.cancel_scope)
            async with trio.open_nursery() as hosting:
                await hosting.start(registry.serve)
                await _serve_http(settings, ctx, sockets, shutdown)
                log.info("http server stopped; waiting for workspace cleanup")
                registry.close()
            nursery.cancel_scope.cancel()
    finally:
        with trio.move_on_after(2, shield=True):
            await pool.aclose()
        for sock in sockets:
            sock.remove_if_ours()
        log.info("crushd stopped")


async def _serve_http(
    settings: Settings,
    ctx: ServerContext,
    sockets: list[BoundSocket],
    shutdown: trio.Event,
) -> None:
    async def shutdown_trigger() -> None:
        await shutdown.wait()
        log.info("shutting down: ending streams")
        ctx.registry.close()

    await serve_app(
        create_app(ctx),
        sockets,
        shutdown_trigger=shutdown_trigger,
        graceful_timeout_seconds=GRACEFUL_TIMEOUT_SECONDS,
        keep_alive_seconds=KEEP_ALIVE_SECONDS,
        send_timeout_seconds=settings.send_timeout_seconds,
    )


async def _watch_signals(shutdown: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            shutdown.set()


async def _watchdog(shutdown: trio.Event, scope: trio.CancelScope) -> None:
    await shutdown.wait()
    await trio.sleep(SHUTDOWN_DEADLINE_SECONDS)
    log.warning("shutdown took over %.1f s; cancelling", SHUTDOWN_DEADLINE_SECONDS)
    scope.cancel()
