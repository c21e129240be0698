"""The workspace registry: workspaces by id and by path, client claims, idle linger.

Every state transition here is a plain synchronous method (no ``await``
inside), so under Trio each one is atomic. The only async operations are
``create`` (which may build a workspace) and ``serve`` (which owns the
nurseries). Mirrors Crush's backend.go (seeds 001 and 004) with crushd's
improvements: a detach grace, retire ending streams, shared in-flight builds,
and creates waiting for a previous workspace's cleanup.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Generic, cast

import attrs
import trio

from crushd.errors import (
    ClientNotAttached,
    ClientRetired,
    Conflict,
    CrushdError,
    PathRequired,
    ServerBusy,
    ShuttingDown,
    WorkspaceNotFound,
)
from crushd.proto import ClientInfo, Workspace
from crushd.workspace import WorkspaceSpec

from ._claims import Claim, arm_timer
from ._hosted import Build, Hosted, W, WorkspaceFactory
from ._paths import check_path, resolve_workspace_key, validate_client_id
from ._retired import RetiredClients

log = logging.getLogger("crushd.registry")

#: Bound on how long a workspace's cleanup may take once cancelled, seconds.
CLEANUP_SECONDS = 5.0

CHANNELS_MISMATCH = (
    "requested channels differ from the existing workspace; channels are an "
    "explicit opt-in and are not shared across duplicate creates"
)


@attrs.frozen
class RegistrySettings:
    """Timings of the registry, all in seconds (0 = immediate).

    Required: the defaults live in ``crushd.settings`` only (decision B.21).

    Source: docs/protocol.md decision B.21.
    """

    create_grace_seconds: float
    detach_grace_seconds: float
    idle_timeout_seconds: float


@attrs.define(eq=False)
class StreamTicket(Generic[W]):
    """What ``attach`` hands a stream: pass it back to ``detach`` when it ends.

    Each ticket counts as one stream exactly once: ``detached`` is set by the
    first ``detach`` and any later one is a no-op.
    """

    hosted: Hosted[W]
    claim: Claim
    detached: bool = attrs.field(default=False, init=False)

    @property
    def alive(self) -> bool:
        """False once the workspace was torn down or the client retired."""
        return self.hosted.claim_is_live(self.claim)


@attrs.frozen
class RegistryStatistics:
    """A point-in-time count of the registry's contents."""

    workspaces: int
    claims: int
    streams: int
    builds_in_flight: int
    cleanups_in_flight: int
    retired_clients: int
    closing: bool


