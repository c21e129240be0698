"""The workspace registry: workspaces by id and by path, client claims, idle linger.

``Registry`` is assembled from parts, one job each: the state and its
synchronous transitions (``_core``), per-client claim operations
(``_streams``), the create-or-join path (``_create``) and the workspace
tasks (``_tasks``). Every state transition is a plain synchronous method (no
``await`` inside), so under Trio each one is atomic. The only async
operations are ``create`` (which may build a workspace) and ``serve`` (which
owns the nurseries). Mirrors Crush's backend.go (seeds 001 and 004) with
crushd's improvements: a detach grace, retire ending streams, shared
in-flight builds, and creates waiting for a previous workspace's cleanup.
"""

from __future__ import annotations

import trio

from crushd.errors import ServerBusy
from crushd.proto import ClientInfo

from ._create import Creates
from ._hosted import Hosted, HostedView, W
from ._settings import RegistryStatistics
from ._streams import ClientClaims


class Registry(Creates[W], ClientClaims[W]):
    """Workspaces by id and by canonical path, with per-client claims.

    Args:
        factory: builds a workspace from a ``WorkspaceSpec`` (may raise a
            ``CrushdError``, which the create answers with).
        settings: grace and linger timings.
        on_idle: called (synchronously) when the idle linger expires or an
            idle-gated shutdown is accepted; the daemon shuts down on it.

    Use ``await nursery.start(registry.serve)``; ``close()`` tears every
    workspace down and lets ``serve`` return once cleanup finished.
    """

    # ---------------------------------------------------------------- lifecycle

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Own the registry's nursery until ``close()`` and every cleanup ended.

        Cancellation: cancelling this task cancels every workspace task; each
        still runs its bounded, shielded cleanup (flush, close DB, lock).
        """
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._maybe_arm_idle()
            task_status.started()
            await self._quiet.wait()

    def close(self) -> None:
        """Set the closing latch and tear every workspace down; atomic, no await.

        Later creates get 503 ``server is shutting down``; every stream ends
        because each torn-down workspace's log closes, after a last
        ``workspace_closed``/``deleted`` event with ``"reason":"shutdown"`` that
        tells clients not to start a new daemon. Idempotent.

        Source: docs/protocol.md decision B.19, C.11.
        """
        self._closing = True
        self._disarm_idle()
        for hosted in list(self._by_id.values()):
            for claim in hosted.claims.values():
                claim.disarm()
            hosted.claims.clear()
            payload = {"workspace_id": hosted.id, "reason": "shutdown"}
            hosted.workspace.log.publish("workspace_closed", "deleted", payload)
            self._teardown(hosted)
        self._check_quiet()

    @property
    def closing(self) -> bool:
        """True once the closing latch is set (no new creates)."""
        return self._closing

    def request_shutdown(self, *, force: bool = False) -> None:
        """Accept a shutdown (``POST /v1/control``); atomic, no await.

        Idle-gated unless ``force`` (``shutdown_force``, docs/protocol.md C):
        then live workspaces are torn down by the daemon's usual shutdown
        (``close``: streams end, runs are cancelled), as for a signal.

        Raises:
            ServerBusy: not forced, and a workspace is live or a create is in
                flight (409).
        """
        if not force and not self.is_idle():
            raise ServerBusy
        self._closing = True
        self._disarm_idle()
        self._on_idle()

    # ------------------------------------------------------------------ lookups

    def get(self, workspace_id: str) -> HostedView[W]:
        """Return a read-only view of the live workspace with this id.

        The view carries ``id``, ``key`` and ``workspace``; the registry's own
        record (claims, lifetime markers) is not handed out.

        Raises:
            WorkspaceNotFound: unknown or torn down (404).
        """
        return self._live(workspace_id).view()

    def workspaces(self) -> list[Hosted[W]]:
        """Return every live workspace, in creation order."""
        return list(self._by_id.values())

    def roster(self, workspace_id: str) -> list[ClientInfo]:
        """Return the workspace's claims as roster rows (docs/protocol.md C.5).

        Raises:
            WorkspaceNotFound: unknown workspace (404).
        """
        return [claim.info() for claim in self._live(workspace_id).claims.values()]

    def attached_clients(self, workspace_id: str, session_id: str) -> int:
        """Count clients with a live stream whose current session is ``session_id``.

        Hold-only claims never count. Raises ``WorkspaceNotFound`` (404).

        Source: Crush backend.go ``AttachedClients``.
        """
        claims = self._live(workspace_id).claims.values()
        return sum(
            1 for c in claims if c.streams > 0 and c.current_session_id == session_id
        )

    def statistics(self) -> RegistryStatistics:
        """Return counts of workspaces, claims, streams and in-flight work."""
        claims = [c for h in self._by_id.values() for c in h.claims.values()]
        return RegistryStatistics(
            workspaces=len(self._by_id),
            claims=len(claims),
            streams=sum(c.streams for c in claims),
            builds_in_flight=len(self._builds),
            cleanups_in_flight=len(self._cleanups),
            retired_clients=len(self._retired),
            closing=self._closing,
        )
