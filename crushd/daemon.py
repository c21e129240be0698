"""The daemon's root: listeners, registry, store pool, signals, shutdown.

Task tree (docs/architecture.md 2): the root nursery holds the signal watcher and the
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
import os
import signal
import socket
import time

import attrs
import trio

from crushd import __version__
from crushd._gil import favour_event_loop
from crushd._heap import freeze_long_lived
from crushd.config import ConfigSources, remember_environ
from crushd.proto import Host
from crushd.registry import Registry, RegistrySettings
from crushd.server import (
    BoundSocket,
    ListenerError,
    ServerContext,
    bind_host,
    create_app,
    install_peer_check,
    load_token,
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

_INET = (socket.AF_INET, socket.AF_INET6)
_NOT_LOOPBACK = (
    "not a loopback address; pass --allow-remote to let other machines connect"
    " (they will need the bearer token)"
)


@attrs.frozen
class Listeners:
    """The bound sockets and what guards them.

    Attributes:
        sockets: listening sockets, in ``--host`` order.
        token: the bearer token tcp requests need; ``None`` when no socket is
            a tcp socket (then no token file is touched).
        host_names: names of the ``tcp://`` hosts, accepted in ``Host``.
    """

    sockets: list[BoundSocket]
    token: str | None = None
    host_names: tuple[str, ...] = ()


def open_listeners(settings: Settings) -> Listeners:
    """Bind every host, then load the token if any listener is tcp.

    Raises:
        OSError: see ``bind_all``; ``TokenFileError`` when a tcp listener needs
            the token and the file is unusable (the sockets are then closed and
            their files removed).
    """
    sockets = bind_all(settings.hosts, allow_remote=settings.allow_remote)
    try:
        tcp = any(bound.sock.family in _INET for bound in sockets)
        token = load_token(settings.token_file) if tcp else None
    except BaseException:
        _release(sockets)
        raise
    names = tuple(h.tcp_host_port[0] for h in settings.hosts if h.scheme == "tcp")
    return Listeners(sockets, token, names)


def bind_all(
    hosts: tuple[Host, ...], *, allow_remote: bool = False
) -> list[BoundSocket]:
    """Bind every host, closing those already bound if a later one fails.

    Args:
        hosts: the ``--host`` values.
        allow_remote: accept tcp addresses that are not loopback.

    Raises:
        OSError: a host cannot be bound (address in use, live daemon, bad dir).
        ListenerError: without ``allow_remote``, a tcp host (checked by name
            before binding) or an adopted tcp socket (checked by its address)
            is not loopback (docs/protocol.md C.6); a tcp host has no port.
    """
    if not allow_remote:
        for host in hosts:
            _require_loopback_host(host)
    bound: list[BoundSocket] = []
    try:
        bound.extend(bind_host(host) for host in hosts)
        if not allow_remote:
            for sock in bound:
                _require_loopback_socket(sock)
    except BaseException:
        _release(bound)
        raise
    return bound


def _release(sockets: list[BoundSocket]) -> None:
    for sock in sockets:
        sock.close()
        sock.remove_if_ours()


def _require_loopback_host(host: Host) -> None:
    if host.scheme != "tcp":
        return
    try:
        name = host.tcp_host_port[0]
    except ValueError as error:  # no port: the same error bind_host would give
        raise ListenerError(str(error)) from error
    if not _is_loopback(name):
        raise ListenerError(f"refusing to listen on {host.url}: {_NOT_LOOPBACK}")


def _require_loopback_socket(bound: BoundSocket) -> None:
    if bound.sock.family not in _INET:
        return
    address = bound.sock.getsockname()[0]
    if not _is_loopback(address):
        raise ListenerError(
            f"refusing to listen on {bound.url} ({address}): {_NOT_LOOPBACK}"
        )


def _is_loopback(name: str) -> bool:
    try:
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def run(settings: Settings, listeners: Listeners) -> None:
    """Serve ``listeners`` until a signal, the idle linger or a control shutdown.

    Unix connections from another uid are closed unread (``install_peer_check``);
    tcp requests need the token (``create_app``).

    Args:
        settings: the daemon's settings.
        listeners: from ``open_listeners``; socket files are removed on exit
            if still ours.

    Cancellation: cancelling this task tears everything down the same way.
    """
    if not install_peer_check():
        log.warning("unix connections are not checked for the peer's uid")
    sockets = listeners.sockets
    shutdown = trio.Event()
    remember_environ()  # masked everywhere from the first answer on
    favour_event_loop()  # worker threads hand the GIL back within 0.5 ms
    pool = StorePool(__version__)
    config_sources = ConfigSources.from_environ()
    opener = WorkspaceOpener(
        pool, settings.replay_window_frames, config_sources=config_sources
    )
    registry = Registry(
        opener,
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
        server_config={
            **settings.redacted(),
            **process_facts(settings, config_sources),
        },
        config_sources=config_sources,
        debug_endpoints=settings.debug_endpoints,
        traffic=opener.traffic,
    )
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_signals, shutdown)
            nursery.start_soon(_watchdog, shutdown, nursery.cancel_scope)
            async with trio.open_nursery() as hosting:
                await hosting.start(registry.serve)
                await _serve_http(settings, ctx, listeners, shutdown)
                log.info("http server stopped; waiting for workspace cleanup")
                registry.close()
            nursery.cancel_scope.cancel()
    finally:
        with trio.move_on_after(2, shield=True):
            await pool.aclose()
        for sock in sockets:
            sock.remove_if_ours()
        log.info("crushd stopped")


def process_facts(settings: Settings, sources: ConfigSources) -> dict[str, object]:
    """The daemon's pid, start time and files for ``GET /v1/config``'s ``crushd``.

    Returns:
        ``pid``, ``started_at`` (Unix seconds, float), ``log_file`` and
        ``data_dirs`` (``config``, ``data``, ``state``, ``logs`` folders);
        ``crushctl status`` shows them (issue 15, docs/protocol.md C).
    """
    return {
        "pid": os.getpid(),
        "started_at": time.time(),
        "log_file": str(settings.log_file),
        "data_dirs": {
            "config": str(sources.global_file.parent),
            "data": str(sources.global_data_file.parent),
            "state": str(settings.token_file.parent),
            "logs": str(settings.log_file.parent),
        },
    }


async def _serve_http(
    settings: Settings,
    ctx: ServerContext,
    listeners: Listeners,
    shutdown: trio.Event,
) -> None:
    async def shutdown_trigger() -> None:
        await shutdown.wait()
        log.info("shutting down: ending streams")
        ctx.registry.close()

    app = create_app(
        ctx,
        token=listeners.token,
        host_names=listeners.host_names,
        allowed_hosts=settings.allowed_hosts,
    )
    freeze_long_lived("start-up")
    await serve_app(
        app,
        listeners.sockets,
        shutdown_trigger=shutdown_trigger,
        graceful_timeout_seconds=GRACEFUL_TIMEOUT_SECONDS,
        keep_alive_seconds=KEEP_ALIVE_SECONDS,
        send_timeout_seconds=settings.send_timeout_seconds,
        max_connections=settings.max_connections,
        max_unauthenticated=settings.max_unauthenticated,
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