class Registry(Generic[W]):
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

    def __init__(
        self,
        factory: WorkspaceFactory[W],
        settings: RegistrySettings,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._factory = factory
        self.settings = settings
        self._on_idle = on_idle or (lambda: None)
        self._by_id: dict[str, Hosted[W]] = {}
        self._by_key: dict[str, Hosted[W]] = {}
        self._builds: dict[str, Build[W]] = {}
        self._cleanups: dict[str, Hosted[W]] = {}
        self._retired = RetiredClients()
        self._pending_creates = 0
        self._closing = False
        self._idle_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._quiet = trio.Event()

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
        because each torn-down workspace's log closes. Idempotent.

        Source: docs/protocol.md decision B.19.
        """
        self._closing = True
        self._disarm_idle()
        for hosted in list(self._by_id.values()):
            for claim in hosted.claims.values():
                claim.disarm()
            hosted.claims.clear()
            self._teardown(hosted)
        self._check_quiet()

    @property
    def closing(self) -> bool:
        """True once the closing latch is set (no new creates)."""
        return self._closing

    def is_idle(self) -> bool:
        """True when no workspace exists and no create is in flight."""
        return not self._by_id and self._pending_creates == 0

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

    def get(self, workspace_id: str) -> Hosted[W]:
        """Return the live workspace with this id.

        Raises:
            WorkspaceNotFound: unknown or torn down (404).
        """
        hosted = self._by_id.get(workspace_id)
        if hosted is None:
            raise WorkspaceNotFound
        return hosted

    def workspaces(self) -> list[Hosted[W]]:
        """Return every live workspace, in creation order."""
        return list(self._by_id.values())

    def roster(self, workspace_id: str) -> list[ClientInfo]:
        """Return the workspace's claims as roster rows (docs/protocol.md C.5).

        Raises:
            WorkspaceNotFound: unknown workspace (404).
        """
        return [claim.info() for claim in self.get(workspace_id).claims.values()]

    def attached_clients(self, workspace_id: str, session_id: str) -> int:
        """Count clients with a live stream whose current session is ``session_id``.

        Hold-only claims never count. Raises ``WorkspaceNotFound`` (404).

        Source: Crush backend.go ``AttachedClients``.
        """
        claims = self.get(workspace_id).claims.values()
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

    # ------------------------------------------------------------------- create

    async def create(self, request: Workspace) -> Hosted[W]:
        """Create the workspace for ``request.path``, or join the live one there.

        Validation order and errors follow upstream: ``path`` (400), then
        ``client_id`` (400), then absolute path (400), then admission: closing
        (503) or retired client (409). A live workspace at the same canonical
        path is joined (first wins; a different ``channels`` list is a 500).
        Concurrent creates of one new path share a single build; a create that
        finds the path's previous workspace still cleaning up waits for it.
        The caller's claim is registered with a create-grace hold.

        Returns:
            The live workspace (with the caller's claim).

        Raises:
            PathRequired, InvalidClientID, PathNotAbsolute, InvalidPath: bad
                input, in ``path`` or ``data_dir`` (400).
            ShuttingDown: the closing latch is set (503).
            ClientRetired: the client retired itself (409).
            Conflict: joining with a different ``channels`` list (409,
                decision B.5).
            InternalError: the build failed (500, message says which step).

        Cancellation: a cancelled builder closes what it built; creates
        waiting on its build then build themselves. No claim is left behind.

        Source: Crush backend.go ``CreateWorkspace`` (seed 004).
        """
        await trio.lowlevel.checkpoint()
        if not request.path:
            raise PathRequired
        client_id = validate_client_id(request.client_id)
        key = resolve_workspace_key(request.path)
        if request.data_dir:
            check_path(request.data_dir, "data_dir")
        self._admit(client_id)
        self._pending_creates += 1
        self._disarm_idle()
        try:
            return await self._create_or_join(key, client_id, request)
        finally:
            self._pending_creates -= 1
            self._maybe_arm_idle()
            self._check_quiet()

    async def _create_or_join(
        self, key: str, client_id: str, request: Workspace
    ) -> Hosted[W]:
        while True:
            self._admit(client_id)
            hosted = self._by_key.get(key)
            if hosted is not None:
                self._join(hosted, client_id, request)
                return hosted
            if (old := self._cleanups.get(key)) is not None:
                await old.cleaned.wait()
                continue
            if (build := self._builds.get(key)) is not None:
                await build.done.wait()
                if build.error is not None:
                    raise build.error
                continue
            return await self._build(key, client_id, request)

    def _admit(self, client_id: str) -> None:
        if self._closing:
            raise ShuttingDown
        if client_id in self._retired:
            raise ClientRetired

    def _join(self, hosted: Hosted[W], client_id: str, request: Workspace) -> None:
        spec = hosted.workspace.spec
        if tuple(request.channels) != spec.channels:
            raise Conflict(CHANNELS_MISMATCH)
        _log_first_wins_mismatch(hosted, request)
        self._register(hosted, client_id)

    async def _build(self, key: str, client_id: str, request: Workspace) -> Hosted[W]:
        build: Build[W] = Build()
        self._builds[key] = build
        try:
            hosted = await self._open(key, request, build)
            # Admission errors are this caller's own (a retired builder must
            # not fail the other creators), so they are not shared.
            self._install(hosted, client_id)
            build.hosted = hosted
            return hosted
        finally:
            del self._builds[key]
            build.done.set()

    async def _open(self, key: str, request: Workspace, build: Build[W]) -> Hosted[W]:
        spec = _spec_from_request(key, request)
        try:
            workspace = await self._factory(spec)
        except CrushdError as exc:
            build.error = exc
            raise
        hosted = Hosted(workspace=workspace, key=key)
        try:
            assert self._nursery is not None, "Registry.serve is not running"
            await self._nursery.start(self._run_workspace, hosted)
        except BaseException:
            await self._abandon(hosted)
            raise
        return hosted

    async def _abandon(self, hosted: Hosted[W]) -> None:
        # Once spawned, the workspace task always cleans up in its ``finally``
        # (a start cancelled before ``started()`` waits for that cleanup), so
        # close the workspace here only when the task never ran; closing it
        # twice would release its data-dir lock twice.
        if hosted.cleaned.is_set():
            return
        if hosted.nursery is not None:
            self._teardown(hosted)
            return
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            await hosted.workspace.aclose()

    def _install(self, hosted: Hosted[W], client_id: str) -> None:
        # Admission may have changed while the build awaited; a workspace that
        # nobody may claim is torn down at once instead of being published.
        try:
            self._admit(client_id)
        except CrushdError:
            self._teardown(hosted)
            raise
        self._by_id[hosted.id] = hosted
        self._by_key[hosted.key] = hosted
        self._register(hosted, client_id)
        log.info("workspace created id=%s path=%s", hosted.id, hosted.key)

    # ------------------------------------------------------------ claim changes

    def _register(self, hosted: Hosted[W], client_id: str) -> None:
        claim = hosted.claims.get(client_id)
        if claim is None:
            claim = hosted.claims[client_id] = Claim(client_id)
        claim.last_seen = time.time()
        claim.released = False
        if claim.streams == 0:
            claim.disarm()
            self._hold(hosted, claim, self.settings.create_grace_seconds)
        log.debug("claim registered workspace=%s client=%s", hosted.id, client_id)

    def _hold(self, hosted: Hosted[W], claim: Claim, seconds: float) -> None:
        assert hosted.nursery is not None

        def expire(scope: trio.CancelScope) -> None:
            if claim.hold is scope and hosted.claims.get(claim.client_id) is claim:
                log.debug(
                    "hold expired workspace=%s client=%s", hosted.id, claim.client_id
                )
                claim.hold = None
                self._remove_claim(hosted, claim)

        claim.hold = arm_timer(hosted.nursery, seconds, expire)

    def attach(
        self, workspace_id: str, client_id: str, user_agent: str = ""
    ) -> StreamTicket[W]:
        """Add a stream claim for ``client_id``; consumes any hold. Atomic, no await.

        Raises:
            InvalidClientID: malformed client id (400).
            WorkspaceNotFound: unknown or torn-down workspace (404).
            ClientRetired: the client retired itself (409, decision B.8).

        Source: Crush backend.go ``AttachClient``.
        """
        validate_client_id(client_id)
        hosted = self.get(workspace_id)
        if client_id in self._retired:
            raise ClientRetired
        claim = hosted.claims.get(client_id)
        if claim is None:
            claim = hosted.claims[client_id] = Claim(client_id)
        claim.disarm()
        now = time.time()
        if claim.streams == 0:
            claim.attached_at = now
        claim.streams += 1
        claim.last_seen = now
        claim.user_agent = user_agent or claim.user_agent
        log.debug(
            "stream attached workspace=%s client=%s streams=%d",
            hosted.id,
            client_id,
            claim.streams,
        )
        return StreamTicket(hosted, claim)

    def detach(self, ticket: StreamTicket) -> None:
        """End one stream's claim; the last one arms the detach grace. No await.

        A released claim, or a zero detach grace, is removed at once; removing
        the last claim tears the workspace down. A stale ticket (workspace
        gone, client retired) or one already detached is a no-op.

        Source: Crush backend.go ``detachStream`` plus the detach-grace hold.
        """
        # Every ticket comes from this registry's ``attach``: its ``W``.
        hosted, claim = cast("Hosted[W]", ticket.hosted), ticket.claim
        if ticket.detached or not hosted.claim_is_live(claim):
            return
        ticket.detached = True
        claim.streams -= 1
        claim.last_seen = time.time()
        log.debug(
            "stream detached workspace=%s client=%s streams=%d",
            hosted.id,
            claim.client_id,
            claim.streams,
        )
        if claim.streams > 0:
            return
        if claim.released or self.settings.detach_grace_seconds <= 0:
            self._remove_claim(hosted, claim)
        else:
            self._hold(hosted, claim, self.settings.detach_grace_seconds)

    def release(self, workspace_id: str, client_id: str) -> None:
        """Release ``client_id``'s hold (``DELETE /workspaces/{id}``); no await.

        Without live streams the claim goes at once (the last one tears the
        workspace down); with streams it is marked released. Unknown workspaces
        and clients are a no-op (idempotent, decision B.6).

        Raises:
            InvalidClientID: malformed client id (400).

        Source: Crush backend.go ``releaseHold``.
        """
        validate_client_id(client_id)
        hosted = self._by_id.get(workspace_id)
        claim = hosted.claims.get(client_id) if hosted else None
        if hosted is None or claim is None:
            return
        claim.disarm()
        log.debug("hold released workspace=%s client=%s", workspace_id, client_id)
        if claim.streams == 0:
            self._remove_claim(hosted, claim)
        else:
            claim.released = True

    def retire(self, client_id: str) -> None:
        """Retire a client everywhere (``DELETE /v1/clients/{id}``); no await.

        Its claims go at once, streams included (they end on their next
        wake-up), workspaces left unclaimed are torn down, and later creates
        and attaches from it get 409 for an hour (decision B.8).

        Raises:
            InvalidClientID: malformed client id (400).
        """
        validate_client_id(client_id)
        self._retired.add(client_id)
        log.debug("client retired client=%s", client_id)
        for hosted in list(self._by_id.values()):
            claim = hosted.claims.get(client_id)
            if claim is not None:
                claim.disarm()
                self._remove_claim(hosted, claim)
                hosted.workspace.log.wake()

    def set_current_session(
        self, workspace_id: str, client_id: str, session_id: str
    ) -> None:
        """Record which session ``client_id`` is viewing (``""`` clears). No await.

        Raises:
            InvalidClientID: malformed client id (400).
            WorkspaceNotFound: unknown workspace (404).
            ClientNotAttached: no claim, or a hold without live streams (409).

        Source: Crush backend.go ``SetCurrentSession``.
        """
        validate_client_id(client_id)
        claim = self.get(workspace_id).claims.get(client_id)
        if claim is None or claim.streams == 0:
            raise ClientNotAttached
        claim.current_session_id = session_id

    # ----------------------------------------------------------------- teardown

    def _remove_claim(self, hosted: Hosted[W], claim: Claim) -> None:
        if hosted.claims.get(claim.client_id) is claim:
            del hosted.claims[claim.client_id]
            log.debug(
                "claim removed workspace=%s client=%s", hosted.id, claim.client_id
            )
        if not hosted.claims and not hosted.torn_down:
            self._teardown(hosted)

    def _teardown(self, hosted: Hosted[W]) -> None:
        hosted.torn_down = True
        if self._by_id.get(hosted.id) is hosted:
            del self._by_id[hosted.id]
        if self._by_key.get(hosted.key) is hosted:
            del self._by_key[hosted.key]
        self._cleanups[hosted.key] = hosted
        hosted.workspace.log.close()
        hosted.teardown_requested.set()
        log.info("workspace torn down id=%s path=%s", hosted.id, hosted.key)
        self._maybe_arm_idle()

    async def _run_workspace(
        self, hosted: Hosted[W], *, task_status: trio.TaskStatus[None]
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                hosted.nursery = nursery
                # The workspace's own tasks (message flusher, agent runs)
                # belong to its nursery, never to a request.
                await nursery.start(hosted.workspace.serve)
                task_status.started()
                await hosted.teardown_requested.wait()
                nursery.cancel_scope.cancel()
        except Exception:
            # Supervisor at the workspace boundary: a failing workspace task
            # takes down its own workspace only (CONTRIBUTING.md rule 17).
            log.exception("workspace %s failed; tearing it down", hosted.id)
            hosted.claims.clear()
            if not hosted.torn_down:
                self._teardown(hosted)
        finally:
            await self._cleanup(hosted)

    async def _cleanup(self, hosted: Hosted[W]) -> None:
        try:
            with trio.move_on_after(CLEANUP_SECONDS, shield=True):
                await hosted.workspace.aclose()
        except Exception:
            log.exception("cleanup of workspace %s failed", hosted.id)
        finally:
            if self._cleanups.get(hosted.key) is hosted:
                del self._cleanups[hosted.key]
            hosted.cleaned.set()
            self._check_quiet()

    # --------------------------------------------------------------- idle linger

    def _maybe_arm_idle(self) -> None:
        if self._closing or self._nursery is None or self._idle_scope is not None:
            return
        if self.is_idle():
            seconds = self.settings.idle_timeout_seconds
            self._idle_scope = arm_timer(self._nursery, seconds, self._idle_expired)

    def _disarm_idle(self) -> None:
        if self._idle_scope is not None:
            self._idle_scope.cancel()
            self._idle_scope = None

    def _idle_expired(self, scope: trio.CancelScope) -> None:
        if self._idle_scope is not scope:
            return
        self._idle_scope = None
        if self.is_idle() and not self._closing:
            log.info("idle linger expired; shutting down")
            self._closing = True
            self._on_idle()

    def _check_quiet(self) -> None:
        busy = self._by_id or self._builds or self._cleanups or self._pending_creates
        if self._closing and not busy:
            self._quiet.set()


def _spec_from_request(key: str, request: Workspace) -> WorkspaceSpec:
    return WorkspaceSpec(
        id=str(uuid.uuid4()),
        path=request.path,
        key=key,
        data_dir=request.data_dir,
        yolo=request.yolo,
        debug=request.debug,
        env=tuple(request.env),
        channels=tuple(request.channels),
        version=request.version,
    )


def _log_first_wins_mismatch(hosted: Hosted, request: Workspace) -> None:
    spec = hosted.workspace.spec
    wanted = (request.yolo, request.debug, request.data_dir, tuple(request.env))
    have = (spec.yolo, spec.debug, spec.data_dir, spec.env)
    if wanted != have:
        log.debug(
            "workspace flag mismatch on duplicate create; first wins "
            "workspace_id=%s existing=%r requested=%r",
            hosted.id,
            have,
            wanted,
        )
