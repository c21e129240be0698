"""``ClaimModel``: the claim transitions, the idle linger and model time.

The rules (docs/architecture.md section 3, docs/protocol.md 5.2-5.4):

- a create claims the workspace for its client, clears a ``released`` flag,
  and holds the claim for the create grace unless the client streams;
- an attach lifts the hold and counts one more stream (refused for an unknown
  or torn-down workspace, then for a retired client);
- the last stream's detach removes a released claim (or any, with a zero
  detach grace), else holds it for the detach grace;
- a release removes a claim without streams, else marks it released;
- a retire removes every claim of that client and refuses it from then on,
  for ``RETIRED_TTL_SECONDS``;
- an expired hold removes its claim; the last claim's removal tears the
  workspace down, and with nothing left the idle linger is armed.

Subclasses say what a refusal looks like (``refuse``), when the linger may be
armed (``may_linger``) and what its expiry does, and extend the hooks run when
a claim goes or a workspace is torn down.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable
from typing import Generic, TypeVar

from crushd.registry import RETIRED_TTL_SECONDS

from ._claims import Claim, ClaimedWorkspace, Refusal

W = TypeVar("W", bound=ClaimedWorkspace)

#: A due timer: (model time it fires, what it does).
Timer = tuple[float, Callable[[], None]]


class ClaimModel(abc.ABC, Generic[W]):
    """Claims of live workspaces of type ``W``; see the module docstring.

    Args:
        create_grace: seconds a created claim is held without a stream.
        detach_grace: seconds a claim is held after its last stream (0: none).
        idle_timeout: seconds with no workspace before the idle linger fires.
    """

    def __init__(
        self, create_grace: float, detach_grace: float, idle_timeout: float
    ) -> None:
        self.create_grace = create_grace
        self.detach_grace = detach_grace
        self.idle_timeout = idle_timeout
        self.now = 0.0
        self.live: dict[str, W] = {}
        self.retired: dict[str, float] = {}  # client id -> time of its retire
        self.idle_deadline: float | None = None

    # ----------------------------------------------------- the subclass's

    @abc.abstractmethod
    def note(self, transition: str) -> None:
        """Count an interesting transition (coverage statistics only)."""

    @abc.abstractmethod
    def refuse(self, refusal: Refusal) -> Exception:
        """The exception this machine raises for ``refusal``."""

    @abc.abstractmethod
    def may_linger(self) -> bool:
        """Whether the idle linger may be armed now (nothing hosted or pending)."""

    @abc.abstractmethod
    def idle_expired(self) -> None:
        """The idle linger fired."""

    def claim_removed(self, ws: W, client: str) -> None:
        """Hook: ``client``'s claim on ``ws`` was removed."""

    def torn_down(self, ws: W) -> None:
        """Hook: ``ws`` was torn down (it is no longer live)."""

    # ------------------------------------------------------------ queries

    def retired_now(self) -> set[str]:
        """Retired ids younger than ``RETIRED_TTL_SECONDS`` (older are forgotten)."""
        horizon = self.now - RETIRED_TTL_SECONDS
        return {client for client, at in self.retired.items() if at > horizon}

    def is_retired(self, client: str) -> bool:
        """Whether ``client`` is refused for having retired."""
        return client in self.retired_now()

    def require_live(self, ws: W | None) -> W:
        """``ws`` if it is live, else the ``NO_WORKSPACE`` refusal."""
        if ws is None or not ws.live:
            raise self.refuse(Refusal.NO_WORKSPACE)
        return ws

    # -------------------------------------------------------- transitions

    def claim_for_create(self, ws: W, client: str) -> Claim:
        """A create of ``client`` succeeded on ``ws``: claim it, hold it if idle."""
        claim = ws.claims.setdefault(client, Claim())
        if claim.released:
            self.note("create cleared a released flag")
        claim.released = False
        if claim.streams == 0:
            claim.deadline, claim.hold = self.now + self.create_grace, "create"
        return claim

    def attach_claim(self, ws: W | None, client: str) -> Claim:
        """A stream of ``client`` attaches to ``ws``; return the claim it holds."""
        live = self.require_live(ws)
        if self.is_retired(client):
            self.note("attach refused: client retired")
            raise self.refuse(Refusal.RETIRED)
        claim = live.claims.setdefault(client, Claim())
        claim.deadline = None
        claim.streams += 1
        return claim

    def detach_claim(self, ws: W, client: str) -> None:
        """One live stream of ``client``'s claim on ``ws`` ended."""
        claim = ws.claims[client]
        claim.streams -= 1
        if claim.streams > 0:
            return
        if claim.released:
            self.note("last stream of a released claim ended")
        if claim.released or self.detach_grace <= 0:
            self.note("last detach removed claim")
            self.remove_claim(ws, client)
        else:
            claim.deadline, claim.hold = self.now + self.detach_grace, "detach"

    def release(self, ws: W | None, client: str) -> None:
        """``DELETE /v1/workspaces/{id}?client_id=``: never refused."""
        claim = ws.claims.get(client) if ws is not None and ws.live else None
        if ws is None or claim is None:
            return
        claim.deadline = None
        if claim.streams == 0:
            self.remove_claim(ws, client)
        else:
            self.note("released while streaming")
            claim.released = True

    def set_session(self, ws: W | None, client: str, session: str) -> None:
        """``POST .../current-session``: refused without a live stream."""
        live = self.require_live(ws)
        claim = live.claims.get(client)
        if claim is None or claim.streams == 0:
            raise self.refuse(Refusal.NOT_STREAMING)
        claim.current = session

    def retire(self, client: str) -> None:
        """``DELETE /v1/clients/{id}``: every claim of ``client`` goes."""
        self.retired[client] = self.now
        for ws in list(self.live.values()):
            if client in ws.claims:
                self.remove_claim(ws, client)

    def remove_claim(self, ws: W, client: str) -> None:
        """Remove ``client``'s claim; tear ``ws`` down when it was the last."""
        del ws.claims[client]
        self.claim_removed(ws, client)
        if not ws.claims and ws.live:
            self.teardown(ws)

    def teardown(self, ws: W) -> None:
        """Tear ``ws`` down (live or refused at install) and maybe arm the linger."""
        if self.live.get(ws.key) is ws:
            del self.live[ws.key]
        ws.live = False
        ws.torn_at = self.now
        self.note("teardown")
        self.torn_down(ws)
        self.maybe_arm_idle()

    def teardown_all(self) -> None:
        """Shutdown: drop every claim and tear every live workspace down."""
        for ws in list(self.live.values()):
            ws.claims.clear()
            self.teardown(ws)

    def maybe_arm_idle(self) -> None:
        """Arm the idle linger unless it is armed or ``may_linger`` says no."""
        if self.idle_deadline is None and self.may_linger():
            self.idle_deadline = self.now + self.idle_timeout

    # --------------------------------------------------------------- time

    def advance(self, seconds: float) -> None:
        """Move to ``now + seconds``, firing every due timer in time order."""
        target = self.now + seconds
        while (due := self.next_timer()) is not None and due[0] <= target:
            self.now = due[0]
            due[1]()
        self.now = target

    def next_deadline(self) -> float | None:
        """When the next timer is due, if any."""
        due = self.next_timer()
        return None if due is None else due[0]

    def next_timer(self) -> Timer | None:
        """The earliest of ``timers()`` (the first listed wins a tie)."""
        return min(self.timers(), key=lambda timer: timer[0], default=None)

    def timers(self) -> list[Timer]:
        """Every pending timer: holds, then the idle linger; subclasses prepend."""
        timers: list[Timer] = [
            (claim.deadline, functools.partial(self._hold_expired, ws, client))
            for ws in self.live.values()
            for client, claim in ws.claims.items()
            if claim.deadline is not None
        ]
        if self.idle_deadline is not None:
            timers.append((self.idle_deadline, self.idle_expired))
        return timers

    def _hold_expired(self, ws: W, client: str) -> None:
        claim = ws.claims[client]
        self.note(f"{claim.hold} grace expired")
        claim.deadline = None
        self.remove_claim(ws, client)
