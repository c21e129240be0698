"""The shared claim model's rules, stated directly (both state machines trust them)."""

from __future__ import annotations

import collections
from collections.abc import Callable

import pytest

from crushd.registry import RETIRED_TTL_SECONDS
from stress.model import ClaimedWorkspace, ClaimModel, Refusal


class Refused(Exception):  # noqa: N818 - the refusal under test
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal)
        self.refusal = refusal


class Bare(ClaimModel[ClaimedWorkspace]):
    """The claim rules alone: create grace 4 s, detach grace 2 s, linger 10 s."""

    def __init__(self, detach_grace: float = 2.0) -> None:
        super().__init__(4.0, detach_grace, 10.0)
        self.stats: collections.Counter[str] = collections.Counter()
        self.lingered = 0

    def note(self, transition: str) -> None:
        self.stats[transition] += 1

    def refuse(self, refusal: Refusal) -> Refused:
        return Refused(refusal)

    def may_linger(self) -> bool:
        return not self.live

    def idle_expired(self) -> None:
        self.idle_deadline = None
        self.lingered += 1

    def build(self, client: str, key: str = "/p") -> ClaimedWorkspace:
        ws = self.live[key] = ClaimedWorkspace(key, 0, live=True)
        self.idle_deadline = None
        self.claim_for_create(ws, client)
        return ws


def refusal(call: Callable[[], object]) -> Refusal:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value.refusal


def hold(ws: ClaimedWorkspace, client: str) -> tuple[float | None, str]:
    claim = ws.claims[client]
    return claim.deadline, claim.hold


def test_an_unattached_create_is_held_for_the_create_grace() -> None:
    """A claim with no stream goes at the create grace, tearing the workspace down."""
    m = Bare()
    ws = m.build("a")
    m.advance(3.5)
    assert ws.live
    m.advance(0.5)
    assert (ws.live, ws.torn_at, m.idle_deadline) == (False, 4.0, 14.0)
    assert m.stats["create grace expired"] == 1


def test_the_last_detach_holds_the_claim_for_the_detach_grace() -> None:
    """An attach lifts the hold; only the last of two streams starts the grace."""
    m = Bare()
    ws = m.build("a")
    m.attach_claim(ws, "a")
    m.attach_claim(ws, "a")
    m.advance(5.0)
    m.detach_claim(ws, "a")
    assert hold(ws, "a")[0] is None
    m.detach_claim(ws, "a")
    assert hold(ws, "a") == (7.0, "detach")
    m.advance(2.0)
    assert ws.torn_down


def test_a_release_while_streaming_ends_with_the_last_stream() -> None:
    """A released streaming claim stays until its stream ends, then goes at once."""
    m = Bare()
    ws = m.build("a")
    m.attach_claim(ws, "a")
    m.release(ws, "a")
    assert ws.claims["a"].released
    m.claim_for_create(ws, "a")  # a create clears the flag again
    m.release(ws, "a")
    m.detach_claim(ws, "a")
    assert ws.torn_down
    assert not ws.claims
    m.release(ws, "a")  # releasing a dead workspace is never refused


def test_a_zero_detach_grace_removes_the_claim_on_the_last_detach() -> None:
    """With no detach grace the last detach removes the claim."""
    m = Bare(detach_grace=0.0)
    ws = m.build("a")
    m.claim_for_create(ws, "b")
    m.attach_claim(ws, "a")
    m.detach_claim(ws, "a")
    assert list(ws.claims) == ["b"]
    assert ws.live


def test_retire_removes_every_claim_and_refuses_until_forgotten() -> None:
    """A retired client loses all claims and is refused for RETIRED_TTL_SECONDS."""
    m = Bare()
    one, two = m.build("a", "/p"), m.build("a", "/q")
    m.claim_for_create(two, "b")
    m.retire("a")
    assert (one.live, list(two.claims)) == (False, ["b"])
    assert refusal(lambda: m.attach_claim(two, "a")) is Refusal.RETIRED
    m.advance(RETIRED_TTL_SECONDS)
    assert not m.is_retired("a")


def test_current_session_needs_a_live_workspace_and_a_stream() -> None:
    """current-session: 404 for a dead workspace, 409 without a stream; presence."""
    m = Bare()
    ws = m.build("a")
    m.claim_for_create(ws, "b")
    assert refusal(lambda: m.set_session(ws, "b", "S")) is Refusal.NOT_STREAMING
    for client in ("a", "a", "b"):
        m.attach_claim(ws, client)
        m.set_session(ws, client, "S")
    assert ws.attached("S") == 2  # clients, not streams
    m.teardown_all()
    assert refusal(lambda: m.set_session(ws, "a", "S")) is Refusal.NO_WORKSPACE
    assert refusal(lambda: m.attach_claim(None, "a")) is Refusal.NO_WORKSPACE


def test_the_idle_linger_fires_after_the_idle_timeout() -> None:
    """With nothing live the linger is armed and fires once, at its deadline."""
    m = Bare()
    m.maybe_arm_idle()
    assert m.next_deadline() == 10.0
    m.advance(9.5)
    assert m.lingered == 0
    m.advance(0.5)
    assert (m.lingered, m.next_deadline()) == (1, None)
