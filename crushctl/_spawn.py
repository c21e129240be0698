"""Make sure a compatible crushd listens on a unix host, starting one if needed.

``ensure_server`` is docs/protocol.md 8.4 in Python:

1. stat the socket; dial it (``PROBE_TIMEOUT_SECONDS``). Missing, or refused
   (stale) -> spawn. A timeout is never stale.
2. Otherwise compare ``GET /v1/version`` (``version`` and ``build_id``) with
   crushctl's own. On a mismatch ask ``shutdown_if_idle``: 200 -> wait for the
   socket to go, then spawn; 409 -> reuse the busy daemon (logged); 400 (an old
   server) -> ``shutdown`` only if it lists no workspaces.
3. Spawn single-flight across processes: a blocking ``flock`` on
   ``<cache>/server-<safeHost>/start.lock``, a health re-probe under the lock,
   then ``crushd serve`` fully detached, then ``GET /v1/health`` every 100 ms
   until ``CRUSH_SERVER_READY_TIMEOUT``.

Two deliberate differences from upstream, both closing races of the spawn:

- A stale socket file is removed under the spawn lock, after the re-probe, not
  before taking it. A client that dials a daemon between its ``bind()`` and
  ``listen()`` is refused too; removing the file then would strand that
  daemon. Under the lock its spawner has already seen it answer.
- Under the lock, a socket that accepts connections but does not answer
  ``/v1/health`` within 200 ms (a daemon still starting on a loaded machine)
  is waited for, not raced by a second ``crushd serve`` that could only refuse
  to start.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import httpx
import trio

from crushd.proto import Host, VersionInfo, Workspace, default_host, server_dir

from ._client import Client
from ._exceptions import (
    BadRequestError,
    ConflictError,
    CrushctlError,
    HTTPStatusError,
    ShuttingDownError,
    UntrustedServerError,
)
from ._http import client_version
from ._launch import (
    PROBE_TIMEOUT_SECONDS,
    READY_POLL_SECONDS,
    health_error,
    spawn_lock,
    start_server,
    wait_ready,
)
from ._peer import check_socket_file, check_socket_folder, unix_transport

log = logging.getLogger("crushctl.spawn")

#: How long a leaving daemon gets to remove its socket file before we do.
SOCKET_GONE_SECONDS = 2.0
#: ``create_workspace_respawning`` tries this many times in all.
CREATE_ATTEMPTS = 3

_GONE_POLLS = round(SOCKET_GONE_SECONDS / READY_POLL_SECONDS)
_MISSING = "missing"
_STALE = "stale"
_PRESENT = "present"


async def ensure_server(
    host: Host | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    """Make sure a compatible crushd answers at ``host``, spawning one if needed.

    Only unix hosts are managed; tcp hosts return at once (never spawned, never
    version-checked). A daemon of another version is replaced when idle and
    reused (with a warning logged) when it hosts workspaces.

    Args:
        host: the daemon's host; ``None`` means ``crushd.proto.default_host()``.
        transport: an httpx transport for the version check and the health
            probes (tests pass an ``httpx.MockTransport``); ``None`` uses the
            unix socket. The socket file is always stat'ed and dialed for real.

    Raises:
        ServerStartError: the daemon (spawned, or found still starting) did
            not answer ``/v1/health`` within ``CRUSH_SERVER_READY_TIMEOUT``, or
            the spawned one exited first; the message starts with ``failed to
            initialize crush server:`` and names the log files.
        UntrustedServerError: the socket, its folder or the server answering
            on it belongs to another uid; nothing was sent to it, nothing
            removed.
        CrushctlError: the socket path holds something that is not a socket,
            or a stale socket file cannot be removed.

    Cancellation:
        Safe at any point. If cancelled after the spawn, the daemon keeps
        starting on its own; the spawn lock is always released.

    Source: docs/protocol.md 8.4 (Crush ``ensureServer``, ``restartIfStale``,
    ``spawnAndWaitReady``; seed 003's spawn-race fix).
    """
    host = host or default_host()
    if host.scheme != "unix":
        return
    async with Client(host, transport=transport or _unix_transport(host)) as client:
        if await _probe_socket(host) == _PRESENT and await _keep_server(client):
            return
        await _spawn_server(client)


async def create_workspace_respawning(
    client: Client,
    path: str | os.PathLike[str],
    *,
    spawn: bool = True,
    data_dir: str | None = None,
    yolo: bool = False,
    debug: bool = False,
    env: Sequence[str] | None = None,
) -> Workspace:
    """Create (or join) the workspace for ``path``, replacing a leaving daemon.

    A 503 (the daemon is shutting down) makes it wait for the daemon's socket
    to go (``SOCKET_GONE_SECONDS``, then the file is removed), call
    ``ensure_server`` and try again: ``CREATE_ATTEMPTS`` attempts in all.

    Args:
        client: the client; its host is the one re-ensured.
        path: the project directory; must be absolute.
        spawn: false (``--no-spawn``) makes a 503 fail at once. tcp hosts are
            never respawned either.
        data_dir: as for ``Client.create_workspace``.
        yolo: as for ``Client.create_workspace``.
        debug: as for ``Client.create_workspace``.
        env: as for ``Client.create_workspace``.

    Returns:
        The workspace, as ``Client.create_workspace`` returns it.

    Raises:
        ShuttingDownError: 503 on the last attempt (or on the first, when no
            respawn is allowed).
        ServerStartError: the replacement daemon did not become ready.
        CrushctlError: any other error of ``Client.create_workspace``.

    Cancellation:
        As ``Client.create_workspace`` and ``ensure_server``.

    Source: docs/protocol.md 8.4 step 5 and 5.7 step 1 (retry <= 3 times on 503).
    """
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return await client.create_workspace(
                path, data_dir=data_dir, yolo=yolo, debug=debug, env=env
            )
        except ShuttingDownError:
            if attempt == CREATE_ATTEMPTS or not _respawns(client.host, spawn):
                raise
            await _replace_leaving_server(client.host)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _unix_transport(host: Host) -> httpx.AsyncBaseTransport:
    # No CA bundle is loaded (60-300 ms of CPU per client, and this client is
    # built while 8 others may compete); the server's uid is checked.
    return unix_transport(host)


def _respawns(host: Host, spawn: bool) -> bool:
    return spawn and host.scheme == "unix"


async def _replace_leaving_server(host: Host) -> None:
    log.info("crushd at %s is shutting down; replacing it", host.url)
    socket_path = Path(host.address)
    await _wait_socket_gone(socket_path, _identity(socket_path))
    await ensure_server(host)


# -- the socket file -----------------------------------------------------------


async def _probe_socket(host: Host) -> str:
    """Classify the socket file: missing, stale (refused) or present.

    Raises:
        UntrustedServerError: the file or its folder belongs to another uid.
        CrushctlError: the file is not a socket.
    """
    path = Path(host.address)
    check_socket_folder(host, path.parent)
    check_socket_file(host, path)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return _MISSING
    except OSError:
        return _STALE  # upstream: any other stat error -> remove it and spawn
    if not stat.S_ISSOCK(found.st_mode):
        raise CrushctlError(f"{path} exists and is not a socket; not removing it")
    return await _dial(path)


async def _dial(path: Path) -> str:
    with trio.move_on_after(PROBE_TIMEOUT_SECONDS):
        try:
            stream = await trio.open_unix_socket(os.fspath(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return _STALE
        except OSError:
            return _PRESENT  # only refused or missing is stale (docs/protocol.md 8.3)
        await stream.aclose()
    return _PRESENT  # answered, or a timeout: never stale


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _remove_stale(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CrushctlError(f"failed to remove stale socket {path}: {exc}") from exc
    log.info("removed stale socket %s", path)


async def _wait_socket_gone(path: Path, identity: tuple[int, int] | None) -> None:
    """Wait for a leaving daemon's socket file to go; remove it after 2 s.

    The file is told apart by inode: one a newer daemon put at the path in the
    meantime counts as gone and is never removed.
    """
    for _ in range(_GONE_POLLS):
        if identity is None or _identity(path) != identity:
            return
        await trio.sleep(READY_POLL_SECONDS)
    if _identity(path) == identity:
        log.info("socket %s outlived its daemon's shutdown; removing it", path)
        _remove_stale(path)


# -- the running daemon's version ----------------------------------------------


def _same_build(info: VersionInfo) -> bool:
    own = client_version()  # crushd answers build_id == version (decision B.20)
    return info.version == own and info.build_id == own


async def _keep_server(client: Client) -> bool:
    """Return whether the daemon at the client's host is used as is."""
    path = Path(client.host.address)
    identity = _identity(path)
    try:
        leaving = await _replace_if_other_build(client)
    except UntrustedServerError:
        raise
    except CrushctlError as exc:
        log.info("version check at %s failed (%s); spawning", client.host.url, exc)
        return False
    if leaving:
        await _wait_socket_gone(path, identity)
    return not leaving


async def _replace_if_other_build(client: Client) -> bool:
    """Ask a daemon of another build to leave; return whether it is leaving."""
    info = await client.version()
    if _same_build(info):
        return False
    log.info(
        "crushd %s (build %s) at %s differs from crushctl %s",
        info.version,
        info.build_id,
        client.host.url,
        client_version(),
    )
    try:
        await client.control("shutdown_if_idle")
    except ConflictError:
        _log_reuse(client, info, "it hosts live workspaces")
        return False
    except BadRequestError:  # predates shutdown_if_idle
        return await _shutdown_old_server(client, info)
    return True


async def _shutdown_old_server(client: Client, info: VersionInfo) -> bool:
    if await client.workspaces():
        _log_reuse(client, info, "it hosts live workspaces")
        return False
    try:
        await client.shutdown()
    except HTTPStatusError as exc:
        _log_reuse(client, info, exc.message)
        return False
    return True


def _log_reuse(client: Client, info: VersionInfo, why: str) -> None:
    log.warning(
        "using crushd %s at %s although crushctl is %s: %s",
        info.version,
        client.host.url,
        client_version(),
        why,
    )


# -- spawning --------------------------------------------------------------------


async def _spawn_server(client: Client) -> None:
    """Start the daemon unless another client just did (single-flight).

    Under the lock: a daemon that answers now was started by the client that
    held the lock before us; a socket that accepts connections but does not
    answer yet belongs to a daemon still starting (or busy), which a second
    ``crushd serve`` would only refuse, so we wait for it instead; otherwise a
    stale file is removed and the daemon started.
    """
    host = client.host
    log_dir = server_dir(host)
    _make_private_dir(log_dir)
    async with spawn_lock(log_dir / "start.lock"):
        if await health_error(client, PROBE_TIMEOUT_SECONDS) is None:
            return
        state = await _probe_socket(host)
        if state == _STALE:
            _remove_stale(Path(host.address))
        process = None if state == _PRESENT else start_server(host, log_dir)
        await wait_ready(client, process, log_dir)


def _make_private_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CrushctlError(f"failed to create server folder {path}: {exc}") from exc
