"""A deliberate shutdown is not a crash: watchers wait, they spawn no daemon.

``make run`` serves in the foreground; Ctrl-C (SIGINT) or SIGTERM stops it, and
the ``crushctl watch`` processes attached to it must not start a background
daemon of their own (the next ``make run`` would find the socket taken). They
wait instead and rejoin the daemon started again.

Source: docs/protocol.md C.11 (shutdown marker), 5.7 step 2.
"""

from __future__ import annotations

from pathlib import Path

import trio

from .conftest import DaemonFactory
from .test_resilience import start_watch, stop_watchers
from .test_spawn import daemon_pids, factory

__all__ = ["factory"]  # the fixture, re-used from test_spawn

#: Bound on the foreground daemon's exit after SIGTERM (B.19 says 5 s).
EXIT_SECONDS = 5.0
#: How long nothing may be spawned: the watcher tries again 0.25 s after the
#: stream ended and 0.5 s later; before the shutdown marker it spawned on the
#: first try.
NO_SPAWN_SECONDS = 0.6


async def test_sigterm_of_a_foreground_daemon_spawns_nothing_and_rejoins(
    factory: DaemonFactory, project: Path
) -> None:
    """SIGTERM: the watcher says stopped, starts nothing, then rejoins a restart."""
    daemon = await factory.start()
    watcher = await start_watch(factory, daemon.host, project, traced=False)
    try:
        first = await watcher.until("connected")
        daemon.terminate()
        assert await daemon.wait_exit(EXIT_SECONDS) == 0
        stopped = await watcher.until("stopped")
        assert stopped == {
            "type": "stopped",
            "workspace_id": first["workspace_id"],
            "reason": "shutdown",
        }
        await trio.sleep(NO_SPAWN_SECONDS)
        assert daemon_pids(factory.root) == set()
        assert not daemon.socket_path.exists()
        again = await factory.start(wait=False)
        rejoined = await watcher.until("connected", recreated=True)
        assert daemon_pids(factory.root) == {again.process.pid}
        assert rejoined["path"] == first["path"]
    finally:
        await stop_watchers([watcher])
    assert watcher.process.returncode == 130
