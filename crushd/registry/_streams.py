"""Client claim operations: stream attach/detach, release, retire, viewing.

Each operation is synchronous (no ``await``), so it is atomic under Trio.
Source: Crush backend.go ``AttachClient``, ``detachStream``, ``releaseHold``.
"""

from __future__ import annotations

import time
from typing import Generic, cast

import attrs

from crushd.errors import ClientNotAttached, ClientRetired

from ._claims import Claim
from ._core import RegistryCore, log
from ._hosted import Hosted, W
from ._paths import validate_client_id


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


class ClientClaims(RegistryCore[W]):
    """The registry's per-client operations on claims (a ``Registry`` part)."""

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
        hosted = self._live(workspace_id)
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
        claim = self._live(workspace_id).claims.get(client_id)
        if claim is None or claim.streams == 0:
            raise ClientNotAttached
        claim.current_session_id = session_id
