"""The registry's state and its synchronous transitions: claims, grace, teardown.

Every method here is a plain synchronous function (no ``await`` inside), so
under Trio each one is atomic: the indexes, the claims and the idle linger
change together. The async parts (creates, the workspace task) build on it.
See docs/architecture.md section 3.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Generic

import trio

from crushd.errors import ClientRetired, ShuttingDown, WorkspaceNotFound

from ._claims import Claim, arm_timer
from ._hosted import Build, Hosted, W, WorkspaceFactory
from ._retired import RetiredClients
from ._settings import RegistrySettings

log = logging.getLogger("crushd.registry")


class RegistryCore(Generic[W]):
    """Workspaces by id and by canonical path, their claims and the idle linger.

    Args:
        factory: builds a workspace from a ``WorkspaceSpec``.
        settings: grace and linger timings, seconds.
        on_idle: called (synchronously) when the idle linger expires or an
            idle-gated shutdown is accepted.
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

    def is_idle(self) -> bool:
        """True when no workspace exists and no create is in flight."""
        return not self._by_id and self._pending_creates == 0

    def _live(self, workspace_id: str) -> Hosted[W]:
        hosted = self._by_id.get(workspace_id)
        if hosted is None:
            raise WorkspaceNotFound
        return hosted

    def _admit(self, client_id: str) -> None:
        if self._closing:
            raise ShuttingDown
        if client_id in self._retired:
            raise ClientRetired

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

    def _remove_claim(self, hosted: Hosted[W], claim: Claim) -> None:
        if hosted.claims.get(claim.client_id) is claim:
            del hosted.claims[claim.client_id]
            log.debug(
                "claim removed workspace=%s client=%s", hosted.id, claim.client_id
            )
        if not hosted.claims and not hosted.torn_down:
            self._teardown(hosted)

    # ----------------------------------------------------------------- teardown

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
