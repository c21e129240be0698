"""The claim model's state: a client's claim, a workspace's claim table, refusals."""

from __future__ import annotations

import enum

import attrs


class Refusal(enum.Enum):
    """Why a claim operation is refused; each machine maps it to its own answer.

    The registry-level model raises the registry's error for it, the
    HTTP-level model the status the daemon must answer (docs/protocol.md 5.2-5.6).
    """

    #: The workspace id is unknown, or its workspace was torn down (404).
    NO_WORKSPACE = "workspace not found"
    #: The client id was retired (409, decision B.8).
    RETIRED = "client retired"
    #: ``current-session`` from a client with no claim or no live stream (409).
    NOT_STREAMING = "client not attached"


@attrs.define(eq=False)
class Claim:
    """One client's claim on one workspace.

    Identity matters: a claim removed and created again is a new ``Claim``, so
    a stream attached to the old one can tell it was ended.

    Attributes:
        streams: live event streams of this client on this workspace.
        deadline: when the hold expires (seconds of model time), or ``None``
            while streaming or released.
        hold: which grace ``deadline`` is: ``"create"`` or ``"detach"``.
        released: the client released the workspace while still streaming; the
            claim goes with its last stream.
        current: the client's current session id (``""``: none).
    """

    streams: int = 0
    deadline: float | None = None
    hold: str = ""
    released: bool = False
    current: str = ""


@attrs.define(eq=False)
class ClaimedWorkspace:
    """One workspace instance: the ``index``-th built at ``key``, and its claims.

    Attributes:
        key: the canonical project path (one live workspace per key).
        index: how many workspaces were built at ``key`` before this one (the
            registry model) or in the whole run (the HTTP model).
        claims: client id -> claim.
        live: installed and not yet torn down.
        torn_at: model time of the teardown, ``None`` before it.
    """

    key: str
    index: int
    claims: dict[str, Claim] = attrs.field(factory=dict)
    live: bool = False
    torn_at: float | None = None

    @property
    def torn_down(self) -> bool:
        """Whether this workspace was torn down (it never comes back)."""
        return self.torn_at is not None

    def attached(self, session: str) -> int:
        """``attached_clients`` of ``session``: streaming claims whose current it is.

        Source: docs/protocol.md 5.6 (presence counts clients, not streams).
        """
        claims = self.claims.values()
        return sum(1 for c in claims if c.streams > 0 and c.current == session)
